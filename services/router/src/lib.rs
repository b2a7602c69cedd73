//! The router: turns accepted messages into one send task per device.
//!
//! It works in batches (the accepted batches that have arrived, up to a limit): it resolves
//! each message's destination to devices (the users of the whole batch in one query per
//! tenant), records every message's queued deliveries and state in one transaction (a delivery
//! id is derived from message and device, so handling a message twice yields the same ids and
//! keeps existing deliveries as they are), then publishes the still-queued deliveries as send
//! batches, one per tenant and provider (chunked), whose `Nats-Msg-Id` is a digest of their
//! delivery ids so JetStream drops the same batch published again. Deliveries that cannot be
//! sent (no credential for their provider) are failed through a receipt, so the receipt service
//! stays the only writer of delivery status. The batch is acked only once every publish was
//! acknowledged.
#![forbid(unsafe_code)]

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use herald_bus::{Bus, Disposition, INGEST_STREAM, Message, subjects};
use herald_core::ids::{DeliveryId, DeviceId, MessageId, TenantId};
use herald_core::names::Named as _;
use herald_core::platform::provider_for;
use herald_core::time::now_ms;
use herald_core::validate::{Audience, audience};
use herald_proto::bus::v1::{
    AcceptedBatch, DeliveryReceipt, MessageAccepted, Outcome, SendTask, TargetDevice,
};
use herald_proto::v1::{Browser, Platform, Provider};
use herald_store::{DeviceRecord, FailedMessage, NewDelivery, RoutedMessage, Store};
use tokio_util::sync::CancellationToken;

/// The durable consumer name; router replicas share it.
pub const CONSUMER: &str = "router";

/// Router settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// The most accepted batches (bus messages, each up to `herald_bus::BATCH_ITEMS` accepted
    /// messages) routed together in one transaction.
    pub max_batch: usize,
}

