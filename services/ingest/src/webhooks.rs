//! The webhooks API: a tenant's outbound endpoints (created and changed only after a test call
//! answers 200), their signing secrets (shown once, rotated with an overlap), the attempts to
//! post to them, and replays of a message's reports.

use herald_core::Error;
use herald_core::ids::{MessageId, TenantId, WebhookId};
use herald_core::time::now_ms;
use herald_proto::bus::v1::DeliveryEvent;
use herald_proto::v1::webhooks_server::Webhooks;
use herald_proto::v1::*;
use herald_store::{AttemptRecord, DeliveryRecord, SealedWebhook, StoredWebhook, WebhookRecord};
use herald_webhooks::policy::Answer;
use herald_webhooks::{Auth, Endpoint, RetryPolicy, Secret, Secrets};
use tonic::{Request, Response, Status};

use crate::Api;
use crate::pages::Page;

/// The longest description.
const MAX_DESCRIPTION: usize = 256;

fn webhook(record: WebhookRecord) -> Webhook {
    Webhook {
        webhook_id: record.id.into_string(),
        url: record.url,
        events: record.events.into_iter().map(i32::from).collect(),
        signature_scheme: record.scheme.into(),
        auth_kind: record.auth_kind.into(),
        enabled: record.enabled,
        disabled_reason: record.disabled_reason,
        created_at_ms: record.created_at,
        provider: record.provider.unwrap_or(Provider::Unspecified).into(),
        retry: Some(herald_proto::v1::RetryPolicy {
            delays_secs: record.retry_delays,
            timeout_secs: record.timeout_secs,
        }),
        failing_since_ms: record.failing_since,
        description: record.description,
    }
}

fn attempt(record: AttemptRecord) -> WebhookAttempt {
    use herald_core::names::Named as _;
    WebhookAttempt {
        webhook_id: record.webhook_id.into_string(),
        event_id: record.event_id,
        event_type: record.event.name().to_owned(),
        message_id: record.message_id,
        attempt: record.attempt,
        at_ms: record.at,
        outcome: record.outcome.into(),
        status_code: u32::from(record.status_code),
        detail: record.detail,
        duration_ms: record.duration_ms,
        next_attempt_at_ms: record.next_attempt_at,
        url: record.url,
    }
}

/// The events an endpoint chose, checked (no unspecified or unknown value), without repeats.
fn events(values: &[i32]) -> Result<Vec<WebhookEvent>, Error> {
    let mut chosen = Vec::new();
    for (i, value) in values.iter().enumerate() {
        match WebhookEvent::try_from(*value) {
            Ok(WebhookEvent::Unspecified) | Err(_) => {
                return Err(Error::invalid(format!("events[{i}]"), "not an event type"));
            }
            Ok(event) if !chosen.contains(&event) => chosen.push(event),
            Ok(_) => {}
        }
    }
    Ok(chosen)
}

fn scheme(value: i32) -> Result<SignatureScheme, Error> {
    match SignatureScheme::try_from(value) {
        Ok(SignatureScheme::Unspecified) => Ok(SignatureScheme::StandardWebhooks),
        Ok(scheme) => Ok(scheme),
        Err(_) => Err(Error::invalid("signature_scheme", "not a signature scheme")),
    }
}

fn provider(field: &str, value: i32) -> Result<Option<Provider>, Error> {
    match Provider::try_from(value) {
        Ok(Provider::Unspecified) => Ok(None),
        Ok(provider) => Ok(Some(provider)),
        Err(_) => Err(Error::invalid(field, "not a provider")),
    }
}

fn retry(
    field: &str,
    policy: Option<&herald_proto::v1::RetryPolicy>,
) -> Result<RetryPolicy, Error> {
    let policy = policy.cloned().unwrap_or_default();
    RetryPolicy::from_parts(&policy.delays_secs, policy.timeout_secs)
        .map_err(|reason| Error::invalid(field, reason))
}

fn description(text: &str) -> Result<String, Error> {
    if text.chars().count() > MAX_DESCRIPTION || text.chars().any(char::is_control) {
        return Err(Error::invalid(
            "description",
            "at most 256 characters, without control characters",
        ));
    }
    Ok(text.to_owned())
}

fn auth(value: Option<&WebhookAuth>, allow_http: bool) -> Result<Auth, Error> {
    Auth::from_proto(value, allow_http).map_err(|bad| Error::invalid(bad.field, bad.reason))
}

