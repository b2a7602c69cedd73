//! `WatchMessage`: a message's deliveries as they are now, then each change as the receipt
//! service records it — read from the delivery events on the bus, not by polling deliveries —
//! until every delivery is final.
//!
//! The watch checks the message exists, subscribes to its events (from the first one the stream
//! keeps), and only then reads the deliveries, so nothing recorded in between is missed; a
//! change seen twice (stored and as an event, or an event emitted again) is passed on once, as
//! the status ladder only climbs. Routing emits no event: until the message is routed (every
//! delivery exists; a fan-out adds them page by page) its row alone is read again, at most every
//! [`ROUTING_CHECK`], and its deliveries once it is routed. A delivery is final once read,
//! failed or expired; [`AFTER_TTL`] past the message's time to live the watch ends whatever is
//! left (no provider takes its pushes any more). It also ends, UNAVAILABLE, when the bus stops
//! answering or the server shuts down: watching again resumes from the stored state.

use std::collections::{HashMap, VecDeque};
use std::pin::Pin;
use std::time::{Duration, Instant};

use futures::{Stream, StreamExt as _};
use herald_core::Error;
use herald_core::ids::{MessageId, TenantId};
use herald_core::status::can_transition;
use herald_core::time::now_ms;
use herald_proto::bus::v1::{EventBatch, EventKind};
use herald_proto::v1::{Delivery, DeliveryStatus, DeliveryUpdate, MessageState};
use herald_store::{DeliveryRecord, Store};
use tokio_util::sync::CancellationToken;
use tonic::Status;

/// How often, at most, a message that is not routed yet is read again.
pub const ROUTING_CHECK: Duration = Duration::from_millis(500);

/// How long after its time to live a message's watch ends, final or not.
pub const AFTER_TTL: Duration = Duration::from_secs(60);

pub(crate) type UpdateStream = Pin<Box<dyn Stream<Item = Result<DeliveryUpdate, Status>> + Send>>;

type Events = Pin<Box<dyn Stream<Item = herald_bus::Message> + Send>>;

/// Starts watching `message`: NOT_FOUND if the tenant has no such message.
pub(crate) async fn watch(
    store: Store,
    bus: &herald_bus::Bus,
    tenant: TenantId,
    message: MessageId,
    shutdown: CancellationToken,
) -> Result<UpdateStream, Status> {
    let mut watch = Watch {
        store,
        tenant,
        message,
        events: Box::pin(futures::stream::empty()),
        shutdown,
        known: HashMap::new(),
        open: 0,
        routed: false,
        checked: Instant::now(),
        expires_at: i64::MAX,
        ready: VecDeque::new(),
    };
    watch.check_routing().await?;
    let subject = herald_bus::subjects::event(watch.message.as_str(), watch.tenant.as_str());
    let events = bus
        .watch(&subject)
        .await
        .map_err(|err| Error::Unavailable(err.to_string()))?;
    watch.events = Box::pin(events);
    if watch.routed {
        watch.load_deliveries().await?;
    }
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

/// Whether a delivery at `status` will change no more.
fn is_final(status: DeliveryStatus) -> bool {
    matches!(
        status,
        DeliveryStatus::Read | DeliveryStatus::Failed | DeliveryStatus::Expired
    )
}

struct Watch {
    store: Store,
    tenant: TenantId,
    message: MessageId,
    events: Events,
    shutdown: CancellationToken,
    /// Each delivery's status as last passed on.
    known: HashMap<String, DeliveryStatus>,
    /// How many of `known` are not final.
    open: usize,
    /// Every delivery of the message exists (and has been read once).
    routed: bool,
    /// When the message row was last read.
    checked: Instant,
    expires_at: i64,
    /// Changes to pass on, in order.
    ready: VecDeque<Delivery>,
}

impl Watch {
    /// Reads the message row: whether it is routed yet.
    async fn check_routing(&mut self) -> Result<(), Status> {
        let record = self
            .store
            .get_message(&self.tenant, &self.message)
            .await
            .map_err(Error::from)?
            .ok_or_else(|| Error::NotFound(format!("message {}", self.message)))?;
        self.checked = Instant::now();
        self.routed = !matches!(
            record.state,
            MessageState::Accepted | MessageState::Routing | MessageState::Unspecified
        );
        self.expires_at = record.expires_at;
        Ok(())
    }

    /// Reads every delivery of the message (once it is routed).
    async fn load_deliveries(&mut self) -> Result<(), Status> {
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
        match self.known.get(&delivery.delivery_id) {
            Some(known) if !can_transition(*known, status) => return,
            Some(known) => {
                if !is_final(*known) && is_final(status) {
                    self.open -= 1;
                }
            }
            None => {
                if !is_final(status) {
                    self.open += 1;
                }
            }
        }
        self.known.insert(delivery.delivery_id.clone(), status);
        self.ready.push_back(delivery);
    }

    fn past_ttl(&self) -> bool {
        now_ms() >= self.expires_at.saturating_add(AFTER_TTL.as_millis() as i64)
    }

    fn finished(&self) -> bool {
        self.routed && self.ready.is_empty() && (self.open == 0 || self.past_ttl())
    }

    /// Reads the message row again if it is not routed and was not read for a while; once it
    /// is routed, its deliveries.
    async fn follow_routing(&mut self) -> Result<(), Status> {
        if self.routed || self.checked.elapsed() < ROUTING_CHECK {
            return Ok(());
        }
        self.check_routing().await?;
        if self.routed {
            self.load_deliveries().await?;
        }
        Ok(())
    }

    /// Waits for the next event, routing check, expiry or shutdown.
    async fn next_input(&mut self) -> Result<(), Status> {
        let until_ttl_end = u64::try_from(
            self.expires_at
                .saturating_add(AFTER_TTL.as_millis() as i64)
                .saturating_sub(now_ms()),
        )
        .unwrap_or(0);
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
                        // Retirements and taps repeat a status already reported.
                        .filter(|e| e.kind() == EventKind::Status)
                        .filter_map(|e| e.delivery)
                        .for_each(|d| self.offer(d)),
                    Err(reason) => tracing::warn!(%reason, "an undecodable delivery event was skipped"),
                }
                self.follow_routing().await
            }
            () = tokio::time::sleep(ROUTING_CHECK), if !self.routed => self.follow_routing().await,
            () = tokio::time::sleep(Duration::from_millis(until_ttl_end)), if self.routed => Ok(()),
            () = self.shutdown.cancelled() => Err(Status::unavailable(
                "the server is shutting down; watch again to resume",
            )),
        }
    }
}
