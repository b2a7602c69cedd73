//! What comes back: delivery events on the bus (with the message's correlation id and callback
//! data) and `WatchMessage`, which streams a message's deliveries until each is final.

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt as _;
use herald_bus::Bus;
use herald_e2e::{DbBackend, Stack, Tenant, hello};
use herald_proto::bus::v1::{EventBatch, EventKind};
use herald_proto::v1::*;
use herald_testkit::fcm::Answer;
use tonic::Code;

/// Every update of a watch until it ends (failing after a minute).
async fn drain(
    mut updates: tonic::Streaming<DeliveryUpdate>,
    mut on_update: impl FnMut(&Delivery),
) -> Vec<Delivery> {
    let mut seen = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(update) = updates.message().await.expect("a watch update") {
            let delivery = update.delivery.expect("a delivery");
            on_update(&delivery);
            seen.push(delivery);
        }
    })
    .await
    .expect("the watch ends once every delivery is final");
    seen
}

async fn watch(acme: &mut Tenant, message_id: &str) -> tonic::Streaming<DeliveryUpdate> {
    acme.notifications
        .watch_message(WatchMessageRequest {
            message_id: message_id.into(),
        })
        .await
        .expect("watch")
        .into_inner()
}

async fn a_message_is_watched_to_the_end_and_its_events_carry_its_context(backend: DbBackend) {
    let stack = Stack::start(backend).await;
    let mut acme = stack.tenant("acme").await;
    let good = acme.register("alice", "tok-good").await;
    let dead = acme.register("alice", "tok-dead").await;
    stack
        .mocks
        .fcm
        .script("tok-dead", [Answer::error("UNREGISTERED")]);

    // Watching starts right after the send, before the message is routed.
    let message_id = acme.send_with_context("alice").await;
    let updates = watch(&mut acme, &message_id).await;
    // The device reports follow the push's submission: the watch passes each on.
    let reporter = acme.clone();
    let mut reported = false;
    let seen = drain(updates, move |delivery| {
        if delivery.status() == DeliveryStatus::Submitted && !reported {
            reported = true;
            let (mut reporter, id) = (reporter.clone(), delivery.delivery_id.clone());
            tokio::spawn(async move {
                reporter.report(&id, DeviceEventKind::Delivered).await;
                reporter.report(&id, DeviceEventKind::Read).await;
            });
        }
    })
    .await;

    let mut by_device: HashMap<&str, Vec<DeliveryStatus>> = HashMap::new();
    for d in &seen {
        assert_eq!(d.provider(), Provider::Fcm);
        by_device
            .entry(d.device_id.as_str())
            .or_default()
            .push(d.status());
    }
    let good_path = &by_device[good.device_id.as_str()];
    assert_eq!(
        good_path.last(),
        Some(&DeliveryStatus::Read),
        "the watch ends at read: {good_path:?}"
    );
    for pair in good_path.windows(2) {
        assert!(
            pair[0] < pair[1],
            "each update moves forward: {good_path:?}"
        );
    }
    assert!(
        good_path.contains(&DeliveryStatus::Submitted),
        "{good_path:?}"
    );
    assert!(
        good_path.contains(&DeliveryStatus::Delivered),
        "{good_path:?}"
    );
    let dead_path = &by_device[dead.device_id.as_str()];
    assert_eq!(
        dead_path.last(),
        Some(&DeliveryStatus::Failed),
        "{dead_path:?}"
    );
    let failed = seen
        .iter()
        .rfind(|d| d.device_id == dead.device_id)
        .unwrap();
    assert!(failed.reason.contains("UNREGISTERED"), "{}", failed.reason);

    // Watching again after the fact: each delivery once, as it ended, and the watch ends.
    let again = drain(watch(&mut acme, &message_id).await, |_| {}).await;
    let mut finals: Vec<(String, DeliveryStatus)> = again
        .iter()
        .map(|d| (d.device_id.clone(), d.status()))
        .collect();
    finals.sort();
    let mut expected = vec![
        (good.device_id.clone(), DeliveryStatus::Read),
        (dead.device_id.clone(), DeliveryStatus::Failed),
    ];
    expected.sort();
    assert_eq!(finals, expected);

    // The events on the bus, in order per message, with the message's context.
    let bus = Bus::connect(&stack.nats.url()).await.unwrap();
    let subject = herald_bus::subjects::event(&message_id, &acme.tenant_id);
    let mut events = Box::pin(bus.watch(&subject).await.unwrap());
    let mut statuses: Vec<(String, DeliveryStatus)> = Vec::new();
    let mut retired = Vec::new();
    while statuses.len() < 4 || retired.is_empty() {
        let message = tokio::time::timeout(Duration::from_secs(10), events.next())
            .await
            .expect("the recorded events")
            .expect("an event batch");
        let batch: EventBatch = herald_bus::decode(&message).unwrap();
        for event in batch.events {
            assert_eq!(event.tenant_id, acme.tenant_id);
            assert_eq!(event.message_id, message_id);
            assert_eq!(event.correlation_id, "order-42");
            assert_eq!(event.callback_data, "{\"cart\":7}");
            let kind = event.kind();
            let d = event.delivery.expect("delivery");
            match kind {
                EventKind::Status => {
                    let status = d.status();
                    statuses.push((d.device_id, status));
                }
                EventKind::DeviceRetired => retired.push(d.device_id),
                EventKind::Interaction => panic!("no tap was reported"),
            }
        }
    }
    let good_events: Vec<DeliveryStatus> = statuses
        .iter()
        .filter(|(device, _)| *device == good.device_id)
        .map(|(_, s)| *s)
        .collect();
    assert_eq!(
        good_events,
        [
            DeliveryStatus::Submitted,
            DeliveryStatus::Delivered,
            DeliveryStatus::Read
        ]
    );
    assert!(statuses.contains(&(dead.device_id.clone(), DeliveryStatus::Failed)));
    assert_eq!(retired.len(), 1, "the dead token retired its device");
    assert_eq!(retired[0], dead.device_id);
    stack.stop().await;
}