fn delays_secs(policy: &RetryPolicy) -> Vec<u32> {
    policy
        .delays
        .iter()
        .map(|d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX))
        .collect()
}

impl Api {
    /// Tells the webhook dispatchers that the tenant's endpoints changed (they otherwise notice
    /// within `herald_dispatcher::FRESH_FOR`).
    async fn announce_change(&self, tenant: &TenantId) {
        let payload = bytes::Bytes::from(tenant.to_string());
        if let Err(err) = self
            .bus
            .announce(herald_bus::subjects::WEBHOOKS_CHANGED, payload)
            .await
        {
            tracing::warn!(%err, "could not announce a webhook change; dispatchers notice it within seconds");
        }
    }

    fn endpoint_url(&self, field: &str, raw: &str) -> Result<url::Url, Error> {
        herald_webhooks::target::endpoint_url(raw, self.config.webhooks.allow_http)
            .map_err(|bad| Error::invalid(field, bad.to_string()))
    }

    /// The authorization a request asks for, checked; an authorization code is exchanged for
    /// its refresh token here, once (a refusal says what the token endpoint answered).
    async fn authorization(&self, value: Option<&WebhookAuth>) -> Result<Auth, Error> {
        let auth = auth(value, self.config.webhooks.allow_http)?;
        let (Auth::OAuth2Code(grant), Some(webhook_auth::Kind::Oauth2Code(asked))) =
            (&auth, value.and_then(|v| v.kind.as_ref()))
        else {
            return Ok(auth);
        };
        if asked.authorization_code.is_empty() {
            return Ok(auth);
        }
        let code = herald_webhooks::oauth::Code {
            code: &asked.authorization_code,
            redirect_uri: &asked.redirect_uri,
            verifier: &asked.code_verifier,
        };
        self.config
            .webhooks
            .poster
            .exchange(grant, code)
            .await
            .map_err(|err| {
                Error::FailedPrecondition(format!(
                    "the authorization code could not be exchanged at {}: {err}",
                    grant.client.token_url
                ))
            })
    }

    /// Posts a `webhook.test` event to the endpoint: anything but 200 refuses the change.
    /// Answers the endpoint's authorization as it stands after the call (the call may have
    /// been given a new refresh token).
    async fn test_call(&self, id: &WebhookId, endpoint: &Endpoint) -> Result<Auth, Error> {
        let body = herald_webhooks::event::test_body(id.as_str(), now_ms());
        let attempted = self
            .config
            .webhooks
            .poster
            .post(endpoint, &format!("evt_test_{}", now_ms()), &body)
            .await;
        let what = match &attempted.answer {
            Answer::Status { code: 200, .. } => {
                return Ok(attempted.replaced.unwrap_or_else(|| endpoint.auth.clone()));
            }
            Answer::Status { code, .. } => format!("answered {code}: {}", attempted.detail),
            Answer::Unanswered(why) => format!("did not answer: {why}"),
            Answer::Refused(why) => format!("was refused: {why}"),
        };
        Err(Error::FailedPrecondition(format!(
            "the test call to {} {what} (it must answer 200)",
            endpoint.url
        )))
    }

    async fn stored_webhook(
        &self,
        tenant: &TenantId,
        id: &WebhookId,
    ) -> Result<StoredWebhook, Error> {
        self.store
            .webhook(tenant, id)
            .await
            .map_err(Error::from)?
            .ok_or_else(|| Error::NotFound(format!("webhook {id}")))
    }

    fn opened(&self, tenant: &TenantId, stored: &StoredWebhook) -> Result<(Secrets, Auth), Error> {
        let (t, w) = (tenant.as_str(), stored.record.id.as_str());
        let key = &self.config.master_key;
        Ok((
            Secrets::open(key, t, w, &stored.sealed.secrets).map_err(Error::internal)?,
            Auth::open(key, t, w, &stored.sealed.auth).map_err(Error::internal)?,
        ))
    }
}

