//! Browser delivery through Web Push: what the service worker receives, each push-service
//! answer, browser targeting, subscription checks and VAPID keys.

use herald_e2e::{DbBackend, Stack, expect, hello};
use herald_proto::v1::*;
use herald_testkit::webpush::{Answer, MockPushService};
use serde_json::json;
use tonic::Code;

#[tokio::test]
async fn a_subscribed_browser_receives_the_documented_service_worker_json() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    let (device, subscription) = acme
        .register_browser(&stack.mocks.push, "wes", Browser::Chrome)
        .await;
    assert_eq!(
        device.web_subscription.as_ref().unwrap().endpoint,
        subscription.endpoint
    );
    let notification = Notification {
        title: "Order shipped".into(),
        body: "It arrives Tuesday".into(),
        icon: "https://shop.example/icon.png".into(),
        image_url: "https://shop.example/parcel.png".into(),
        collapse_key: "order-42".into(),
        ttl_seconds: 900,
        priority: 2,
        data: [("order".to_string(), "42".to_string())].into(),
        interactive: Some(Interactive {
            category: InteractionCategory::YesOrNo as i32,
            push_reference: "feedback-42".into(),
        }),
        web: Some(WebOptions {
            on_click_url: Some("https://shop.example/orders/42".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let sent = acme
        .send(destination::Kind::UserId("wes".into()), notification)
        .await;
    let status = acme.wait_settled(&sent.message_id).await;
    let delivery = &status.deliveries[0];
    assert_eq!(
        (delivery.provider(), delivery.status()),
        (Provider::Webpush, DeliveryStatus::Submitted)
    );
    assert!(
        delivery.provider_message_id.contains("/message/"),
        "{}",
        delivery.provider_message_id
    );

    let push = &stack.mocks.push.received()[0];
    assert_eq!(push.token, MockPushService::id_of(&subscription));
    // Exactly the JSON README.md documents for the service worker.
    let expected = json!({
        "title": "Order shipped",
        "body": "It arrives Tuesday",
        "icon": "https://shop.example/icon.png",
        "image": "https://shop.example/parcel.png",
        "url": "https://shop.example/orders/42",
        "tag": "order-42",
        "actions": [{"action": "yes", "title": "Yes"}, {"action": "no", "title": "No"}],
        "data": {
            "order": "42",
            "herald_message_id": sent.message_id,
            "herald_delivery_id": delivery.delivery_id,
            "herald_category": "YES_OR_NO",
            "herald_buttons": "[{\"id\":\"yes\",\"label\":\"Yes\"},{\"id\":\"no\",\"label\":\"No\"}]",
            "herald_push_reference": "feedback-42",
        },
    });
    assert_eq!(push.body, expected);
    let h = &push.headers;
    assert_eq!(
        (
            h["ttl"].as_str(),
            h["urgency"].as_str(),
            h["topic"].as_str()
        ),
        ("900", "low", "order-42")
    );
    assert_eq!(h["content-encoding"], "aes128gcm");
    assert!(
        h["authorization"].starts_with("vapid t=ey")
            && h["authorization"].ends_with(&format!("k={}", acme.vapid_public_key))
    );
    stack.stop().await;
}

#[tokio::test]
async fn each_push_service_answer_has_its_outcome() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    use DeliveryStatus::{Failed, Submitted};
    use DeviceState::{Active, Expired};
    let cases = [
        (
            "gone",
            vec![Answer::error("410")],
            expect(Failed, "410", Expired, 1),
        ),
        (
            "not-found",
            vec![Answer::error("404")],
            expect(Failed, "404", Expired, 1),
        ),
        (
            "too-large",
            vec![Answer::error("413")],
            expect(Failed, "413", Active, 1),
        ),
        (
            "slow-down",
            vec![Answer::error_retry_after("429", "1")],
            expect(Submitted, "", Active, 2),
        ),
        (
            "down",
            vec![Answer::error_retry_after("503", "1")],
            expect(Submitted, "", Active, 2),
        ),
        (
            "bad-request",
            vec![Answer::error("400")],
            expect(Failed, "400", Active, 1),
        ),
        (
            "unauthorized",
            vec![Answer::error("401")],
            expect(Failed, "VAPID", Active, 1),
        ),
        (
            "forbidden",
            vec![Answer::error("403")],
            expect(Failed, "VAPID", Active, 1),
        ),
    ];
    let mut sent = Vec::new();
    for (user, answers, want) in &cases {
        let (device, subscription) = acme
            .register_browser(&stack.mocks.push, user, Browser::Firefox)
            .await;
        stack
            .mocks
            .push
            .script(MockPushService::id_of(&subscription), answers.clone());
        let message = acme
            .send(destination::Kind::UserId((*user).into()), hello())
            .await;
        sent.push((*user, message.message_id, device.device_id, want));
    }
    acme.verify_outcomes(&sent).await;
    // An expired subscription is never sent to again.
    let again = acme
        .send(destination::Kind::UserId("gone".into()), hello())
        .await;
    let result = acme.wait_settled(&again.message_id).await;
    assert_eq!(result.message.unwrap().state(), MessageState::Failed);
    stack.stop().await;
}

#[tokio::test]
async fn browser_targeting_sends_only_to_the_selected_browsers() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    let (_, chrome) = acme
        .register_browser(&stack.mocks.push, "multi", Browser::Chrome)
        .await;
    let (_, firefox) = acme
        .register_browser(&stack.mocks.push, "multi", Browser::Firefox)
        .await;
    let (_, safari) = acme
        .register_browser(&stack.mocks.push, "multi", Browser::Safari)
        .await;
    let only = |browsers: Vec<Browser>| Notification {
        web: Some(WebOptions {
            browsers: browsers.into_iter().map(|b| b as i32).collect(),
            ..Default::default()
        }),
        ..hello()
    };
    let sent = acme
        .send(
            destination::Kind::UserId("multi".into()),
            only(vec![Browser::Firefox, Browser::Safari]),
        )
        .await;
    assert_eq!(
        acme.wait_settled(&sent.message_id).await.deliveries.len(),
        2
    );
    let reached: Vec<String> = stack
        .mocks
        .push
        .received()
        .iter()
        .map(|p| p.token.clone())
        .collect();
    assert!(reached.contains(&MockPushService::id_of(&firefox).to_owned()));
    assert!(reached.contains(&MockPushService::id_of(&safari).to_owned()));
    assert!(
        !reached.contains(&MockPushService::id_of(&chrome).to_owned()),
        "chrome was not selected"
    );
    // No browser selected: all of them.
    let sent = acme
        .send(destination::Kind::UserId("multi".into()), hello())
        .await;
    assert_eq!(
        acme.wait_settled(&sent.message_id).await.deliveries.len(),
        3
    );
    // Only a browser the user lacks: nothing to send, and the message says why.
    let sent = acme
        .send(
            destination::Kind::UserId("multi".into()),
            only(vec![Browser::Edge]),
        )
        .await;
    let message = acme.wait_settled(&sent.message_id).await.message.unwrap();
    assert_eq!(message.state(), MessageState::Failed);
    assert!(
        message.reason.contains("selected providers and browsers"),
        "{}",
        message.reason
    );
    stack.stop().await;
}

#[tokio::test]
async fn subscriptions_are_checked_and_http_endpoints_need_the_tenants_consent() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    let subscription = stack.mocks.push.subscribe(&acme.vapid_public_key);
    let register = |endpoint: &str, p256dh: &str| RegisterDeviceRequest {
        user_id: "u".into(),
        platform: Platform::Web as i32,
        web_subscription: Some(WebSubscription {
            endpoint: endpoint.into(),
            p256dh: p256dh.into(),
            auth: subscription.auth.clone(),
        }),
        ..Default::default()
    };
    let http = "http://127.0.0.1:9/push/local";
    let err = acme
        .devices
        .register_device(register(http, &subscription.p256dh))
        .await
        .unwrap_err();
    assert!(
        err.message().starts_with("web_subscription.endpoint:"),
        "{}",
        err.message()
    );
    let err = acme
        .devices
        .register_device(register(&subscription.endpoint, "AAAA"))
        .await
        .unwrap_err();
    assert!(
        err.message().starts_with("web_subscription.p256dh:"),
        "{}",
        err.message()
    );

    let allow_http = UpdateTenantRequest {
        tenant: Some(Tenant {
            tenant_id: acme.tenant_id.clone(),
            settings: Some(TenantSettings {
                allow_http_web_push: true,
                ..Default::default()
            }),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["settings.allow_http_web_push".into()],
        }),
    };
    let mut admin = stack.admin().await;
    admin.admin.update_tenant(allow_http.clone()).await.unwrap();
    acme.devices
        .register_device(register(http, &subscription.p256dh))
        .await
        .expect("http allowed now");
    let err = acme.admin.update_tenant(allow_http).await.unwrap_err();
    assert_eq!(
        err.code(),
        Code::PermissionDenied,
        "only the admin changes settings"
    );
    stack.stop().await;
}