impl Config {
    pub fn from_settings(settings: &herald_runtime::Settings) -> Self {
        Self {
            max_batch: settings.router.batch,
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
        .batch_consumer(
            INGEST_STREAM,
            CONSUMER,
            subjects::INGEST_ALL,
            config.max_batch,
        )
        .await?;
    tracing::info!("router consuming");
    let router = Router {
        store,
        bus,
        credentials: Arc::default(),
    };
    herald_bus::consume_batches(consumer, CONSUMER, config.max_batch, shutdown, |batch| {
        let router = router.clone();
        async move { router.handle(batch).await }
    })
    .await?;
    tracing::info!("router stopped");
    Ok(())
}

#[derive(Clone, Debug)]
struct Router {
    store: Store,
    bus: Bus,
    credentials: Arc<Mutex<CredentialCache>>,
}

/// Whether a tenant has a credential per provider, and when that was read.
type CredentialCache = HashMap<(TenantId, Provider), (bool, Instant)>;

/// Active devices per (tenant, user) of a batch's user destinations.
type UserDevices = HashMap<(String, String), Vec<DeviceRecord>>;

/// How long the router trusts what it read of a tenant's credentials.
const CREDENTIAL_RECHECK: Duration = Duration::from_secs(10);

/// A transient failure: the batch is retried later.
struct Transient(String);

impl<E: std::fmt::Display> From<E> for Transient {
    fn from(err: E) -> Self {
        Self(err.to_string())
    }
}

const RETRY: Duration = Duration::from_secs(2);

/// What the router decided for one message.
enum Plan {
    /// Deliveries to these devices, each with its provider.
    Route(Vec<(DeliveryId, Provider, DeviceRecord)>),
    /// Nothing to send, and why.
    Fail(String),
}

impl Router {
    async fn handle(&self, batch: Vec<Message>) -> Disposition {
        // An undecodable message never will decode: it is logged and acked with the batch.
        let messages: Vec<MessageAccepted> = batch
            .iter()
            .filter_map(herald_bus::decode::<AcceptedBatch>)
            .flat_map(|b| b.messages)
            .collect();
        match self.route(&messages).await {
            Ok((routed, failed)) => {
                tracing::info!(routed, failed, "batch routed");
                Disposition::Ack
            }
            Err(Transient(err)) => {
                tracing::warn!(%err, count = messages.len(), "routing failed; the batch will be retried");
                Disposition::Retry(RETRY)
            }
        }
    }

    /// Routes a batch; answers how many messages were routed and how many failed.
    async fn route(&self, messages: &[MessageAccepted]) -> Result<(usize, usize), Transient> {
        // Ingest validated the whole request; only the destination is parsed again here.
        let audiences: Vec<Result<Audience, String>> = messages
            .iter()
            .map(|m| audience(m.destination.as_ref()).map_err(|e| e.to_string()))
            .collect();
        let users = self.user_devices(messages, &audiences).await?;
        let plans = futures::future::join_all(
            messages
                .iter()
                .zip(&audiences)
                .map(|(m, a)| self.plan(m, a, &users)),
        )
        .await;
        let mut routed = Vec::new();
        let mut failed = Vec::new();
        let mut planned = Vec::new();
        for (accepted, plan) in messages.iter().zip(plans) {
            let tenant = TenantId::from_trusted(accepted.tenant_id.clone());
            let message = MessageId::from_trusted(accepted.message_id.clone());
            match plan? {
                Plan::Route(deliveries) => {
                    routed.push(RoutedMessage {
                        tenant_id: tenant.clone(),
                        message_id: message.clone(),
                        deliveries: deliveries
                            .iter()
                            .map(|(id, provider, device)| NewDelivery {
                                id: id.clone(),
                                device_id: device.id.clone(),
                                provider: *provider,
                            })
                            .collect(),
                    });
                    planned.push((tenant, message, accepted, deliveries));
                }
                Plan::Fail(reason) => {
                    tracing::info!(tenant_id = %tenant, message_id = %message, %reason, "not routable");
                    failed.push(FailedMessage {
                        tenant_id: tenant,
                        message_id: message,
                        reason,
                    });
                }
            }
        }
        let created = self.store.record_routing(&routed, &failed).await?;

        // A message handled again publishes only what is still queued: a delivery a sender
        // already finished is not sent twice. When every delivery of a message is new, all go.
        let mut tasks: HashMap<Provider, Vec<SendTask>> = HashMap::new();
        let mut receipts = Vec::new();
        // Whether each (tenant, provider) of the batch has a credential, asked once per batch.
        let mut credentials: HashMap<(&str, Provider), bool> = HashMap::new();
        for (tenant, message, accepted, deliveries) in &planned {
            let routed_again = !deliveries.iter().all(|(id, _, _)| created.contains(id));
            let queued: Option<HashSet<DeliveryId>> = if routed_again {
                let queued = self.store.queued_deliveries(tenant, message).await?;
                Some(queued.into_iter().collect())
            } else {
                None
            };
            for (delivery, provider, device) in deliveries {
                if queued.as_ref().is_some_and(|q| !q.contains(delivery)) {
                    continue;
                }
                let has_credential = match credentials.get(&(tenant.as_str(), *provider)) {
                    Some(known) => *known,
                    None => {
                        let found = self.has_credential(tenant, *provider).await?;
                        credentials.insert((tenant.as_str(), *provider), found);
                        found
                    }
                };
                if has_credential {
                    let mut task = send_task(tenant, message, delivery, device, accepted);
                    task.routed_again = routed_again;
                    tasks.entry(*provider).or_default().push(task);
                } else {
                    receipts.push(no_credential_receipt(
                        tenant, message, delivery, *provider, &device.id,
                    ));
                }
            }
        }
        let mut outgoing = herald_bus::receipt_batches(receipts);
        for (provider, tasks) in tasks {
            outgoing.extend(herald_bus::send_batches(provider.name(), tasks, 0));
        }
        self.bus.publish_all(outgoing).await?;
        Ok((routed.len(), failed.len()))
    }

    /// The active devices of every user the batch's live messages go to, per tenant and user,
    /// read in one query per tenant rather than one per message.
    async fn user_devices(
        &self,
        messages: &[MessageAccepted],
        audiences: &[Result<Audience, String>],
    ) -> Result<UserDevices, Transient> {
        let now = now_ms();
        let mut wanted: HashMap<&str, Vec<&str>> = HashMap::new();
        for (m, a) in messages.iter().zip(audiences) {
            if let Ok(Audience::User(user)) = a
                && now < m.expires_at_ms
            {
                wanted.entry(m.tenant_id.as_str()).or_default().push(user);
            }
        }
        let mut found = UserDevices::new();
        for (tenant, mut users) in wanted {
            users.sort_unstable();
            users.dedup();
            let tenant_id = TenantId::from_trusted(tenant.to_owned());
            for device in self
                .store
                .active_devices_of_users(&tenant_id, &users)
                .await?
            {
                let user = device.profile.user_id.clone().unwrap_or_default();
                found
                    .entry((tenant.to_owned(), user))
                    .or_default()
                    .push(device);
            }
        }
        Ok(found)
    }

    /// Resolves a message to the deliveries it needs.
    async fn plan(
        &self,
        accepted: &MessageAccepted,
        audience: &Result<Audience, String>,
        users: &UserDevices,
    ) -> Result<Plan, Transient> {
        if now_ms() >= accepted.expires_at_ms {
            return Ok(Plan::Fail("the time to live ran out before routing".into()));
        }
        let tenant = TenantId::from_trusted(accepted.tenant_id.clone());
        let message = MessageId::from_trusted(accepted.message_id.clone());
        let audience = match audience {
            Ok(audience) => audience,
            Err(reason) => return Ok(Plan::Fail(reason.clone())),
        };
        let devices = match self.resolve(&tenant, audience, users).await? {
            Ok(devices) => devices,
            Err(reason) => return Ok(Plan::Fail(reason)),
        };
        // Browser targeting: a web push goes only to subscriptions of the selected browsers.
        let browsers: Vec<Browser> = accepted
            .notification
            .as_ref()
            .and_then(|n| n.web.as_ref())
            .map(|w| w.browsers().collect())
            .unwrap_or_default();
        let mut deliveries = Vec::with_capacity(devices.len());
        for device in devices {
            let platform = device.profile.platform;
            if platform == Platform::Web
                && !browsers.is_empty()
                && !device
                    .profile
                    .browser
                    .is_some_and(|b| browsers.contains(&b))
            {
                continue;
            }
            let Some(provider) = provider_for(platform) else {
                tracing::warn!(device_id = %device.id, platform = platform.name(), "device has no provider");
                continue;
            };
            deliveries.push((DeliveryId::derive(&message, &device.id), provider, device));
        }
        if deliveries.is_empty() {
            return Ok(Plan::Fail("no device matches the selected browsers".into()));
        }
        Ok(Plan::Route(deliveries))
    }

    /// Whether the tenant has a credential for `provider` (read at most every
    /// [`CREDENTIAL_RECHECK`]).
    async fn has_credential(
        &self,
        tenant: &TenantId,
        provider: Provider,
    ) -> Result<bool, Transient> {
        let key = (tenant.clone(), provider);
        if let Some((known, at)) = self.credentials.lock().expect("credential cache").get(&key)
            && at.elapsed() < CREDENTIAL_RECHECK
        {
            return Ok(*known);
        }
        let found = self
            .store
            .credential_version(tenant, provider)
            .await?
            .is_some();
        self.credentials
            .lock()
            .expect("credential cache")
            .insert(key, (found, Instant::now()));
        Ok(found)
    }

    /// The devices a message goes to.
    async fn resolve(
        &self,
        tenant: &TenantId,
        audience: &Audience,
        users: &UserDevices,
    ) -> Result<Result<Vec<DeviceRecord>, String>, Transient> {
        let devices = match audience {
            Audience::User(user) => match users.get(&(tenant.as_str().to_owned(), user.clone())) {
                Some(devices) => devices.clone(),
                None => return Ok(Err(format!("user {user:?} has no active devices"))),
            },
            Audience::Device(device) => match self.store.get_device(tenant, device).await? {
                Some(d) if d.is_active() => vec![d],
                Some(d) => {
                    return Ok(Err(format!(
                        "device {device} is {}: {}",
                        d.state.name(),
                        d.state_reason
                    )));
                }
                None => {
                    return Ok(Err(format!("device {device} is not registered")));
                }
            },
            Audience::PushId {
                platform,
                token,
                browser,
            } => {
                let browser = Some(*browser).filter(|b| *b != Browser::Unspecified);
                let device = self
                    .store
                    .ensure_device(tenant, *platform, token, browser)
                    .await?;
                if !device.is_active() {
                    return Ok(Err(format!(
                        "push id is {}: {}",
                        device.state.name(),
                        device.state_reason
                    )));
                }
                vec![device]
            }
        };
        Ok(Ok(devices))
    }
}

fn send_task(
    tenant: &TenantId,
    message: &MessageId,
    delivery: &DeliveryId,
    device: &DeviceRecord,
    accepted: &MessageAccepted,
) -> SendTask {
    SendTask {
        tenant_id: tenant.to_string(),
        message_id: message.to_string(),
        delivery_id: delivery.to_string(),
        device: Some(TargetDevice {
            device_id: device.id.to_string(),
            platform: device.profile.platform as i32,
            push_token: device.profile.push_token.clone(),
            browser: device.profile.browser.unwrap_or_default() as i32,
            sandbox: device.profile.sandbox,
            web_p256dh: device.profile.web_p256dh.clone(),
            web_auth: device.profile.web_auth.clone(),
        }),
        notification: accepted.notification.clone(),
        accepted_at_ms: accepted.accepted_at_ms,
        expires_at_ms: accepted.expires_at_ms,
        attempt: 1,
        routed_again: false,
    }
}

fn no_credential_receipt(
    tenant: &TenantId,
    message: &MessageId,
    delivery: &DeliveryId,
    provider: Provider,
    device: &DeviceId,
) -> DeliveryReceipt {
    DeliveryReceipt {
        tenant_id: tenant.to_string(),
        message_id: message.to_string(),
        delivery_id: delivery.to_string(),
        device_id: device.to_string(),
        provider: provider as i32,
        outcome: Outcome::Failed as i32,
        reason: format!(
            "no {} credential is configured for this tenant",
            provider.name()
        ),
        provider_message_id: String::new(),
        attempts: 0,
        at_ms: now_ms(),
    }
}
