//! Android delivery through FCM and HMS: every option's mapping, every answer class, credential
//! tests, and sender replicas sharing one consumer.

use std::collections::HashSet;
use std::time::Duration;

use herald_e2e::{DbBackend, Stack, expect, hello};
use herald_proto::v1::*;
use herald_testkit::fcm::Answer;
use serde_json::{Value, json};
use tonic::Code;

fn full_notification() -> Notification {
    Notification {
        title: "Missed call".into(),
        body: "Ada Lovelace, +44 20 7946 0000".into(),
        action: Some(Action {
            r#type: ActionType::Deeplink as i32,
            url: "phone://calls/recent".into(),
            html: String::new(),
        }),
        sound: "ring".into(),
        collapse_key: "missed-calls".into(),
        ttl_seconds: 3600,
        priority: 5,
        image_url: "https://img.example.com/ada.png".into(),
        icon: "ic_call".into(),
        data: [("caller".to_string(), "+442079460000".to_string())].into(),
        interactive: Some(Interactive {
            category: InteractionCategory::YesOrNo as i32,
            push_reference: "callback-7".into(),
        }),
        notification_type: "missedCall".into(),
        android: Some(AndroidOptions {
            channel_id: Some("calls".into()),
            color: Some("#ff0000".into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[tokio::test]
async fn every_android_option_maps_into_the_fcm_and_hms_requests() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    acme.register_on(Platform::Android, "ada", "fcm-ada").await;
    acme.register_on(Platform::Huawei, "ada", "hms-ada").await;
    let sent = acme
        .send(destination::Kind::UserId("ada".into()), full_notification())
        .await;
    let status = acme.wait_settled(&sent.message_id).await;
    let providers: HashSet<Provider> = status.deliveries.iter().map(|d| d.provider()).collect();
    assert_eq!(providers, HashSet::from([Provider::Fcm, Provider::Hms]));
    assert!(
        status
            .deliveries
            .iter()
            .all(|d| d.status() == DeliveryStatus::Submitted),
        "{status:#?}"
    );

    let fcm = &stack.mocks.fcm.received()[0].body["message"];
    assert_eq!(fcm["token"], "fcm-ada");
    assert_eq!(
        fcm["notification"],
        json!({"title": "Missed call", "body": "Ada Lovelace, +44 20 7946 0000", "image": "https://img.example.com/ada.png"})
    );
    assert_eq!(fcm["android"]["priority"], "HIGH");
    assert_eq!(fcm["android"]["ttl"], "3600s");
    assert_eq!(fcm["android"]["collapse_key"], "missed-calls");
    let an = &fcm["android"]["notification"];
    assert_eq!(
        (an["sound"].as_str(), an["icon"].as_str()),
        (Some("ring"), Some("ic_call"))
    );
    assert_eq!(
        (an["channel_id"].as_str(), an["color"].as_str()),
        (Some("calls"), Some("#ff0000"))
    );
    assert_eq!(an["notification_priority"], "PRIORITY_MAX");
    let herald_keys = |data: &Value| {
        assert_eq!(data["caller"], "+442079460000");
        assert_eq!(data["herald_type"], "missedCall");
        assert_eq!(data["herald_action"], "DEEPLINK");
        assert_eq!(data["herald_action_url"], "phone://calls/recent");
        assert_eq!(data["herald_category"], "YES_OR_NO");
        assert_eq!(data["herald_push_reference"], "callback-7");
        assert_eq!(
            data["herald_buttons"],
            r#"[{"id":"yes","label":"Yes"},{"id":"no","label":"No"}]"#
        );
        assert_eq!(data["herald_message_id"], sent.message_id.as_str());
    };
    herald_keys(&fcm["data"]);

    let hms = &stack.mocks.hms.received()[0].body["message"];
    assert_eq!(hms["token"], json!(["hms-ada"]));
    assert_eq!(hms["android"]["urgency"], "HIGH");
    assert_eq!(hms["android"]["ttl"], "3600s");
    let hn = &hms["android"]["notification"];
    assert_eq!(
        (hn["title"].as_str(), hn["body"].as_str()),
        (Some("Missed call"), Some("Ada Lovelace, +44 20 7946 0000"))
    );
    assert_eq!(hn["tag"], "missed-calls");
    assert_eq!(hn["importance"], "HIGH");
    assert_eq!(
        hn["click_action"],
        json!({"type": 1, "intent": "phone://calls/recent"})
    );
    assert_eq!(
        (
            hn["sound"].as_str(),
            hn["icon"].as_str(),
            hn["channel_id"].as_str()
        ),
        (Some("ring"), Some("ic_call"), Some("calls"))
    );
    herald_keys(&serde_json::from_str(hms["data"].as_str().unwrap()).unwrap());

    // A silent push is data only on both.
    let silent = Notification {
        silent: true,
        data: [("sync".to_string(), "inbox".to_string())].into(),
        ..Default::default()
    };
    let sent = acme
        .send(destination::Kind::UserId("ada".into()), silent)
        .await;
    acme.wait_settled(&sent.message_id).await;
    let fcm = &stack.mocks.fcm.received()[1].body["message"];
    assert!(fcm.get("notification").is_none() && fcm["android"].get("notification").is_none());
    assert_eq!(fcm["data"]["sync"], "inbox");
    let hms = &stack.mocks.hms.received()[1].body["message"];
    assert!(hms["android"].get("notification").is_none());
    assert!(hms["data"].as_str().unwrap().contains("\"sync\":\"inbox\""));
    stack.stop().await;
}

#[tokio::test]
async fn each_fcm_answer_class_has_its_outcome() {
    use DeliveryStatus::{Failed, Submitted};
    use DeviceState::{Active, Inactive};
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    let scripts = [
        ("fcm-unregistered", vec![Answer::error("UNREGISTERED")]),
        ("fcm-invalid-token", vec![Answer::error("INVALID_ARGUMENT")]),
        ("fcm-mismatch", vec![Answer::error("SENDER_ID_MISMATCH")]),
        (
            "fcm-third-party",
            vec![Answer::error("THIRD_PARTY_AUTH_ERROR")],
        ),
        (
            "fcm-quota",
            vec![Answer::error_retry_after("QUOTA_EXCEEDED", "1")],
        ),
        (
            "fcm-internal",
            vec![Answer::error_retry_after("INTERNAL", "1")],
        ),
        (
            "fcm-timeout",
            vec![Answer::delayed(Duration::from_secs(
                herald_e2e::PROVIDER_TIMEOUT_SECS + 1,
            ))],
        ),
        ("fcm-stale-token", vec![Answer::expired_access_token()]),
    ];
    for (token, answers) in scripts {
        stack.mocks.fcm.script(token, answers);
    }
    acme.check_outcomes(
        Platform::Android,
        &[
            (
                "fcm-unregistered",
                expect(Failed, "UNREGISTERED", Inactive, 1),
            ),
            (
                "fcm-invalid-token",
                expect(Failed, "not a valid FCM registration token", Inactive, 1),
            ),
            (
                "fcm-mismatch",
                expect(Failed, "another Firebase project", Active, 1),
            ),
            (
                "fcm-third-party",
                expect(Failed, "APNs certificate or web push key", Active, 1),
            ),
            ("fcm-quota", expect(Submitted, "", Active, 2)),
            ("fcm-internal", expect(Submitted, "", Active, 2)),
            ("fcm-timeout", expect(Submitted, "", Active, 2)),
            ("fcm-stale-token", expect(Submitted, "", Active, 1)),
        ],
    )
    .await;
    // The stale token cost one refresh and one more request, inside a single delivery attempt.
    assert_eq!(stack.mocks.fcm.attempts("fcm-stale-token"), 2);
    stack.stop().await;
}

#[tokio::test]
async fn each_hms_answer_class_has_its_outcome() {
    use DeliveryStatus::{Failed, Submitted};
    use DeviceState::{Active, Inactive};
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    let scripts = [
        ("hms-all-invalid", vec![Answer::error("80300007")]),
        ("hms-illegal", vec![Answer::error("80100000")]),
        // A refused access token is refreshed once: refused again, the credential is wrong.
        (
            "hms-auth",
            vec![Answer::error("80200001"), Answer::error("80200001")],
        ),
        ("hms-permission", vec![Answer::error("80300002")]),
        (
            "hms-flow-control",
            vec![
                Answer::error_retry_after("503", "1"),
                Answer::error_retry_after("503", "1"),
            ],
        ),
        ("hms-stale-token", vec![Answer::expired_access_token()]),
    ];
    for (token, answers) in scripts {
        stack.mocks.hms.script(token, answers);
    }
    acme.check_outcomes(
        Platform::Huawei,
        &[
            ("hms-all-invalid", expect(Failed, "80300007", Inactive, 1)),
            ("hms-illegal", expect(Failed, "illegal", Inactive, 1)),
            (
                "hms-auth",
                expect(Failed, "app id and app secret", Active, 1),
            ),
            (
                "hms-permission",
                expect(Failed, "another app id", Active, 1),
            ),
            ("hms-flow-control", expect(Submitted, "", Active, 3)),
            ("hms-stale-token", expect(Submitted, "", Active, 1)),
        ],
    )
    .await;
    assert_eq!(stack.mocks.hms.attempts("hms-flow-control"), 3);
    stack.stop().await;
}

#[tokio::test]
async fn test_connection_proves_good_credentials_and_explains_bad_ones() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut good = stack.tenant("good").await;
    for provider in [Provider::Fcm, Provider::Hms] {
        let result = good.test_connection(provider).await;
        assert!(result.ok, "{provider:?}: {}", result.detail);
        assert!(result.detail.contains("validate-only"), "{}", result.detail);
    }
    let validated = stack.mocks.fcm.validated();
    assert_eq!(validated.len(), 1);
    assert_eq!(
        validated[0].body["message"]["topic"],
        "herald-connection-test"
    );
    assert_eq!(stack.mocks.hms.validated().len(), 1);
    assert!(
        stack.mocks.fcm.received().is_empty() && stack.mocks.hms.received().is_empty(),
        "nothing was delivered"
    );

    let mut bad = stack.bare_tenant("bad").await;
    let err = bad
        .credentials
        .test_connection(TestConnectionRequest {
            provider: Provider::Fcm as i32,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let mut account: Value = serde_json::from_str(&stack.mocks.fcm.service_account_json()).unwrap();
    account["client_email"] = json!("someone-else@herald-test.iam.gserviceaccount.com");
    let credentials = [
        set_credential_request::Credential::Fcm(FcmCredential {
            service_account_json: account.to_string(),
            project_id: String::new(),
        }),
        set_credential_request::Credential::Hms(HmsCredential {
            app_id: herald_testkit::hms::APP_ID.into(),
            app_secret: "wrong".into(),
            ..Default::default()
        }),
    ];
    for credential in credentials {
        bad.credentials
            .set_credential(SetCredentialRequest {
                credential: Some(credential),
                label: String::new(),
            })
            .await
            .unwrap();
    }
    let fcm = bad.test_connection(Provider::Fcm).await;
    assert!(!fcm.ok);
    assert!(
        fcm.detail.contains("iss is not the service account"),
        "{}",
        fcm.detail
    );
    let hms = bad.test_connection(Provider::Hms).await;
    assert!(!hms.ok);
    assert!(hms.detail.contains("invalid client"), "{}", hms.detail);
    stack.stop().await;
}

#[tokio::test]
async fn two_fcm_senders_share_one_consumer_and_deliver_each_push_once() {
    let stack = Stack::start_with(DbBackend::Sqlite, 2).await;
    let mut acme = stack.tenant("acme").await;
    let tokens: Vec<String> = (0..40).map(|i| format!("shared-{i:02}")).collect();
    for token in &tokens {
        // Slow answers keep many sends in flight, so both senders pull work.
        stack
            .mocks
            .fcm
            .script(token, [Answer::delayed(Duration::from_millis(150))]);
        acme.register(token, token).await;
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
        let status = acme.wait_settled(id).await;
        assert_eq!(status.deliveries[0].status(), DeliveryStatus::Submitted);
    }
    let received = stack.mocks.fcm.received();
    let mut seen: Vec<&str> = received.iter().map(|p| p.token.as_str()).collect();
    seen.sort_unstable();
    assert_eq!(
        seen,
        tokens.iter().map(String::as_str).collect::<Vec<_>>(),
        "each push exactly once"
    );
    let connections: HashSet<_> = received.iter().map(|p| p.peer).collect();
    assert!(
        connections.len() >= 2,
        "all {} pushes came over one sender's connection",
        received.len()
    );
    stack.stop().await;
}
