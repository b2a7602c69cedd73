//! Herald's bus: NATS JetStream streams, subjects, typed publishes with dedup ids, and the
//! consumer loops the services run.
//!
//! Three work-queue streams on file storage carry work between the services:
//! `HERALD_INGEST` (ingest → router), `HERALD_SEND` (router → one sender per provider, each
//! with its own non-overlapping filter) and `HERALD_RECEIPT` (senders → receipt). Every
//! subject ends with the tenant. Publishes carry `Nats-Msg-Id` so a repeated publish within the
//! duplicate window is dropped by the server; consumers ack only after the effect is durable.
#![forbid(unsafe_code)]

mod batches;
mod consume;
pub mod subjects;

use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};
use bytes::Bytes;
use futures::StreamExt as _;
use futures::stream::FuturesUnordered;

pub use async_nats::jetstream::Message;
pub use batches::{Accepted, accepted_batches, receipt_batches, send_batches};
pub use consume::{Disposition, consume, consume_batches};

/// A bus failure.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("cannot connect to NATS at {url}: {detail}")]
    Connect { url: String, detail: String },
    #[error("cannot set up JetStream {what}: {detail}")]
    Setup { what: String, detail: String },
    #[error("publish to {subject} failed: {detail}")]
    Publish { subject: String, detail: String },
    #[error("consumer {consumer} failed: {detail}")]
    Consume { consumer: String, detail: String },
}

impl From<BusError> for herald_core::Error {
    fn from(err: BusError) -> Self {
        herald_core::Error::internal(err)
    }
}

pub type Result<T, E = BusError> = std::result::Result<T, E>;

/// The stream names.
pub const INGEST_STREAM: &str = "HERALD_INGEST";
pub const SEND_STREAM: &str = "HERALD_SEND";
pub const RECEIPT_STREAM: &str = "HERALD_RECEIPT";

/// How long JetStream remembers a `Nats-Msg-Id` to drop a repeated publish.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// At most this many publishes wait for their acks at once in [`Bus::publish_all`].
const PUBLISH_WINDOW: usize = 256;

/// One publish: subject, dedup id and encoded payload.
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub subject: String,
    pub msg_id: String,
    pub payload: Bytes,
}

impl Outgoing {
    pub fn new(subject: String, msg_id: String, message: &impl prost::Message) -> Self {
        Self {
            subject,
            msg_id,
            payload: Bytes::from(message.encode_to_vec()),
        }
    }
}

/// A `Nats-Msg-Id` for a batch: `prefix` and a digest of the keys naming its items (a
/// delivery id with its attempt or outcome), so the same batch published again is dropped
/// while a batch of other items is new.
pub fn batch_id<K: AsRef<[u8]>>(prefix: &str, keys: impl IntoIterator<Item = K>) -> String {
    use sha2::Digest as _;
    let mut digest = sha2::Sha256::new();
    for key in keys {
        digest.update(key.as_ref());
        digest.update([0]);
    }
    format!(
        "{prefix}-{}",
        herald_core::crypto::hex(&digest.finalize()[..16])
    )
}

/// Items per batch message, at most.
pub const BATCH_ITEMS: usize = 256;
/// Encoded bytes per batch message, at most (NATS refuses payloads over 1 MiB by default).
pub const BATCH_BYTES: usize = 512 * 1024;

