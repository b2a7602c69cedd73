//! The router: turns accepted messages into one send task per device.
//!
//! It works in batches (the accepted batches that have arrived, up to a limit), in three steps:
//! it [`resolve`]s each message's destination to devices (reads only: the users of the whole
//! batch in one query per tenant), [`plan`]s the deliveries (pure: a delivery id is derived
//! from message and device, so handling a message twice yields the same ids), and then acts:
//! it records every message's queued deliveries and state in one transaction (existing
//! deliveries are kept as they are), and publishes the still-queued deliveries as send batches,
//! one per tenant and provider (chunked), whose `Nats-Msg-Id` is a digest of their delivery ids
//! so JetStream drops the same batch published again (and a sender's claim leaves out a
//! delivery a batch of another composition carried first). A delivery whose provider ingest
//! found would refuse the message is failed through a receipt, so the receipt service stays the
//! only writer of delivery status; whether a tenant has a credential is the sender's question.
//! The batch is acked only once every publish was acknowledged.
//!
//! A message to a large audience (a topic) is not resolved in the batch: the router records a
//! fan-out for it (the message is `routing`) and a [`fanout`] worker routes it page by page
//! with a durable checkpoint, so no batch waits for it and a router that dies mid-way is
//! followed from the checkpoint by whichever router takes the fan-out next.
//!
//! A batch that fails because the database or the bus is out of reach is retried as it is. One
//! that fails otherwise is routed message by message, so a bad message holds up no other; a
//! message that still fails after `herald_bus::MAX_TRIES` deliveries is parked in the dead
//! letters and its notifications answer `failed` with the reason.
#![forbid(unsafe_code)]

mod fanout;
mod plan;
mod policy;
mod resolve;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use herald_bus::{
    BULK_STREAM, Bus, BusError, Disposition, INGEST_STREAM, MAX_TRIES, Message, URGENT_STREAM,
    subjects,
};
use herald_core::ids::{DeliveryId, MessageId, TenantId};
use herald_core::time::now_ms;
use herald_proto::bus::v1::{AcceptedBatch, MessageAccepted, SendTask};
use herald_proto::v1::Provider;
use herald_store::{DeviceRecord, FailedMessage, Store, StoreError};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use plan::Routed;

/// The durable consumer name; router replicas share it.
pub const CONSUMER: &str = "router";

/// The durable consumer of urgent messages (transactional ones), taken side by side with the
/// others so that no burst of other messages delays them.
pub const URGENT_CONSUMER: &str = "router-urgent";

/// Router settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// The most accepted batches (bus messages, each up to `herald_bus::BATCH_ITEMS` accepted
    /// messages) routed together in one transaction.
    pub max_batch: usize,
    /// Devices a fan-out handles per page.
    pub fanout_page: usize,
    /// Fan-outs one router works on at once.
    pub fanouts: usize,
}

impl Config {
    pub fn from_settings(settings: &herald_runtime::Settings) -> Self {
        Self {
            max_batch: settings.router.batch,
            fanout_page: settings.router.fanout_page,
            fanouts: settings.router.fanouts,
        }
    }
}

/// Routes messages until `shutdown`, then finishes the batch in hand.
pub async fn run(
    config: Config,
    store: Store,
    bus: Bus,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let consumer = bus
        .work_consumer(
            INGEST_STREAM,
            CONSUMER,
            subjects::INGEST_ALL,
            config.max_batch * 4,
        )
        .await?;
    let urgent = bus
        .work_consumer(
            URGENT_STREAM,
            URGENT_CONSUMER,
            subjects::URGENT_INGEST_ALL,
            config.max_batch * 4,
        )
        .await?;
    tracing::info!("router consuming");
    let router = Router {
        store,
        bus: bus.clone(),
        policies: policy::Policies::default(),
        wake: Arc::new(Notify::new()),
    };
    let stop_fanouts = shutdown.child_token();
    let fanouts = tokio::spawn(fanout::run(
        router.clone(),
        config.clone(),
        stop_fanouts.clone(),
    ));
    let handler = |batch| {
        let router = router.clone();
        async move { router.handle(batch).await }
    };
    let consumed = tokio::try_join!(
        herald_bus::consume_batches(
            &bus,
            urgent,
            URGENT_CONSUMER,
            config.max_batch,
            shutdown.clone(),
            handler,
        ),
        herald_bus::consume_batches(
            &bus,
            consumer,
            CONSUMER,
            config.max_batch,
            shutdown,
            handler,
        ),
    );
    // The fan-outs stop at a checkpoint (also when consuming failed).
    stop_fanouts.cancel();
    fanouts.await?;
    consumed?;
    tracing::info!("router stopped");
    Ok(())
}

