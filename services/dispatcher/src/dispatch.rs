//! One job: post the event to its endpoint (or to its message's notify URL), record the
//! attempt, and settle the job by the retry policy (a retry waits on the bus as a delayed
//! negative acknowledgement).

use std::sync::Arc;
use std::time::Duration;

use herald_bus::{Bus, Disposition, Message, Outgoing, subjects};
use herald_core::ids::{TenantId, WebhookId};
use herald_core::time::now_ms;
use herald_proto::bus::v1::WebhookJob;
use herald_proto::v1::{AttemptOutcome, SignatureScheme, WebhookEvent};
use herald_store::{AttemptRecord, Store, StoreError};
use herald_webhooks::policy::{self, Verdict};
use herald_webhooks::{Auth, Endpoint, Poster, RetryPolicy};
use prost::Message as _;

use crate::attempts::Attempts;
use crate::endpoints::{Endpoints, Opened};

/// What a dispatch loop needs. Cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct Dispatcher {
    pub bus: Bus,
    pub store: Store,
    pub attempts: Attempts,
    pub endpoints: Endpoints,
    pub poster: Poster,
    pub disable_after: Duration,
    /// Whether a notify URL may be http (`webhooks.allow_http`).
    pub allow_http: bool,
    /// Seals an authorization the dispatcher stores (a replaced refresh token).
    pub master_key: Arc<herald_core::crypto::MasterKey>,
}

impl Dispatcher {
    pub async fn handle(&self, message: &Message) -> Disposition {
        let job = match WebhookJob::decode(message.payload.clone()) {
            Ok(job) => job,
            Err(err) => return Disposition::Park(format!("not a webhook job: {err}")),
        };
        let tenant = TenantId::from_trusted(job.tenant_id.clone());
        let attempt = u32::try_from(herald_bus::tries(message)).unwrap_or(u32::MAX);
        if job.webhook_id.is_empty() {
            return self.notify(&tenant, &job, attempt).await;
        }
        let webhook = WebhookId::from_trusted(job.webhook_id.clone());
        match self.endpoints.find(&tenant, &webhook).await {
            Ok(Some(opened)) => self.post(&tenant, &job, &opened, attempt).await,
            Ok(None) => Disposition::Ack,
            Err(err) => store_trouble(&err),
        }
    }

    /// Posts a status event to its message's notify URL, signed with the tenant's notify
    /// secret, on the seeds' policy. A URL that is not valid (variables made it) or a tenant
    /// without a secret is refused once, never retried; there is no endpoint to disable.
    async fn notify(&self, tenant: &TenantId, job: &WebhookJob, attempt: u32) -> Disposition {
        let url = match herald_webhooks::target::endpoint_url(&job.notify_url, self.allow_http) {
            Ok(url) => url,
            Err(bad) => {
                let why = format!("the notify URL is refused ({bad}): not retried");
                self.refuse(tenant, job, attempt, why).await;
                return Disposition::Ack;
            }
        };
        let secrets = match self.endpoints.notify_secrets(tenant).await {
            Ok(Some(secrets)) => secrets,
            Ok(None) => {
                let why = "the tenant has no notify URL signing secret".to_owned();
                self.refuse(tenant, job, attempt, why).await;
                return Disposition::Ack;
            }
            Err(err) => return store_trouble(&err),
        };
        let policy = RetryPolicy::default();
        let endpoint = Endpoint {
            url,
            scheme: SignatureScheme::StandardWebhooks,
            secrets,
            auth: Auth::None,
            timeout: policy.timeout,
        };
        let nobody = WebhookId::from_trusted(String::new());
        // No authorization, so nothing it could replace.
        match self
            .try_once(tenant, job, &nobody, &endpoint, &policy, attempt)
            .await
            .0
        {
            Verdict::Retry(wait) => Disposition::Retry(wait),
            _ => Disposition::Ack,
        }
    }

