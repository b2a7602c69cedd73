//! A provider sender: durable pull consumers per provider and lane (`sender-fcm-urgent`,
//! `sender-fcm`, `sender-fcm-bulk`, …) that any number of replicas share. It takes batches of
//! send tasks, sends their tasks concurrently (at most `concurrency` provider requests in flight
//! per process and lane, over the tenant's long-lived client),
//! publishes one receipt batch for what was settled and only then acks the batch. A retryable
//! answer is not slept on: the task goes back to the stream in a retry batch that waits
//! (exponential backoff with jitter, at least the provider's `Retry-After`) without holding a
//! worker; once the next try would fall past the notification's time to live it is expired.
//!
//! Before it sends, a sender claims each delivery for its attempt in the store, so a copy of a
//! task (the router published a message again in batches of another composition, after a
//! crash or a broker restart) is never sent twice: a copy that finds a live claim is looked at
//! again when the claim's lease runs out, and takes it over only if the delivery is still
//! queued then. A sender keeps trying to publish what came of its sends while the bus is down,
//! and remembers it, so a batch delivered to it again publishes that rather than sending again.
//! A duplicate push is thus only possible for a send the provider accepted moments before its
//! sender died (or while the bus was down for longer than a lease).
#![forbid(unsafe_code)]

mod recalls;
mod recent;

use std::sync::Arc;
use std::time::Duration;

use futures::stream::FuturesUnordered;
use futures::{FutureExt as _, StreamExt as _};

use herald_bus::{Bus, BusError, Disposition, Lane, Message};
use herald_core::backoff;
use herald_core::caps::RateLimit;
use herald_core::crypto::MasterKey;
use herald_core::ids::TenantId;
use herald_core::names::Named as _;
use herald_core::time::{now_ms, rfc3339};
use herald_proto::bus::v1::{DeliveryReceipt, Outcome, SendBatch, SendTask};
use herald_proto::v1::Provider;
use herald_providers::http::HttpClient;
use herald_providers::{Endpoints, ProviderClient, SendOutcome};
use herald_store::{CredentialCache, CredentialError, SettingsCache, Store};
use recalls::Recalls;
use recent::Recent;
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
    /// The provider's own quota, applied to each tenant that sets no limit for it.
    pub default_limit: Option<RateLimit>,
}

/// A lane's share of a sender: its provider requests in flight and its claimed tasks.
struct Slots {
    /// Provider requests in flight, across every batch in hand of the lane.
    sends: Semaphore,
    /// Tasks claimed and not yet finished, across every batch in hand of the lane: a batch
    /// claims its deliveries only once it may send them soon, so a claim never waits behind a
    /// backlog in this process for longer than its lease (a claim whose lease ran out before
    /// its send is taken by a copy of the task, and the delivery would go twice).
    claimable: Semaphore,
}

