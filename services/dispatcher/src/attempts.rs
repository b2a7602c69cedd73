//! The record of attempts, group-committed: each post's handler hands its record over and waits
//! until it is stored (so a job is settled only once its attempt is on record); the writer
//! stores whatever has queued up meanwhile in one statement, as SQLite's single writer prefers.

use herald_core::ids::TenantId;
use herald_store::{AttemptRecord, Store};
use tokio::sync::{mpsc, oneshot};

/// Records written in one statement, at most.
const MOST_AT_ONCE: usize = 512;

type Queued = (TenantId, AttemptRecord, oneshot::Sender<()>);

/// Where handlers hand their records. Cheap to clone; the writer stops once every clone is gone.
#[derive(Clone, Debug)]
pub(crate) struct Attempts(mpsc::Sender<Queued>);

impl Attempts {
    /// The handle, and the writer to run until every handle is dropped.
    pub fn start(store: Store) -> (Self, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(MOST_AT_ONCE * 4);
        (Self(tx), tokio::spawn(write(store, rx)))
    }

    /// Records an attempt and waits until it is stored (or could not be: that is logged, and
    /// the post is not made again for it).
    pub async fn record(&self, tenant: TenantId, record: AttemptRecord) {
        let (done, stored) = oneshot::channel();
        if self.0.send((tenant, record, done)).await.is_ok() {
            let _ = stored.await;
        }
    }
}

async fn write(store: Store, mut queue: mpsc::Receiver<Queued>) {
    let mut batch = Vec::with_capacity(MOST_AT_ONCE);
    while queue.recv_many(&mut batch, MOST_AT_ONCE).await > 0 {
        let (records, waiting): (Vec<_>, Vec<_>) = batch
            .drain(..)
            .map(|(tenant, record, done)| ((tenant, record), done))
            .unzip();
        if let Err(err) = store.record_attempts(&records).await {
            tracing::warn!(%err, count = records.len(), "could not record webhook attempts");
        }
        for done in waiting {
            let _ = done.send(());
        }
    }
}
