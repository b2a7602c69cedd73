//! Consumer loops: pull with bounded concurrency, settle each message by what its handler
//! says, and on shutdown stop pulling and finish what is in flight.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::AckKind;
use async_nats::jetstream::consumer::PullConsumer;
use futures::{FutureExt as _, StreamExt as _};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::{BusError, Message, Result};

/// How a handled message is settled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// Done: remove it from the work queue.
    Ack,
    /// Deliver it again after this delay, without holding a worker meanwhile.
    Retry(Duration),
    /// Never deliver it again (it cannot be handled, e.g. it does not decode).
    Drop,
}

async fn settle(message: &Message, disposition: Disposition) {
    let kind = match disposition {
        Disposition::Ack => AckKind::Ack,
        Disposition::Retry(delay) => AckKind::Nak(Some(delay)),
        Disposition::Drop => AckKind::Term,
    };
    // A lost ack means a redelivery after ack_wait: handlers are idempotent, so log and go on.
    if let Err(err) = message.ack_with(kind).await {
        tracing::warn!(%err, "could not settle a message; it will be redelivered");
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
        .heartbeat(Duration::from_secs(5))
        .messages()
        .await
        .map_err(|e| BusError::Consume {
            consumer: name.to_owned(),
            detail: e.to_string(),
        })
}

/// Runs `handler` on each message with at most `concurrency` at once, until `shutdown`; then
/// waits for the handlers in flight and returns.
pub async fn consume<H, F>(
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
    let mut messages = open(&consumer, name, concurrency).await?;
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
                in_flight.spawn(async move {
                    let disposition =
                        working(std::slice::from_ref(&message), handler(message.clone())).await;
                    settle(&message, disposition).await;
                    drop(permit);
                });
            }
            Some(Err(err)) => {
                tracing::warn!(%err, consumer = name, "pull failed; retrying");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            None => {
                tracing::warn!(consumer = name, "message stream ended; reopening");
                messages = open(&consumer, name, concurrency).await?;
            }
        }
        // Reap finished handlers so the set does not grow with the message count.
        while in_flight.try_join_next().is_some() {}
    }
    drop(messages);
    tracing::info!(consumer = name, in_flight = in_flight.len(), "draining");
    while in_flight.join_next().await.is_some() {}
    Ok(())
}

/// How often a message still being handled tells JetStream so (every consumer's ack wait is
/// longer), so a long handler is not mistaken for a dead one and its message redelivered.
const PROGRESS_EVERY: Duration = Duration::from_secs(20);

/// Runs `work` for `messages`, marking them in progress while it runs.
async fn working<T>(messages: &[Message], work: impl Future<Output = T>) -> T {
    let mut work = std::pin::pin!(work);
    let mut ticker =
        tokio::time::interval_at(tokio::time::Instant::now() + PROGRESS_EVERY, PROGRESS_EVERY);
    loop {
        tokio::select! {
            done = &mut work => return done,
            _ = ticker.tick() => {
                for message in messages {
                    if let Err(err) = message.ack_with(AckKind::Progress).await {
                        tracing::debug!(%err, "could not mark a message in progress");
                    }
                }
            }
        }
    }
}

/// How long a batch waits for more messages after its first.
const LINGER: Duration = Duration::from_millis(5);

/// Runs `handler` on batches: it waits for one message, then takes what else arrives within
/// [`LINGER`], up to `max_batch`. Light traffic waits at most a few milliseconds; heavy traffic
/// goes in large batches.
/// The handler answers one disposition for the whole batch.
pub async fn consume_batches<H, F>(
    consumer: PullConsumer,
    name: &str,
    max_batch: usize,
    shutdown: CancellationToken,
    mut handler: H,
) -> Result<()>
where
    H: FnMut(Vec<Message>) -> F,
    F: Future<Output = Disposition>,
{
    let mut messages = open(&consumer, name, max_batch).await?;
    loop {
        let first = tokio::select! {
            _ = shutdown.cancelled() => break,
            next = messages.next() => next,
        };
        let mut batch = match first {
            Some(Ok(message)) => vec![message],
            Some(Err(err)) => {
                tracing::warn!(%err, consumer = name, "pull failed; retrying");
                tokio::time::sleep(Duration::from_millis(200)).await;
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
        let disposition = working(&batch, handler(batch.clone())).await;
        futures::future::join_all(batch.iter().map(|m| settle(m, disposition))).await;
    }
    Ok(())
}