impl Slots {
    fn new(concurrency: usize) -> Self {
        Self {
            sends: Semaphore::new(concurrency),
            claimable: Semaphore::new(concurrency * CLAIMED_PER_SEND),
        }
    }
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
    let mut consumers = Vec::new();
    for lane in Lane::ALL {
        let consumer = bus
            .work_consumer(
                lane.stream(),
                &lane.consumer(config.provider),
                &lane.filter(config.provider),
                config.concurrency * 4,
            )
            .await?;
        consumers.push((lane, consumer));
    }
    herald_telemetry::metrics().provider(config.provider);
    let http = herald_providers::http::client(&config.endpoints.http)?;
    let clients = CredentialCache::new(store.clone(), config.master_key);
    let name = Lane::Standard.consumer(config.provider);
    tracing::info!(consumer = %name, concurrency = config.concurrency, "sender consuming every lane");
    let worker = Arc::new(Worker {
        clients,
        endpoints: config.endpoints,
        http,
        store,
        bus: bus.clone(),
        kind: config.provider,
        lanes: Lane::ALL.map(|_| Slots::new(config.concurrency)),
        claimable_capacity: config.concurrency * CLAIMED_PER_SEND,
        recent: Recent::default(),
        recalls: Recalls::default(),
        settings: SettingsCache::default(),
        default_limit: config.default_limit.clone(),
    });
    let handler = |lane: Lane| {
        let worker = worker.clone();
        move |message| {
            let worker = worker.clone();
            async move { worker.handle(message, lane).await }
        }
    };
    let lanes = consumers.into_iter().map(|(lane, consumer)| {
        let (bus, shutdown, handler) = (&bus, shutdown.clone(), handler(lane));
        async move {
            let name = lane.consumer(config.provider);
            herald_bus::consume(bus, consumer, &name, config.concurrency, shutdown, handler).await
        }
    });
    tokio::try_join!(
        worker.recalls.listen(&bus, shutdown.clone()),
        futures::future::try_join_all(lanes),
    )?;
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
    /// Each lane's send slots and claims (in `Lane::ALL`'s order), so a campaign never holds a
    /// slot another send waits for, nor a burst of sends one a call waits for.
    lanes: [Slots; 3],
    claimable_capacity: usize,
    /// Tries whose outcome is not published yet.
    recent: Recent,
    /// Messages recalled lately: their claimed deliveries are not sent.
    recalls: Recalls,
    /// The tenants' settings (their rate limits), kept a couple of seconds.
    settings: SettingsCache,
    /// The provider's own quota, for tenants without a limit for it.
    default_limit: Option<RateLimit>,
}

/// Tasks a sender keeps claimed per request it may have in flight: enough to keep every send
/// slot busy, few enough that the last of them is sent within a few provider round trips.
const CLAIMED_PER_SEND: usize = 4;

/// When the receipts cannot be published, or the deliveries claimed, the batch is retried this
/// soon.
const OUTAGE_RETRY: Duration = Duration::from_secs(1);

/// The longest failure reason a receipt carries (a provider may answer with a whole page).
const MAX_REASON: usize = 1024;

/// How a batch is settled when what came of its sends could not be published: the outcomes are
/// remembered, so the batch delivered again publishes them instead of sending again.
fn published_none(err: BusError) -> Disposition {
    if err.is_outage() {
        tracing::warn!(%err, "could not publish receipts; the batch will be retried");
        Disposition::Retry(OUTAGE_RETRY)
    } else {
        Disposition::Fault(format!("its receipts were refused: {err}"))
    }
}

/// Tasks over a limit of `per_minute`, in steps of what it refills in a second, each step due
/// when the limiter will have refilled for it (the first at least 100 ms on: a take that found
/// the limiter empty looks again soon).
fn paced(mut tasks: Vec<SendTask>, per_minute: u32, now: i64) -> Vec<(Vec<SendTask>, i64)> {
    let per_minute = per_minute.max(1);
    let step = usize::try_from(per_minute.div_ceil(60)).unwrap_or(usize::MAX);
    let mut steps = Vec::new();
    let mut before = 0i64;
    while !tasks.is_empty() {
        let rest = tasks.split_off(step.min(tasks.len()));
        before += i64::try_from(tasks.len()).unwrap_or(i64::MAX);
        let due = now + (before * 60_000 / i64::from(per_minute)).max(100);
        steps.push((std::mem::replace(&mut tasks, rest), due));
    }
    steps
}

/// What one try of a task came to.
#[derive(Clone, Debug)]
enum Tried {
    /// Settled: its receipt.
    Done(DeliveryReceipt),
    /// To be tried again (the task, one attempt on) no earlier than this instant (Unix ms), and
    /// the receipt that records the failed try (`OUTCOME_RETRYING`: why, and when the next is).
    Again(Box<SendTask>, i64, DeliveryReceipt),
}

/// How long a claim is its holder's alone. A copy of the task that comes sooner (the router
/// published a message again in other batches, or the broker restarted and delivered a batch
/// again while its holder still works on it) is looked at again once it runs out, and takes
/// the claim over if the delivery is still queued then: its holder died. Equal to the bus's ack
/// wait, by which time a dead holder's own batch is delivered again.
const LEASE: Duration = herald_bus::ACK_WAIT;