#[tokio::test]
async fn a_message_is_watched_to_the_end_on_sqlite() {
    a_message_is_watched_to_the_end_and_its_events_carry_its_context(DbBackend::Sqlite).await;
}

#[tokio::test]
async fn a_message_is_watched_to_the_end_on_postgres() {
    a_message_is_watched_to_the_end_and_its_events_carry_its_context(DbBackend::Postgres).await;
}

#[tokio::test]
async fn a_message_with_no_device_ends_its_watch_at_once_and_unknown_ones_are_refused() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    let failed = acme
        .settled(destination::Kind::UserId("nobody".into()))
        .await;
    assert_eq!(failed.state(), MessageState::Failed);
    let seen = drain(watch(&mut acme, &failed.message_id).await, |_| {}).await;
    assert!(seen.is_empty(), "{seen:?}");

    let mut other = stack.tenant("other").await;
    let refused = other
        .notifications
        .watch_message(WatchMessageRequest {
            message_id: failed.message_id.clone(),
        })
        .await
        .expect_err("another tenant's message");
    assert_eq!(refused.code(), Code::NotFound);
    let refused = other
        .notifications
        .watch_message(WatchMessageRequest {
            message_id: "not.an>id".into(),
        })
        .await
        .expect_err("a malformed id");
    assert_eq!(refused.code(), Code::InvalidArgument);
    stack.stop().await;
}

async fn send_and_wait(
    acme: &mut Tenant,
    to: &str,
    wait_for: WaitFor,
    until: send_and_wait_request::Until,
) -> Result<SendAndWaitResponse, tonic::Status> {
    acme.notifications
        .send_and_wait(SendAndWaitRequest {
            request: Some(SendRequest {
                destination: Some(Destination {
                    kind: Some(destination::Kind::UserId(to.into())),
                }),
                notification: Some(hello()),
                ..Default::default()
            }),
            wait_for: wait_for as i32,
            until: Some(until),
        })
        .await
        .map(tonic::Response::into_inner)
}

