//! Herald's bus: NATS JetStream streams, subjects, typed publishes with dedup ids, the consumer
//! loops the services run, the dead letters they park what they cannot handle in, and the
//! control announcements every replica hears.
//!
//! Four work-queue streams on file storage carry work between the services:
//! `HERALD_INGEST` (ingest → router), `HERALD_SEND` (router → one sender per provider, each
//! with its own non-overlapping filter), `HERALD_RECEIPT` (senders → receipt) and
//! `HERALD_WEBHOOK` (events to post, one per endpoint, within the webhook dispatcher);
//! `HERALD_EVENTS` keeps delivery events for whoever reads them, and `HERALD_DEAD` keeps what
//! could not be handled ([`dead`]). Every subject ends with the tenant.
//! Publishes carry `Nats-Msg-Id` so a repeated publish within the duplicate window is dropped by
//! the server; consumers ack only after the effect is durable, and tell JetStream while they
//! work, so a short ack wait finds the work of a dead process quickly.
#![forbid(unsafe_code)]

mod batches;
mod consume;
pub mod dead;
mod lanes;
mod status;
pub mod subjects;

use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};
use bytes::Bytes;
use futures::stream::FuturesUnordered;
use futures::{StreamExt as _, TryStreamExt as _};

pub use async_nats::jetstream::Message;
pub use batches::{
    Accepted, AcceptedOut, accepted_batches, event_batches, receipt_batches, send_batches,
};
pub use consume::{Disposition, MAX_TRIES, consume, consume_batches, isolate, tries};
pub use lanes::Lane;
pub use status::{ConsumerState, STREAMS, StreamState};

/// A bus failure.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("cannot connect to NATS at {url}: {detail}")]
    Connect { url: String, detail: String },
    #[error("cannot set up JetStream {what}: {detail}")]
    Setup { what: String, detail: String },
    /// `refused`: JetStream (or the client, before sending) refused this message itself (it is
    /// too large, say); otherwise the bus could not be reached or did not answer in time.
    #[error("publish to {subject} failed: {detail}")]
    Publish {
        subject: String,
        detail: String,
        refused: bool,
    },
    #[error("consumer {consumer} failed: {detail}")]
    Consume { consumer: String, detail: String },
    #[error("dead letter {sequence}: {detail}")]
    Dead { sequence: u64, detail: String },
}

impl BusError {
    /// Whether the bus itself is out of reach (every publish would fail alike), rather than
    /// one message refused.
    pub fn is_outage(&self) -> bool {
        !matches!(
            self,
            Self::Publish { refused: true, .. } | Self::Dead { .. }
        )
    }
}

impl From<BusError> for herald_core::Error {
    fn from(err: BusError) -> Self {
        herald_core::Error::internal(err)
    }
}

pub type Result<T, E = BusError> = std::result::Result<T, E>;

/// Why setting up a consumer failed.
enum SetupFailure {
    /// The bus did not answer: it may be restarting.
    Unreachable(String),
    /// JetStream answered with a refusal.
    Refused(String),
}

/// How long a service starting waits for a bus that does not answer before giving up.
const SETUP_PATIENCE: Duration = Duration::from_secs(60);
const SETUP_FIRST_PAUSE: Duration = Duration::from_millis(250);
const SETUP_MAX_PAUSE: Duration = Duration::from_secs(4);

/// The stream names.
pub const INGEST_STREAM: &str = "HERALD_INGEST";
pub const SEND_STREAM: &str = "HERALD_SEND";
/// The bulk lane: send tasks of large audiences, apart from every other send.
pub const BULK_STREAM: &str = "HERALD_BULK";
/// The urgent lane: transactional messages routed on their own, and their send tasks.
pub const URGENT_STREAM: &str = "HERALD_URGENT";
pub const RECEIPT_STREAM: &str = "HERALD_RECEIPT";
pub const DEAD_STREAM: &str = "HERALD_DEAD";
pub const EVENT_STREAM: &str = "HERALD_EVENTS";
pub const WEBHOOK_STREAM: &str = "HERALD_WEBHOOK";

/// How long JetStream remembers a `Nats-Msg-Id` to drop a repeated publish.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// How long a consumer waits for a message's ack before it delivers the message again. A live
/// handler marks its messages in progress more often than this (see `consume`), so only the
/// work of a process that died waits this long.
pub const ACK_WAIT: Duration = Duration::from_secs(10);

