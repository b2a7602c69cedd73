//! The consumer loops against a real nats-server: a short ack wait that never redelivers the
//! work of a live handler, and faults retried, then parked.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use herald_bus::{ACK_WAIT, Bus, Disposition, INGEST_STREAM, MAX_TRIES, Outgoing, subjects};
use herald_testkit::nats::NatsServer;
use tokio_util::sync::CancellationToken;

async fn publish(bus: &Bus, tenant: &str) {
    bus.publish(Outgoing {
        subject: subjects::ingest(tenant),
        msg_id: format!("m-{tenant}"),
        payload: Bytes::from_static(b"work"),
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn consumers_wait_briefly_for_acks_and_a_slow_live_handler_is_not_redelivered() {
    let nats = NatsServer::start().unwrap();
    let bus = Bus::connect(&nats.url()).await.unwrap();
    // A consumer an earlier version created waited a minute for acks.
    let js = async_nats::jetstream::new(async_nats::connect(nats.url()).await.unwrap());
    js.get_stream(INGEST_STREAM)
        .await
        .unwrap()
        .create_consumer(async_nats::jetstream::consumer::pull::Config {
            durable_name: Some("slow".into()),
            filter_subject: subjects::INGEST_ALL.into(),
            ack_wait: Duration::from_secs(60),
            ..Default::default()
        })
        .await
        .unwrap();
    let consumer = bus
        .work_consumer(INGEST_STREAM, "slow", subjects::INGEST_ALL, 16)
        .await
        .unwrap();
    // The work of a dead process is delivered again within ten seconds.
    let mut info = consumer.clone();
    assert!(info.info().await.unwrap().config.ack_wait <= Duration::from_secs(10));

    publish(&bus, "t1").await;
    let handled = Arc::new(AtomicUsize::new(0));
    let shutdown = CancellationToken::new();
    let loop_ = {
        let (bus, handled, shutdown) = (bus.clone(), handled.clone(), shutdown.clone());
        tokio::spawn(async move {
            herald_bus::consume(&bus, consumer, "slow", 4, shutdown, move |_| {
                let handled = handled.clone();
                async move {
                    handled.fetch_add(1, Ordering::SeqCst);
                    // Longer than the ack wait: only its progress marks keep it ours.
                    tokio::time::sleep(ACK_WAIT + Duration::from_secs(3)).await;
                    Disposition::Ack
                }
            })
            .await
        })
    };
    tokio::time::sleep(ACK_WAIT + Duration::from_secs(5)).await;
    assert_eq!(handled.load(Ordering::SeqCst), 1, "delivered once");
    shutdown.cancel();
    loop_.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_fault_is_retried_with_backoff_then_parked() {
    let nats = NatsServer::start().unwrap();
    let bus = Bus::connect(&nats.url()).await.unwrap();
    let consumer = bus
        .work_consumer(INGEST_STREAM, "faulty", subjects::INGEST_ALL, 16)
        .await
        .unwrap();
    publish(&bus, "t2").await;
    let tries = Arc::new(AtomicUsize::new(0));
    let shutdown = CancellationToken::new();
    let loop_ = {
        let (bus, tries, shutdown) = (bus.clone(), tries.clone(), shutdown.clone());
        tokio::spawn(async move {
            herald_bus::consume_batches(&bus, consumer, "faulty", 8, shutdown, move |batch| {
                tries.fetch_add(1, Ordering::SeqCst);
                let n = batch.len();
                async move { vec![Disposition::Fault("the database refused it".into()); n] }
            })
            .await
        })
    };
    let started = std::time::Instant::now();
    let letters = loop {
        let letters = herald_bus::dead::list(&bus, None, 10).await.unwrap();
        if !letters.is_empty() {
            break letters;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "never parked");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(tries.load(Ordering::SeqCst), MAX_TRIES as usize);
    assert_eq!(letters[0].tries, MAX_TRIES);
    assert_eq!(letters[0].tenant, "t2");
    assert_eq!(letters[0].subject, "herald.ingest.t2");
    assert_eq!(letters[0].parked_by, "faulty");
    assert_eq!(letters[0].reason, "the database refused it");
    shutdown.cancel();
    loop_.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_consumer_set_up_while_the_broker_restarts_waits_for_it_and_a_refusal_is_final() {
    let mut nats = NatsServer::start().unwrap();
    let bus = Bus::connect(&nats.url()).await.unwrap();
    nats.kill();
    let setup = {
        let bus = bus.clone();
        tokio::spawn(async move {
            bus.work_consumer(INGEST_STREAM, "patient", subjects::INGEST_ALL, 16)
                .await
        })
    };
    // Longer than a request to the bus waits for its answer.
    tokio::time::sleep(Duration::from_secs(12)).await;
    assert!(!setup.is_finished(), "gave up while the broker was away");
    nats.restart().unwrap();
    let mut consumer = setup
        .await
        .unwrap()
        .expect("set up once the broker is back");
    assert_eq!(
        consumer
            .info()
            .await
            .unwrap()
            .config
            .durable_name
            .as_deref(),
        Some("patient")
    );

    // A stream that does not exist is JetStream's answer, not an outage: no waiting.
    let started = std::time::Instant::now();
    let refused = bus
        .work_consumer("NO_SUCH_STREAM", "patient", subjects::INGEST_ALL, 16)
        .await
        .expect_err("no such stream");
    assert!(started.elapsed() < Duration::from_secs(5), "{refused}");
}