/// How long a handler keeps trying to publish what came of its sends (the bus is down) before
/// it lets its batch be delivered again.
const PUBLISH_PATIENCE: Duration = Duration::from_secs(60);

/// A batch's tasks, by what their claims found.
#[derive(Debug, Default)]
struct Claimed {
    /// To send now.
    send: Vec<SendTask>,
    /// Another holder's for now: looked at again at the instant (Unix ms).
    held: Vec<SendTask>,
    held_until: i64,
    /// Their message was recalled: the receipts that record them cancelled.
    recalled: Vec<DeliveryReceipt>,
}

impl Worker {
    /// Claims a batch's tasks, sends the claimed ones concurrently, then publishes their
    /// receipts, the retries and the tasks left to other holders (to be looked at again when
    /// their leases run out) in one go; the batch is acked only once all of it is stored.
    async fn handle(&self, message: Message, lane: Lane) -> Disposition {
        let batch = match herald_bus::decode::<SendBatch>(&message) {
            Ok(batch) => batch,
            Err(reason) => return Disposition::Park(reason),
        };
        if let Ok(wait) = u64::try_from(batch.not_before_ms - now_ms())
            && wait > 0
        {
            return Disposition::Retry(Duration::from_millis(wait));
        }
        // Held until the batch is done: its claims are not left waiting behind other batches.
        let wanted =
            u32::try_from(batch.tasks.len().clamp(1, self.claimable_capacity)).unwrap_or(u32::MAX);
        let Ok(_claimable) = self.slots(lane).claimable.acquire_many(wanted).await else {
            return Disposition::Retry(OUTAGE_RETRY);
        };
        // Then the tenant's rate limits, once the batch may go: what is over them waits on the
        // bus for the bucket to refill, unclaimed.
        let (tasks, limited) = match self.limit(batch.tasks).await {
            Ok(split) => split,
            Err(err) if err.is_outage() => {
                tracing::warn!(%err, "could not apply the tenant's rate limits; the batch will be retried");
                return Disposition::Retry(OUTAGE_RETRY);
            }
            Err(err) => return Disposition::Fault(format!("could not apply rate limits: {err}")),
        };
        let batch = SendBatch { tasks, ..batch };
        let claimed = match self.claim(batch.tasks).await {
            Ok(claimed) => claimed,
            Err(err) if err.is_outage() => {
                tracing::warn!(%err, "could not claim deliveries; the batch will be retried");
                return Disposition::Retry(OUTAGE_RETRY);
            }
            Err(err) => return Disposition::Fault(format!("could not claim deliveries: {err}")),
        };
        let keys: Vec<(String, u32)> = claimed.send.iter().map(recent::key).collect();
        let mut sends: FuturesUnordered<_> = claimed
            .send
            .into_iter()
            .map(|task| {
                let span = tracing::debug_span!("send", tenant_id = %task.tenant_id, delivery_id = %task.delivery_id, attempt = task.attempt);
                self.try_once(task, lane).instrument(span)
            })
            .collect();
        // Receipts go out as their sends finish, not when the batch's slowest send does, and
        // without waiting for the acks of those before: a sender that dies between a provider's
        // acceptance and the receipt sends that delivery again, so that moment is kept short.
        // Receipt batches an early publish did not get through: they go again at the end.
        let mut unpublished = Vec::new();
        let mut retries = Vec::new();
        let mut not_before = 0;
        let mut publishing = FuturesUnordered::new();
        loop {
            tokio::select! {
                Some(tried) = sends.next(), if !sends.is_empty() => {
                    let mut early = Vec::new();
                    let mut file = |tried| match tried {
                        Tried::Done(receipt) => early.push(receipt),
                        Tried::Again(task, at, receipt) => {
                            not_before = not_before.max(at);
                            retries.push(*task);
                            early.push(receipt);
                        }
                    };
                    file(tried);
                    // Whatever else has finished meanwhile goes in the same publish.
                    while let Some(Some(tried)) = sends.next().now_or_never() {
                        file(tried);
                    }
                    if !early.is_empty() {
                        publishing.push(self.publish_once(herald_bus::receipt_batches(early)));
                    }
                }
                // One try: what does not get through goes again with the rest at the end.
                Some(failed) = publishing.next(), if !publishing.is_empty() => {
                    unpublished.extend(failed.into_iter().map(|(out, _)| out));
                }
                else => break,
            }
        }
        let mut outgoing = unpublished;
        outgoing.extend(herald_bus::receipt_batches(claimed.recalled));
        outgoing.extend(herald_bus::send_batches(self.kind, retries, not_before));
        // A look again later is a new message, whatever batch carried the tasks before.
        let later = std::iter::once(("later", claimed.held, claimed.held_until));
        let limited = limited.into_iter().map(|(tasks, at)| ("rate", tasks, at));
        for (prefix, tasks, at) in later.chain(limited) {
            outgoing.extend(
                herald_bus::send_batches(self.kind, tasks, at)
                    .into_iter()
                    .map(|mut out| {
                        out.msg_id = format!("{prefix}-{at}-{}", out.msg_id);
                        out
                    }),
            );
        }
        match self.publish_patiently(outgoing).await {
            Ok(()) => {
                self.recent.forget(&keys);
                Disposition::Ack
            }
            Err(err) => published_none(err),
        }
    }

