//! The outbox around JetStream: accepted messages are published after they are stored; a
//! [`Marker`] records in bulk that their publishes were acknowledged, and the relay republishes
//! any message that stayed unmarked (ingest crashed, the bus was down, or the marker had not
//! flushed yet). A repeat is absorbed by the router, which publishes only deliveries still
//! queued, and by the senders' claims, which send each delivery once per attempt.
//!
//! The relay takes each tenant's oldest messages in turn, publishes each batch on its own (a
//! refused batch is retried message by message), and parks a message JetStream keeps refusing
//! (after `herald_bus::MAX_TRIES` refusals) in the dead letters, failing it with the reason, so
//! nothing is retried forever and no message waits behind another.
//!
//! Scheduled messages (sent with `send_at_ms`) wait in the same table; each pass releases those
//! that are due and publishes them with the rest, and the relay wakes when the next one is due.

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use herald_bus::{Accepted, AcceptedOut, Bus, BusError, MAX_TRIES, dead};
use herald_core::ids::{MessageId, TenantId};
use herald_core::time::now_ms;
use herald_store::Store;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// How often the relay looks for unpublished messages (at once again after a full pass).
const INTERVAL: Duration = Duration::from_secs(2);
/// The shortest wait between passes.
const MIN_PAUSE: Duration = Duration::from_millis(100);
/// A message this young may still be in its `Send` call or the marker; leave it (and do not
/// count it as the outbox's backlog).
pub const GRACE_MS: i64 = 5_000;
/// Messages per pass.
const BATCH: u32 = 2_000;
/// The marker writes at least this often.
const MARK_EVERY: Duration = Duration::from_millis(50);

/// Queues "published" marks and writes them in bulk.
#[derive(Clone, Debug)]
pub(crate) struct Marker(mpsc::UnboundedSender<(TenantId, MessageId)>);

impl Marker {
    /// A marker and the task that writes its marks; the task ends once every marker is dropped,
    /// after writing what is left.
    pub(crate) fn start(store: Store) -> (Self, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Self(tx), tokio::spawn(write_marks(store, rx)))
    }

    pub(crate) fn published(&self, tenant: &TenantId, ids: impl IntoIterator<Item = MessageId>) {
        for id in ids {
            // The receiver lives as long as any marker; a failed send means shutdown, and the
            // relay republishes what was not marked.
            let _ = self.0.send((tenant.clone(), id));
        }
    }
}

async fn write_marks(store: Store, mut rx: mpsc::UnboundedReceiver<(TenantId, MessageId)>) {
    let mut pending: HashMap<TenantId, Vec<MessageId>> = HashMap::new();
    let mut count = 0;
    let mut ticker = tokio::time::interval(MARK_EVERY);
    loop {
        let (open, tick) = tokio::select! {
            mark = rx.recv() => match mark {
                Some((tenant, id)) => {
                    pending.entry(tenant).or_default().push(id);
                    count += 1;
                    (true, false)
                }
                None => (false, false),
            },
            _ = ticker.tick() => (true, true),
        };
        if tick || count >= 1000 || !open {
            for (tenant, ids) in pending.drain() {
                if let Err(err) = store.mark_published(&tenant, &ids).await {
                    tracing::warn!(%err, count = ids.len(), "could not mark messages published; the relay will republish them");
                }
            }
            count = 0;
        }
        if !open {
            return;
        }
    }
}

/// Runs until `shutdown`, republishing stuck messages every couple of seconds (a backlog pass
/// after pass), and releasing each scheduled message when it is due.
pub async fn run(store: Store, bus: Bus, shutdown: CancellationToken) {
    let mut full = false;
    loop {
        if !full {
            let pause = until_next(&store).await;
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(pause) => {}
            }
        } else if shutdown.is_cancelled() {
            return;
        }
        full = match pass(&store, &bus).await {
            Ok(count) => count >= BATCH as usize,
            Err(err) => {
                tracing::warn!(%err, "outbox relay pass failed; will retry");
                false
            }
        };
    }
}

/// How long to wait before the next pass: [`INTERVAL`], or less if a scheduled message is due
/// sooner (but at least [`MIN_PAUSE`], so a release that keeps failing is not retried in a
/// tight loop).
async fn until_next(store: &Store) -> Duration {
    match store.next_send_at().await {
        Ok(Some(at)) => {
            let wait = u64::try_from(at.saturating_sub(now_ms())).unwrap_or(0);
            INTERVAL.min(Duration::from_millis(wait)).max(MIN_PAUSE)
        }
        Ok(None) => INTERVAL,
        Err(err) => {
            tracing::warn!(%err, "could not read when the next scheduled message is due");
            INTERVAL
        }
    }
}