    /// Records an attempt that was not made, for `why`.
    async fn refuse(&self, tenant: &TenantId, job: &WebhookJob, attempt: u32, why: String) {
        let record = AttemptRecord {
            webhook_id: WebhookId::from_trusted(job.webhook_id.clone()),
            event_id: job.event_id.clone(),
            event: job.event(),
            message_id: job.message_id.clone(),
            attempt,
            at: now_ms(),
            outcome: AttemptOutcome::Refused,
            status_code: 0,
            detail: why,
            duration_ms: 0,
            next_attempt_at: 0,
            url: job.notify_url.clone(),
        };
        self.attempts.record(tenant.clone(), record).await;
    }

    async fn post(
        &self,
        tenant: &TenantId,
        job: &WebhookJob,
        opened: &Arc<Opened>,
        attempt: u32,
    ) -> Disposition {
        let (verdict, at, replaced) = self
            .try_once(
                tenant,
                job,
                &opened.record.id,
                &opened.endpoint,
                &opened.policy,
                attempt,
            )
            .await;
        if let Some(auth) = replaced {
            self.store_replaced(tenant, opened, &auth).await;
        }
        match verdict {
            Verdict::Succeeded => {
                if opened.record.failing_since != 0
                    && let Err(err) = self
                        .store
                        .webhook_succeeded(tenant, &opened.record.id)
                        .await
                {
                    tracing::warn!(%err, "could not note a webhook endpoint's success");
                }
                Disposition::Ack
            }
            Verdict::Retry(wait) => {
                self.note_failure(tenant, opened, at).await;
                Disposition::Retry(wait)
            }
            Verdict::Failed(_) => {
                self.note_failure(tenant, opened, at).await;
                Disposition::Ack
            }
            Verdict::Disable(reason) => {
                if let Err(err) = self
                    .store
                    .webhook_failing(tenant, &opened.record.id, at)
                    .await
                {
                    tracing::warn!(%err, "could not note a webhook endpoint's failure");
                }
                self.disable(tenant, opened, &reason).await;
                Disposition::Ack
            }
            Verdict::Refused(_) => Disposition::Ack,
        }
    }

