//! `WatchMessage`: a message's deliveries as they are now, then each change as the receipt
//! service records it — read from the delivery events on the bus, not by polling the database —
//! until every delivery is final.
//!
//! The watch subscribes to the message's events (from the first one the stream keeps) before it
//! reads the deliveries, so nothing recorded in between is missed; a change seen twice (in the
//! database and as an event, or an event emitted again) is passed on once, as the status ladder
//! only climbs. Until the message is routed (every delivery exists; a fan-out adds them page by
//! page) the message row is read again on each event and every [`RELOAD_WHILE_ROUTING`],
//! because routing itself emits no event. A delivery is final once read, failed or expired; a message past its time to
//! live with nothing queued is final too (no provider will take its pushes any more).

use std::collections::{HashMap, VecDeque};
use std::pin::Pin;
use std::time::Duration;

use futures::{Stream, StreamExt as _};
use herald_core::Error;
use herald_core::ids::{MessageId, TenantId};
use herald_core::status::can_transition;
use herald_core::time::now_ms;
use herald_proto::bus::v1::EventBatch;
use herald_proto::v1::{Delivery, DeliveryStatus, DeliveryUpdate, MessageState};
use herald_store::{DeliveryRecord, Store};
use tonic::Status;

/// How often a message that is not routed yet is read again.
pub const RELOAD_WHILE_ROUTING: Duration = Duration::from_secs(2);

pub(crate) type UpdateStream = Pin<Box<dyn Stream<Item = Result<DeliveryUpdate, Status>> + Send>>;

type Events = Pin<Box<dyn Stream<Item = herald_bus::Message> + Send>>;

/// Starts watching `message`: NOT_FOUND if the tenant has no such message.
pub(crate) async fn watch(
    store: Store,
    bus: &herald_bus::Bus,
    tenant: TenantId,
    message: MessageId,
) -> Result<UpdateStream, Status> {
    let subject = herald_bus::subjects::event(message.as_str(), tenant.as_str());
    let events = Box::pin(bus.watch(&subject).await.map_err(Error::from)?);
    let mut watch = Watch {
        store,
        tenant,
        message,
        events,
        known: HashMap::new(),
        routed: false,
        expires_at: i64::MAX,
        ready: VecDeque::new(),
    };
    watch.reload().await?;
    Ok(Box::pin(futures::stream::unfold(
        Some(watch),
        |state| async move {
            let mut watch = state?;
            loop {
                if let Some(delivery) = watch.ready.pop_front() {
                    let update = DeliveryUpdate {
                        message_id: watch.message.to_string(),
                        delivery: Some(delivery),
                    };
                    return Some((Ok(update), Some(watch)));
                }
                if watch.finished() {
                    return None;
                }
                if let Err(status) = watch.next_input().await {
                    return Some((Err(status), None));
                }
            }
        },
    )))
}

struct Watch {
    store: Store,
    tenant: TenantId,
    message: MessageId,
    events: Events,
    /// Each delivery's status as last passed on.
    known: HashMap<String, DeliveryStatus>,
    /// Every delivery of the message exists.
    routed: bool,
    expires_at: i64,
    /// Changes to pass on, in order.
    ready: VecDeque<Delivery>,
}

impl Watch {
    /// Reads the message and its deliveries from the database.
    async fn reload(&mut self) -> Result<(), Status> {
        let record = self
            .store
            .get_message(&self.tenant, &self.message)
            .await
            .map_err(Error::from)?
            .ok_or_else(|| Error::NotFound(format!("message {}", self.message)))?;
        self.routed = !matches!(
            record.state,
            MessageState::Accepted | MessageState::Routing | MessageState::Unspecified
        );
        self.expires_at = record.expires_at;
        let deliveries = self
            .store
            .deliveries_of_message(&self.tenant, &self.message)
            .await
            .map_err(Error::from)?;
        for delivery in deliveries {
            self.offer(DeliveryRecord::into_delivery(delivery));
        }
        Ok(())
    }

    /// Passes a delivery's state on if it is new or moved forward.
    fn offer(&mut self, delivery: Delivery) {
        let status = delivery.status();
        if let Some(known) = self.known.get(&delivery.delivery_id)
            && !can_transition(*known, status)
        {
            return;
        }
        self.known.insert(delivery.delivery_id.clone(), status);
        self.ready.push_back(delivery);
    }

    fn finished(&self) -> bool {
        use DeliveryStatus::*;
        let past_ttl = now_ms() >= self.expires_at;
        self.routed
            && self.ready.is_empty()
            && self.known.values().all(|status| {
                matches!(status, Read | Failed | Expired) || (past_ttl && *status != Queued)
            })
    }

    /// Waits for the next event, reload or expiry.
    async fn next_input(&mut self) -> Result<(), Status> {
        let until_expiry = u64::try_from(self.expires_at.saturating_sub(now_ms())).unwrap_or(0);
        tokio::select! {
            event = self.events.next() => {
                let Some(event) = event else {
                    return Err(Status::unavailable(
                        "the delivery events stopped; watch again to resume",
                    ));
                };
                match herald_bus::decode::<EventBatch>(&event) {
                    Ok(batch) => batch
                        .events
                        .into_iter()
                        .filter_map(|e| e.delivery)
                        .for_each(|d| self.offer(d)),
                    Err(reason) => tracing::warn!(%reason, "an undecodable delivery event was skipped"),
                }
                // An event means the router has been at work: see whether it is done.
                if self.routed { Ok(()) } else { self.reload().await }
            }
            () = tokio::time::sleep(RELOAD_WHILE_ROUTING), if !self.routed => self.reload().await,
            () = tokio::time::sleep(Duration::from_millis(until_expiry)), if self.routed && until_expiry > 0 => Ok(()),
        }
    }
}
