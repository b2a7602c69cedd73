//! The router: turns each accepted message into one send task per device.
//!
//! It resolves the destination to devices, records one queued delivery per device (the
//! delivery id is derived from message and device, so handling a message twice yields the same
//! ids), then publishes a task per still-queued delivery to its provider's subject with the
//! delivery id as `Nats-Msg-Id`; JetStream drops a repeated task within its duplicate window.
//! Deliveries that cannot be sent (no credential for their provider) are failed through a
//! receipt, so the receipt service stays the only writer of delivery status. The message is
//! acked only once every publish was acknowledged.
#![forbid(unsafe_code)]

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use herald_bus::{Bus, Disposition, INGEST_STREAM, Message, Outgoing, subjects};
use herald_core::ids::{DeliveryId, DeviceId, MessageId, TenantId};
use herald_core::platform::{platform_from_name, provider_for, provider_name};
use herald_core::time::now_ms;
use herald_core::validate::{Audience, audience};
use herald_proto::bus::v1::{DeliveryReceipt, MessageAccepted, Outcome, SendTask, TargetDevice};
use herald_proto::v1::{Browser, Platform, Provider};
use herald_store::{DeviceRecord, NewDelivery, Store};
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

/// The durable consumer name; router replicas share it.
pub const CONSUMER: &str = "router";

/// Router settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// Messages routed at once.
    pub concurrency: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self { concurrency: 32 }
    }
}

