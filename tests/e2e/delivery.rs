//! A notification's way from `Send` to the provider and back to its status.

use std::time::Duration;

use herald_bus::Bus;
use herald_e2e::{DbBackend, Stack, hello};
use herald_proto::v1::*;
use herald_testkit::fcm::{Answer, Version};
use tonic::Code;

async fn send_reaches_fcm_and_is_submitted(backend: DbBackend) {
    let stack = Stack::start(backend).await;
    let mut acme = stack.tenant("acme").await;
    let device = acme.register("alice", "tok-alice").await;
    let notification = Notification {
        data: [("order".to_string(), "42".to_string())].into(),
        ttl_seconds: 600,
        priority: 5,
        ..hello()
    };
    let sent = acme
        .send(destination::Kind::UserId("alice".into()), notification)
        .await;
    assert!(!sent.duplicate);

    let received = stack.mocks.fcm.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(received.len(), 1);
    let push = &received[0];
    assert_eq!(push.http_version, Version::HTTP_2);
    assert!(
        push.authorization.starts_with("Bearer ya29.mock-"),
        "{}",
        push.authorization
    );
    let message = &push.body["message"];
    assert_eq!(push.body["validate_only"], false);
    assert_eq!(message["token"], "tok-alice");
    assert_eq!(message["notification"]["title"], "Hello");
    assert_eq!(message["notification"]["body"], "World");
    assert_eq!(message["data"]["order"], "42");
    assert_eq!(
        message["data"]["herald_message_id"],
        sent.message_id.as_str()
    );
    assert_eq!(message["android"]["ttl"], "600s");
    assert_eq!(message["android"]["priority"], "HIGH");

    let status = acme.wait_settled(&sent.message_id).await;
    let msg = status.message.expect("message");
    assert_eq!(msg.state(), MessageState::Submitted);
    assert_eq!(status.deliveries.len(), 1);
    let delivery = &status.deliveries[0];
    assert_eq!(delivery.status(), DeliveryStatus::Submitted);
    assert_eq!(delivery.device_id, device.device_id);
    assert_eq!(delivery.provider(), Provider::Fcm);
    assert_eq!(delivery.attempts, 1);
    assert!(
        delivery
            .provider_message_id
            .starts_with("projects/herald-test/messages/")
    );
    assert_eq!(
        message["data"]["herald_delivery_id"],
        delivery.delivery_id.as_str()
    );
    stack.stop().await;
}

#[tokio::test]
async fn send_reaches_fcm_and_is_submitted_on_sqlite() {
    send_reaches_fcm_and_is_submitted(DbBackend::Sqlite).await;
}

#[tokio::test]
async fn send_reaches_fcm_and_is_submitted_on_postgres() {
    send_reaches_fcm_and_is_submitted(DbBackend::Postgres).await;
}

#[tokio::test]
async fn an_unregistered_token_fails_the_delivery_and_retires_the_device() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    let device = acme.register("bob", "tok-dead").await;
    stack
        .mocks
        .fcm
        .script("tok-dead", [Answer::error("UNREGISTERED")]);
    let sent = acme
        .send(destination::Kind::UserId("bob".into()), hello())
        .await;

    let status = acme.wait_settled(&sent.message_id).await;
    let delivery = &status.deliveries[0];
    assert_eq!(delivery.status(), DeliveryStatus::Failed);
    assert!(
        delivery.reason.starts_with("UNREGISTERED"),
        "{}",
        delivery.reason
    );
    let device = acme
        .devices
        .get_device(GetDeviceRequest {
            device_id: device.device_id,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(device.state(), DeviceState::Inactive);
    assert!(device.state_reason.starts_with("UNREGISTERED"));

    // The device is never sent to again.
    let again = acme
        .send(destination::Kind::UserId("bob".into()), hello())
        .await;
    let status = acme.wait_settled(&again.message_id).await;
    let message = status.message.unwrap();
    assert_eq!(message.state(), MessageState::Failed);
    assert!(
        message.reason.contains("no active devices"),
        "{}",
        message.reason
    );
    assert_eq!(stack.mocks.fcm.attempts("tok-dead"), 1);
    stack.stop().await;
}

#[tokio::test]
async fn a_repeated_idempotency_key_delivers_once() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    acme.register("carol", "tok-carol").await;
    let request = SendRequest {
        destination: Some(Destination {
            kind: Some(destination::Kind::UserId("carol".into())),
        }),
        notification: Some(hello()),
        idempotency_key: "order-42-shipped".into(),
        ..Default::default()
    };
    let first = acme
        .notifications
        .send(request.clone())
        .await
        .unwrap()
        .into_inner();
    let second = acme
        .notifications
        .send(request.clone())
        .await
        .unwrap()
        .into_inner();
    assert!(!first.duplicate);
    assert!(second.duplicate);
    assert_eq!(first.message_id, second.message_id);
    acme.wait_settled(&first.message_id).await;
    // A retry long after the first delivery still answers the same message.
    let third = acme.notifications.send(request).await.unwrap().into_inner();
    assert_eq!(third.message_id, first.message_id);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(stack.mocks.fcm.attempts("tok-carol"), 1);
    assert_eq!(
        stack.raw_text("SELECT COUNT(*) FROM messages").await,
        vec!["1"]
    );
    stack.stop().await;
}

