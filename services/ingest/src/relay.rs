//! The outbox relay: publishes accepted messages whose publish JetStream never acknowledged.

use std::time::Duration;

use herald_bus::{Bus, Outgoing, subjects};
use herald_core::ids::{MessageId, TenantId};
use herald_core::time::now_ms;
use herald_store::Store;
use tokio_util::sync::CancellationToken;

/// How often the relay looks for unpublished messages.
const INTERVAL: Duration = Duration::from_secs(2);
/// A message this young may still be in its `Send` call; leave it to that call.
const GRACE_MS: i64 = 5_000;
const BATCH: u32 = 500;

/// Publishes one accepted message and marks it published. A failure is logged and left for the
/// relay: the message is stored, so it is not lost.
pub(crate) async fn publish_accepted(
    store: &Store,
    bus: &Bus,
    tenant: &TenantId,
    id: &MessageId,
    body: Vec<u8>,
) {
    let out = Outgoing {
        subject: subjects::ingest(tenant.as_str()),
        msg_id: id.to_string(),
        payload: body.into(),
    };
    if let Err(err) = bus.publish(out).await {
        tracing::warn!(%err, message_id = %id, "publish failed; the outbox relay will retry");
        return;
    }
    if let Err(err) = store.mark_published(tenant, id).await {
        // JetStream has it; the relay's republish would be dropped by dedup or by the router.
        tracing::warn!(%err, message_id = %id, "could not mark a message published");
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
        match store.unpublished_messages(now_ms() - GRACE_MS, BATCH).await {
            Ok(stuck) => {
                if !stuck.is_empty() {
                    tracing::info!(count = stuck.len(), "relaying unpublished messages");
                }
                for m in stuck {
                    publish_accepted(&store, &bus, &m.tenant_id, &m.id, m.body).await;
                }
            }
            Err(err) => tracing::warn!(%err, "outbox relay could not read the store"),
        }
    }
}