#[tonic::async_trait]
impl Webhooks for Api {
    #[tracing::instrument(skip_all)]
    async fn create_webhook(
        &self,
        request: Request<CreateWebhookRequest>,
    ) -> Result<Response<CreateWebhookResponse>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let req = request.get_ref();
        let url = self.endpoint_url("url", &req.url)?;
        let events = events(&req.events)?;
        let scheme = scheme(req.signature_scheme)?;
        let provider = provider("provider", req.provider)?;
        let policy = retry("retry", req.retry.as_ref())?;
        let description = description(&req.description)?;
        let auth = self.authorization(req.auth.as_ref()).await?;
        let id = WebhookId::generate();
        let secret = Secret::generate();
        let endpoint = Endpoint {
            url: url.clone(),
            scheme,
            secrets: vec![secret.clone()],
            auth: auth.clone(),
            timeout: policy.timeout,
        };
        let auth = self.test_call(&id, &endpoint).await?;
        let now = now_ms();
        let record = WebhookRecord {
            id: id.clone(),
            url: url.to_string(),
            description,
            events,
            provider,
            scheme,
            auth_kind: auth.kind(),
            retry_delays: delays_secs(&policy),
            timeout_secs: u32::try_from(policy.timeout.as_secs()).unwrap_or(u32::MAX),
            enabled: true,
            disabled_reason: String::new(),
            failing_since: 0,
            created_at: now,
            updated_at: now,
        };
        let key = &self.config.master_key;
        let sealed = SealedWebhook {
            secrets: Secrets::new(secret.clone()).seal(key, tenant.as_str(), id.as_str()),
            auth: auth.seal(key, tenant.as_str(), id.as_str()),
        };
        self.store
            .insert_webhook(&tenant, &record, &sealed)
            .await
            .map_err(Error::from)?;
        self.announce_change(&tenant).await;
        tracing::info!(%tenant, webhook = %id, url = %record.url, "webhook endpoint created");
        Ok(Response::new(CreateWebhookResponse {
            webhook: Some(webhook(record)),
            secret: secret.shown().to_owned(),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn update_webhook(
        &self,
        request: Request<UpdateWebhookRequest>,
    ) -> Result<Response<Webhook>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let req = request.into_inner();
        let change = req
            .webhook
            .ok_or_else(|| Error::invalid("webhook", "required"))?;
        let id = WebhookId::parse("webhook.webhook_id", &change.webhook_id)?;
        let stored = self.stored_webhook(&tenant, &id).await?;
        let (secrets, mut new_auth) = self.opened(&tenant, &stored)?;
        let mut record = stored.record.clone();
        let paths = req
            .update_mask
            .map(|mask| mask.paths)
            .filter(|paths| !paths.is_empty())
            .ok_or_else(|| Error::invalid("update_mask", "name the fields to change"))?;
        let mut url_changed = false;
        let mut auth_changed = false;
        for path in &paths {
            match path.as_str() {
                "url" => {
                    let url = self.endpoint_url("webhook.url", &change.url)?.to_string();
                    url_changed = url != record.url;
                    record.url = url;
                }
                "events" => {
                    record.events = events(&change.events).map_err(|e| e.within("webhook"))?
                }
                "signature_scheme" => {
                    record.scheme =
                        scheme(change.signature_scheme).map_err(|e| e.within("webhook"))?;
                }
                "provider" => record.provider = provider("webhook.provider", change.provider)?,
                "retry" => {
                    let policy = retry("webhook.retry", change.retry.as_ref())?;
                    record.retry_delays = delays_secs(&policy);
                    record.timeout_secs =
                        u32::try_from(policy.timeout.as_secs()).unwrap_or(u32::MAX);
                }
                "description" => {
                    record.description =
                        description(&change.description).map_err(|e| e.within("webhook"))?;
                }
                "enabled" => {
                    if change.enabled && !record.enabled {
                        record.disabled_reason.clear();
                        record.failing_since = 0;
                    }
                    record.enabled = change.enabled;
                }
                "auth" => {
                    new_auth = self.authorization(req.auth.as_ref()).await?;
                    auth_changed = true;
                }
                other => {
                    return Err(Error::invalid(
                        "update_mask",
                        format!(
                            "{other:?} is not a field that can be updated (url, events, signature_scheme, provider, retry, description, enabled, auth)"
                        ),
                    )
                    .into());
                }
            }
        }
        record.auth_kind = new_auth.kind();
        if url_changed {
            let endpoint = Endpoint {
                url: url::Url::parse(&record.url).map_err(Error::internal)?,
                scheme: record.scheme,
                secrets: secrets.active(now_ms()),
                auth: new_auth.clone(),
                timeout: std::time::Duration::from_secs(u64::from(record.timeout_secs)),
            };
            let tested = self.test_call(&id, &endpoint).await?;
            auth_changed |= tested != new_auth;
            new_auth = tested;
        }
        // The stored authorization is written again only when it changed here: the dispatcher
        // may have stored a new refresh token since it was read.
        let sealed = SealedWebhook {
            secrets: stored.sealed.secrets,
            auth: if auth_changed {
                new_auth.seal(&self.config.master_key, tenant.as_str(), id.as_str())
            } else {
                stored.sealed.auth.clone()
            },
        };
        if !self
            .store
            .update_webhook(&tenant, &record, &sealed, &stored.sealed.auth)
            .await
            .map_err(Error::from)?
        {
            return Err(Error::NotFound(format!("webhook {id}")).into());
        }
        self.announce_change(&tenant).await;
        Ok(Response::new(webhook(record)))
    }

    #[tracing::instrument(skip_all)]
    async fn delete_webhook(
        &self,
        request: Request<DeleteWebhookRequest>,
    ) -> Result<Response<DeleteWebhookResponse>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let id = WebhookId::parse("webhook_id", &request.get_ref().webhook_id)?;
        if !self
            .store
            .delete_webhook(&tenant, &id)
            .await
            .map_err(Error::from)?
        {
            return Err(Error::NotFound(format!("webhook {id}")).into());
        }
        self.announce_change(&tenant).await;
        Ok(Response::new(DeleteWebhookResponse {}))
    }

    async fn get_webhook(
        &self,
        request: Request<GetWebhookRequest>,
    ) -> Result<Response<Webhook>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let id = WebhookId::parse("webhook_id", &request.get_ref().webhook_id)?;
        Ok(Response::new(webhook(
            self.stored_webhook(&tenant, &id).await?.record,
        )))
    }

