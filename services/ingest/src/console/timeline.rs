//! A message's deliveries step by step (queued → submitted → delivered → read, each failed try
//! with its reason and next try), read from the delivery events the bus keeps for a day (`HERALD_EVENTS`): the events
//! of one message are on a subject of their own, so only they are read.

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt as _;
use herald_bus::{Bus, EVENT_STREAM, subjects};
use herald_core::ids::TenantId;
use herald_core::names::Named as _;
use herald_proto::bus::v1::{EventBatch, EventKind};
use herald_proto::v1::{DeliveryStatus, DeviceEventKind};
use serde::Serialize;

/// How long the console waits for the bus to hand over a message's events.
const READ_FOR: Duration = Duration::from_secs(3);

/// One thing that happened to a delivery.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct Step {
    /// `queued`, `submitted`, … or `clicked`, `button …`, `device retired`.
    pub what: String,
    pub at_ms: i64,
    pub attempts: u32,
    pub reason: String,
}

/// Each delivery's steps, by delivery id, oldest first; empty when the bus keeps none (older
/// than a day, or the bus out of reach: the page shows the stored state alone then).
pub(crate) async fn steps(
    bus: &Bus,
    tenant: &TenantId,
    message: &str,
) -> HashMap<String, Vec<Step>> {
    let subject = subjects::event(message, tenant.as_str());
    let mut steps: HashMap<String, Vec<Step>> = HashMap::new();
    let count = match bus.subject_messages(EVENT_STREAM, &subject).await {
        Ok(count) => count,
        Err(err) => {
            tracing::warn!(%err, "the console could not count a message's events");
            return steps;
        }
    };
    if count == 0 {
        return steps;
    }
    let events = match bus.watch(&subject).await {
        Ok(events) => events,
        Err(err) => {
            tracing::warn!(%err, "the console could not read a message's events");
            return steps;
        }
    };
    let take = usize::try_from(count).unwrap_or(usize::MAX);
    let batches = tokio::time::timeout(READ_FOR, events.take(take).collect::<Vec<_>>())
        .await
        .unwrap_or_default();
    for message in &batches {
        let Ok(batch) = herald_bus::decode::<EventBatch>(message) else {
            continue;
        };
        for event in batch.events {
            let kind = event.kind();
            let Some(delivery) = event.delivery else {
                continue;
            };
            let what = match kind {
                // Still queued after a try: that try failed and the next waits (the reason says
                // why and when).
                EventKind::Status
                    if delivery.status() == DeliveryStatus::Queued && delivery.attempts > 0 =>
                {
                    "try failed".to_owned()
                }
                EventKind::Status => delivery.status().name().to_owned(),
                EventKind::DeviceRetired => "device retired".to_owned(),
                EventKind::Interaction => match event.interaction {
                    Some(i) if i.kind() == DeviceEventKind::Button => {
                        format!("button {}", i.button)
                    }
                    _ => "clicked".to_owned(),
                },
            };
            let step = Step {
                what,
                at_ms: delivery.updated_at_ms,
                attempts: delivery.attempts,
                reason: delivery.reason,
            };
            let list = steps.entry(delivery.delivery_id).or_default();
            // An event emitted again (a receipt recorded twice) is one step.
            if !list.contains(&step) {
                list.push(step);
            }
        }
    }
    for list in steps.values_mut() {
        list.sort_by_key(|s| s.at_ms);
    }
    steps
}
