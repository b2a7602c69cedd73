//! The outbox around JetStream: accepted messages are published after they are stored; a
//! [`Marker`] records in bulk that their publishes were acknowledged, and the relay republishes
//! any message that stayed unmarked (ingest crashed, the bus was down, or the marker had not
//! flushed yet — JetStream's dedup window and the router's idempotency absorb a repeat).

use std::collections::HashMap;
use std::time::Duration;

use herald_bus::{Bus, Outgoing, subjects};
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

/// The publish of an accepted message.
pub(crate) fn outgoing(tenant: &TenantId, id: &MessageId, body: Vec<u8>) -> Outgoing {
    Outgoing {
        subject: subjects::ingest(tenant.as_str()),
        msg_id: id.to_string(),
        payload: body.into(),
    }
}

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
        let mut by_tenant: HashMap<TenantId, Vec<MessageId>> = HashMap::new();
        let outgoing: Vec<Outgoing> = stuck
            .into_iter()
            .map(|m| {
                by_tenant
                    .entry(m.tenant_id.clone())
                    .or_default()
                    .push(m.id.clone());
                outgoing(&m.tenant_id, &m.id, m.body)
            })
            .collect();
        if let Err(err) = bus.publish_all(outgoing).await {
            tracing::warn!(%err, "relay publish failed; will retry");
            continue;
        }
        for (tenant, ids) in by_tenant {
            if let Err(err) = store.mark_published(&tenant, &ids).await {
                tracing::warn!(%err, "could not mark relayed messages published");
            }
        }
    }
}
