//! The receipt service: the only writer of delivery status. It takes receipt batches (whatever
//! has arrived, up to a limit), records them in one transaction, and acks them only
//! after the commit. Receipts that would move a delivery backwards (late or repeated ones)
//! change nothing, so redelivery is harmless. A dead token retires its device.
//!
//! A batch that fails while the database is out of reach is retried as it is; one that fails
//! otherwise is recorded message by message, so a bad receipt holds up no other, and is parked
//! in the dead letters after `herald_bus::MAX_TRIES` deliveries.
//!
//! After each commit, what was recorded becomes delivery events (`herald.event.<message>.<tenant>`,
//! with the message's correlation id and callback data), published before the receipts are
//! acknowledged: a crash or a bus outage in between records the receipts again, which answers
//! the same deliveries again, so their events are emitted again rather than lost (JetStream
//! drops a repeat within its duplicate window).
//!
//! When a push last reached each device (`last_active_at`) is a side note, not a receipt: it is
//! gathered after each commit and written every [`REACHED_EVERY`] in a statement of its own, so
//! a busy device table is not rewritten inside every receipt transaction (at a million
//! receipts, one random page per receipt). A crash forgets at most that long's notes.
#![forbid(unsafe_code)]

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use herald_bus::{Bus, Disposition, Message, RECEIPT_STREAM, subjects};
use herald_core::ids::{DeliveryId, DeviceId, TenantId};
use herald_core::status::status_for;
use herald_proto::bus::v1::{
    DeliveryEvent, DeliveryReceipt, EventKind, Interaction, Outcome, ReceiptBatch,
};
use herald_proto::v1::DeliveryStatus;
use herald_store::{DeliveryRecord, ReceiptUpdate, Store};
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
    let reached = Reached::default();
    let stop_notes = CancellationToken::new();
    let notes = tokio::spawn(reached.clone().write_every(
        store.clone(),
        REACHED_EVERY,
        stop_notes.clone(),
    ));
    let consumed =
        herald_bus::consume_batches(
            &bus,
            consumer,
            CONSUMER,
            config.max_batch,
            shutdown,
            |batch| {
                let (store, bus, reached) = (store.clone(), bus.clone(), reached.clone());
                async move {
                    herald_bus::isolate(&batch, |part| record(&store, &bus, &reached, part)).await
                }
            },
        )
        .await;
    // The notes gathered last are written before the process goes.
    stop_notes.cancel();
    let _ = notes.await;
    consumed?;
    tracing::info!("receipt stopped");
    Ok(())
}

/// How often the devices' `last_active_at` notes are written.
pub const REACHED_EVERY: Duration = Duration::from_secs(2);

/// When a push last reached each device, per (tenant, device), not written yet.
#[derive(Clone, Debug, Default)]
struct Reached(Arc<Mutex<HashMap<(String, String), i64>>>);

impl Reached {
    fn note(&self, updates: &[ReceiptUpdate]) {
        let mut notes = self.0.lock().expect("reached");
        for u in updates
            .iter()
            .filter(|u| u.status == DeliveryStatus::Submitted && !u.token_dead)
        {
            let at = notes
                .entry((u.tenant_id.to_string(), u.device_id.to_string()))
                .or_default();
            *at = (*at).max(u.at_ms);
        }
    }

    /// Writes the notes every `every` until `stop`, then once more; notes a write could not
    /// store are kept for the next.
    async fn write_every(self, store: Store, every: Duration, stop: CancellationToken) {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let stopping = tokio::select! {
                _ = ticker.tick() => false,
                () = stop.cancelled() => true,
            };
            let notes = std::mem::take(&mut *self.0.lock().expect("reached"));
            if !notes.is_empty() {
                let rows: Vec<(&str, &str, i64)> = notes
                    .iter()
                    .map(|((tenant, device), at)| (tenant.as_str(), device.as_str(), *at))
                    .collect();
                if let Err(err) = store.mark_devices_reached(&rows).await {
                    tracing::warn!(%err, devices = rows.len(), "could not record when devices were last reached; trying again");
                    let mut kept = self.0.lock().expect("reached");
                    for (key, at) in notes {
                        let entry = kept.entry(key).or_default();
                        *entry = (*entry).max(at);
                    }
                }
            }
            if stopping {
                return;
            }
        }
    }
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
        clicked: receipt.interaction.is_some(),
    })
}