#[derive(Clone, Debug)]
struct Router {
    store: Store,
    bus: Bus,
    /// The tenants' settings timing reads (local times and quiet hours).
    policies: policy::Policies,
    /// Tells the fan-out worker there are new fan-outs to take.
    wake: Arc<Notify>,
}

/// Why a batch could not be routed now.
#[derive(Debug, thiserror::Error)]
enum RouteError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Bus(#[from] BusError),
}

impl RouteError {
    /// The database or the bus is out of reach: every batch would fail alike.
    fn is_outage(&self) -> bool {
        match self {
            Self::Store(err) => err.is_outage(),
            Self::Bus(err) => err.is_outage(),
        }
    }
}

/// How soon a batch is tried again after an outage.
const RETRY: Duration = Duration::from_secs(2);

/// The most send batches a tenant has in the bulk lane before its fan-outs wait: enough to
/// keep every sender busy, few enough that campaigns of several tenants take turns rather than
/// queue one behind the other; counted per tenant, so one whose tasks wait (its rate limits, a
/// provider down) holds up only its own campaigns.
const BULK_ROOM: u64 = 48;

impl Router {
    async fn handle(&self, batch: Vec<Message>) -> Vec<Disposition> {
        herald_bus::isolate(&batch, |part| self.handle_part(part)).await
    }

    /// Routes part of a batch (all of it, or one bus message alone).
    async fn handle_part(&self, part: &[Message]) -> Disposition {
        let mut messages: Vec<MessageAccepted> = Vec::new();
        // Each message's trace context, as ingest published it (a fan-out links to it).
        let mut traces: HashMap<String, String> = HashMap::new();
        for message in part {
            match herald_bus::decode::<AcceptedBatch>(message) {
                Ok(batch) => {
                    if let Some(parent) = message
                        .headers
                        .as_ref()
                        .and_then(|h| h.get(herald_telemetry::trace::HEADERS[0]))
                    {
                        for accepted in &batch.messages {
                            traces.insert(accepted.message_id.clone(), parent.to_string());
                        }
                    }
                    messages.extend(batch.messages);
                }
                // It never will decode: parked once it is alone, so the rest go on.
                Err(reason) if part.len() == 1 => return Disposition::Park(reason),
                Err(reason) => return Disposition::Fault(reason),
            }
        }
        match self.route(&messages, &traces).await {
            Ok((routed, failed)) => {
                tracing::info!(routed, failed, "batch routed");
                Disposition::Ack
            }
            Err(err) if err.is_outage() => {
                tracing::warn!(%err, count = messages.len(), "routing failed; the batch will be retried");
                Disposition::Retry(RETRY)
            }
            Err(err) => {
                let reason = format!("could not be routed: {err}");
                match part {
                    [alone] if herald_bus::tries(alone) >= MAX_TRIES => {
                        self.give_up(&messages, &reason).await;
                        Disposition::Park(reason)
                    }
                    _ => Disposition::Fault(reason),
                }
            }
        }
    }

    /// Fails messages that are being parked, so their senders see why.
    async fn give_up(&self, messages: &[MessageAccepted], reason: &str) {
        let failed: Vec<FailedMessage> = messages
            .iter()
            .map(|m| FailedMessage {
                tenant_id: TenantId::from_trusted(m.tenant_id.clone()),
                message_id: MessageId::from_trusted(m.message_id.clone()),
                reason: format!("{reason} (parked in the dead letters after {MAX_TRIES} tries)"),
            })
            .collect();
        if let Err(err) = self.store.record_routing(&[], &failed).await {
            tracing::warn!(%err, "could not mark parked messages failed");
        }
    }

