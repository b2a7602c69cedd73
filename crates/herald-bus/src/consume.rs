//! Consumer loops: pull with bounded concurrency, keep every message in hand marked in
//! progress, settle each by what its handler says, and on shutdown stop pulling and finish what
//! is in flight.
//!
//! A handler tells an outage (its database or the bus is out of reach: every message would fail
//! alike, so it is retried without limit) from a fault (this message failed, perhaps because of
//! itself: retried with backoff, then parked in the dead letters after [`MAX_TRIES`]
//! deliveries), so one bad message never holds up another and nothing is retried forever.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream::AckKind;
use async_nats::jetstream::consumer::PullConsumer;
use bytes::Bytes;
use futures::{FutureExt as _, StreamExt as _};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use crate::{Bus, BusError, Message, Result};

/// How a handled message is settled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// Done: remove it from the work queue.
    Ack,
    /// What the handler needs is out of reach (the database, the bus): deliver it again after
    /// this delay, as often as it takes, without holding a worker meanwhile.
    Retry(Duration),
    /// It failed for a reason that may be its own: deliver it again with backoff, and park it
    /// with the reason once it was delivered [`MAX_TRIES`] times.
    Fault(String),
    /// It can never be handled (it does not decode, say): park it now with the reason.
    Park(String),
}

/// Deliveries of a faulty message before it is parked.
pub const MAX_TRIES: i64 = 5;

/// How often every message in hand is marked in progress; well within [`crate::ACK_WAIT`].
const PROGRESS_EVERY: Duration = Duration::from_secs(3);

/// How many times JetStream has delivered `message` (1 the first time).
pub fn tries(message: &Message) -> i64 {
    message.info().map_or(1, |info| info.delivered)
}

/// The wait before a faulty message's next try: 1, 2, 4, 8 … seconds, at most 30.
fn fault_delay(tries: i64) -> Duration {
    let exponent = u32::try_from(tries.clamp(1, 6) - 1).unwrap_or(0);
    Duration::from_secs(1u64 << exponent).min(Duration::from_secs(30))
}

async fn settle(bus: &Bus, consumer: &str, message: &Message, disposition: Disposition) {
    let tries = tries(message);
    let kind = match disposition {
        Disposition::Ack => AckKind::Ack,
        Disposition::Retry(delay) => AckKind::Nak(Some(delay)),
        Disposition::Fault(reason) if tries < MAX_TRIES => {
            tracing::warn!(consumer, tries, %reason, "message failed; it will be tried again");
            AckKind::Nak(Some(fault_delay(tries)))
        }
        Disposition::Fault(reason) | Disposition::Park(reason) => {
            match crate::dead::park(bus, message, consumer, &reason, tries).await {
                Ok(()) => {
                    tracing::error!(consumer, tries, %reason, subject = %message.subject, "message parked in the dead letters");
                    AckKind::Ack
                }
                Err(err) => {
                    tracing::warn!(%err, "could not park a message; it will be tried again");
                    AckKind::Nak(Some(Duration::from_secs(1)))
                }
            }
        }
    };
    // A lost ack means a redelivery after the ack wait: handlers are idempotent, so log and go on.
    if let Err(err) = message.ack_with(kind).await {
        tracing::warn!(%err, "could not settle a message; it will be redelivered");
    }
}

/// The messages a loop holds, marked in progress every [`PROGRESS_EVERY`] until settled, so
/// JetStream redelivers only the messages of a process that stopped answering.
#[derive(Clone, Debug, Default)]
struct InHand {
    next: Arc<AtomicU64>,
    replies: Arc<Mutex<HashMap<u64, async_nats::Subject>>>,
}

/// A message in hand; dropping it lets go.
struct Held {
    key: u64,
    in_hand: InHand,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.in_hand
            .replies
            .lock()
            .expect("in hand")
            .remove(&self.key);
    }
}