/// One pass over the oldest unpublished messages and the scheduled ones now due; answers how
/// many it found.
async fn pass(store: &Store, bus: &Bus) -> anyhow::Result<usize> {
    let now = now_ms();
    herald_telemetry::metrics().outbox_backlog(store.outbox_backlog(now - GRACE_MS).await?);
    let mut stuck = store.unpublished_messages(now - GRACE_MS, BATCH).await?;
    if !stuck.is_empty() {
        tracing::info!(count = stuck.len(), "relaying unpublished messages");
    }
    // Released after the query above, so a message is not both found stuck and released.
    let due = store.release_due_messages(now, BATCH).await?;
    if !due.is_empty() {
        tracing::info!(count = due.len(), "releasing scheduled messages");
    }
    stuck.extend(due);
    if stuck.is_empty() {
        return Ok(0);
    }
    let count = stuck.len();
    let mut by_tenant: HashMap<TenantId, Vec<Accepted>> = HashMap::new();
    for m in stuck {
        by_tenant.entry(m.tenant_id).or_default().push(Accepted {
            message_id: m.id.into_string(),
            body: m.body,
            due: m.send_at,
        });
    }
    for (tenant, messages) in by_tenant {
        let bodies: HashMap<String, (Vec<u8>, Option<i64>)> = messages
            .iter()
            .map(|m| (m.message_id.clone(), (m.body.clone(), m.due)))
            .collect();
        let mut published = Vec::new();
        let mut one_by_one = Vec::new();
        for (batch, result) in
            publish(bus, herald_bus::accepted_batches(tenant.as_str(), messages)).await
        {
            match result {
                Ok(()) => published.extend(batch.message_ids),
                Err(err) if err.is_outage() => return Err(err.into()),
                // Which message JetStream refused is found by trying them one by one.
                Err(_) if batch.message_ids.len() > 1 => one_by_one.extend(batch.message_ids),
                Err(err) => refused(store, bus, &tenant, batch, &err).await?,
            }
        }
        let singles = one_by_one
            .into_iter()
            .flat_map(|id| {
                let (body, due) = bodies.get(&id).cloned().unwrap_or_default();
                herald_bus::accepted_batches(
                    tenant.as_str(),
                    vec![Accepted {
                        message_id: id,
                        body,
                        due,
                    }],
                )
            })
            .collect();
        for (batch, result) in publish(bus, singles).await {
            match result {
                Ok(()) => published.extend(batch.message_ids),
                Err(err) if err.is_outage() => return Err(err.into()),
                Err(err) => refused(store, bus, &tenant, batch, &err).await?,
            }
        }
        let ids: Vec<MessageId> = published.into_iter().map(MessageId::from_trusted).collect();
        store.mark_published(&tenant, &ids).await?;
    }
    Ok(count)
}

/// Publishes `batches`, answering each with its result.
async fn publish(bus: &Bus, batches: Vec<AcceptedOut>) -> Vec<(AcceptedOut, Result<(), BusError>)> {
    let outgoing: Vec<herald_bus::Outgoing> = batches.iter().map(|b| b.out.clone()).collect();
    let results = bus.publish_all(outgoing).await;
    batches.into_iter().zip(results).collect()
}

/// Counts JetStream's refusal of a one-message batch, and parks the message once it was
/// refused [`MAX_TRIES`] times: it goes to the dead letters (with its body, when the bus can
/// carry it) and answers `failed` with the reason.
async fn refused(
    store: &Store,
    bus: &Bus,
    tenant: &TenantId,
    batch: AcceptedOut,
    err: &BusError,
) -> anyhow::Result<()> {
    let Some(id) = batch
        .message_ids
        .first()
        .cloned()
        .map(MessageId::from_trusted)
    else {
        return Ok(());
    };
    let tries = store.refused_publish(tenant, &id).await?;
    tracing::warn!(%err, message_id = %id, tries, "JetStream refused a message");
    if tries < MAX_TRIES {
        return Ok(());
    }
    let reason = format!("the bus refused it {tries} times: {err}");
    // A payload the bus refused may be too large to park as it is.
    let payload = if batch.out.payload.len() <= PARKABLE_BYTES {
        batch.out.payload.clone()
    } else {
        Bytes::new()
    };
    dead::put(
        bus,
        dead::Letter {
            subject: &batch.out.subject,
            payload,
            parked_by: "outbox",
            reason: &reason,
            tries,
            dedup_id: format!("dead-outbox-{id}"),
        },
    )
    .await?;
    store
        .park_message(
            tenant,
            &id,
            &format!("{reason} (parked in the dead letters)"),
        )
        .await?;
    tracing::error!(message_id = %id, %reason, "message parked in the dead letters");
    Ok(())
}

/// The largest payload parked as it is (NATS refuses messages over 1 MiB by default).
const PARKABLE_BYTES: usize = 900 * 1024;