    /// Routes a batch; answers how many messages were routed and how many failed. `traces`
    /// holds each message's trace context (by id), for its fan-out to link to.
    async fn route(
        &self,
        messages: &[MessageAccepted],
        traces: &HashMap<String, String>,
    ) -> Result<(usize, usize), RouteError> {
        let now = now_ms();
        let resolved = resolve::resolve(&self.store, messages, now).await?;
        let mut judged = Vec::with_capacity(messages.len());
        let mut earlier = policy::Earlier::default();
        for (accepted, resolved) in messages.iter().zip(&resolved) {
            judged.push(match resolved {
                resolve::Resolved::Devices(devices) => {
                    self.policies
                        .judge(&self.store, accepted, devices, now, &mut earlier)
                        .await?
                }
                _ => policy::Judged::default(),
            });
        }
        let plan = plan::plan(messages, &resolved, &judged);
        for failed in &plan.failed {
            tracing::info!(tenant_id = %failed.tenant_id, message_id = %failed.message_id, reason = %failed.reason, "not routable");
        }
        let created = self
            .store
            .record_routing(&plan.records(), &plan.failed)
            .await?;
        // Devices held back are routed when their wave comes: the message is scheduled again.
        let waves: Vec<_> = plan
            .routed
            .iter()
            .filter_map(|r| r.next_wave.map(|at| (&r.tenant, &r.message, at)))
            .collect();
        self.store.schedule_waves(&waves).await?;
        // What the frequency caps count from now on.
        for routed in &plan.routed {
            let at = messages
                .iter()
                .position(|m| m.message_id == routed.message.as_str());
            if let Some((class, subjects)) = at.and_then(|at| judged[at].counted.as_ref()) {
                self.log_pushes(routed, class, subjects, now).await?;
            }
        }
        // Each page of a fan-out starts a trace of its own, linked to its message's.
        let fanned: Vec<_> = plan
            .fanned
            .iter()
            .map(|(tenant, message)| {
                let trace = traces.get(message.as_str()).cloned();
                (tenant.clone(), message.clone(), trace)
            })
            .collect();
        self.store.start_fanouts(&fanned).await?;
        let outgoing = self.outgoing(&plan.routed, &created, now).await?;
        herald_bus::all_published(self.bus.publish_all(outgoing).await)?;
        if !plan.fanned.is_empty() {
            self.wake.notify_one();
        }
        Ok((plan.routed.len() + plan.fanned.len(), plan.failed.len()))
    }

    /// Waits until the tenant has room in the bulk lane for another page (or the router stops).
    async fn bulk_room(&self, tenant: &TenantId, stop: &CancellationToken) -> Result<(), BusError> {
        let filter = subjects::bulk_of_tenant(tenant.as_str());
        while !stop.is_cancelled()
            && self.bus.subject_messages(BULK_STREAM, &filter).await? > BULK_ROOM
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }

    /// Logs the pushes a routed message (or a page of it) makes, for the frequency caps.
    async fn log_pushes(
        &self,
        routed: &Routed<'_>,
        class: &str,
        subjects: &[String],
        now: i64,
    ) -> Result<(), StoreError> {
        let subjects: Vec<&str> = subjects.iter().map(String::as_str).collect();
        self.store
            .log_pushes(&routed.tenant, class, &routed.message, &subjects, now)
            .await
    }

    /// The send batches and receipts routed messages publish. A delivery that existed already
    /// (its message handled again) goes only if it is still queued, so a delivery a sender
    /// already finished is not sent twice; new deliveries all go.
    async fn outgoing(
        &self,
        routed: &[Routed<'_>],
        created: &HashSet<DeliveryId>,
        now: i64,
    ) -> Result<Vec<herald_bus::Outgoing>, StoreError> {
        let mut tasks: HashMap<Provider, Vec<SendTask>> = HashMap::new();
        let mut receipts = Vec::new();
        for routed in routed {
            let existing: Vec<&DeliveryId> = routed
                .deliveries
                .iter()
                .map(|d| &d.id)
                .filter(|id| !created.contains(*id))
                .collect();
            let settled: HashSet<&DeliveryId> = if existing.is_empty() {
                HashSet::new()
            } else {
                let queued = self.store.still_queued(&routed.tenant, &existing).await?;
                existing
                    .into_iter()
                    .filter(|id| !queued.contains(*id))
                    .collect()
            };
            // The customers of a personal message's devices, for its templates and variants.
            let customers = match &routed.personal {
                Some(_) => {
                    let devices: Vec<&DeviceRecord> =
                        routed.deliveries.iter().map(|d| d.device).collect();
                    self.store
                        .customers_of_devices(&routed.tenant, &devices)
                        .await?
                }
                None => HashMap::new(),
            };
            for delivery in &routed.deliveries {
                if settled.contains(&delivery.id) {
                    continue;
                }
                if let Some(reason) = delivery.refused {
                    receipts.push(plan::refusal_receipt(routed, delivery, reason, now));
                    continue;
                }
                let notification = match (&routed.personal, &routed.accepted.notification) {
                    (Some(personal), Some(base)) => {
                        let customer = customers.get(delivery.device.id.as_str());
                        match personal.render(base, &plan::recipient(delivery.device, customer)) {
                            Ok(rendered) => Some(rendered),
                            Err(reason) => {
                                receipts
                                    .push(plan::refusal_receipt(routed, delivery, &reason, now));
                                continue;
                            }
                        }
                    }
                    _ => routed.accepted.notification.clone(),
                };
                tasks
                    .entry(delivery.provider)
                    .or_default()
                    .push(plan::send_task(routed, delivery, notification));
            }
        }
        let mut outgoing = herald_bus::receipt_batches(receipts);
        for (provider, tasks) in tasks {
            outgoing.extend(herald_bus::send_batches(provider, tasks, 0));
        }
        Ok(outgoing)
    }
}
