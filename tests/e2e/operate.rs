//! Operating Herald: Prometheus metrics scraped from the admin endpoint during end-to-end sends
//! (deliveries counted under their provider and outcome, provider latency, receipts, store
//! operations, the consumers' backlog gauges), and `herald status` following a backlog while a
//! sender is down.

use std::collections::HashMap;
use std::time::Duration;

use herald_e2e::{DbBackend, Stack, hello};
use herald_proto::v1::*;
use herald_testkit::fcm::Answer;

fn sample(samples: &HashMap<String, f64>, name: &str) -> f64 {
    samples.get(name).copied().unwrap_or(0.0)
}

#[tokio::test]
async fn a_delivery_is_counted_under_its_provider_and_outcome() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    stack
        .mocks
        .fcm
        .script("fcm-gone", vec![Answer::error("UNREGISTERED")]);
    acme.register_on(Platform::Android, "ada", "fcm-ada").await;
    acme.register_on(Platform::Android, "bob", "fcm-gone").await;
    acme.register_on(Platform::Ios, "cy", &format!("{:064x}", 0xc1))
        .await;

    let submitted = r#"herald_deliveries_total{provider="fcm",outcome="submitted"}"#;
    let dead = r#"herald_deliveries_total{provider="fcm",outcome="token_dead"}"#;
    let apns = r#"herald_deliveries_total{provider="apns",outcome="submitted"}"#;
    let accepted = "herald_notifications_accepted_total";
    let latency = r#"herald_provider_request_duration_seconds_count{provider="fcm"}"#;
    let receipts = r#"herald_receipts_recorded_total{status="submitted"}"#;
    let claims = r#"herald_store_operation_duration_seconds_count{operation="claim_deliveries"}"#;
    let before = stack.scrape().await;

    for user in ["ada", "bob", "cy"] {
        let sent = acme
            .send(destination::Kind::UserId(user.into()), hello())
            .await;
        acme.wait_settled(&sent.message_id).await;
    }
    // The receipt service records after the sender counted; wait for its write.
    let mut after = stack.scrape().await;
    for _ in 0..100 {
        if sample(&after, receipts) >= sample(&before, receipts) + 2.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        after = stack.scrape().await;
    }

    let grew = |name: &str| sample(&after, name) - sample(&before, name);
    assert_eq!(grew(submitted), 1.0, "{after:#?}");
    assert_eq!(grew(dead), 1.0);
    assert_eq!(grew(apns), 1.0);
    assert_eq!(grew(accepted), 3.0);
    assert_eq!(grew(latency), 2.0, "two FCM requests were timed");
    assert_eq!(
        grew(receipts),
        2.0,
        "the two submitted deliveries were recorded"
    );
    assert!(grew(claims) >= 3.0, "each send claimed its delivery");
    // Tenants are not labels unless the operator asks.
    assert!(after.keys().all(|k| !k.contains(&acme.tenant_id)));
    // Each consumer's backlog is a gauge, read from the broker.
    for consumer in [
        "router",
        "router-urgent",
        "sender-fcm",
        "sender-fcm-bulk",
        "sender-fcm-urgent",
        "sender-apns",
        "receipt",
    ] {
        let pending = after.keys().find(|k| {
            k.starts_with("herald_jetstream_consumer_pending_messages{")
                && k.contains(&format!("consumer=\"{consumer}\""))
        });
        assert!(
            pending.is_some(),
            "no backlog gauge for {consumer}: {after:#?}"
        );
    }
}

/// The sender-fcm consumer's backlog and the send stream's messages, as `herald status` reads
/// them.
async fn fcm_backlog(stack: &Stack) -> (u64, u64, herald::status::Status) {
    let status = herald::status::Status::collect(&stack.settings)
        .await
        .expect("status");
    let consumer = status
        .consumer("sender-fcm")
        .expect("the sender-fcm consumer");
    let stream = status
        .streams
        .iter()
        .find(|s| s.name == "HERALD_SEND")
        .expect("the send stream");
    (
        consumer.pending + consumer.ack_pending,
        stream.messages,
        status,
    )
}

#[tokio::test]
async fn status_shows_a_backlog_growing_while_a_sender_is_down_and_emptying_after() {
    let mut stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    for i in 0..6 {
        acme.register_on(Platform::Android, &format!("u{i}"), &format!("fcm-{i}"))
            .await;
    }
    // The FCM sender goes down (its consumer stays on the broker).
    stack.restart_with_fcm_senders(0).await;
    let mut acme = stack.clients(&acme.tenant_id, &acme.key).await;
    let (idle, _, _) = fcm_backlog(&stack).await;
    assert_eq!(idle, 0);

    let mut ids = Vec::new();
    let mut seen = Vec::new();
    for round in 0..2 {
        for i in 0..3 {
            let sent = acme
                .send(
                    destination::Kind::UserId(format!("u{}", round * 3 + i)),
                    hello(),
                )
                .await;
            ids.push(sent.message_id);
        }
        // The router turns each message into a send task for the missing sender.
        let before = seen.last().map_or(0, |&(pending, _)| pending);
        let mut backlog = (0, 0);
        for _ in 0..200 {
            let (pending, messages, _) = fcm_backlog(&stack).await;
            backlog = (pending, messages);
            if pending > before {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        seen.push(backlog);
    }
    assert!(
        seen[0].0 >= 1 && seen[1].0 > seen[0].0,
        "the backlog grows: {seen:?}"
    );
    assert!(
        seen[1].1 >= seen[1].0,
        "the stream holds the tasks: {seen:?}"
    );
    let (_, _, status) = fcm_backlog(&stack).await;
    let text = status.to_text();
    assert!(text.contains("sender-fcm"), "{text}");
    assert!(
        status.to_json()["streams"]
            .as_array()
            .is_some_and(|s| s.len() == herald_bus::STREAMS.len())
    );

    // The sender comes back: the backlog empties and every message is delivered.
    stack.restart_with_fcm_senders(1).await;
    let mut acme = stack.clients(&acme.tenant_id, &acme.key).await;
    for id in &ids {
        let settled = acme.wait_settled(id).await;
        assert_eq!(settled.deliveries[0].status(), DeliveryStatus::Submitted);
    }
    let mut left = (u64::MAX, u64::MAX);
    for _ in 0..200 {
        let (pending, messages, _) = fcm_backlog(&stack).await;
        left = (pending, messages);
        if left == (0, 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(left, (0, 0), "the backlog empties");
    let (_, _, status) = fcm_backlog(&stack).await;
    let fcm = status
        .providers
        .iter()
        .find(|p| p.provider == Provider::Fcm)
        .expect("today's FCM counts");
    assert_eq!(fcm.counts.submitted, 6);
    assert_eq!(status.outbox, 0);
}
