//! A traced publish against a real nats-server: the trace context goes in the message's
//! headers beside its dedup id, and the dedup id still holds (a publish repeated in a trace is
//! stored once).

use bytes::Bytes;
use herald_bus::{Bus, INGEST_STREAM, Outgoing, subjects};
use herald_testkit::nats::NatsServer;
use opentelemetry::trace::TracerProvider as _;
use tracing::Instrument as _;
use tracing_subscriber::layer::SubscriberExt as _;

#[tokio::test]
async fn a_traced_publish_keeps_its_dedup_id_and_carries_the_trace() {
    // Spans with real trace contexts (recorded, exported nowhere).
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    let _default = tracing::subscriber::set_default(subscriber);

    let nats = NatsServer::start().unwrap();
    let bus = Bus::connect(&nats.url()).await.unwrap();
    let out = || Outgoing {
        subject: subjects::ingest("t1"),
        msg_id: "once".into(),
        payload: Bytes::from_static(b"work"),
    };
    async {
        bus.publish(out()).await.unwrap();
        bus.publish(out()).await.unwrap();
    }
    .instrument(tracing::info_span!("publishing"))
    .await;

    let js = async_nats::jetstream::new(async_nats::connect(nats.url()).await.unwrap());
    let mut stream = js.get_stream(INGEST_STREAM).await.unwrap();
    assert_eq!(
        stream.info().await.unwrap().state.messages,
        1,
        "the dedup id held"
    );
    let stored = stream.get_raw_message(1).await.unwrap();
    let headers = stored.headers;
    assert_eq!(headers.get("Nats-Msg-Id").map(|v| v.as_str()), Some("once"));
    let traceparent = headers
        .get("traceparent")
        .map(|v| v.as_str().to_owned())
        .expect("the trace context");
    assert!(traceparent.starts_with("00-"), "{traceparent}");
}
