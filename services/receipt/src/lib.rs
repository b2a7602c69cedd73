//! The receipt service: the only writer of delivery status. It takes receipt batches (whatever
//! has arrived, up to a limit), records them in one transaction, and acks them only
//! after the commit. Receipts that would move a delivery backwards (late or repeated ones)
//! change nothing, so redelivery is harmless. A dead token retires its device.
//!
//! A batch that fails while the database is out of reach is retried as it is; one that fails
//! otherwise is recorded message by message, so a bad receipt holds up no other, and is parked
//! in the dead letters after `herald_bus::MAX_TRIES` deliveries.
#![forbid(unsafe_code)]

use std::time::Duration;

use herald_bus::{Bus, Disposition, Message, RECEIPT_STREAM, subjects};
use herald_core::ids::{DeliveryId, DeviceId, TenantId};
use herald_core::status::status_for;
use herald_proto::bus::v1::{DeliveryReceipt, Outcome, ReceiptBatch};
use herald_proto::v1::DeliveryStatus;
use herald_store::{ReceiptUpdate, Store};
use tokio_util::sync::CancellationToken;

/// The durable consumer name; receipt replicas share it.
pub const CONSUMER: &str = "receipt";

/// Receipt settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// The most receipt batches (each up to `herald_bus::BATCH_ITEMS` receipts) written in one
    /// transaction.
    pub max_batch: usize,
}

impl Config {
    pub fn from_settings(settings: &herald_runtime::Settings) -> Self {
        Self {
            max_batch: settings.receipt.batch,
        }
    }
}

/// Records receipts until `shutdown`; the batch in hand is finished first.
pub async fn run(
    config: Config,
    store: Store,
    bus: Bus,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let consumer = bus
        .work_consumer(
            RECEIPT_STREAM,
            CONSUMER,
            subjects::RECEIPT_ALL,
            config.max_batch * 4,
        )
        .await?;
    tracing::info!("receipt consuming");
    herald_bus::consume_batches(
        &bus,
        consumer,
        CONSUMER,
        config.max_batch,
        shutdown,
        |batch| {
            let store = store.clone();
            async move { herald_bus::isolate(&batch, |part| record(&store, part)).await }
        },
    )
    .await?;
    tracing::info!("receipt stopped");
    Ok(())
}

/// A receipt as a store update; `None` for one that means nothing to record.
pub fn update_of(receipt: &DeliveryReceipt) -> Option<ReceiptUpdate> {
    let outcome = receipt.outcome();
    let status = status_for(outcome);
    if status == DeliveryStatus::Unspecified {
        return None;
    }
    Some(ReceiptUpdate {
        tenant_id: TenantId::from_trusted(receipt.tenant_id.clone()),
        delivery_id: DeliveryId::from_trusted(receipt.delivery_id.clone()),
        device_id: DeviceId::from_trusted(receipt.device_id.clone()),
        status,
        reason: receipt.reason.clone(),
        provider_message_id: receipt.provider_message_id.clone(),
        attempts: receipt.attempts,
        at_ms: receipt.at_ms,
        token_dead: outcome == Outcome::TokenDead,
    })
}

/// Records part of a batch (all of it, or one bus message alone).
#[tracing::instrument(skip_all, fields(count = part.len()))]
async fn record(store: &Store, part: &[Message]) -> Disposition {
    let mut updates: Vec<ReceiptUpdate> = Vec::new();
    for message in part {
        match herald_bus::decode::<ReceiptBatch>(message) {
            Ok(batch) => updates.extend(batch.receipts.iter().filter_map(update_of)),
            Err(reason) if part.len() == 1 => return Disposition::Park(reason),
            Err(reason) => return Disposition::Fault(reason),
        }
    }
    match store.apply_receipts(&updates).await {
        Ok(changed) => {
            tracing::debug!(changed, "receipts recorded");
            Disposition::Ack
        }
        Err(err) if err.is_outage() => {
            tracing::warn!(%err, "could not record receipts; they will be redelivered");
            Disposition::Retry(Duration::from_secs(1))
        }
        Err(err) => Disposition::Fault(format!("could not be recorded: {err}")),
    }
}