#[tokio::test]
async fn a_message_handled_again_by_the_router_is_not_sent_again() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    acme.register("dave", "tok-dave").await;
    let sent = acme
        .send(destination::Kind::UserId("dave".into()), hello())
        .await;
    acme.wait_settled(&sent.message_id).await;

    // Redeliver the accepted message under another Nats-Msg-Id, as a redelivery after the
    // duplicate window would arrive.
    let record = stack
        .store
        .get_message(
            &herald_core::ids::TenantId::from_trusted(acme.tenant_id.clone()),
            &herald_core::ids::MessageId::from_trusted(sent.message_id.clone()),
        )
        .await
        .unwrap()
        .unwrap();
    let bus = Bus::connect(&stack.nats.url()).await.unwrap();
    let mut replay = herald_bus::accepted_batches(
        &acme.tenant_id,
        vec![herald_bus::Accepted {
            message_id: sent.message_id.clone(),
            body: record.body,
            due: None,
        }],
    );
    replay[0].out.msg_id = format!("{}-replayed", sent.message_id);
    bus.publish(replay.remove(0).out).await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(stack.mocks.fcm.attempts("tok-dave"), 1);
    let status = acme.message(&sent.message_id).await;
    assert_eq!(status.deliveries.len(), 1);
    assert_eq!(status.deliveries[0].status(), DeliveryStatus::Submitted);
    stack.stop().await;
}

#[tokio::test]
async fn a_send_batch_published_again_does_not_resend_settled_deliveries() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    acme.register("frank", "tok-frank").await;
    let sent = acme
        .send(destination::Kind::UserId("frank".into()), hello())
        .await;
    let settled = acme.wait_settled(&sent.message_id).await;
    let delivery = &settled.deliveries[0];
    assert_eq!(delivery.status(), DeliveryStatus::Submitted);

    // The same delivery in a batch of another composition, as a router that crashed before
    // acking would publish it again (marked as routed again): JetStream does not drop it, the
    // sender must.
    let task = herald_proto::bus::v1::SendTask {
        tenant_id: acme.tenant_id.clone(),
        message_id: sent.message_id.clone(),
        delivery_id: delivery.delivery_id.clone(),
        device: Some(herald_proto::bus::v1::TargetDevice {
            device_id: delivery.device_id.clone(),
            platform: Platform::Android as i32,
            push_token: "tok-frank".into(),
            ..Default::default()
        }),
        notification: Some(hello()),
        accepted_at_ms: herald_core::time::now_ms(),
        expires_at_ms: herald_core::time::now_ms() + 600_000,
        attempt: 1,
        ..Default::default()
    };
    let mut again = herald_bus::send_batches(herald_proto::v1::Provider::Fcm, vec![task], 0);
    again[0].msg_id = format!("{}-recomposed", again[0].msg_id);
    let bus = Bus::connect(&stack.nats.url()).await.unwrap();
    herald_bus::all_published(bus.publish_all(again).await).unwrap();
    // Once the sender has acked the batch (the work queue is empty), it had its chance to send.
    let js = async_nats::jetstream::new(async_nats::connect(stack.nats.url()).await.unwrap());
    let mut stream = js.get_stream(herald_bus::SEND_STREAM).await.unwrap();
    let started = std::time::Instant::now();
    while stream.info().await.unwrap().state.messages > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the sender never acked the batch"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(stack.mocks.fcm.attempts("tok-frank"), 1);
    stack.stop().await;
}