/// How long delivery events are kept: a watcher that starts later than this after a message's
/// last event reads its state from the database alone.
pub const EVENTS_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

/// The most the events stream holds (bytes) before its oldest events are dropped.
pub const EVENTS_MAX_BYTES: i64 = 4 << 30;

/// How long dead letters are kept.
pub const DEAD_MAX_AGE: Duration = Duration::from_secs(30 * 24 * 3600);

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

/// The first failure among a [`Bus::publish_all`]'s results, if any.
pub fn all_published(results: Vec<Result<()>>) -> Result<()> {
    results.into_iter().collect()
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
    client: async_nats::Client,
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
            js: jetstream::new(client.clone()),
            client,
        };
        bus.ensure_streams().await?;
        Ok(bus)
    }

    async fn ensure_streams(&self) -> Result<()> {
        let work_queue = |name: &str, subject: &str| stream::Config {
            name: name.to_owned(),
            subjects: vec![subject.to_owned()],
            retention: stream::RetentionPolicy::WorkQueue,
            storage: stream::StorageType::File,
            duplicate_window: DUPLICATE_WINDOW,
            ..Default::default()
        };
        let streams = [
            work_queue(INGEST_STREAM, subjects::INGEST_ALL),
            work_queue(SEND_STREAM, subjects::SEND_ALL),
            work_queue(BULK_STREAM, subjects::BULK_ALL),
            work_queue(URGENT_STREAM, subjects::URGENT_ALL),
            work_queue(RECEIPT_STREAM, subjects::RECEIPT_ALL),
            work_queue(WEBHOOK_STREAM, subjects::WEBHOOK_ALL),
            // Events are read by whoever watches, as often as they like, until they grow old or
            // the stream is full (the oldest go first: recording receipts never waits for room).
            stream::Config {
                name: EVENT_STREAM.to_owned(),
                subjects: vec![subjects::EVENT_ALL.to_owned()],
                retention: stream::RetentionPolicy::Limits,
                storage: stream::StorageType::File,
                duplicate_window: DUPLICATE_WINDOW,
                max_age: EVENTS_MAX_AGE,
                max_bytes: EVENTS_MAX_BYTES,
                discard: stream::DiscardPolicy::Old,
                ..Default::default()
            },
            // Dead letters stay until they are replayed or grow old.
            stream::Config {
                name: DEAD_STREAM.to_owned(),
                subjects: vec![subjects::DEAD_ALL.to_owned()],
                retention: stream::RetentionPolicy::Limits,
                storage: stream::StorageType::File,
                duplicate_window: DUPLICATE_WINDOW,
                max_age: DEAD_MAX_AGE,
                ..Default::default()
            },
        ];
        for config in streams {
            let name = config.name.clone();
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
        all_published(self.publish_all(std::iter::once(out)).await)
    }

    /// Publishes many messages, keeping a bounded window of acks in flight, and answers for
    /// each (in order) whether JetStream stored it: one refused or lost publish never keeps
    /// the others from being tried.
    pub async fn publish_all(
        &self,
        outgoing: impl IntoIterator<Item = Outgoing>,
    ) -> Vec<Result<()>> {
        let mut results = Vec::new();
        let mut pending = FuturesUnordered::new();
        // The publisher's trace goes along, so the consumer's span joins it.
        let trace = herald_telemetry::trace::inject();
        for out in outgoing {
            let index = results.len();
            results.push(Ok(()));
            if pending.len() >= PUBLISH_WINDOW
                && let Some((at, result)) = pending.next().await
            {
                results[at] = result;
            }
            let published = self
                .js
                .send_publish(
                    out.subject.clone(),
                    // Header by header: the dedup id is a header too.
                    trace.iter().fold(
                        jetstream::message::PublishMessage::build()
                            .payload(out.payload)
                            .message_id(&out.msg_id),
                        |message, (name, value)| message.header(*name, value.as_str()),
                    ),
                )
                .await;
            let subject = out.subject;
            match published {
                Ok(ack) => pending.push(async move {
                    (
                        index,
                        ack.await
                            .map(|_| ())
                            .map_err(|e| publish_error(subject, &e)),
                    )
                }),
                Err(e) => results[index] = Err(publish_error(subject, &e)),
            }
        }
        while let Some((at, result)) = pending.next().await {
            results[at] = result;
        }
        results
    }

    /// The durable consumer `durable` of `stream` for `filter`: explicit acks, [`ACK_WAIT`], at
    /// most `max_ack_pending` messages unacknowledged across the replicas that share `durable`.
    /// An existing consumer is brought to this configuration (an older one may wait longer) and
    /// goes on where it was; a new one starts at the first message kept (on a work queue, the
    /// work not done; on the events stream, up to a day of events). A bus that does not answer
    /// (restarting while the service starts) is waited for, up to a minute.
    pub async fn work_consumer(
        &self,
        stream: &str,
        durable: &str,
        filter: &str,
        max_ack_pending: usize,
    ) -> Result<consumer::PullConsumer> {
        let config = consumer::pull::Config {
            durable_name: Some(durable.to_owned()),
            filter_subject: filter.to_owned(),
            ack_policy: consumer::AckPolicy::Explicit,
            ack_wait: ACK_WAIT,
            max_deliver: -1,
            max_ack_pending: i64::try_from(max_ack_pending).unwrap_or(i64::MAX),
            ..Default::default()
        };
        // A broker restarting while a service starts is waited for (the client reconnects on
        // its own); a refusal by JetStream itself is final.
        let started = tokio::time::Instant::now();
        let mut pause = SETUP_FIRST_PAUSE;
        loop {
            let created = self.create_consumer(stream, config.clone()).await;
            match created {
                Err(SetupFailure::Unreachable(detail))
                    if started.elapsed() + pause < SETUP_PATIENCE =>
                {
                    tracing::warn!(consumer = durable, %detail, ?pause, "the bus does not answer; setting up the consumer again");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(SETUP_MAX_PAUSE);
                }
                Err(SetupFailure::Unreachable(detail) | SetupFailure::Refused(detail)) => {
                    return Err(BusError::Setup {
                        what: format!("consumer {durable}"),
                        detail,
                    });
                }
                Ok(consumer) => return Ok(consumer),
            }
        }
    }

    /// Creates (or updates) a durable consumer once.
    async fn create_consumer(
        &self,
        stream: &str,
        config: consumer::pull::Config,
    ) -> Result<consumer::PullConsumer, SetupFailure> {
        use async_nats::jetstream::context::GetStreamErrorKind;
        use async_nats::jetstream::stream::ConsumerErrorKind;
        let stream = self.js.get_stream(stream).await.map_err(|e| {
            let detail = e.to_string();
            match e.kind() {
                GetStreamErrorKind::Request => SetupFailure::Unreachable(detail),
                _ => SetupFailure::Refused(detail),
            }
        })?;
        // Creating a durable consumer that exists updates its editable settings.
        stream.create_consumer(config).await.map_err(|e| {
            let detail = e.to_string();
            match e.kind() {
                ConsumerErrorKind::TimedOut | ConsumerErrorKind::Request => {
                    SetupFailure::Unreachable(detail)
                }
                _ => SetupFailure::Refused(detail),
            }
        })
    }

    /// How many messages wait in the work-queue streams (ingest, send, bulk, urgent, receipt),
    /// handed out or not: work not done yet.
    pub async fn backlog(&self) -> Result<u64> {
        let mut total = 0;
        for name in [
            INGEST_STREAM,
            SEND_STREAM,
            BULK_STREAM,
            URGENT_STREAM,
            RECEIPT_STREAM,
        ] {
            total += self.stream_messages(name).await?;
        }
        Ok(total)
    }

    /// How many messages a stream holds (on a work queue: handed out or not, not acked yet).
    pub async fn stream_messages(&self, name: &str) -> Result<u64> {
        let failed = |e: &dyn std::fmt::Display| BusError::Setup {
            what: format!("stream {name}"),
            detail: e.to_string(),
        };
        let mut stream = self.js.get_stream(name).await.map_err(|e| failed(&e))?;
        Ok(stream.info().await.map_err(|e| failed(&e))?.state.messages)
    }

    /// How many messages a stream holds on the subjects `filter` matches (on a work queue:
    /// handed out or not, not acked yet).
    pub async fn subject_messages(&self, name: &str, filter: &str) -> Result<u64> {
        let failed = |e: &dyn std::fmt::Display| BusError::Setup {
            what: format!("stream {name}"),
            detail: e.to_string(),
        };
        let stream = self.js.get_stream(name).await.map_err(|e| failed(&e))?;
        let subjects = stream
            .info_with_subjects(filter)
            .await
            .map_err(|e| failed(&e))?;
        subjects
            .try_fold(0, |total, (_, count)| async move {
                Ok(total + u64::try_from(count).unwrap_or(u64::MAX))
            })
            .await
            .map_err(|e| failed(&e))
    }

    /// Every message of the events stream on `subject` (a filter), from the first one kept, then
    /// each as it is stored: an ordered consumer of this connection alone (the server removes it
    /// 30 s after it is dropped). The stream ends at the first error the consumer could not get
    /// past (the bus out of reach): the caller tells its client to watch again.
    pub async fn watch(
        &self,
        subject: &str,
    ) -> Result<impl futures::Stream<Item = Message> + use<>> {
        let failed = |e: &dyn std::fmt::Display| BusError::Consume {
            consumer: subject.to_owned(),
            detail: e.to_string(),
        };
        let stream = self
            .js
            .get_stream(EVENT_STREAM)
            .await
            .map_err(|e| failed(&e))?;
        let messages = stream
            .create_consumer(consumer::pull::OrderedConfig {
                filter_subject: subject.to_owned(),
                deliver_policy: consumer::DeliverPolicy::All,
                ..Default::default()
            })
            .await
            .map_err(|e| failed(&e))?
            .messages()
            .await
            .map_err(|e| failed(&e))?;
        Ok(messages
            .take_while(|item| {
                if let Err(err) = item {
                    tracing::warn!(%err, "a watch of delivery events stopped");
                }
                std::future::ready(item.is_ok())
            })
            .filter_map(|item| std::future::ready(item.ok())))
    }

    /// Tells every process listening on `subject` (core NATS: at most once, to those connected
    /// now), and waits until the server has it.
    pub async fn announce(&self, subject: &str, payload: Bytes) -> Result<()> {
        let failed = |e: &dyn std::fmt::Display| BusError::Publish {
            subject: subject.to_owned(),
            detail: e.to_string(),
            refused: false,
        };
        self.client
            .publish(subject.to_owned(), payload)
            .await
            .map_err(|e| failed(&e))?;
        self.client.flush().await.map_err(|e| failed(&e))
    }

    /// Hands `each` the text of every announcement on `subject` from now until `shutdown` (or
    /// the connection ends); one that is not text is logged and passed over.
    pub async fn announcements(
        &self,
        subject: &str,
        shutdown: tokio_util::sync::CancellationToken,
        mut each: impl FnMut(&str),
    ) -> Result<()> {
        let mut announced = self
            .client
            .subscribe(subject.to_owned())
            .await
            .map_err(|e| BusError::Consume {
                consumer: subject.to_owned(),
                detail: e.to_string(),
            })?;
        loop {
            let next = tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                next = announced.next() => next,
            };
            let Some(next) = next else {
                return Ok(());
            };
            match std::str::from_utf8(&next.payload) {
                Ok(text) => each(text),
                Err(_) => {
                    tracing::warn!(subject, "an announcement that is not text was passed over")
                }
            }
        }
    }
}

/// A publish failure, telling a refused message from an unreachable bus.
pub(crate) fn publish_error(subject: String, err: &jetstream::context::PublishError) -> BusError {
    use jetstream::context::PublishErrorKind as Kind;
    let refused = match err.kind() {
        Kind::MaxPayloadExceeded | Kind::WrongLastMessageId | Kind::WrongLastSequence => true,
        Kind::Other => std::error::Error::source(err)
            .and_then(|source| source.downcast_ref::<jetstream::Error>())
            .is_some_and(|e| {
                e.error_code() == jetstream::ErrorCode::STREAM_MESSAGE_EXCEEDS_MAXIMUM
            }),
        _ => false,
    };
    BusError::Publish {
        subject,
        detail: err.to_string(),
        refused,
    }
}

/// Decodes a message's payload as `M`, or says why it does not decode (it never will: the
/// caller parks it).
pub fn decode<M: prost::Message + Default>(message: &Message) -> Result<M, String> {
    M::decode(message.payload.clone()).map_err(|err| {
        tracing::error!(%err, subject = %message.subject, "undecodable message");
        format!("does not decode as {}: {err}", std::any::type_name::<M>())
    })
}
