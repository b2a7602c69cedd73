//! A provider sender: one durable pull consumer per provider (`sender-fcm`, …) that any number
//! of replicas share. Each task is sent, its outcome published as a receipt, and only then
//! acked. A retryable answer is not slept on: the task is NAKed with a delay (exponential
//! backoff with jitter, at least the provider's `Retry-After`), so a waiting retry holds no
//! worker; once the next try would fall past the notification's time to live it is expired.
#![forbid(unsafe_code)]

mod clients;

use std::sync::Arc;
use std::time::Duration;

use herald_bus::{Bus, Disposition, Message, Outgoing, SEND_STREAM, subjects};
use herald_core::backoff;
use herald_core::crypto::MasterKey;
use herald_core::ids::TenantId;
use herald_core::platform::provider_name;
use herald_core::time::now_ms;
use herald_proto::bus::v1::{DeliveryReceipt, Outcome, SendTask};
use herald_proto::v1::Provider;
use herald_providers::Endpoints;
use herald_providers::SendOutcome;
use herald_store::Store;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use clients::TenantClients;

/// Sender settings.
#[derive(Clone, Debug)]
pub struct Config {
    pub provider: Provider,
    /// Sends in flight at once in this process.
    pub concurrency: usize,
    /// Where the providers are (their own hosts, or mocks).
    pub endpoints: Endpoints,
    /// Opens the tenants' sealed credentials.
    pub master_key: Arc<MasterKey>,
}

/// The durable consumer name of a provider's sender.
pub fn consumer_name(provider: Provider) -> String {
    format!("sender-{}", provider_name(provider))
}

/// Sends until `shutdown`, then finishes and acks the sends in flight.
pub async fn run(
    config: Config,
    store: Store,
    bus: Bus,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    if config.provider == Provider::Unspecified {
        anyhow::bail!("a sender needs a provider");
    }
    let name = consumer_name(config.provider);
    let max_ack_pending = i64::try_from(config.concurrency * 4)
        .unwrap_or(i64::MAX)
        .max(1000);
    let consumer = bus
        .pull_consumer(
            SEND_STREAM,
            &name,
            &subjects::send_filter(provider_name(config.provider)),
            Duration::from_secs(90),
            max_ack_pending,
        )
        .await?;
    let http = herald_providers::http::client(&config.endpoints.http)?;
    let clients = TenantClients::new(
        config.provider,
        store,
        config.master_key,
        config.endpoints,
        http,
    );
    tracing::info!(consumer = %name, concurrency = config.concurrency, "sender consuming");
    let worker = Arc::new(Worker {
        clients,
        bus,
        kind: config.provider,
    });
    herald_bus::consume(
        consumer,
        &name,
        config.concurrency,
        shutdown,
        move |message| {
            let worker = worker.clone();
            async move { worker.handle(message).await }
        },
    )
    .await?;
    tracing::info!(consumer = %name, "sender stopped");
    Ok(())
}

struct Worker {
    clients: TenantClients,
    bus: Bus,
    kind: Provider,
}

/// When a receipt cannot be published the send is retried this soon (the provider may see it
/// twice: the accepted crash window of at-least-once delivery).
const RECEIPT_RETRY: Duration = Duration::from_secs(1);

impl Worker {
    async fn handle(&self, message: Message) -> Disposition {
        let Some(task) = herald_bus::decode::<SendTask>(&message) else {
            return Disposition::Drop;
        };
        let attempt = message
            .info()
            .map(|i| u32::try_from(i.delivered).unwrap_or(1))
            .unwrap_or(1);
        let span = tracing::info_span!("send", tenant_id = %task.tenant_id, delivery_id = %task.delivery_id, attempt);
        self.deliver(task, attempt).instrument(span).await
    }

    async fn deliver(&self, task: SendTask, attempt: u32) -> Disposition {
        let tenant = TenantId::from_trusted(task.tenant_id.clone());
        let (outcome, reason, provider_message_id) = if now_ms() >= task.expires_at_ms {
            (
                Outcome::Expired,
                "the time to live ran out before the provider accepted it".to_owned(),
                String::new(),
            )
        } else {
            let outcome = match self.clients.get(&tenant).await {
                Ok(client) => client.send(&task).await,
                Err(outcome) => outcome,
            };
            match outcome {
                SendOutcome::Submitted {
                    provider_message_id,
                } => (Outcome::Submitted, String::new(), provider_message_id),
                SendOutcome::TokenDead { reason } => (Outcome::TokenDead, reason, String::new()),
                SendOutcome::Failed { reason } => (Outcome::Failed, reason, String::new()),
                SendOutcome::Retry { reason, after } => {
                    let delay = backoff::delay(attempt, after, backoff::random_jitter());
                    let next_try = now_ms() + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
                    if next_try < task.expires_at_ms {
                        tracing::info!(%reason, delay_ms = delay.as_millis() as u64, "provider asked to retry later");
                        return Disposition::Retry(delay);
                    }
                    let reason = format!(
                        "gave up at the time to live after {attempt} attempts; last answer: {reason}"
                    );
                    (Outcome::Expired, reason, String::new())
                }
            }
        };
        tracing::info!(outcome = outcome.as_str_name(), %reason, "send finished");
        let receipt = DeliveryReceipt {
            tenant_id: task.tenant_id.clone(),
            message_id: task.message_id.clone(),
            delivery_id: task.delivery_id.clone(),
            device_id: task
                .device
                .as_ref()
                .map(|d| d.device_id.clone())
                .unwrap_or_default(),
            provider: self.kind as i32,
            outcome: outcome as i32,
            reason,
            provider_message_id,
            attempts: attempt,
            at_ms: now_ms(),
        };
        let msg_id = format!("{}.{}", task.delivery_id, outcome.as_str_name());
        match self
            .bus
            .publish(Outgoing::new(
                subjects::receipt(&task.tenant_id),
                msg_id,
                &receipt,
            ))
            .await
        {
            Ok(()) => Disposition::Ack,
            Err(err) => {
                tracing::warn!(%err, "could not publish the receipt; the task will be retried");
                Disposition::Retry(RECEIPT_RETRY)
            }
        }
    }
}

impl Config {
    /// `HERALD_SENDER_PROVIDER` (apns, fcm, hms or webpush), `HERALD_SENDER_CONCURRENCY` and the provider
    /// endpoints ([`herald_telemetry::endpoints_from_env`]).
    pub fn from_env(master_key: Arc<MasterKey>) -> Result<Self, herald_telemetry::ConfigError> {
        use herald_telemetry::{ConfigError, env_or, env_parse};
        let name = env_or("HERALD_SENDER_PROVIDER", "fcm");
        let provider = herald_core::platform::provider_from_name(&name).ok_or_else(|| {
            ConfigError(format!(
                "HERALD_SENDER_PROVIDER={name:?}: expected apns, fcm, hms or webpush"
            ))
        })?;
        Ok(Self {
            provider,
            concurrency: env_parse("HERALD_SENDER_CONCURRENCY", 256)?,
            endpoints: herald_telemetry::endpoints_from_env()?,
            master_key,
        })
    }
}
