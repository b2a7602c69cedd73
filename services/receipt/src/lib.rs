//! The receipt service: the only writer of delivery status. It takes receipt batches (whatever
//! has arrived, up to a limit), records them in one transaction, and acks them only
//! after the commit. Receipts that would move a delivery backwards (late or repeated ones)
//! change nothing, so redelivery is harmless. A dead token retires its device.
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
        .batch_consumer(
            RECEIPT_STREAM,
            CONSUMER,
            subjects::RECEIPT_ALL,
            config.max_batch,
        )
        .await?;
    tracing::info!("receipt consuming");
    herald_bus::consume_batches(consumer, CONSUMER, config.max_batch, shutdown, |batch| {
        let store = store.clone();
        async move { record(&store, batch).await }
    })
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

#[tracing::instrument(skip_all, fields(count = batch.len()))]
async fn record(store: &Store, batch: Vec<Message>) -> Disposition {
    let updates: Vec<ReceiptUpdate> = batch
        .iter()
        .filter_map(herald_bus::decode::<ReceiptBatch>)
        .flat_map(|b| b.receipts)
        .filter_map(|receipt| update_of(&receipt))
        .collect();
    match store.apply_receipts(&updates).await {
        Ok(changed) => {
            tracing::debug!(changed, "receipts recorded");
            Disposition::Ack
        }
        Err(err) => {
            tracing::warn!(%err, "could not record receipts; they will be redelivered");
            Disposition::Retry(Duration::from_secs(1))
        }
    }
}