/// Once FCM has received a push beyond the first `seen`, reports `kinds` for its delivery, as
/// the app on the device would.
async fn report_next_push(
    fcm: &herald_testkit::mock::Recorder,
    seen: usize,
    mut acme: Tenant,
    kinds: &[DeviceEventKind],
) {
    let pushes = fcm.wait_for(seen + 1, Duration::from_secs(30)).await;
    let push = pushes.get(seen).expect("the next push");
    let delivery_id = push.body["message"]["data"]["herald_delivery_id"]
        .as_str()
        .expect("Herald's delivery id in the push")
        .to_owned();
    for kind in kinds {
        acme.report(&delivery_id, *kind).await;
    }
}

#[tokio::test]
async fn send_and_wait_answers_each_of_the_seeds_outcomes() {
    use send_and_wait_request::Until;
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    acme.register("alice", "tok-alice").await;
    acme.register("dora", "tok-dora").await;
    stack
        .mocks
        .fcm
        .script("tok-dora", [Answer::error("UNREGISTERED")]);
    let half_a_minute = Until::TimeoutSeconds(30);

    let submitted = send_and_wait(&mut acme, "alice", WaitFor::Submit, half_a_minute)
        .await
        .unwrap();
    assert_eq!(submitted.outcome(), WaitOutcome::Onsubmit);
    assert!(!submitted.message_id.is_empty());
    assert_eq!(submitted.deliveries.len(), 1);
    assert_eq!(submitted.deliveries[0].status(), DeliveryStatus::Submitted);

    let fcm = &stack.mocks.fcm;
    let reporter = acme.clone();
    let (delivered, ()) = tokio::join!(
        send_and_wait(&mut acme, "alice", WaitFor::DeliveryReport, half_a_minute,),
        report_next_push(fcm, 1, reporter.clone(), &[DeviceEventKind::Delivered]),
    );
    let delivered = delivered.unwrap();
    assert_eq!(delivered.outcome(), WaitOutcome::Ondrsuccess);
    assert_eq!(delivered.deliveries[0].status(), DeliveryStatus::Delivered);

    let (read, ()) = tokio::join!(
        send_and_wait(&mut acme, "alice", WaitFor::ReadReport, half_a_minute,),
        report_next_push(
            fcm,
            2,
            reporter,
            &[DeviceEventKind::Delivered, DeviceEventKind::Read],
        ),
    );
    let read = read.unwrap();
    assert_eq!(read.outcome(), WaitOutcome::Onread);
    assert_eq!(read.deliveries[0].status(), DeliveryStatus::Read);

    let failed = send_and_wait(&mut acme, "dora", WaitFor::Submit, half_a_minute)
        .await
        .unwrap();
    assert_eq!(failed.outcome(), WaitOutcome::Ondrfail);
    assert!(failed.reason.contains("UNREGISTERED"), "{}", failed.reason);
    assert_eq!(failed.deliveries[0].status(), DeliveryStatus::Failed);

    let nobody = send_and_wait(&mut acme, "nobody", WaitFor::Submit, half_a_minute)
        .await
        .unwrap();
    assert_eq!(nobody.outcome(), WaitOutcome::Onerror);
    assert!(!nobody.reason.is_empty());
    assert!(nobody.deliveries.is_empty());

    // No read report comes: the wait runs out, the message goes on.
    let until = Until::UntilMs(herald_core::time::now_ms() + 1_000);
    let timed_out = send_and_wait(&mut acme, "alice", WaitFor::ReadReport, until)
        .await
        .unwrap();
    assert_eq!(timed_out.outcome(), WaitOutcome::Ontimeout);
    assert!(!timed_out.message_id.is_empty());
    assert!(timed_out.reason.is_empty(), "{}", timed_out.reason);

    // A call whose own deadline comes first is answered before it, with the message's id.
    let mut request = tonic::Request::new(SendAndWaitRequest {
        request: Some(SendRequest {
            destination: Some(Destination {
                kind: Some(destination::Kind::UserId("alice".into())),
            }),
            notification: Some(hello()),
            ..Default::default()
        }),
        wait_for: WaitFor::ReadReport as i32,
        until: Some(half_a_minute),
    });
    request.set_timeout(Duration::from_secs(1));
    let cut = acme
        .notifications
        .send_and_wait(request)
        .await
        .expect("answered before the client's deadline")
        .into_inner();
    assert_eq!(cut.outcome(), WaitOutcome::Ontimeout);
    assert!(!cut.message_id.is_empty());
    assert!(cut.reason.contains("deadline"), "{}", cut.reason);

    // A policy failure is an outcome; a bad request is refused as Send refuses it.
    stack
        .set_tenant_settings(
            &acme.tenant_id,
            TenantSettings {
                topic_messaging_disabled: true,
                ..Default::default()
            },
            "settings.topic_messaging_disabled",
        )
        .await;
    let policy = acme
        .notifications
        .send_and_wait(SendAndWaitRequest {
            request: Some(SendRequest {
                destination: Some(Destination {
                    kind: Some(destination::Kind::Topic("news".into())),
                }),
                notification: Some(hello()),
                ..Default::default()
            }),
            wait_for: WaitFor::Submit as i32,
            until: Some(half_a_minute),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(policy.outcome(), WaitOutcome::Onpolicyfail);
    assert!(
        policy.reason.contains("topic messaging is disabled"),
        "{}",
        policy.reason
    );
    assert!(policy.message_id.is_empty());

    use tonic_types::StatusExt as _;
    let field_of = |status: tonic::Status| {
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        status
            .get_error_details()
            .bad_request()
            .expect("a BadRequest")
            .field_violations[0]
            .field
            .clone()
    };
    let no_stage = send_and_wait(&mut acme, "alice", WaitFor::Unspecified, half_a_minute)
        .await
        .unwrap_err();
    assert_eq!(field_of(no_stage), "wait_for");
    let too_long = send_and_wait(
        &mut acme,
        "alice",
        WaitFor::Submit,
        Until::TimeoutSeconds(86_401),
    )
    .await
    .unwrap_err();
    assert_eq!(field_of(too_long), "timeout_seconds");
    let untitled = acme
        .notifications
        .send_and_wait(SendAndWaitRequest {
            request: Some(SendRequest {
                notification: Some(hello()),
                ..Default::default()
            }),
            wait_for: WaitFor::Submit as i32,
            until: Some(half_a_minute),
        })
        .await
        .unwrap_err();
    assert_eq!(field_of(untitled), "request.destination");
    stack.stop().await;
}

#[tokio::test]
async fn a_shutdown_ends_open_watches_so_the_server_stops_cleanly() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    acme.register("alice", "tok-alice").await;
    let message_id = acme.send_with_context("alice").await;
    acme.wait_settled(&message_id).await;
    // Submitted is not final: this watch would stay open for the message's whole TTL.
    let mut updates = watch(&mut acme, &message_id).await;
    let first = updates
        .message()
        .await
        .unwrap()
        .expect("the stored delivery");
    assert_eq!(first.delivery.unwrap().status(), DeliveryStatus::Submitted);
    let stopped = tokio::time::timeout(Duration::from_secs(20), stack.stop()).await;
    assert!(stopped.is_ok(), "an open watch held the shutdown");
    match updates.message().await {
        Err(status) => assert_eq!(status.code(), Code::Unavailable, "{status:?}"),
        Ok(end) => assert!(end.is_none(), "{end:?}"),
    }
}