    /// Publishes `outgoing`, trying again what did not get through while the bus is out of
    /// reach, for up to [`PUBLISH_PATIENCE`]: what came of a send must not wait for the batch to
    /// be delivered again, which after a broker restart may never happen to this holder.
    async fn publish_patiently(
        &self,
        mut outgoing: Vec<herald_bus::Outgoing>,
    ) -> Result<(), BusError> {
        let started = std::time::Instant::now();
        loop {
            let mut failed = Vec::new();
            let mut last = None;
            for (out, err) in self.publish_once(outgoing).await {
                if !err.is_outage() {
                    return Err(err);
                }
                failed.push(out);
                last = Some(err);
            }
            let Some(err) = last else {
                return Ok(());
            };
            if started.elapsed() >= PUBLISH_PATIENCE {
                return Err(err);
            }
            tracing::warn!(%err, left = failed.len(), "could not publish what came of sends; trying again");
            tokio::time::sleep(OUTAGE_RETRY).await;
            outgoing = failed;
        }
    }

    /// Publishes `outgoing` once and answers what did not get through, with why.
    async fn publish_once(
        &self,
        outgoing: Vec<herald_bus::Outgoing>,
    ) -> Vec<(herald_bus::Outgoing, BusError)> {
        let results = self.bus.publish_all(outgoing.clone()).await;
        outgoing
            .into_iter()
            .zip(results)
            .filter_map(|(out, result)| result.err().map(|err| (out, err)))
            .collect()
    }

    /// Splits a batch's tasks (one tenant's) by the tenant's rate limits for this provider:
    /// those the limiter shared with every replica grants now, and the rest in steps of what
    /// the slowest limit refills in a second, each with the instant it may be tried (so a
    /// backlog goes at the limit's pace, not all at once into a bucket that holds a second).
    async fn limit(
        &self,
        mut tasks: Vec<SendTask>,
    ) -> Result<(Vec<SendTask>, Vec<(Vec<SendTask>, i64)>), herald_store::StoreError> {
        let Some(first) = tasks.first() else {
            return Ok((tasks, Vec::new()));
        };
        let tenant = TenantId::from_trusted(first.tenant_id.clone());
        let settings = self.settings.get(&self.store, &tenant).await?;
        let mut limits: Vec<&RateLimit> = settings
            .rate_limits
            .iter()
            .filter(|limit| limit.limits(self.kind))
            .collect();
        // The provider's own quota, unless the tenant set a limit for this provider itself.
        if let Some(default) = &self.default_limit
            && !limits.iter().any(|l| l.provider == default.provider)
        {
            limits.push(default);
        }
        if limits.is_empty() {
            return Ok((tasks, Vec::new()));
        }
        let now = now_ms();
        let mut granted = u32::try_from(tasks.len()).unwrap_or(u32::MAX);
        let mut slowest = u32::MAX;
        for limit in limits {
            if granted > 0 {
                granted = self
                    .store
                    .take_rate(&tenant, limit.scope(), limit.per_minute, granted, now)
                    .await?;
            }
            slowest = slowest.min(limit.per_minute);
        }
        let later = tasks.split_off(granted as usize);
        if !later.is_empty() {
            tracing::debug!(granted, waiting = later.len(), "rate limited");
        }
        Ok((tasks, paced(later, slowest, now)))
    }