#[tokio::test]
async fn a_provider_outage_is_retried_after_retry_after_and_then_succeeds() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    acme.register("erin", "tok-erin").await;
    stack.mocks.fcm.script(
        "tok-erin",
        [
            Answer::error_retry_after("UNAVAILABLE", "1"),
            Answer::error_retry_after("UNAVAILABLE", "1"),
        ],
    );
    let sent = acme
        .send(destination::Kind::UserId("erin".into()), hello())
        .await;
    let status = acme
        .wait_message(&sent.message_id, Duration::from_secs(30), |m| {
            m.deliveries
                .first()
                .is_some_and(|d| d.status() == DeliveryStatus::Submitted)
        })
        .await;
    assert_eq!(status.deliveries[0].attempts, 3);
    assert_eq!(stack.mocks.fcm.attempts("tok-erin"), 3);
    assert_eq!(stack.mocks.fcm.received().len(), 1);
    stack.stop().await;
}

#[tokio::test]
async fn a_delivery_waiting_for_its_next_try_says_why_and_when() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    acme.register("ida", "tok-ida").await;
    stack
        .mocks
        .fcm
        .script("tok-ida", [Answer::error_retry_after("UNAVAILABLE", "4")]);
    let sent = acme
        .send(destination::Kind::UserId("ida".into()), hello())
        .await;
    // While it waits: still queued, one try made, the provider's answer and the next try.
    let waiting = acme
        .wait_message(&sent.message_id, Duration::from_secs(30), |m| {
            m.deliveries.first().is_some_and(|d| d.attempts == 1)
        })
        .await;
    let delivery = &waiting.deliveries[0];
    assert_eq!(delivery.status(), DeliveryStatus::Queued);
    assert!(
        delivery.reason.contains("UNAVAILABLE"),
        "{}",
        delivery.reason
    );
    assert!(
        delivery.reason.contains("next try at "),
        "{}",
        delivery.reason
    );
    // Then it goes, and the retry's reason goes with the wait.
    let done = acme
        .wait_message(&sent.message_id, Duration::from_secs(30), |m| {
            m.deliveries
                .first()
                .is_some_and(|d| d.status() == DeliveryStatus::Submitted)
        })
        .await;
    assert_eq!(
        (
            done.deliveries[0].attempts,
            done.deliveries[0].reason.as_str()
        ),
        (2, "")
    );
    stack.stop().await;
}

#[tokio::test]
async fn a_retry_that_would_pass_the_ttl_expires_the_delivery() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    acme.register("fay", "tok-fay").await;
    stack
        .mocks
        .fcm
        .script("tok-fay", [Answer::error_retry_after("UNAVAILABLE", "120")]);
    let notification = Notification {
        ttl_seconds: 60,
        ..hello()
    };
    let sent = acme
        .send(destination::Kind::UserId("fay".into()), notification)
        .await;
    let status = acme.wait_settled(&sent.message_id).await;
    let delivery = &status.deliveries[0];
    assert_eq!(delivery.status(), DeliveryStatus::Expired);
    assert!(
        delivery.reason.contains("time to live"),
        "{}",
        delivery.reason
    );
    assert!(
        delivery.reason.contains("UNAVAILABLE"),
        "{}",
        delivery.reason
    );
    assert_eq!(stack.mocks.fcm.attempts("tok-fay"), 1);
    stack.stop().await;
}

#[tokio::test]
async fn without_a_credential_the_delivery_fails_with_the_reason() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.bare_tenant("acme").await;
    acme.register("gus", "tok-gus").await;
    let sent = acme
        .send(destination::Kind::UserId("gus".into()), hello())
        .await;
    let status = acme.wait_settled(&sent.message_id).await;
    assert_eq!(status.deliveries[0].status(), DeliveryStatus::Failed);
    assert_eq!(
        status.deliveries[0].reason,
        "no fcm credential is configured for this tenant"
    );
    assert_eq!(stack.mocks.fcm.attempts("tok-gus"), 0);
    stack.stop().await;
}