/// The task marking a loop's messages in progress.
struct Heartbeat {
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Heartbeat {
    async fn stop(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

impl InHand {
    /// An empty registry, and its heartbeat running.
    fn start(bus: &Bus) -> (Self, Heartbeat) {
        let in_hand = Self::default();
        let stop = CancellationToken::new();
        let task = tokio::spawn(in_hand.clone().heartbeat(bus.clone(), stop.clone()));
        (in_hand, Heartbeat { stop, task })
    }

    fn hold(&self, message: &Message) -> Option<Held> {
        let reply = message.reply.clone()?;
        let key = self.next.fetch_add(1, Ordering::Relaxed);
        self.replies.lock().expect("in hand").insert(key, reply);
        Some(Held {
            key,
            in_hand: self.clone(),
        })
    }

    /// Marks everything in hand in progress, every [`PROGRESS_EVERY`], until `stop`.
    async fn heartbeat(self, bus: Bus, stop: CancellationToken) {
        let mut ticker =
            tokio::time::interval_at(tokio::time::Instant::now() + PROGRESS_EVERY, PROGRESS_EVERY);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = ticker.tick() => {}
            }
            let replies: Vec<async_nats::Subject> = self
                .replies
                .lock()
                .expect("in hand")
                .values()
                .cloned()
                .collect();
            for reply in replies {
                if let Err(err) = bus.client.publish(reply, Bytes::from_static(b"+WPI")).await {
                    tracing::debug!(%err, "could not mark a message in progress");
                }
            }
        }
    }
}

/// How long a pull request waits on the server. A process that dies leaves its request
/// behind, and the server hands it the messages that arrive until it expires (they then wait
/// the ack wait): kept short, so new work goes to the live processes within seconds.
const PULL_EXPIRES: Duration = Duration::from_secs(3);

/// On shutdown, hands back at once what was pulled but not yet handled (at most `batch`), so
/// another holder takes it now rather than after the ack wait.
async fn release(mut messages: async_nats::jetstream::consumer::pull::Stream, batch: usize) {
    let mut released = 0;
    while released < batch
        && let Some(Some(Ok(message))) = messages.next().now_or_never()
    {
        if let Err(err) = message.ack_with(AckKind::Nak(None)).await {
            tracing::debug!(%err, "could not hand back a message pulled during shutdown");
        }
        released += 1;
    }
}

async fn open(
    consumer: &PullConsumer,
    name: &str,
    batch: usize,
) -> Result<async_nats::jetstream::consumer::pull::Stream> {
    consumer
        .stream()
        .max_messages_per_batch(batch)
        .expires(PULL_EXPIRES)
        .heartbeat(PULL_EXPIRES / 2)
        .messages()
        .await
        .map_err(|e| BusError::Consume {
            consumer: name.to_owned(),
            detail: e.to_string(),
        })
}

/// A pull that failed is tried again; a missed heartbeat (the server was busy, or away) is
/// routine, anything else worth a warning.
async fn pull_failed(consumer: &str, err: &async_nats::jetstream::consumer::pull::MessagesError) {
    use async_nats::jetstream::consumer::pull::MessagesErrorKind;
    if err.kind() == MessagesErrorKind::MissingHeartbeat {
        tracing::debug!(%err, consumer, "pull heartbeat missed; pulling again");
    } else {
        tracing::warn!(%err, consumer, "pull failed; retrying");
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
}

/// The most messages a [`consume`] loop pulls ahead of its handlers. A message pulled but not
/// yet handled is not marked in progress (the loop has not seen it), so what waits there must be
/// taken within the ack wait: with up to 256 tasks in a send batch and every handler busy, 256
/// batches pulled ahead were 65,000 tasks — more than a sender sends in 10 s — and JetStream
/// redelivered them while the first copies were still queued.
const PREFETCH: usize = 16;

/// Runs `handler` on each message with at most `concurrency` at once, until `shutdown`; then
/// waits for the handlers in flight and returns. At most [`PREFETCH`] messages wait pulled.
pub async fn consume<H, F>(
    bus: &Bus,
    consumer: PullConsumer,
    name: &str,
    concurrency: usize,
    shutdown: CancellationToken,
    handler: H,
) -> Result<()>
where
    H: Fn(Message) -> F + Clone + Send + 'static,
    F: Future<Output = Disposition> + Send + 'static,
{
    let (in_hand, heartbeat) = InHand::start(bus);
    crate::status::report(&consumer, shutdown.clone());
    let prefetch = concurrency.min(PREFETCH);
    let mut messages = open(&consumer, name, prefetch).await?;
    let permits = Arc::new(Semaphore::new(concurrency));
    let mut in_flight = JoinSet::new();
    loop {
        let permit = tokio::select! {
            _ = shutdown.cancelled() => break,
            permit = permits.clone().acquire_owned() => permit.expect("semaphore is never closed"),
        };
        let next = tokio::select! {
            _ = shutdown.cancelled() => break,
            next = messages.next() => next,
        };
        match next {
            Some(Ok(message)) => {
                let handler = handler.clone();
                let held = in_hand.hold(&message);
                let bus = bus.clone();
                let name = name.to_owned();
                let span = span_of(&name, std::slice::from_ref(&message));
                in_flight.spawn(
                    async move {
                        let disposition = handler(message.clone()).await;
                        settle(&bus, &name, &message, disposition).await;
                        drop(held);
                        drop(permit);
                    }
                    .instrument(span),
                );
            }
            Some(Err(err)) => pull_failed(name, &err).await,
            None => {
                tracing::warn!(consumer = name, "message stream ended; reopening");
                messages = open(&consumer, name, prefetch).await?;
            }
        }
        // Reap finished handlers so the set does not grow with the message count.
        while in_flight.try_join_next().is_some() {}
    }
    release(messages, prefetch).await;
    tracing::info!(consumer = name, in_flight = in_flight.len(), "draining");
    while in_flight.join_next().await.is_some() {}
    heartbeat.stop().await;
    Ok(())
}

/// The span of handling `messages` by the consumer `name`: in the trace of the first message
/// that carries one, linking the traces of the others.
fn span_of(name: &str, messages: &[Message]) -> tracing::Span {
    let span = tracing::info_span!(
        "consume",
        otel.name = %format_args!("{name} process"),
        otel.kind = "consumer",
        messaging.consumer = %name,
        messages = messages.len()
    );
    let mut parented = false;
    for message in messages {
        let header = |key: &str| {
            message
                .headers
                .as_ref()
                .and_then(|h| h.get(key))
                .map(|v| v.as_str().to_owned())
        };
        parented |= herald_telemetry::trace::adopt(&span, parented, header);
    }
    span
}

/// How long a batch waits for more messages after its first.
const LINGER: Duration = Duration::from_millis(5);

/// Runs `handler` on batches: it waits for one message, then takes what else arrives within
/// [`LINGER`], up to `max_batch`. Light traffic waits at most a few milliseconds; heavy traffic
/// goes in large batches. The handler answers one disposition per message, in order.
pub async fn consume_batches<H, F>(
    bus: &Bus,
    consumer: PullConsumer,
    name: &str,
    max_batch: usize,
    shutdown: CancellationToken,
    mut handler: H,
) -> Result<()>
where
    H: FnMut(Vec<Message>) -> F,
    F: Future<Output = Vec<Disposition>>,
{
    let (in_hand, heartbeat) = InHand::start(bus);
    crate::status::report(&consumer, shutdown.clone());
    let mut messages = open(&consumer, name, max_batch).await?;
    loop {
        let first = tokio::select! {
            _ = shutdown.cancelled() => break,
            next = messages.next() => next,
        };
        let mut batch = match first {
            Some(Ok(message)) => vec![message],
            Some(Err(err)) => {
                pull_failed(name, &err).await;
                continue;
            }
            None => {
                messages = open(&consumer, name, max_batch).await?;
                continue;
            }
        };
        // Fill the batch from what is buffered, lingering briefly for more: a steady trickle
        // would otherwise make batches of one, each paying a commit.
        let linger_until = tokio::time::Instant::now() + LINGER;
        while batch.len() < max_batch {
            let next = match messages.next().now_or_never() {
                Some(next) => next,
                None => match tokio::time::timeout_at(linger_until, messages.next()).await {
                    Ok(next) => next,
                    Err(_) => break,
                },
            };
            match next {
                Some(Ok(message)) => batch.push(message),
                _ => break,
            }
        }
        let held: Vec<Option<Held>> = batch.iter().map(|m| in_hand.hold(m)).collect();
        let dispositions = handler(batch.clone())
            .instrument(span_of(name, &batch))
            .await;
        debug_assert_eq!(
            dispositions.len(),
            batch.len(),
            "one disposition per message"
        );
        futures::future::join_all(
            batch
                .iter()
                .zip(dispositions)
                .map(|(message, disposition)| settle(bus, name, message, disposition)),
        )
        .await;
        drop(held);
    }
    release(messages, max_batch).await;
    heartbeat.stop().await;
    Ok(())
}

/// Handles a batch together with `handle`; when that fails for a reason that may be one
/// message's own (a fault), handles each message alone, so a bad message holds up no other.
pub async fn isolate<'a, H, F>(batch: &'a [Message], mut handle: H) -> Vec<Disposition>
where
    H: FnMut(&'a [Message]) -> F,
    F: Future<Output = Disposition>,
{
    match handle(batch).await {
        Disposition::Fault(reason) if batch.len() > 1 => {
            tracing::warn!(%reason, count = batch.len(), "a batch failed; handling its messages one by one");
            let mut each = Vec::with_capacity(batch.len());
            for message in batch {
                each.push(handle(std::slice::from_ref(message)).await);
            }
            each
        }
        together => vec![together; batch.len()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_back_off_up_to_half_a_minute() {
        let delays: Vec<u64> = (1..=8).map(|t| fault_delay(t).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 30, 30, 30]);
        const { assert!(PROGRESS_EVERY.as_secs() * 3 <= crate::ACK_WAIT.as_secs()) };
    }
}
