//! Sending to a raw push id: checked at ingest exactly as a registration is, registered there,
//! and only read by the router.

use std::time::Duration;

use herald_e2e::{DbBackend, Stack, hello};
use herald_proto::v1::*;
use herald_testkit::webpush::MockPushService;
use tonic::Code;

fn to(push_id: PushId) -> SendRequest {
    SendRequest {
        destination: Some(Destination {
            kind: Some(destination::Kind::PushId(push_id)),
        }),
        notification: Some(hello()),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_push_id_is_refused_at_ingest_where_a_registration_would_be() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    let subscription = stack.mocks.push.subscribe(&acme.vapid_public_key);
    let web = |sub: WebSubscription| PushId {
        platform: Platform::Web as i32,
        web_subscription: Some(sub),
        ..Default::default()
    };
    let good = WebSubscription {
        endpoint: subscription.endpoint.clone(),
        p256dh: subscription.p256dh.clone(),
        auth: subscription.auth.clone(),
    };
    let cases = [
        (
            PushId {
                platform: Platform::Web as i32,
                token: subscription.endpoint.clone(),
                ..Default::default()
            },
            "destination.push_id.web_subscription",
        ),
        (
            web(WebSubscription {
                p256dh: "AAAA".into(),
                ..good.clone()
            }),
            "destination.push_id.web_subscription.p256dh",
        ),
        (
            web(WebSubscription {
                auth: "AAAA".into(),
                ..good.clone()
            }),
            "destination.push_id.web_subscription.auth",
        ),
        (
            web(WebSubscription {
                endpoint: "http://push.example/p/1".into(),
                ..good.clone()
            }),
            "destination.push_id.web_subscription.endpoint",
        ),
        (
            PushId {
                platform: Platform::Ios as i32,
                token: "abc?x=1".into(),
                ..Default::default()
            },
            "destination.push_id.token",
        ),
    ];
    for (push_id, field) in cases {
        let err = acme.notifications.send(to(push_id)).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{field}: {err:?}");
        assert!(
            err.message().starts_with(&format!("{field}: ")),
            "expected {field}, got {}",
            err.message()
        );
    }
    assert_eq!(
        stack.raw_text("SELECT COUNT(*) FROM messages").await,
        vec!["0"]
    );
    assert_eq!(
        stack.raw_text("SELECT COUNT(*) FROM devices").await,
        vec!["0"]
    );

    // With its keys, the push id is registered and the browser reads the push.
    let sent = acme
        .notifications
        .send(to(web(good)))
        .await
        .unwrap()
        .into_inner();
    let status = acme.wait_settled(&sent.message_id).await;
    assert_eq!(status.deliveries[0].status(), DeliveryStatus::Submitted);
    let pushes = stack.mocks.push.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(pushes[0].token, MockPushService::id_of(&subscription));
    assert_eq!(pushes[0].body["title"], "Hello");
    let device = acme
        .devices
        .get_device(GetDeviceRequest {
            device_id: status.deliveries[0].device_id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(device.platform(), Platform::Web);
    assert_eq!(
        device.web_subscription.unwrap().p256dh,
        subscription.p256dh,
        "the keys were registered with the push id"
    );
    stack.stop().await;
}

#[tokio::test]
async fn the_router_reads_a_push_id_and_never_registers_one() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    // A message stored as ingest would store it, but whose push id is not (or no longer)
    // registered: the relay publishes it, and the router finds no device.
    let push_id = PushId {
        platform: Platform::Android as i32,
        token: "tok-gone".into(),
        ..Default::default()
    };
    let id = stack
        .store_unpublished(&acme.tenant_id, destination::Kind::PushId(push_id), hello())
        .await;
    let status = acme.wait_settled(id.as_str()).await;
    let message = status.message.unwrap();
    assert_eq!(message.state(), MessageState::Failed);
    assert_eq!(message.reason, "push id is not registered");
    assert_eq!(
        stack.raw_text("SELECT COUNT(*) FROM devices").await,
        vec!["0"]
    );
    stack.stop().await;
}