    /// Claims a batch's tasks for their attempts. A task whose delivery is settled is left
    /// out; one another holder claimed is left to it for now, unless this sender is that holder
    /// (it remembers the outcome it could not publish).
    async fn claim(&self, tasks: Vec<SendTask>) -> Result<Claimed, herald_store::StoreError> {
        let Some(first) = tasks.first() else {
            return Ok(Claimed::default());
        };
        // A send batch holds one tenant's tasks (`herald_bus::send_batches`).
        let tenant = TenantId::from_trusted(first.tenant_id.clone());
        let keys: Vec<(&str, u32)> = tasks
            .iter()
            .map(|t| (t.delivery_id.as_str(), t.attempt.max(1)))
            .collect();
        let lease = i64::try_from(LEASE.as_millis()).unwrap_or(i64::MAX);
        let claims = self
            .store
            .claim_deliveries(&tenant, &keys, now_ms(), lease)
            .await?;
        let mut claimed = Claimed::default();
        let mut settled = 0;
        for task in tasks {
            if task.tenant_id != tenant.as_str() {
                continue;
            }
            let held = claims.held.get(&task.delivery_id).copied();
            if claims.claimed.contains(&task.delivery_id)
                || (held.is_some() && self.recent.recall(&recent::key(&task)).is_some())
            {
                claimed.send.push(task);
            } else if let Some(until) = held {
                claimed.held_until = claimed.held_until.max(until);
                claimed.held.push(task);
            } else if claims.recalled.contains(&task.delivery_id) {
                claimed.recalled.push(self.recalled(&task));
            } else {
                settled += 1;
            }
        }
        if settled > 0 || !claimed.held.is_empty() {
            tracing::info!(
                settled,
                held = claimed.held.len(),
                "deliveries settled are not sent; those claimed by another holder are looked at again when its lease runs out"
            );
        }
        Ok(claimed)
    }

    fn slots(&self, lane: Lane) -> &Slots {
        let at = Lane::ALL
            .iter()
            .position(|l| *l == lane)
            .expect("every lane");
        &self.lanes[at]
    }

    /// The receipt of a task whose message was recalled before it was sent.
    fn recalled(&self, task: &SendTask) -> DeliveryReceipt {
        let device = task.device.as_ref().map(|d| d.device_id.as_str());
        herald_core::status::recalled_receipt(
            &task.tenant_id,
            &task.message_id,
            &task.delivery_id,
            device.unwrap_or_default(),
            self.kind as i32,
            now_ms(),
        )
    }