    /// Posts the job's event to `endpoint` once and records the attempt (as `webhook`'s);
    /// answers the policy's verdict and when the attempt was made.
    async fn try_once(
        &self,
        tenant: &TenantId,
        job: &WebhookJob,
        webhook: &WebhookId,
        endpoint: &Endpoint,
        policy: &RetryPolicy,
        attempt: u32,
    ) -> (Verdict, i64, Option<Auth>) {
        let at = now_ms();
        let mut attempted = self.poster.post(endpoint, &job.event_id, &job.body).await;
        let verdict = policy::judge(policy, attempt, &attempted.answer);
        let (outcome, next_attempt_at) = match &verdict {
            Verdict::Succeeded => (AttemptOutcome::Succeeded, 0),
            Verdict::Retry(wait) => (
                AttemptOutcome::Retrying,
                at + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX),
            ),
            Verdict::Failed(_) | Verdict::Disable(_) => (AttemptOutcome::Failed, 0),
            Verdict::Refused(_) => (AttemptOutcome::Refused, 0),
        };
        let detail = match &verdict {
            Verdict::Failed(why) | Verdict::Disable(why) => {
                format!("{why}: {}", attempted.detail)
            }
            _ => attempted.detail.clone(),
        };
        let record = AttemptRecord {
            webhook_id: webhook.clone(),
            event_id: job.event_id.clone(),
            event: job.event(),
            message_id: job.message_id.clone(),
            attempt,
            at,
            outcome,
            status_code: match attempted.answer {
                herald_webhooks::Answer::Status { code, .. } => code,
                _ => 0,
            },
            detail,
            duration_ms: u32::try_from(attempted.elapsed.as_millis()).unwrap_or(u32::MAX),
            next_attempt_at,
            url: endpoint.url.to_string(),
        };
        herald_telemetry::metrics().webhook_attempt(outcome);
        tracing::debug!(webhook = %record.webhook_id, event = %record.event_id, attempt, outcome = ?outcome, "webhook attempt");
        // The post happened: a record that cannot be written is logged, not posted again.
        self.attempts.record(tenant.clone(), record).await;
        (verdict, at, attempted.replaced.take())
    }

    /// Stores the authorization a post replaced (a new refresh token) in place of the one it
    /// was made with, and reads the tenant's endpoints again. If another dispatcher replaced it
    /// first, theirs stays.
    async fn store_replaced(&self, tenant: &TenantId, opened: &Opened, auth: &Auth) {
        let sealed = auth.seal(&self.master_key, tenant.as_str(), opened.record.id.as_str());
        match self
            .store
            .replace_webhook_auth(tenant, &opened.record.id, &opened.sealed_auth, &sealed)
            .await
        {
            Ok(true) => {
                tracing::info!(%tenant, webhook = %opened.record.id, "stored the refresh token the authorization server issued")
            }
            Ok(false) => {
                tracing::warn!(%tenant, webhook = %opened.record.id, "the endpoint's authorization changed meanwhile; the new refresh token is not stored")
            }
            Err(err) => {
                tracing::error!(%tenant, webhook = %opened.record.id, %err, "could not store the refresh token the authorization server issued")
            }
        }
        self.endpoints.forget(tenant);
    }

    /// Notes a failure; an endpoint failing for longer than `disable_after` is disabled.
    async fn note_failure(&self, tenant: &TenantId, opened: &Opened, at: i64) {
        match self
            .store
            .webhook_failing(tenant, &opened.record.id, at)
            .await
        {
            Ok(since)
                if at - since
                    >= i64::try_from(self.disable_after.as_millis()).unwrap_or(i64::MAX) =>
            {
                let reason = format!(
                    "every attempt failed for {} s (since {})",
                    (at - since) / 1000,
                    herald_core::time::rfc3339(since)
                );
                self.disable(tenant, opened, &reason).await;
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(%err, "could not note a webhook endpoint's failure"),
        }
    }

    async fn disable(&self, tenant: &TenantId, opened: &Opened, reason: &str) {
        match self
            .store
            .disable_webhook(tenant, &opened.record.id, reason)
            .await
        {
            Ok(true) => {
                tracing::warn!(%tenant, webhook = %opened.record.id, reason, "webhook endpoint disabled");
                self.endpoints.forget(tenant);
                self.tell_the_others(tenant, opened, reason).await;
            }
            Ok(false) => {}
            Err(err) => tracing::warn!(%err, "could not disable a webhook endpoint"),
        }
    }
}

impl Dispatcher {
    /// Queues a `webhook.disabled` event for the tenant's other endpoints that chose it (once:
    /// only the dispatcher whose statement disabled the endpoint gets here).
    async fn tell_the_others(&self, tenant: &TenantId, opened: &Opened, reason: &str) {
        let others = match self.endpoints.of_tenant(tenant).await {
            Ok(others) => others,
            Err(err) => {
                tracing::warn!(%err, "could not tell the tenant's endpoints that one was disabled");
                return;
            }
        };
        let rendered = herald_webhooks::event::disabled(
            opened.record.id.as_str(),
            opened.endpoint.url.as_str(),
            reason,
            now_ms(),
        );
        let jobs: Vec<Outgoing> = others
            .iter()
            .filter(|o| o.record.events.contains(&WebhookEvent::WebhookDisabled))
            .map(|o| {
                Outgoing::new(
                    subjects::webhook(tenant.as_str()),
                    format!("{}.{}", rendered.id, o.record.id),
                    &rendered.job(tenant.as_str(), o.record.id.as_str(), ""),
                )
            })
            .collect();
        if let Err(err) = herald_bus::all_published(self.bus.publish_all(jobs).await) {
            tracing::warn!(%err, "could not tell the tenant's endpoints that one was disabled");
        }
    }
}

fn store_trouble(err: &StoreError) -> Disposition {
    if err.is_outage() {
        Disposition::Retry(Duration::from_secs(1))
    } else {
        Disposition::Fault(err.to_string())
    }
}
