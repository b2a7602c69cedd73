//! iOS and macOS delivery through APNs: option mapping, VoIP, both kinds of authentication,
//! every reason class, token reuse and stream multiplexing.

use std::time::Duration;

use herald_e2e::{DbBackend, Stack, expect, hello};
use herald_proto::v1::*;
use herald_testkit::apns::{Answer, BUNDLE_ID};
use serde_json::json;
use tonic::Code;

fn device_token(i: u32) -> String {
    format!("{i:064x}")
}

#[tokio::test]
async fn every_ios_option_maps_into_the_apns_request() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    let iphone = device_token(0xa1);
    let mac = device_token(0xa2);
    acme.register_on(Platform::Ios, "ivy", &iphone).await;
    acme.register_on(Platform::Macos, "ivy", &mac).await;
    let notification = Notification {
        title: "Voicemail".into(),
        body: "From Ada, 0:42".into(),
        sound: "chime.caf".into(),
        badge: Some(4),
        collapse_key: "voicemail".into(),
        ttl_seconds: 600,
        data: [("box".to_string(), "inbox".to_string())].into(),
        interactive: Some(Interactive {
            category: InteractionCategory::PlaynowOrPlaylater as i32,
            push_reference: "vm-3".into(),
        }),
        notification_type: "voicemailReceived".into(),
        ios: Some(IosOptions {
            subtitle: Some("New message".into()),
            attachment_type: AttachmentType::Audio as i32,
            attachment_url: Some("https://cdn.example.com/vm/3.m4a".into()),
            action: Some(Action {
                r#type: ActionType::OpenHtml as i32,
                url: String::new(),
                html: "<p>Ada called</p>".into(),
            }),
            thread_id: Some("voicemail".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let before = herald_core::time::now_ms() / 1000;
    let sent = acme
        .send(destination::Kind::UserId("ivy".into()), notification)
        .await;
    let status = acme.wait_settled(&sent.message_id).await;
    assert_eq!(status.deliveries.len(), 2);
    assert!(
        status
            .deliveries
            .iter()
            .all(|d| d.status() == DeliveryStatus::Submitted && d.provider() == Provider::Apns)
    );

    let pushes = stack.mocks.apns.received();
    let push = pushes
        .iter()
        .find(|p| p.token == iphone)
        .expect("the iPhone's push");
    let h = &push.headers;
    assert!(
        h["authorization"].starts_with("bearer ey"),
        "token authentication"
    );
    assert_eq!(
        (
            h["apns-topic"].as_str(),
            h["apns-push-type"].as_str(),
            h["apns-priority"].as_str()
        ),
        (BUNDLE_ID, "alert", "10")
    );
    assert_eq!(h["apns-collapse-id"], "voicemail");
    let expiration: i64 = h["apns-expiration"].parse().unwrap();
    assert!(
        (before + 600..=before + 602).contains(&expiration),
        "expiration {expiration}"
    );
    let delivery = status
        .deliveries
        .iter()
        .find(|d| d.provider_message_id == h["apns-id"])
        .expect("apns-id is the provider id");
    assert_eq!(
        h["apns-id"],
        herald_providers::apns::payload::apns_id(&delivery.delivery_id)
    );
    let aps = &push.body["aps"];
    assert_eq!(
        aps["alert"],
        json!({"title": "Voicemail", "subtitle": "New message", "body": "From Ada, 0:42"})
    );
    assert_eq!(
        (aps["badge"].as_u64(), aps["sound"].as_str()),
        (Some(4), Some("chime.caf"))
    );
    assert_eq!(
        (aps["category"].as_str(), aps["thread-id"].as_str()),
        (Some("PLAYNOW_OR_PLAYLATER"), Some("voicemail"))
    );
    assert_eq!(aps["mutable-content"], 1);
    let body = &push.body;
    assert_eq!(
        (
            body["herald_attachment_url"].as_str(),
            body["herald_attachment_type"].as_str()
        ),
        (Some("https://cdn.example.com/vm/3.m4a"), Some("AUDIO"))
    );
    assert_eq!(
        (
            body["herald_action"].as_str(),
            body["herald_action_html"].as_str()
        ),
        (Some("OPEN_HTML"), Some("<p>Ada called</p>"))
    );
    assert_eq!(
        (
            body["herald_push_reference"].as_str(),
            body["herald_type"].as_str()
        ),
        (Some("vm-3"), Some("voicemailReceived"))
    );
    assert_eq!(body["box"], "inbox");
    assert!(pushes.iter().any(|p| p.token == mac), "the Mac got it too");

    // A silent push wakes the app in the background at priority 5.
    let silent = Notification {
        silent: true,
        data: [("sync".to_string(), "1".to_string())].into(),
        ..Default::default()
    };
    let sent = acme
        .send(
            destination::Kind::DeviceId(status.deliveries[0].device_id.clone()),
            silent,
        )
        .await;
    acme.wait_settled(&sent.message_id).await;
    let push = stack.mocks.apns.received().into_iter().last().unwrap();
    assert_eq!(
        (
            push.headers["apns-push-type"].as_str(),
            push.headers["apns-priority"].as_str()
        ),
        ("background", "5")
    );
    assert_eq!(push.body["aps"]["content-available"], 1);
    assert!(push.body["aps"].get("alert").is_none());
    stack.stop().await;
}

#[tokio::test]
async fn voip_pushes_ring_incoming_calls_with_the_voip_topic_and_5kb_limit() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    let phone = device_token(0xca11);
    acme.register_on(Platform::Ios, "callee", &phone).await;
    let call = |sdp_bytes: usize| Notification {
        notification_type: "incomingCall".into(),
        data: [
            ("caller".to_string(), "Ada".to_string()),
            ("sdp".to_string(), "v".repeat(sdp_bytes)),
        ]
        .into(),
        ios: Some(IosOptions {
            push_type: ApnsPushType::Voip as i32,
            ..Default::default()
        }),
        ..Default::default()
    };
    // 4.5 KB: over the 4096 bytes of an ordinary push, within VoIP's 5120.
    let sent = acme
        .send(destination::Kind::UserId("callee".into()), call(4500))
        .await;
    let status = acme.wait_settled(&sent.message_id).await;
    assert_eq!(status.deliveries[0].status(), DeliveryStatus::Submitted);
    let push = &stack.mocks.apns.received()[0];
    assert_eq!(
        (
            push.headers["apns-push-type"].as_str(),
            push.headers["apns-topic"].as_str()
        ),
        ("voip", "com.herald.test.voip")
    );
    assert_eq!(push.headers["apns-priority"], "10");
    assert_eq!(
        (
            push.body["caller"].as_str(),
            push.body["herald_type"].as_str()
        ),
        (Some("Ada"), Some("incomingCall"))
    );

    let too_big = SendRequest {
        destination: Some(Destination {
            kind: Some(destination::Kind::UserId("callee".into())),
        }),
        notification: Some(call(5200)),
        ..Default::default()
    };
    let err = acme.notifications.send(too_big).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(
        err.message().contains("APNs accepts at most 5120"),
        "{}",
        err.message()
    );
    stack.stop().await;
}

#[tokio::test]
async fn each_apns_reason_class_has_its_outcome() {
    use DeliveryStatus::{Failed, Submitted};
    use DeviceState::{Active, Inactive};
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    let cases = [
        (
            Answer::error("Unregistered"),
            expect(Failed, "Unregistered", Inactive, 1),
        ),
        (
            Answer::error("ExpiredToken"),
            expect(Failed, "ExpiredToken", Inactive, 1),
        ),
        (
            Answer::error("BadDeviceToken"),
            expect(Failed, "BadDeviceToken", Inactive, 1),
        ),
        (
            Answer::error_retry_after("TooManyRequests", "1"),
            expect(Submitted, "", Active, 2),
        ),
        (
            Answer::error_retry_after("ServiceUnavailable", "1"),
            expect(Submitted, "", Active, 2),
        ),
        (
            Answer::error_retry_after("InternalServerError", "1"),
            expect(Submitted, "", Active, 2),
        ),
        (
            Answer::expired_access_token(),
            expect(Submitted, "", Active, 1),
        ),
        (
            Answer::error("DeviceTokenNotForTopic"),
            expect(Failed, "DeviceTokenNotForTopic", Active, 1),
        ),
        (
            Answer::error("TopicDisallowed"),
            expect(Failed, "TopicDisallowed", Active, 1),
        ),
    ];
    let tokens: Vec<String> = (0..cases.len() as u32)
        .map(|i| device_token(0xbeef00 + i))
        .collect();
    let mut expected = Vec::new();
    for ((answer, want), token) in cases.into_iter().zip(&tokens) {
        stack.mocks.apns.script(token, [answer]);
        expected.push((token.as_str(), want));
    }
    acme.check_outcomes(Platform::Ios, &expected).await;
    assert_eq!(
        stack.mocks.apns.provider_tokens_seen(),
        2,
        "ExpiredProviderToken replaced the token once"
    );
    stack.stop().await;
}

#[tokio::test]
async fn a_sandbox_build_on_a_production_credential_says_so() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    let token = device_token(0xde5);
    let registered = acme
        .devices
        .register_device(RegisterDeviceRequest {
            user_id: "dev".into(),
            platform: Platform::Ios as i32,
            push_token: token.clone(),
            sandbox: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(registered.device.unwrap().sandbox);
    stack
        .mocks
        .apns
        .script(&token, [Answer::error("BadDeviceToken")]);
    let sent = acme
        .send(destination::Kind::UserId("dev".into()), hello())
        .await;
    let delivery = acme.wait_settled(&sent.message_id).await.deliveries[0].clone();
    assert_eq!(delivery.status(), DeliveryStatus::Failed);
    assert!(
        delivery.reason.contains("sandbox (development) build")
            && delivery.reason.contains("production"),
        "{}",
        delivery.reason
    );
    stack.stop().await;
}

#[tokio::test]
async fn certificate_authentication_delivers_without_a_provider_token() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.bare_tenant("acme").await;
    let identity = stack
        .mocks
        .apns
        .client_certificate(&stack.mocks.ca)
        .unwrap();
    let credential = ApnsCredential {
        auth: Some(apns_credential::Auth::Certificate(ApnsCertificateAuth {
            source: Some(apns_certificate_auth::Source::P12(identity.p12)),
            password: identity.p12_password,
            private_key_pem: String::new(),
        })),
        bundle_id: BUNDLE_ID.into(),
        sandbox: false,
    };
    let info = acme
        .credentials
        .set_credential(SetCredentialRequest {
            credential: Some(set_credential_request::Credential::Apns(credential)),
            label: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        info.principal
            .contains("Apple Push Services: com.herald.test"),
        "{}",
        info.principal
    );
    let token = device_token(0xce47);
    acme.register_on(Platform::Ios, "cert", &token).await;
    let sent = acme
        .send(destination::Kind::UserId("cert".into()), hello())
        .await;
    assert_eq!(
        acme.wait_settled(&sent.message_id).await.deliveries[0].status(),
        DeliveryStatus::Submitted
    );
    let push = &stack.mocks.apns.received()[0];
    assert!(
        !push.headers.contains_key("authorization"),
        "a certificate, not a provider token"
    );
    let test = acme.test_connection(Provider::Apns).await;
    assert!(test.ok, "{}", test.detail);
    stack.stop().await;
}

#[tokio::test]
async fn one_provider_token_serves_many_sends_multiplexed_on_few_connections() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    let tokens: Vec<String> = (0..40).map(|i| device_token(0x10ad00 + i)).collect();
    for token in &tokens {
        stack
            .mocks
            .apns
            .script(token, [Answer::delayed(Duration::from_millis(150))]);
        acme.register_on(Platform::Ios, token, token).await;
    }
    let mut messages = Vec::new();
    for token in &tokens {
        messages.push(
            acme.send(destination::Kind::UserId(token.clone()), hello())
                .await
                .message_id,
        );
    }
    for id in &messages {
        assert_eq!(
            acme.wait_settled(id).await.deliveries[0].status(),
            DeliveryStatus::Submitted
        );
    }
    assert_eq!(stack.mocks.apns.received().len(), 40);
    assert_eq!(
        stack.mocks.apns.provider_tokens_seen(),
        1,
        "one JWT for all 40 sends"
    );
    assert!(
        stack.mocks.apns.max_streams_in_flight() > 1,
        "max streams in flight: {}",
        stack.mocks.apns.max_streams_in_flight()
    );
    let connections: std::collections::HashSet<_> =
        stack.mocks.apns.received().iter().map(|p| p.peer).collect();
    assert!(
        connections.len() <= herald_providers::http::CONNECTIONS,
        "a small pool: {} connections",
        connections.len()
    );
    stack.stop().await;
}

#[tokio::test]
async fn test_connection_probes_apns_and_names_a_bad_key() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut good = stack.tenant("good").await;
    let ok = good.test_connection(Provider::Apns).await;
    assert!(ok.ok, "{}", ok.detail);
    assert!(ok.detail.contains("BadDeviceToken"), "{}", ok.detail);
    assert!(
        stack.mocks.apns.received().is_empty(),
        "the probe delivered nothing"
    );
    // Testing again reuses the credential's provider token: Apple allows one new token per
    // 20 minutes.
    let again = good.test_connection(Provider::Apns).await;
    assert!(again.ok, "{}", again.detail);
    assert_eq!(stack.mocks.apns.provider_tokens_seen(), 1);

    let mut bad = stack.bare_tenant("bad").await;
    let mut credential = stack.apns_token_credential();
    if let Some(apns_credential::Auth::Token(token)) = credential.auth.as_mut() {
        token.key_id = "OTHERKEY01".into();
    }
    let request = SetCredentialRequest {
        credential: Some(set_credential_request::Credential::Apns(credential)),
        label: String::new(),
    };
    bad.credentials.set_credential(request).await.unwrap();
    let failed = bad.test_connection(Provider::Apns).await;
    assert!(!failed.ok);
    assert_eq!(failed.detail, "UnrelatedKeyIdInToken");
    stack.stop().await;
}