    async fn list_webhooks(
        &self,
        request: Request<ListWebhooksRequest>,
    ) -> Result<Response<ListWebhooksResponse>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let req = request.get_ref();
        let page = Page::read(
            &self.config.master_key,
            format!("webhooks/{tenant}"),
            req.page_size,
            &req.page_token,
        )?;
        let records = self
            .store
            .list_webhooks(&tenant, page.after.as_deref(), page.limit)
            .await
            .map_err(Error::from)?;
        Ok(Response::new(ListWebhooksResponse {
            next_page_token: page.next_token(&records, |w| w.id.to_string()),
            webhooks: records.into_iter().map(webhook).collect(),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn rotate_webhook_secret(
        &self,
        request: Request<RotateWebhookSecretRequest>,
    ) -> Result<Response<RotateWebhookSecretResponse>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let id = WebhookId::parse("webhook_id", &request.get_ref().webhook_id)?;
        let stored = self.stored_webhook(&tenant, &id).await?;
        let (secrets, _) = self.opened(&tenant, &stored)?;
        let fresh = Secret::generate();
        let sealed = SealedWebhook {
            secrets: secrets.rotated(fresh.clone(), now_ms()).seal(
                &self.config.master_key,
                tenant.as_str(),
                id.as_str(),
            ),
            auth: stored.sealed.auth.clone(),
        };
        if !self
            .store
            .update_webhook(&tenant, &stored.record, &sealed, &stored.sealed.auth)
            .await
            .map_err(Error::from)?
        {
            return Err(Error::NotFound(format!("webhook {id}")).into());
        }
        self.announce_change(&tenant).await;
        Ok(Response::new(RotateWebhookSecretResponse {
            secret: fresh.shown().to_owned(),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn rotate_notify_secret(
        &self,
        request: Request<RotateNotifySecretRequest>,
    ) -> Result<Response<RotateWebhookSecretResponse>, Status> {
        use herald_webhooks::keys::NOTIFY_SECRETS;
        let tenant = self.tenant(request.metadata()).await?;
        let key = &self.config.master_key;
        let fresh = Secret::generate();
        // Read, rotate, and store in place of what was read: a rotation that another one
        // overtook starts again from that one's secrets, so neither is lost.
        for _ in 0..5 {
            let stored = self
                .store
                .notify_secrets(&tenant)
                .await
                .map_err(Error::from)?;
            let secrets = match &stored {
                Some(sealed) => Secrets::open(key, tenant.as_str(), NOTIFY_SECRETS, sealed)
                    .map_err(Error::internal)?
                    .rotated(fresh.clone(), now_ms()),
                None => Secrets::new(fresh.clone()),
            };
            let sealed = secrets.seal(key, tenant.as_str(), NOTIFY_SECRETS);
            if self
                .store
                .set_notify_secrets(&tenant, &sealed, stored.as_deref())
                .await
                .map_err(Error::from)?
            {
                self.announce_change(&tenant).await;
                return Ok(Response::new(RotateWebhookSecretResponse {
                    secret: fresh.shown().to_owned(),
                }));
            }
        }
        Err(
            Error::unavailable("the notify secret kept changing under this rotation; try again")
                .into(),
        )
    }

    async fn list_webhook_attempts(
        &self,
        request: Request<ListWebhookAttemptsRequest>,
    ) -> Result<Response<ListWebhookAttemptsResponse>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let req = request.get_ref();
        let webhook = (!req.webhook_id.is_empty())
            .then(|| WebhookId::parse("webhook_id", &req.webhook_id))
            .transpose()?;
        let message = (!req.message_id.is_empty())
            .then(|| MessageId::parse("message_id", &req.message_id))
            .transpose()?;
        let page = Page::read(
            &self.config.master_key,
            format!(
                "webhook-attempts/{tenant}/{}/{}",
                req.webhook_id, req.message_id
            ),
            req.page_size,
            &req.page_token,
        )?;
        let rows = self
            .store
            .list_attempts(
                &tenant,
                webhook.as_ref(),
                message.as_ref().map(MessageId::as_str),
                page.after.as_deref(),
                page.limit,
            )
            .await
            .map_err(Error::from)?;
        Ok(Response::new(ListWebhookAttemptsResponse {
            next_page_token: page.next_token(&rows, |(id, _)| id.clone()),
            attempts: rows.into_iter().map(|(_, a)| attempt(a)).collect(),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn replay_webhook(
        &self,
        request: Request<ReplayWebhookRequest>,
    ) -> Result<Response<ReplayWebhookResponse>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let req = request.get_ref();
        let id = WebhookId::parse("webhook_id", &req.webhook_id)?;
        let message = MessageId::parse("message_id", &req.message_id)?;
        let record = self.stored_webhook(&tenant, &id).await?.record;
        if !record.enabled {
            return Err(Error::FailedPrecondition(format!(
                "webhook {id} is disabled: enable it before replaying to it"
            ))
            .into());
        }
        // The message must be the tenant's (report contexts are read by id alone).
        self.store
            .get_message(&tenant, &message)
            .await
            .map_err(Error::from)?
            .ok_or_else(|| Error::NotFound(format!("message {message}")))?;
        let context = self
            .store
            .report_contexts(&[&message])
            .await
            .map_err(Error::from)?
            .remove(&message)
            .ok_or_else(|| Error::NotFound(format!("message {message}")))?;
        let deliveries = self
            .store
            .deliveries_of_message(&tenant, &message)
            .await
            .map_err(Error::from)?;
        // Each delivery's latest report, as it was first sent (same body and webhook-id).
        let replayed_at = now_ms();
        let jobs: Vec<herald_bus::Outgoing> = deliveries
            .into_iter()
            .map(DeliveryRecord::into_delivery)
            .filter_map(|delivery| {
                let through = delivery.provider();
                let event = DeliveryEvent {
                    tenant_id: tenant.to_string(),
                    message_id: message.to_string(),
                    delivery: Some(delivery),
                    correlation_id: context.correlation_id.clone(),
                    callback_data: context.callback_data.clone(),
                    ..Default::default()
                };
                let rendered = herald_webhooks::event::render(&event)?;
                rendered
                    .wanted(&record.events, record.provider, through)
                    .then(|| {
                        herald_bus::Outgoing::new(
                            herald_bus::subjects::webhook(tenant.as_str()),
                            format!("{}.{id}.replay.{replayed_at}", rendered.id),
                            &rendered.job(tenant.as_str(), id.as_str(), message.as_str()),
                        )
                    })
            })
            .collect();
        let queued = u32::try_from(jobs.len()).unwrap_or(u32::MAX);
        herald_bus::all_published(self.bus.publish_all(jobs).await).map_err(Error::from)?;
        Ok(Response::new(ReplayWebhookResponse { queued }))
    }
}