    /// One try of a claimed task, unless this sender made it already and could not publish
    /// what came of it: then that outcome again.
    async fn try_once(&self, task: SendTask, lane: Lane) -> Tried {
        let key = recent::key(&task);
        if let Some(tried) = self.recent.recall(&key) {
            tracing::info!("a try whose outcome was not published yet is not sent again");
            return tried;
        }
        let tried = self.attempt(task, lane).await;
        self.recent.remember(key, tried.clone());
        tried
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
    async fn attempt(&self, mut task: SendTask, lane: Lane) -> Tried {
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
                    let _permit = self
                        .slots(lane)
                        .sends
                        .acquire()
                        .await
                        .expect("never closed");
                    // Its message may have been recalled while it waited for a send slot.
                    if self.recalls.contains(&task.message_id) {
                        return Tried::Done(self.recalled(&task));
                    }
                    let started = std::time::Instant::now();
                    let request = tracing::info_span!(
                        "provider request",
                        otel.name = %format_args!("{} request", self.kind.name()),
                        otel.kind = "client",
                        delivery_id = %task.delivery_id
                    );
                    let outcome = client.send(&task).instrument(request).await;
                    herald_telemetry::metrics().provider_request(self.kind, started.elapsed());
                    outcome
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
                        herald_telemetry::metrics().retry(self.kind);
                        tracing::info!(%reason, delay_ms = delay.as_millis() as u64, "provider asked to retry later");
                        // A rare path: the task goes on, so its receipt takes a copy.
                        let retrying = self.receipt(
                            task.clone(),
                            Outcome::Retrying,
                            format!("{reason}; next try at {}", rfc3339(next_try)),
                            String::new(),
                            attempt,
                        );
                        task.attempt = attempt + 1;
                        return Tried::Again(Box::new(task), next_try, retrying);
                    }
                    let reason = format!(
                        "gave up at the time to live after {attempt} attempts; last answer: {reason}"
                    );
                    (Outcome::Expired, reason, String::new())
                }
            }
        };
        herald_telemetry::metrics().delivery(self.kind, outcome, &task.tenant_id);
        if outcome == Outcome::Submitted {
            tracing::debug!("submitted");
        } else {
            tracing::info!(outcome = outcome.as_str_name(), %reason, "send finished");
        }
        Tried::Done(self.receipt(task, outcome, reason, provider_message_id, attempt))
    }

    /// The receipt of a try of `task` (its ids moved in, not copied: this runs per delivery),
    /// its reason cut to [`MAX_REASON`] bytes.
    fn receipt(
        &self,
        task: SendTask,
        outcome: Outcome,
        mut reason: String,
        provider_message_id: String,
        attempts: u32,
    ) -> DeliveryReceipt {
        if reason.len() > MAX_REASON {
            let mut end = MAX_REASON;
            while !reason.is_char_boundary(end) {
                end -= 1;
            }
            reason.truncate(end);
        }
        DeliveryReceipt {
            tenant_id: task.tenant_id,
            message_id: task.message_id,
            delivery_id: task.delivery_id,
            device_id: task.device.map(|d| d.device_id).unwrap_or_default(),
            provider: self.kind as i32,
            outcome: outcome as i32,
            reason,
            provider_message_id,
            attempts,
            at_ms: now_ms(),
            interaction: None,
        }
    }
}

impl Config {
    /// The sender of `provider`, with the settings' concurrency, endpoints and master key.
    pub fn from_settings(
        settings: &herald_runtime::Settings,
        provider: Provider,
    ) -> Result<Self, herald_runtime::ConfigError> {
        // FCM allows a project 600,000 messages a minute unless Google grants it more.
        let per_minute = settings.sender.fcm_per_minute;
        let default_limit = (provider == Provider::Fcm && per_minute > 0).then(|| RateLimit {
            provider: provider.name().to_owned(),
            per_minute,
        });
        Ok(Self {
            provider,
            concurrency: settings.sender.concurrency,
            endpoints: settings.providers.endpoints()?,
            master_key: Arc::new(settings.master_key()?),
            default_limit,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_over_a_limit_go_in_steps_at_its_pace() {
        let tasks = |n: usize| -> Vec<SendTask> {
            (0..n)
                .map(|i| SendTask {
                    delivery_id: format!("d{i}"),
                    ..Default::default()
                })
                .collect()
        };
        // 6,000 a minute: 100 a second; 250 waiting go as 100, 100 and 50, a second apart.
        let steps = paced(tasks(250), 6_000, 1_000_000);
        let shape: Vec<(usize, i64)> = steps.iter().map(|(t, at)| (t.len(), *at)).collect();
        assert_eq!(shape, [(100, 1_001_000), (100, 1_002_000), (50, 1_002_500)]);
        assert_eq!(steps[2].0[0].delivery_id, "d200");
        // 90 a minute: steps of two, the first soon.
        let steps = paced(tasks(3), 90, 0);
        let shape: Vec<(usize, i64)> = steps.iter().map(|(t, at)| (t.len(), *at)).collect();
        assert_eq!(shape, [(2, 1_333), (1, 2_000)]);
        assert!(paced(Vec::new(), 60, 0).is_empty());
    }
}