/// Splits `items` into runs of at most [`BATCH_ITEMS`] items and [`BATCH_BYTES`] encoded bytes
/// (`size` of each; an item larger than that alone goes alone), in order.
fn chunks<T>(items: Vec<T>, size: impl Fn(&T) -> usize) -> Vec<Vec<T>> {
    let mut out = Vec::new();
    let mut current = Vec::new();
    let mut bytes = 0;
    for item in items {
        let item_size = size(&item) + 8;
        if !current.is_empty() && (current.len() >= BATCH_ITEMS || bytes + item_size > BATCH_BYTES)
        {
            out.push(std::mem::take(&mut current));
            bytes = 0;
        }
        bytes += item_size;
        current.push(item);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Tries at setting up a stream before giving up (250 ms apart).
const SETUP_ATTEMPTS: u32 = 40;

/// A connection to NATS with JetStream. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Bus {
    js: jetstream::Context,
}

impl Bus {
    /// Connects and makes sure Herald's streams exist.
    pub async fn connect(url: &str) -> Result<Self> {
        let client = async_nats::ConnectOptions::new()
            .name("herald")
            .retry_on_initial_connect()
            .connection_timeout(Duration::from_secs(5))
            .connect(url)
            .await
            .map_err(|e| BusError::Connect {
                url: url.to_owned(),
                detail: e.to_string(),
            })?;
        let bus = Self {
            js: jetstream::new(client),
        };
        bus.ensure_streams().await?;
        Ok(bus)
    }

    async fn ensure_streams(&self) -> Result<()> {
        for (name, subject) in [
            (INGEST_STREAM, subjects::INGEST_ALL),
            (SEND_STREAM, subjects::SEND_ALL),
            (RECEIPT_STREAM, subjects::RECEIPT_ALL),
        ] {
            let config = stream::Config {
                name: name.to_owned(),
                subjects: vec![subject.to_owned()],
                retention: stream::RetentionPolicy::WorkQueue,
                storage: stream::StorageType::File,
                duplicate_window: DUPLICATE_WINDOW,
                ..Default::default()
            };
            // Services starting together race to create the streams (the loser is told the
            // subjects overlap), and a server that has just started may not answer JetStream
            // requests yet: both pass on a later try.
            let mut attempt = 1;
            loop {
                match self.js.get_or_create_stream(config.clone()).await {
                    Ok(_) => break,
                    Err(e) if attempt < SETUP_ATTEMPTS => {
                        tracing::debug!(stream = name, error = %e, "stream setup, retrying");
                        attempt += 1;
                        tokio::time::sleep(Duration::from_millis(250)).await;
                    }
                    Err(e) => {
                        return Err(BusError::Setup {
                            what: format!("stream {name}"),
                            detail: e.to_string(),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// Publishes one message and waits until JetStream has stored it.
    pub async fn publish(&self, out: Outgoing) -> Result<()> {
        self.publish_all(std::iter::once(out)).await
    }

    /// Publishes many messages, keeping a bounded window of acks in flight, and returns once
    /// JetStream has stored every one (or the first failure).
    pub async fn publish_all(&self, outgoing: impl IntoIterator<Item = Outgoing>) -> Result<()> {
        let mut pending = FuturesUnordered::new();
        for out in outgoing {
            if pending.len() >= PUBLISH_WINDOW
                && let Some(result) = pending.next().await
            {
                result?;
            }
            let ack = self
                .js
                .send_publish(
                    out.subject.clone(),
                    jetstream::message::PublishMessage::build()
                        .payload(out.payload)
                        .message_id(&out.msg_id),
                )
                .await
                .map_err(|e| BusError::Publish {
                    subject: out.subject.clone(),
                    detail: e.to_string(),
                })?;
            let subject = out.subject;
            pending.push(async move {
                ack.await.map(|_| ()).map_err(|e| BusError::Publish {
                    subject,
                    detail: e.to_string(),
                })
            });
        }
        while let Some(result) = pending.next().await {
            result?;
        }
        Ok(())
    }

    /// The durable consumer a [`consume_batches`] loop reads: up to four batches unacknowledged,
    /// a minute for each before JetStream redelivers it.
    pub async fn batch_consumer(
        &self,
        stream: &str,
        durable: &str,
        filter: &str,
        max_batch: usize,
    ) -> Result<consumer::PullConsumer> {
        let max_ack_pending = i64::try_from(max_batch * 4).unwrap_or(i64::MAX);
        self.pull_consumer(
            stream,
            durable,
            filter,
            Duration::from_secs(60),
            max_ack_pending,
        )
        .await
    }

    /// A durable pull consumer on `stream` for `filter`; replicas using the same `durable`
    /// name share its work.
    pub async fn pull_consumer(
        &self,
        stream: &str,
        durable: &str,
        filter: &str,
        ack_wait: Duration,
        max_ack_pending: i64,
    ) -> Result<consumer::PullConsumer> {
        let setup = |e: &dyn std::fmt::Display| BusError::Setup {
            what: format!("consumer {durable}"),
            detail: e.to_string(),
        };
        let stream = self.js.get_stream(stream).await.map_err(|e| setup(&e))?;
        stream
            .get_or_create_consumer(
                durable,
                consumer::pull::Config {
                    durable_name: Some(durable.to_owned()),
                    filter_subject: filter.to_owned(),
                    ack_policy: consumer::AckPolicy::Explicit,
                    ack_wait,
                    max_deliver: -1,
                    max_ack_pending,
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| setup(&e))
    }
}

/// Decodes a message's payload as `M`; a payload that does not decode never will, so it is
/// logged and `None` tells the caller to drop it (and the receipt writer to skip it).
pub fn decode<M: prost::Message + Default>(message: &Message) -> Option<M> {
    match M::decode(message.payload.clone()) {
        Ok(decoded) => Some(decoded),
        Err(err) => {
            tracing::error!(%err, subject = %message.subject, "undecodable message dropped");
            None
        }
    }
}