/// Records part of a batch (all of it, or one bus message alone) and emits its events.
#[tracing::instrument(name = "receipt record", skip_all, fields(count = part.len()))]
async fn record(store: &Store, bus: &Bus, reached: &Reached, part: &[Message]) -> Disposition {
    let mut updates: Vec<ReceiptUpdate> = Vec::new();
    let mut taps: HashMap<String, Vec<Interaction>> = HashMap::new();
    for message in part {
        match herald_bus::decode::<ReceiptBatch>(message) {
            Ok(batch) => {
                updates.extend(batch.receipts.iter().filter_map(update_of));
                for receipt in batch.receipts {
                    if let Some(tap) = receipt.interaction {
                        taps.entry(receipt.delivery_id).or_default().push(tap);
                    }
                }
            }
            Err(reason) if part.len() == 1 => return Disposition::Park(reason),
            Err(reason) => return Disposition::Fault(reason),
        }
    }
    let recorded = match store.apply_receipts(&updates).await {
        Ok(recorded) => recorded,
        Err(err) if err.is_outage() => {
            tracing::warn!(%err, "could not record receipts; they will be redelivered");
            return Disposition::Retry(Duration::from_secs(1));
        }
        Err(err) => return Disposition::Fault(format!("could not be recorded: {err}")),
    };
    tracing::debug!(recorded = recorded.len(), "receipts recorded");
    for record in &recorded {
        herald_telemetry::metrics().receipt(record.status);
    }
    reached.note(&updates);
    let retired: HashSet<&str> = updates
        .iter()
        .filter(|u| u.token_dead)
        .map(|u| u.delivery_id.as_str())
        .collect();
    match emit(store, bus, recorded, &retired, &taps).await {
        Ok(()) => Disposition::Ack,
        // The events stream refused them (a limit): recording receipts must not stop for it.
        Err(EmitError::Bus(err)) if !err.is_outage() => {
            tracing::error!(%err, "delivery events were refused; the receipts are recorded without them");
            Disposition::Ack
        }
        Err(EmitError::Store(err)) if !err.is_outage() => {
            Disposition::Fault(format!("the delivery events could not be emitted: {err}"))
        }
        Err(err) => {
            tracing::warn!(%err, "could not emit delivery events; the receipts will be recorded again");
            Disposition::Retry(Duration::from_secs(1))
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum EmitError {
    #[error(transparent)]
    Store(#[from] herald_store::StoreError),
    #[error(transparent)]
    Bus(#[from] herald_bus::BusError),
}

/// Publishes the events of what was recorded, with each message's report context: each
/// delivery's status, and for the deliveries among `retired` that their device was retired, and
/// for those with `taps` each tap.
async fn emit(
    store: &Store,
    bus: &Bus,
    recorded: Vec<DeliveryRecord>,
    retired: &HashSet<&str>,
    taps: &HashMap<String, Vec<Interaction>>,
) -> Result<(), EmitError> {
    if recorded.is_empty() {
        return Ok(());
    }
    let mut messages: Vec<_> = recorded.iter().map(|r| &r.message_id).collect();
    messages.sort_unstable();
    messages.dedup();
    let contexts = store.report_contexts(&messages).await?;
    let mut events = Vec::with_capacity(recorded.len());
    for record in recorded {
        let context = contexts
            .get(&record.message_id)
            .cloned()
            .unwrap_or_default();
        let delivery_id = record.id.to_string();
        let status = DeliveryEvent {
            tenant_id: record.tenant_id.to_string(),
            message_id: record.message_id.to_string(),
            correlation_id: context.correlation_id,
            callback_data: context.callback_data,
            notify_url: context.notify_url,
            delivery: Some(record.into_delivery()),
            kind: EventKind::Status.into(),
            interaction: None,
        };
        if retired.contains(delivery_id.as_str()) {
            events.push(DeliveryEvent {
                kind: EventKind::DeviceRetired.into(),
                ..status.clone()
            });
        }
        for tap in taps.get(&delivery_id).into_iter().flatten() {
            events.push(DeliveryEvent {
                kind: EventKind::Interaction.into(),
                interaction: Some(tap.clone()),
                ..status.clone()
            });
        }
        events.push(status);
    }
    herald_bus::all_published(bus.publish_all(herald_bus::event_batches(events)).await)?;
    Ok(())
}
