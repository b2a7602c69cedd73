//! What the broker holds for Herald: each stream's messages and each consumer's backlog, for
//! `herald status` and the `herald_jetstream_consumer_*` gauges.

use std::time::Duration;

use async_nats::jetstream::consumer::PullConsumer;
use futures::TryStreamExt as _;
use tokio_util::sync::CancellationToken;

use crate::{
    BULK_STREAM, Bus, BusError, DEAD_STREAM, EVENT_STREAM, INGEST_STREAM, RECEIPT_STREAM, Result,
    SEND_STREAM, URGENT_STREAM, WEBHOOK_STREAM,
};

/// Herald's streams, in the order work flows through them.
pub const STREAMS: [&str; 8] = [
    INGEST_STREAM,
    SEND_STREAM,
    BULK_STREAM,
    URGENT_STREAM,
    RECEIPT_STREAM,
    EVENT_STREAM,
    WEBHOOK_STREAM,
    DEAD_STREAM,
];

/// A stream as the broker reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamState {
    pub name: String,
    /// Messages it keeps (on a work queue: work not acknowledged yet).
    pub messages: u64,
    pub bytes: u64,
    pub consumers: Vec<ConsumerState>,
}

/// A durable consumer as the broker reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumerState {
    pub name: String,
    /// Messages not handed to it yet.
    pub pending: u64,
    /// Messages handed out and not yet acknowledged.
    pub ack_pending: u64,
    /// Messages handed out more than once and not yet acknowledged.
    pub redelivered: u64,
    /// Pull requests waiting for messages (idle replicas).
    pub waiting: u64,
}

impl From<&async_nats::jetstream::consumer::Info> for ConsumerState {
    fn from(info: &async_nats::jetstream::consumer::Info) -> Self {
        let n = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
        Self {
            name: info.name.clone(),
            pending: info.num_pending,
            ack_pending: n(info.num_ack_pending),
            redelivered: n(info.num_redelivered),
            waiting: n(info.num_waiting),
        }
    }
}

impl Bus {
    /// Each of Herald's streams with its durable consumers (ephemeral watchers left out),
    /// sorted by name.
    pub async fn status(&self) -> Result<Vec<StreamState>> {
        let mut states = Vec::with_capacity(STREAMS.len());
        for name in STREAMS {
            let failed = |e: &dyn std::fmt::Display| BusError::Setup {
                what: format!("stream {name}"),
                detail: e.to_string(),
            };
            let stream = self.js.get_stream(name).await.map_err(|e| failed(&e))?;
            let info = stream.get_info().await.map_err(|e| failed(&e))?;
            let mut consumers: Vec<ConsumerState> = stream
                .consumers()
                .try_collect::<Vec<_>>()
                .await
                .map_err(|e| failed(&e))?
                .iter()
                .filter(|info| info.config.durable_name.is_some())
                .map(ConsumerState::from)
                .collect();
            consumers.sort_by(|a, b| a.name.cmp(&b.name));
            states.push(StreamState {
                name: name.to_owned(),
                messages: info.state.messages,
                bytes: info.state.bytes,
                consumers,
            });
        }
        Ok(states)
    }
}

/// How often a consuming process reads its consumer's backlog into the gauges.
const REPORT_EVERY: Duration = Duration::from_secs(5);

/// Reads `consumer`'s backlog into the gauges every few seconds until `stop`.
pub(crate) fn report(consumer: &PullConsumer, stop: CancellationToken) {
    let consumer = consumer.clone();
    tokio::spawn(async move {
        loop {
            match consumer.get_info().await {
                Ok(info) => {
                    let state = ConsumerState::from(&info);
                    herald_telemetry::metrics().consumer(
                        &info.stream_name,
                        &state.name,
                        state.pending,
                        state.ack_pending,
                    );
                }
                Err(err) => tracing::debug!(%err, "could not read a consumer's backlog"),
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(REPORT_EVERY) => {}
            }
        }
    });
}