/// Routes messages until `shutdown`, then finishes the ones in hand.
pub async fn run(
    config: Config,
    store: Store,
    bus: Bus,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let consumer = bus
        .pull_consumer(
            INGEST_STREAM,
            CONSUMER,
            subjects::INGEST_ALL,
            Duration::from_secs(60),
            1000,
        )
        .await?;
    tracing::info!("router consuming");
    let router = Router {
        store,
        bus,
        credentials: Arc::default(),
    };
    herald_bus::consume(
        consumer,
        CONSUMER,
        config.concurrency,
        shutdown,
        move |message| {
            let router = router.clone();
            async move { router.handle(message).await }
        },
    )
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

/// How long the router trusts what it read of a tenant's credentials.
const CREDENTIAL_RECHECK: Duration = Duration::from_secs(10);

/// Why a message could not be routed at all (it is failed, not retried).
struct Unroutable(String);

/// A transient failure: the message is retried later.
struct Transient(String);

impl<E: std::fmt::Display> From<E> for Transient {
    fn from(err: E) -> Self {
        Self(err.to_string())
    }
}

const RETRY: Duration = Duration::from_secs(2);

impl Router {
    async fn handle(&self, message: Message) -> Disposition {
        let Some(accepted) = herald_bus::decode::<MessageAccepted>(&message) else {
            return Disposition::Drop;
        };
        let tenant = TenantId::from_trusted(accepted.tenant_id.clone());
        let id = MessageId::from_trusted(accepted.message_id.clone());
        let span = tracing::info_span!("route", tenant_id = %tenant, message_id = %id);
        self.route_and_record(&tenant, &id, &accepted)
            .instrument(span)
            .await
    }

    async fn route_and_record(
        &self,
        tenant: &TenantId,
        id: &MessageId,
        accepted: &MessageAccepted,
    ) -> Disposition {
        let (state, reason) = match self.route(tenant, id, accepted).await {
            Ok(Ok(count)) => {
                tracing::info!(deliveries = count, "routed");
                ("routed", String::new())
            }
            Ok(Err(Unroutable(reason))) => {
                tracing::info!(%reason, "not routable");
                ("failed", reason)
            }
            Err(Transient(err)) => {
                tracing::warn!(%err, "routing failed; will retry");
                return Disposition::Retry(RETRY);
            }
        };
        match self
            .store
            .set_message_state(tenant, id, state, &reason)
            .await
        {
            Ok(()) => Disposition::Ack,
            Err(err) => {
                tracing::warn!(%err, "could not record the message state; will retry");
                Disposition::Retry(RETRY)
            }
        }
    }

    async fn route(
        &self,
        tenant: &TenantId,
        id: &MessageId,
        accepted: &MessageAccepted,
    ) -> Result<Result<usize, Unroutable>, Transient> {
        if now_ms() >= accepted.expires_at_ms {
            return Ok(Err(Unroutable(
                "the time to live ran out before routing".into(),
            )));
        }
        let devices = match self.resolve(tenant, accepted).await? {
            Ok(devices) => devices,
            Err(unroutable) => return Ok(Err(unroutable)),
        };
        // Browser targeting: a web push goes only to subscriptions of the selected browsers.
        let browsers: Vec<&str> = accepted
            .notification
            .as_ref()
            .and_then(|n| n.web.as_ref())
            .map(|w| w.browsers().map(|b| b.as_str_name()).collect())
            .unwrap_or_default();
        let mut planned = Vec::with_capacity(devices.len());
        for device in devices {
            let platform =
                platform_from_name(&device.profile.platform).unwrap_or(Platform::Unspecified);
            if platform == Platform::Web
                && !browsers.is_empty()
                && !browsers.contains(&device.profile.browser.as_str())
            {
                continue;
            }
            let Some(provider) = provider_for(platform) else {
                tracing::warn!(device_id = %device.id, platform = %device.profile.platform, "device has no provider");
                continue;
            };
            planned.push((DeliveryId::derive(id, &device.id), provider, device));
        }
        if planned.is_empty() {
            return Ok(Err(Unroutable(
                "no device matches the selected browsers".into(),
            )));
        }
        let new: Vec<NewDelivery> = planned
            .iter()
            .map(|(delivery, provider, device)| NewDelivery {
                id: delivery.clone(),
                device_id: device.id.clone(),
                provider: provider_name(*provider).to_owned(),
            })
            .collect();
        let created = self.store.insert_deliveries(tenant, id, &new).await?;

        // Publish only what is still queued: a delivery a sender already finished (this message
        // being handled again) is not sent twice. When every delivery is new, all are queued.
        let queued: HashSet<DeliveryId> = if created.len() == planned.len() {
            created.into_iter().collect()
        } else {
            self.store
                .queued_deliveries(tenant, id)
                .await?
                .into_iter()
                .collect()
        };
        let mut outgoing = Vec::with_capacity(queued.len());
        for (delivery, provider, device) in &planned {
            if !queued.contains(delivery) {
                continue;
            }
            let configured = self.has_credential(tenant, *provider).await?;
            outgoing.push(if configured {
                send_task(tenant, id, delivery, *provider, device, accepted)
            } else {
                no_credential_receipt(tenant, id, delivery, *provider, &device.id)
            });
        }
        self.bus.publish_all(outgoing).await?;
        Ok(Ok(planned.len()))
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
            .credential_version(tenant, provider_name(provider))
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
        accepted: &MessageAccepted,
    ) -> Result<Result<Vec<DeviceRecord>, Unroutable>, Transient> {
        // Ingest validated the whole request; only the destination is parsed again here.
        let audience = match audience(accepted.destination.as_ref()) {
            Ok(audience) => audience,
            Err(err) => return Ok(Err(Unroutable(err.to_string()))),
        };
        let devices = match audience {
            Audience::User(user) => {
                let devices = self.store.active_devices_of_user(tenant, &user).await?;
                if devices.is_empty() {
                    return Ok(Err(Unroutable(format!(
                        "user {user:?} has no active devices"
                    ))));
                }
                devices
            }
            Audience::Device(device) => match self.store.get_device(tenant, &device).await? {
                Some(d) if d.is_active() => vec![d],
                Some(d) => {
                    return Ok(Err(Unroutable(format!(
                        "device {device} is {}: {}",
                        d.state, d.state_reason
                    ))));
                }
                None => {
                    return Ok(Err(Unroutable(format!(
                        "device {device} is not registered"
                    ))));
                }
            },
            Audience::PushId {
                platform,
                token,
                browser,
            } => {
                let browser = match browser {
                    Browser::Unspecified => String::new(),
                    b => b.as_str_name().to_owned(),
                };
                let platform_name = herald_core::platform::platform_name(platform);
                let device = self
                    .store
                    .ensure_device(tenant, platform_name, &token, &browser)
                    .await?;
                if !device.is_active() {
                    return Ok(Err(Unroutable(format!(
                        "push id is {}: {}",
                        device.state, device.state_reason
                    ))));
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
    provider: Provider,
    device: &DeviceRecord,
    accepted: &MessageAccepted,
) -> Outgoing {
    let task = SendTask {
        tenant_id: tenant.to_string(),
        message_id: message.to_string(),
        delivery_id: delivery.to_string(),
        device: Some(TargetDevice {
            device_id: device.id.to_string(),
            platform: platform_from_name(&device.profile.platform).unwrap_or(Platform::Unspecified)
                as i32,
            push_token: device.profile.push_token.clone(),
            browser: Browser::from_str_name(&device.profile.browser).unwrap_or(Browser::Unspecified)
                as i32,
            sandbox: device.profile.sandbox,
            web_p256dh: device.profile.web_p256dh.clone(),
            web_auth: device.profile.web_auth.clone(),
        }),
        notification: accepted.notification.clone(),
        accepted_at_ms: accepted.accepted_at_ms,
        expires_at_ms: accepted.expires_at_ms,
    };
    Outgoing::new(
        subjects::send(provider_name(provider), tenant.as_str()),
        delivery.to_string(),
        &task,
    )
}

fn no_credential_receipt(
    tenant: &TenantId,
    message: &MessageId,
    delivery: &DeliveryId,
    provider: Provider,
    device: &DeviceId,
) -> Outgoing {
    let receipt = DeliveryReceipt {
        tenant_id: tenant.to_string(),
        message_id: message.to_string(),
        delivery_id: delivery.to_string(),
        device_id: device.to_string(),
        provider: provider as i32,
        outcome: Outcome::Failed as i32,
        reason: format!(
            "no {} credential is configured for this tenant",
            provider_name(provider)
        ),
        provider_message_id: String::new(),
        attempts: 0,
        at_ms: now_ms(),
    };
    Outgoing::new(
        subjects::receipt(tenant.as_str()),
        format!("{delivery}.{}", Outcome::Failed.as_str_name()),
        &receipt,
    )
}
