//! The outbox around JetStream: accepted messages are published after they are stored; a
//! [`Marker`] records in bulk that their publishes were acknowledged, and the relay republishes
//! any message that stayed unmarked (ingest crashed, the bus was down, or the marker had not
//! flushed yet). A repeat is absorbed by the router, which publishes only deliveries still
//! queued, and by the sender, which skips deliveries settled meanwhile: only one in flight at
//! that moment can be sent twice (at-least-once).

use std::collections::HashMap;
use std::time::Duration;

use herald_bus::{Accepted, Bus};
use herald_core::ids::{MessageId, TenantId};
use herald_core::time::now_ms;
use herald_store::Store;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// How often the relay looks for unpublished messages.
const INTERVAL: Duration = Duration::from_secs(2);
/// A message this young may still be in its `Send` call or the marker; leave it.
const GRACE_MS: i64 = 5_000;
const BATCH: u32 = 500;
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

/// Runs until `shutdown`, republishing stuck messages every couple of seconds.
pub async fn run(store: Store, bus: Bus, shutdown: CancellationToken) {
    let mut ticker = tokio::time::interval(INTERVAL);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        let stuck = match store.unpublished_messages(now_ms() - GRACE_MS, BATCH).await {
            Ok(stuck) => stuck,
            Err(err) => {
                tracing::warn!(%err, "outbox relay could not read the store");
                continue;
            }
        };
        if stuck.is_empty() {
            continue;
        }
        tracing::info!(count = stuck.len(), "relaying unpublished messages");
        let mut by_tenant: HashMap<TenantId, Vec<Accepted>> = HashMap::new();
        for m in stuck {
            by_tenant.entry(m.tenant_id).or_default().push(Accepted {
                message_id: m.id.into_string(),
                body: m.body,
            });
        }
        let mut outgoing = Vec::new();
        let mut marks = Vec::new();
        for (tenant, messages) in by_tenant {
            let ids: Vec<MessageId> = messages
                .iter()
                .map(|m| MessageId::from_trusted(m.message_id.clone()))
                .collect();
            outgoing.extend(herald_bus::accepted_batches(tenant.as_str(), messages));
            marks.push((tenant, ids));
        }
        if let Err(err) = bus.publish_all(outgoing).await {
            tracing::warn!(%err, "relay publish failed; will retry");
            continue;
        }
        for (tenant, ids) in marks {
            if let Err(err) = store.mark_published(&tenant, &ids).await {
                tracing::warn!(%err, "could not mark relayed messages published");
            }
        }
    }
}
