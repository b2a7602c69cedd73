//! A provider sender: one durable pull consumer per provider (`sender-fcm`, …) that any number
//! of replicas share. It takes batches of send tasks, sends their tasks concurrently (at most
//! `concurrency` provider requests in flight per process, over the tenant's long-lived client),
//! publishes one receipt batch for what was settled and only then acks the batch. A retryable
//! answer is not slept on: the task goes back to the stream in a retry batch that waits
//! (exponential backoff with jitter, at least the provider's `Retry-After`) without holding a
//! worker; once the next try would fall past the notification's time to live it is expired.
#![forbid(unsafe_code)]

use std::sync::Arc;
use std::time::Duration;

use herald_bus::{Bus, Disposition, Message, SEND_STREAM, subjects};
use herald_core::backoff;
use herald_core::crypto::MasterKey;
use herald_core::ids::TenantId;
use herald_core::names::Named as _;
use herald_core::time::now_ms;
use herald_proto::bus::v1::{DeliveryReceipt, Outcome, SendBatch, SendTask};
use herald_proto::v1::Provider;
use herald_providers::http::HttpClient;
use herald_providers::{Endpoints, ProviderClient, SendOutcome};
use herald_store::{CredentialCache, CredentialError, Store};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

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
    format!("sender-{}", provider.name())
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
            &subjects::send_filter(config.provider),
            Duration::from_secs(90),
            max_ack_pending,
        )
        .await?;
    let http = herald_providers::http::client(&config.endpoints.http)?;
    let clients = CredentialCache::new(store.clone(), config.master_key);
    tracing::info!(consumer = %name, concurrency = config.concurrency, "sender consuming");
    let worker = Arc::new(Worker {
        clients,
        endpoints: config.endpoints,
        http,
        store,
        bus,
        kind: config.provider,
        sends: Semaphore::new(config.concurrency),
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
    /// The tenants' clients of this provider.
    clients: CredentialCache<ProviderClient>,
    endpoints: Endpoints,
    http: HttpClient,
    store: Store,
    bus: Bus,
    kind: Provider,
    /// Provider requests in flight, across every batch in hand.
    sends: Semaphore,
}

/// When the receipts cannot be published the batch is retried this soon (the provider may see
/// its pushes twice: the accepted crash window of at-least-once delivery).
const RECEIPT_RETRY: Duration = Duration::from_secs(1);

/// What one try of a task came to.
enum Tried {
    /// Settled: its receipt.
    Done(DeliveryReceipt),
    /// To be tried again (the task, one attempt on) no earlier than this instant (Unix ms).
    Again(Box<SendTask>, i64),
}

impl Worker {
    /// Sends a batch's tasks concurrently, then publishes their receipts and the retries in
    /// one go; the batch is acked only once both are stored.
    async fn handle(&self, message: Message) -> Disposition {
        let Some(batch) = herald_bus::decode::<SendBatch>(&message) else {
            return Disposition::Drop;
        };
        if let Ok(wait) = u64::try_from(batch.not_before_ms - now_ms())
            && wait > 0
        {
            return Disposition::Retry(Duration::from_millis(wait));
        }
        let tasks = self.unsettled(batch.tasks).await;
        let tried = futures::future::join_all(tasks.into_iter().map(|task| {
            let span = tracing::debug_span!("send", tenant_id = %task.tenant_id, delivery_id = %task.delivery_id, attempt = task.attempt);
            self.attempt(task).instrument(span)
        }))
        .await;
        let mut receipts = Vec::with_capacity(tried.len());
        let mut retries = Vec::new();
        let mut not_before = 0;
        for t in tried {
            match t {
                Tried::Done(receipt) => receipts.push(receipt),
                Tried::Again(task, at) => {
                    not_before = not_before.max(at);
                    retries.push(*task);
                }
            }
        }
        let mut outgoing = herald_bus::receipt_batches(receipts);
        outgoing.extend(herald_bus::send_batches(self.kind, retries, not_before));
        match self.bus.publish_all(outgoing).await {
            Ok(()) => Disposition::Ack,
            Err(err) => {
                tracing::warn!(%err, "could not publish receipts; the batch will be retried");
                Disposition::Retry(RECEIPT_RETRY)
            }
        }
    }

    /// The tasks to send: those of a message routed again (after a router crash, or by the
    /// outbox relay) are left out if their delivery is recorded as settled meanwhile, so a
    /// republished batch does not send them twice. First-time tasks need no check. If the store
    /// cannot say, every task is sent (at-least-once).
    async fn unsettled(&self, tasks: Vec<SendTask>) -> Vec<SendTask> {
        let again: Vec<&SendTask> = tasks.iter().filter(|t| t.routed_again).collect();
        let Some(first) = again.first() else {
            return tasks;
        };
        // A send batch holds one tenant's tasks (`herald_bus::send_batches`).
        let tenant = TenantId::from_trusted(first.tenant_id.clone());
        let ids: Vec<&str> = again.iter().map(|t| t.delivery_id.as_str()).collect();
        match self.store.settled_deliveries(&tenant, &ids).await {
            Ok(settled) if settled.is_empty() => tasks,
            Ok(settled) => {
                tracing::info!(
                    skipped = settled.len(),
                    "deliveries already settled are not sent again"
                );
                tasks
                    .into_iter()
                    .filter(|t| t.tenant_id != tenant.as_str() || !settled.contains(&t.delivery_id))
                    .collect()
            }
            Err(err) => {
                tracing::warn!(%err, "could not read which deliveries are settled; sending all");
                tasks
            }
        }
    }

    /// The tenant's client, or the outcome that ends the send without one.
    async fn client(&self, tenant: &TenantId) -> Result<Arc<ProviderClient>, SendOutcome> {
        let open = |plaintext: &[u8]| {
            ProviderClient::open(self.kind, plaintext, &self.endpoints, &self.http)
        };
        self.clients
            .get(tenant, self.kind, open)
            .await
            .map_err(|err| match err {
                CredentialError::Store(err) => SendOutcome::Retry {
                    reason: format!("store: {err}"),
                    after: None,
                },
                other => SendOutcome::Failed {
                    reason: other.to_string(),
                },
            })
    }

    /// One try of one task.
    async fn attempt(&self, mut task: SendTask) -> Tried {
        let attempt = task.attempt.max(1);
        let (outcome, reason, provider_message_id) = if now_ms() >= task.expires_at_ms {
            (
                Outcome::Expired,
                "the time to live ran out before the provider accepted it".to_owned(),
                String::new(),
            )
        } else {
            let tenant = TenantId::from_trusted(task.tenant_id.clone());
            let outcome = match self.client(&tenant).await {
                Ok(client) => {
                    let _permit = self.sends.acquire().await.expect("never closed");
                    client.send(&task).await
                }
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
                        task.attempt = attempt + 1;
                        return Tried::Again(Box::new(task), next_try);
                    }
                    let reason = format!(
                        "gave up at the time to live after {attempt} attempts; last answer: {reason}"
                    );
                    (Outcome::Expired, reason, String::new())
                }
            }
        };
        if outcome == Outcome::Submitted {
            tracing::debug!("submitted");
        } else {
            tracing::info!(outcome = outcome.as_str_name(), %reason, "send finished");
        }
        let device_id = task.device.map(|d| d.device_id).unwrap_or_default();
        Tried::Done(DeliveryReceipt {
            tenant_id: task.tenant_id,
            message_id: task.message_id,
            delivery_id: task.delivery_id,
            device_id,
            provider: self.kind as i32,
            outcome: outcome as i32,
            reason,
            provider_message_id,
            attempts: attempt,
            at_ms: now_ms(),
        })
    }
}

impl Config {
    /// The sender of `provider`, with the settings' concurrency, endpoints and master key.
    pub fn from_settings(
        settings: &herald_runtime::Settings,
        provider: Provider,
    ) -> Result<Self, herald_runtime::ConfigError> {
        Ok(Self {
            provider,
            concurrency: settings.sender.concurrency,
            endpoints: settings.providers.endpoints()?,
            master_key: Arc::new(settings.master_key()?),
        })
    }
}