#[tokio::test]
async fn vapid_keys_are_generated_once_and_their_public_half_is_readable() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    let listed = acme
        .credentials
        .list_credentials(ListCredentialsRequest::default())
        .await
        .unwrap()
        .into_inner();
    let web = listed
        .credentials
        .iter()
        .find(|c| c.provider() == Provider::Webpush)
        .expect("a webpush credential");
    assert_eq!(
        web.identifier, acme.vapid_public_key,
        "the applicationServerKey a page needs"
    );
    assert_eq!(
        herald_providers::webpush::from_b64url(&web.identifier)
            .unwrap()
            .len(),
        65
    );
    let again = acme
        .credentials
        .generate_vapid_keys(GenerateVapidKeysRequest {
            subject: "mailto:ops@herald.test".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::FailedPrecondition);
    let mut fresh = stack.bare_tenant("fresh").await;
    let bad = fresh
        .credentials
        .generate_vapid_keys(GenerateVapidKeysRequest {
            subject: "ops@example.com".into(),
        })
        .await
        .unwrap_err();
    assert!(bad.message().starts_with("subject:"), "{}", bad.message());
    let test = acme
        .credentials
        .test_connection(TestConnectionRequest {
            provider: Provider::Webpush as i32,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        test.ok && test.detail.contains(&acme.vapid_public_key),
        "{}",
        test.detail
    );
    stack.stop().await;
}

#[tokio::test]
async fn a_web_payload_over_rfc_8291s_limit_is_refused_at_ingest() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    acme.register_browser(&stack.mocks.push, "big", Browser::Chrome)
        .await;
    let big = Notification {
        web: Some(WebOptions {
            body: Some("x".repeat(3990)),
            ..Default::default()
        }),
        ..hello()
    };
    let request = SendRequest {
        destination: Some(Destination {
            kind: Some(destination::Kind::UserId("big".into())),
        }),
        notification: Some(big),
        ..Default::default()
    };
    let err = acme.notifications.send(request).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(
        err.message().contains("Web Push accepts at most 3993"),
        "{}",
        err.message()
    );
    stack.stop().await;
}

#[tokio::test]
async fn a_retried_web_push_carries_the_time_to_live_that_is_left() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    let (_, subscription) = acme
        .register_browser(&stack.mocks.push, "tia", Browser::Chrome)
        .await;
    stack.mocks.push.script(
        MockPushService::id_of(&subscription),
        [Answer::error_retry_after("503", "2")],
    );
    let sent = acme
        .send(
            destination::Kind::UserId("tia".into()),
            Notification {
                ttl_seconds: 120,
                ..hello()
            },
        )
        .await;
    let status = acme.wait_settled(&sent.message_id).await;
    assert_eq!(status.deliveries[0].attempts, 2);
    let push = &stack.mocks.push.received()[0];
    let ttl: u32 = push.headers["ttl"].parse().unwrap();
    assert!(
        (100..=118).contains(&ttl),
        "two seconds after acceptance, at most 118 s of 120 are left: {ttl}"
    );
    stack.stop().await;
}