#[tokio::test]
async fn a_push_id_destination_reaches_an_unregistered_token_and_device_reports_climb() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    let push_id = PushId {
        platform: Platform::Android as i32,
        token: "tok-raw".into(),
        ..Default::default()
    };
    let sent = acme.send(destination::Kind::PushId(push_id), hello()).await;
    let status = acme.wait_settled(&sent.message_id).await;
    let delivery = status.deliveries[0].clone();
    assert_eq!(delivery.status(), DeliveryStatus::Submitted);
    assert_eq!(
        stack.mocks.fcm.received()[0].body["message"]["token"],
        "tok-raw"
    );

    // The app reports it read, then (late) delivered: the status only climbs.
    for kind in [DeviceEventKind::Read, DeviceEventKind::Delivered] {
        acme.notifications
            .report_delivery_event(ReportDeliveryEventRequest {
                delivery_id: delivery.delivery_id.clone(),
                kind: kind as i32,
                ..Default::default()
            })
            .await
            .unwrap();
    }
    let status = acme
        .wait_message(&sent.message_id, Duration::from_secs(10), |m| {
            m.deliveries[0].status() == DeliveryStatus::Read
        })
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        acme.message(&sent.message_id).await.deliveries[0].status(),
        DeliveryStatus::Read
    );
    assert_eq!(status.deliveries.len(), 1);
    let err = acme
        .notifications
        .report_delivery_event(ReportDeliveryEventRequest {
            delivery_id: "dlv_unknown".into(),
            kind: 1,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    stack.stop().await;
}

#[tokio::test]
async fn a_stored_message_whose_publish_was_lost_is_relayed() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    acme.register("hal", "tok-hal").await;
    // A message stored as ingest stores it, but never published (as after a crash between
    // the commit and the publish).
    let id = stack
        .store_unpublished(
            &acme.tenant_id,
            destination::Kind::UserId("hal".into()),
            hello(),
        )
        .await;
    let status = acme.wait_settled(id.as_str()).await;
    assert_eq!(status.deliveries[0].status(), DeliveryStatus::Submitted);
    assert_eq!(stack.mocks.fcm.attempts("tok-hal"), 1);
    stack.stop().await;
}

#[tokio::test]
async fn a_settled_message_answers_for_all_its_deliveries() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    acme.register("cat", "tok-cat-ok").await;
    acme.register("cat", "tok-cat-dead").await;
    stack
        .mocks
        .fcm
        .script("tok-cat-dead", [Answer::error("UNREGISTERED")]);
    let sent = acme
        .send(destination::Kind::UserId("cat".into()), hello())
        .await;
    let message = acme.wait_settled(&sent.message_id).await.message.unwrap();
    assert_eq!(message.state(), MessageState::PartiallyFailed);
    assert!(
        message
            .reason
            .starts_with("1 of 2 deliveries failed or expired; the first: UNREGISTERED"),
        "{}",
        message.reason
    );

    acme.register("dan", "tok-dan-dead").await;
    stack
        .mocks
        .fcm
        .script("tok-dan-dead", [Answer::error("UNREGISTERED")]);
    let sent = acme
        .send(destination::Kind::UserId("dan".into()), hello())
        .await;
    let message = acme.wait_settled(&sent.message_id).await.message.unwrap();
    assert_eq!(message.state(), MessageState::Failed);
    assert!(
        message
            .reason
            .starts_with("its delivery failed: UNREGISTERED"),
        "{}",
        message.reason
    );
    stack.stop().await;
}

#[tokio::test]
async fn size_limits_are_judged_for_the_providers_the_destination_reaches() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    // 4.5 KB of call data: within APNs's VoIP limit, over FCM's 4096 bytes.
    let call = Notification {
        data: [("sdp".to_string(), "v".repeat(4500))].into(),
        ios: Some(IosOptions {
            push_type: ApnsPushType::Voip as i32,
            ..Default::default()
        }),
        ..Default::default()
    };
    acme.register("eve", "tok-eve-android").await;
    acme.register_on(Platform::Ios, "eve", &format!("{:064x}", 0xe7e))
        .await;
    let sent = acme
        .send(destination::Kind::UserId("eve".into()), call.clone())
        .await;
    let status = acme.wait_settled(&sent.message_id).await;
    assert_eq!(
        status.message.unwrap().state(),
        MessageState::PartiallyFailed
    );
    for delivery in &status.deliveries {
        match delivery.provider() {
            Provider::Apns => assert_eq!(delivery.status(), DeliveryStatus::Submitted),
            Provider::Fcm => {
                assert_eq!(delivery.status(), DeliveryStatus::Failed);
                assert!(
                    delivery.reason.contains("FCM accepts at most 4096"),
                    "{}",
                    delivery.reason
                );
            }
            other => panic!("no {other:?} device was registered"),
        }
    }
    assert_eq!(
        stack.mocks.fcm.attempts("tok-eve-android"),
        0,
        "never sent to FCM"
    );

    // A user with Android phones only: no provider it reaches would take it.
    acme.register("fay", "tok-fay").await;
    let err = acme
        .notifications
        .send(SendRequest {
            destination: Some(Destination {
                kind: Some(destination::Kind::UserId("fay".into())),
            }),
            notification: Some(call),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(
        err.message().contains("FCM accepts at most 4096") && !err.message().contains("APNs"),
        "{}",
        err.message()
    );
    stack.stop().await;
}
