//! Nothing accepted is lost across a graceful restart or a broker outage.

use std::time::Duration;

use herald_e2e::{DbBackend, Stack, hello};
use herald_proto::v1::*;
use herald_testkit::fcm::Answer;

#[tokio::test]
async fn a_graceful_restart_finishes_the_send_in_flight_and_does_not_resend_it() {
    let mut stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    acme.register("ivy", "tok-ivy").await;
    stack
        .mocks
        .fcm
        .script("tok-ivy", [Answer::delayed(Duration::from_millis(1500))]);
    let sent = acme
        .send(destination::Kind::UserId("ivy".into()), hello())
        .await;
    // Wait until the send is at the provider, then restart everything.
    while stack.mocks.fcm.attempts("tok-ivy") == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stack.restart_services().await;
    assert_eq!(
        stack.mocks.fcm.received().len(),
        1,
        "the in-flight send finished before the stop"
    );

    let mut acme = stack.clients(&acme.tenant_id, &acme.key).await;
    let status = acme.wait_settled(&sent.message_id).await;
    assert_eq!(status.deliveries[0].status(), DeliveryStatus::Submitted);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        stack.mocks.fcm.attempts("tok-ivy"),
        1,
        "acked before the stop, so never sent again"
    );
    stack.stop().await;
}

#[tokio::test]
async fn a_message_accepted_while_nats_is_down_is_delivered_once_it_is_back() {
    let mut stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    acme.register("joe", "tok-joe").await;
    stack.nats.kill();
    // Ingest stores the message, fails to publish it, and still answers: it is accepted.
    let sent = acme
        .send(destination::Kind::UserId("joe".into()), hello())
        .await;
    assert_eq!(
        stack
            .raw_text("SELECT COUNT(*) FROM messages WHERE published_at IS NULL")
            .await,
        vec!["1"]
    );
    stack.nats.restart().expect("nats-server restarts");
    let status = acme
        .wait_message(&sent.message_id, Duration::from_secs(40), |m| {
            m.deliveries
                .first()
                .is_some_and(|d| d.status() == DeliveryStatus::Submitted)
        })
        .await;
    assert_eq!(status.deliveries.len(), 1);
    assert_eq!(stack.mocks.fcm.attempts("tok-joe"), 1);
    assert_eq!(
        stack
            .raw_text("SELECT COUNT(*) FROM messages WHERE published_at IS NULL")
            .await,
        vec!["0"]
    );
    stack.stop().await;
}
