//! What a `Send` becomes before it is stored: its fields validated; the providers its
//! destination can reach judged against their limits (refused only if none would take it, the
//! others' refusals kept so those deliveries fail with the reason); a push id checked as a
//! registration is and registered; a digest its idempotency key is held to. Then the outbox:
//! stored, published, marked.

use std::collections::{HashMap, HashSet};

use herald_bus::Accepted;
use herald_core::ids::{MessageId, TenantId};
use herald_core::platform::provider_for;
use herald_core::time::now_ms;
use herald_core::timing::LocalTime;
use herald_core::validate::Audience;
use herald_core::{Error, Result, options, validate};
use herald_proto::bus::v1::{MessageAccepted, ProviderRefusal};
use herald_proto::v1::{
    Browser, MessageClass, Notification, Platform, Provider, SendRequest, SendResponse, destination,
};
use herald_providers::limits::{self, Refusal};
use herald_store::{DeviceProfile, InsertedMessage, NewMessage, Source, TenantSettings};
use prost::Message as _;
use sha2::{Digest as _, Sha256};

use crate::Api;
use crate::devices::provider_checks;

/// Every provider, in the order their refusals are listed.
const ALL_PROVIDERS: [Provider; 4] = [
    Provider::Fcm,
    Provider::Apns,
    Provider::Hms,
    Provider::Webpush,
];

/// The data key of a removal message: the id of the message whose notification the app takes
/// down.
pub(crate) const RECALL_DATA_KEY: &str = "herald_recall";

/// A validated `Send`: the message to store, and the device its push id names, if it has one
/// (registered before the message is stored, so the router only reads devices).
#[derive(Clone, Debug)]
pub(crate) struct Prepared {
    message: NewMessage,
    push_id: Option<DeviceProfile>,
    /// A throttled fan-out's audience and pace: its answer estimates when it finishes.
    throttle: Option<(Audience, u32)>,
}

/// What a trigger adds to the messages it sends: the event its templates see (JSON, empty for
/// a plain Send) and the providers it is limited to (empty: all).
#[derive(Clone, Debug, Default)]
pub(crate) struct Triggered {
    pub event_json: String,
    pub providers: Vec<i32>,
}

/// What the requests of one call need read before they can be judged.
#[derive(Debug, Default)]
struct Known {
    /// The tenant's settings (read only when a request needs them).
    settings: TenantSettings,
    /// The providers each user's active devices are served by.
    user_providers: HashMap<String, Vec<Provider>>,
    /// The provider of each device a request names.
    device_providers: HashMap<String, Provider>,
    /// The topics requests name that the tenant does not have.
    missing_topics: HashSet<String>,
    /// The segments requests name that the tenant does not have.
    missing_segments: HashSet<String>,
    /// Whether each customer requests name opted out of push (absent: no such customer).
    customers: HashMap<String, bool>,
    /// Whether the tenant has a notify URL signing secret (read only when a request has a
    /// notify URL).
    notify_secret: bool,
}

/// Whether a request sends to a web push id, whose endpoint the tenant's settings judge.
fn to_web_push_id(req: &SendRequest) -> bool {
    matches!(
        req.destination.as_ref().and_then(|d| d.kind.as_ref()),
        Some(destination::Kind::PushId(push)) if push.platform() == Platform::Web
    )
}

/// The digest a repeat of an idempotency key must match: the request without its key.
fn request_digest(req: &SendRequest) -> String {
    let mut canonical = req.clone();
    canonical.idempotency_key.clear();
    herald_core::crypto::hex(&Sha256::digest(canonical.encode_to_vec())[..16])
}

impl Api {
    /// Validates a call's requests, each on its own (in request order); what they need from the
    /// store is read once for the call.
    /// Validates, stores and publishes one notification, as `Send` does.
    pub(crate) async fn send_one(
        &self,
        tenant: &TenantId,
        request: SendRequest,
    ) -> Result<SendResponse> {
        let mut prepared = self.prepare_all(tenant, vec![request]).await?;
        let message = prepared.pop().expect("one per request")?;
        let mut accepted = self.accept(tenant, vec![message]).await?;
        accepted.pop().expect("one answer per message")
    }

    pub(crate) async fn prepare_all(
        &self,
        tenant: &TenantId,
        requests: Vec<SendRequest>,
    ) -> Result<Vec<Result<Prepared>>> {
        let plain = vec![Triggered::default(); requests.len()];
        self.prepare_triggered(tenant, requests, plain).await
    }

    /// As [`Api::prepare_all`], for requests triggers made: each with its event and channel.
    pub(crate) async fn prepare_triggered(
        &self,
        tenant: &TenantId,
        mut requests: Vec<SendRequest>,
        triggered: Vec<Triggered>,
    ) -> Result<Vec<Result<Prepared>>> {
        // Variables are filled in first: what is validated and stored is what will be sent.
        let audiences: Vec<Result<Audience>> = requests
            .iter_mut()
            .map(|req| {
                let filled = herald_core::vars::expand_request(req)?;
                validate::filled_send_request(req, filled)
            })
            .collect();
        // Most notifications fit every provider: only one that some provider would refuse
        // needs to know which providers its destination reaches.
        let fits_all: Vec<bool> = requests
            .iter()
            .zip(&audiences)
            .map(|(req, audience)| {
                audience.is_ok()
                    && limits::judge(
                        req.notification
                            .as_ref()
                            .unwrap_or(&Notification::default()),
                        &ALL_PROVIDERS,
                    )
                    .is_ok_and(|refusals| refusals.is_empty())
            })
            .collect();
        let known = self
            .read_known(tenant, &requests, &audiences, &fits_all)
            .await?;
        Ok(requests
            .into_iter()
            .zip(audiences)
            .zip(fits_all)
            .zip(triggered)
            .map(|(((req, audience), fits), triggered)| {
                let audience = audience?;
                policy(&known, &audience)?;
                if !req.notify_url.is_empty() && !known.notify_secret {
                    return Err(Error::FailedPrecondition(
                        "notify_url: the tenant has no notify URL signing secret yet \
                         (RotateNotifySecret, or `herald webhook notify-secret`, creates it)"
                            .into(),
                    ));
                }
                let refusals = if fits {
                    Vec::new()
                } else {
                    reachable_refusals(&req, &audience, &known)?
                };
                self.prepare(
                    tenant,
                    req,
                    audience,
                    known.settings.allow_http_web_push,
                    refusals,
                    triggered,
                )
            })
            .collect())
    }

    /// Reads what judging the requests needs: the tenant's settings for web push ids, and the
    /// providers of the users and devices named by requests that do not fit every provider.
    async fn read_known(
        &self,
        tenant: &TenantId,
        requests: &[SendRequest],
        audiences: &[Result<Audience>],
        fits_all: &[bool],
    ) -> Result<Known> {
        let needs_settings = requests.iter().any(to_web_push_id)
            || audiences
                .iter()
                .flatten()
                .any(|a| matches!(a, Audience::Topic(_) | Audience::Segment(_)));
        let mut known = Known::default();
        if needs_settings {
            known.settings = self
                .store
                .tenant_settings(tenant)
                .await?
                .unwrap_or_default();
        }
        if requests.iter().any(|r| !r.notify_url.is_empty()) {
            known.notify_secret = self.store.notify_secrets(tenant).await?.is_some();
        }
        let mut topics: HashSet<&str> = HashSet::new();
        let mut customers: HashSet<&str> = HashSet::new();
        let mut segments: HashSet<&str> = HashSet::new();
        for audience in audiences.iter().flatten() {
            match audience {
                Audience::Topic(topic) => {
                    topics.insert(topic);
                }
                Audience::Customer(customer) => {
                    customers.insert(customer);
                }
                Audience::Segment(segment) => {
                    segments.insert(segment);
                }
                _ => {}
            }
        }
        for segment in segments {
            if self.store.get_segment(tenant, segment).await?.is_none() {
                known.missing_segments.insert(segment.to_owned());
            }
        }
        for customer in customers {
            if let Some(opted_out) = self.store.customer_opted_out(tenant, customer).await? {
                known.customers.insert(customer.to_owned(), opted_out);
            }
        }
        for topic in topics {
            if !self.store.topic_exists(tenant, topic).await? {
                known.missing_topics.insert(topic.to_owned());
            }
        }
        let mut users: Vec<&str> = Vec::new();
        let mut devices: Vec<&str> = Vec::new();
        let unfit = audiences
            .iter()
            .zip(fits_all)
            .filter(|(_, fits)| !**fits)
            .filter_map(|(audience, _)| audience.as_ref().ok());
        for audience in unfit {
            match audience {
                Audience::User(user) => users.push(user),
                Audience::Device(id) => devices.push(id.as_str()),
                Audience::PushId { .. }
                | Audience::Topic(_)
                | Audience::Customer(_)
                | Audience::Segment(_) => {}
            }
        }
        if !users.is_empty() {
            users.sort_unstable();
            users.dedup();
            for (user, platform) in self.store.platforms_of_users(tenant, &users).await? {
                let entry = known.user_providers.entry(user).or_default();
                entry.extend(provider_for(platform).filter(|p| !entry.contains(p)));
            }
        }
        devices.sort_unstable();
        devices.dedup();
        for device in self.store.devices_by_ids(tenant, &devices).await? {
            if let Some(provider) = provider_for(device.profile.platform) {
                known
                    .device_providers
                    .insert(device.id.into_string(), provider);
            }
        }
        Ok(known)
    }

    /// One request as the message to store, with the providers that would refuse it.
    fn prepare(
        &self,
        tenant: &TenantId,
        req: SendRequest,
        audience: Audience,
        allow_http: bool,
        refusals: Vec<Refusal>,
        triggered: Triggered,
    ) -> Result<Prepared> {
        let throttle =
            (req.throttle_per_minute > 0).then(|| (audience.clone(), req.throttle_per_minute));
        let push_id = push_id_device(audience, allow_http)?;
        let request_digest = (!req.idempotency_key.is_empty()).then(|| request_digest(&req));
        let notification = req.notification.unwrap_or_default();
        let now = now_ms();
        let local_time = LocalTime::read("local_time", req.local_time.as_ref())?;
        MessageClass::try_from(req.class)
            .map_err(|_| Error::invalid("class", "not a MessageClass"))?;
        let (send_at, last_start) = match &local_time {
            Some(_) if req.send_at_ms != 0 => {
                return Err(Error::invalid(
                    "send_at_ms",
                    "not with local_time: a local time schedules the message itself",
                ));
            }
            // Released when the first zone reaches it; each device waits for its own.
            Some(local) => {
                let first = local.first_instant(now);
                ((first > now).then_some(first), local.last_instant(now))
            }
            None => {
                let at = validate::send_at("send_at_ms", req.send_at_ms, now)?;
                (at, at.unwrap_or(now))
            }
        };
        let id = MessageId::generate();
        let ttl_ms = i64::from(options::effective_ttl(&notification)) * 1000;
        let accepted = MessageAccepted {
            tenant_id: tenant.to_string(),
            message_id: id.to_string(),
            destination: req.destination,
            notification: Some(notification),
            correlation_id: req.correlation_id,
            accepted_at_ms: now,
            expires_at_ms: last_start + ttl_ms,
            refusals: refusals
                .into_iter()
                .map(|r| ProviderRefusal {
                    provider: r.provider as i32,
                    reason: r.reason,
                })
                .collect(),
            variables: req.variables,
            event_json: triggered.event_json,
            providers: triggered.providers,
            class: req.class,
            local_time: req.local_time,
            throttle_per_minute: req.throttle_per_minute,
            removes_message_id: String::new(),
        };
        let message = NewMessage {
            id,
            tenant_id: tenant.clone(),
            idempotency_key: (!req.idempotency_key.is_empty()).then_some(req.idempotency_key),
            request_digest,
            body: accepted.encode_to_vec(),
            correlation_id: accepted.correlation_id.clone(),
            callback_data: req.callback_data,
            notify_url: req.notify_url.trim_end().to_owned(),
            created_at: now,
            expires_at: accepted.expires_at_ms,
            send_at,
        };
        Ok(Prepared {
            message,
            push_id,
            throttle,
        })
    }

    /// The message that takes down `original`'s pushes on the devices they reached (see
    /// `CancelMessageRequest.remove_delivered`): a silent, transactional data message carrying
    /// `herald_recall` = the original's id, with the original's collapse key (a provider still
    /// holding the push replaces it) and time to live; one per original (its idempotency key).
    pub(crate) fn removal(tenant: &TenantId, original: &MessageAccepted) -> Prepared {
        let shown = original.notification.clone().unwrap_or_default();
        let notification = Notification {
            silent: true,
            collapse_key: shown.collapse_key.clone(),
            ttl_seconds: options::effective_ttl(&shown),
            data: [(RECALL_DATA_KEY.to_owned(), original.message_id.clone())].into(),
            ..Default::default()
        };
        let now = now_ms();
        let id = MessageId::generate();
        let ttl_ms = i64::from(notification.ttl_seconds) * 1000;
        let accepted = MessageAccepted {
            tenant_id: tenant.to_string(),
            message_id: id.to_string(),
            destination: original.destination.clone(),
            notification: Some(notification),
            correlation_id: original.correlation_id.clone(),
            accepted_at_ms: now,
            expires_at_ms: now + ttl_ms,
            class: MessageClass::Transactional as i32,
            removes_message_id: original.message_id.clone(),
            ..Default::default()
        };
        let message = NewMessage {
            id,
            tenant_id: tenant.clone(),
            idempotency_key: Some(format!(
                "{}recall:{}",
                validate::RESERVED_IDEMPOTENCY_PREFIX,
                original.message_id
            )),
            request_digest: None,
            body: accepted.encode_to_vec(),
            correlation_id: accepted.correlation_id.clone(),
            callback_data: String::new(),
            notify_url: String::new(),
            created_at: now,
            expires_at: accepted.expires_at_ms,
            send_at: None,
        };
        Prepared {
            message,
            push_id: None,
            throttle: None,
        }
    }

    /// Registers the push ids, stores the messages in one transaction, publishes the new ones
    /// that are not scheduled (the relay releases those when due) with a window of acks in flight, and answers each message's id: a repeated idempotency
    /// key answers the first message (whose own request publishes it), unless the request
    /// differs, which is refused. A failed publish leaves the messages to the relay: they are
    /// stored, so the caller's messages are accepted all the same.
    #[tracing::instrument(name = "ingest accept", skip_all, fields(tenant_id = %tenant, count = prepared.len()))]
    pub(crate) async fn accept(
        &self,
        tenant: &TenantId,
        prepared: Vec<Prepared>,
    ) -> Result<Vec<Result<SendResponse>>> {
        let mut messages = Vec::with_capacity(prepared.len());
        let mut push_ids = Vec::new();
        let mut throttles = Vec::with_capacity(prepared.len());
        for Prepared {
            message,
            push_id,
            throttle,
        } in prepared
        {
            push_ids.extend(push_id);
            throttles.push(throttle.map(|t| (t, message.send_at.unwrap_or(message.created_at))));
            messages.push(message);
        }
        self.store.ensure_devices(tenant, &push_ids).await?;
        let stored = self.store.insert_messages(&messages).await?;
        let mut answers = Vec::with_capacity(messages.len());
        let mut publish = Vec::new();
        let mut inserted_count = 0;
        let mut throttled = Vec::new();
        for ((message, inserted), throttle) in messages.into_iter().zip(stored).zip(throttles) {
            let answer = match inserted {
                InsertedMessage::Inserted => {
                    inserted_count += 1;
                    if message.send_at.is_none() {
                        publish.push(Accepted {
                            message_id: message.id.to_string(),
                            body: message.body,
                            due: None,
                        });
                    }
                    if let Some(throttle) = throttle {
                        throttled.push((answers.len(), throttle));
                    }
                    Ok(SendResponse {
                        message_id: message.id.into_string(),
                        duplicate: false,
                        ..Default::default()
                    })
                }
                InsertedMessage::Duplicate {
                    id,
                    request_digest: Some(first),
                } if message.request_digest.as_ref() != Some(&first) => Err(Error::invalid(
                    "idempotency_key",
                    format!("was used for message {id} by a different request"),
                )),
                // The first request publishes it (or, if that never got through, the relay).
                InsertedMessage::Duplicate { id, .. } => Ok(SendResponse {
                    message_id: id.into_string(),
                    duplicate: true,
                    ..Default::default()
                }),
            };
            answers.push(answer);
        }
        herald_telemetry::metrics().accepted(tenant.as_str(), inserted_count);
        let batches = herald_bus::accepted_batches(tenant.as_str(), publish);
        let (outgoing, ids): (Vec<_>, Vec<_>) =
            batches.into_iter().map(|b| (b.out, b.message_ids)).unzip();
        let results = self.bus.publish_all(outgoing).await;
        for (ids, result) in ids.into_iter().zip(results) {
            match result {
                Ok(()) => self
                    .marker
                    .published(tenant, ids.into_iter().map(MessageId::from_trusted)),
                Err(err) => tracing::warn!(%err, "publish failed; the outbox relay will retry"),
            }
        }
        // Counting an audience takes a while: the messages are on their way meanwhile.
        for (at, throttle) in throttled {
            match self.estimate(tenant, throttle).await {
                Ok(estimate) => {
                    if let Some(Ok(answer)) = answers.get_mut(at) {
                        answer.audience_estimate = estimate.audience_estimate;
                        answer.estimated_finish_ms = estimate.estimated_finish_ms;
                    }
                }
                Err(err) => tracing::warn!(%err, "could not estimate a throttled send's finish"),
            }
        }
        tracing::debug!(count = answers.len(), "messages accepted");
        Ok(answers)
    }

    /// The devices a segment's expression matches now.
    pub(crate) async fn segment_size(&self, tenant: &TenantId, expression: &str) -> Result<u64> {
        let expr = herald_core::segments::parse("expression", expression)?;
        let sources = [Source::Segment {
            expr: &expr,
            now: now_ms(),
        }];
        Ok(self.store.audience_size(tenant, &sources).await?)
    }

    /// A throttled fan-out's estimate: its audience's size now, and when the last of its
    /// deliveries will be routed at its pace from `start`.
    async fn estimate(
        &self,
        tenant: &TenantId,
        ((audience, per_minute), start): ((Audience, u32), i64),
    ) -> Result<SendResponse> {
        let size = match &audience {
            Audience::Topic(topic) => {
                let sources = [Source::TopicDevices(topic), Source::TopicUsers(topic)];
                self.store.audience_size(tenant, &sources).await?
            }
            Audience::Segment(name) => {
                let Some(segment) = self.store.get_segment(tenant, name).await? else {
                    return Ok(SendResponse::default());
                };
                self.segment_size(tenant, &segment.expression).await?
            }
            _ => return Ok(SendResponse::default()),
        };
        // The fan-out reads a second's worth a page: the last page starts when its pace lets
        // the devices before it go.
        let step = u64::from((per_minute / 60).max(1));
        let before_last = size.saturating_sub(1) / step * step;
        let ms = u128::from(before_last) * 60_000 / u128::from(per_minute.max(1));
        Ok(SendResponse {
            audience_estimate: size,
            estimated_finish_ms: start.saturating_add(i64::try_from(ms).unwrap_or(i64::MAX)),
            ..Default::default()
        })
    }
}

/// The tenant's policies and the customer's preferences a destination must pass: topic and
/// segment messaging enabled, the topic, segment or customer there, the customer not opted out.
fn policy(known: &Known, audience: &Audience) -> Result<()> {
    let disabled = |what: &str| {
        Error::FailedPrecondition(format!(
            "{what} messaging is disabled for this tenant (its setting {what}_messaging_disabled)"
        ))
    };
    match audience {
        Audience::Topic(_) if known.settings.topic_messaging_disabled => Err(disabled("topic")),
        Audience::Topic(topic) if known.missing_topics.contains(topic) => {
            Err(Error::NotFound(format!("topic {topic:?}")))
        }
        Audience::Segment(_) if known.settings.segment_messaging_disabled => {
            Err(disabled("segment"))
        }
        Audience::Segment(segment) if known.missing_segments.contains(segment) => {
            Err(Error::NotFound(format!("segment {segment:?}")))
        }
        Audience::Customer(customer) => match known.customers.get(customer) {
            None => Err(Error::NotFound(format!("customer {customer:?}"))),
            Some(true) => Err(Error::FailedPrecondition(format!(
                "customer {customer:?} opted out of push notifications (preferences.push_opt_out)"
            ))),
            Some(false) => Ok(()),
        },
        _ => Ok(()),
    }
}

/// The providers the request's destination reaches that would refuse its notification, or the
/// error that refuses it when every one of them would. The destination reaches the platforms of
/// its devices now; one with no device yet could reach any provider by the time it is routed.
fn reachable_refusals(
    req: &SendRequest,
    audience: &Audience,
    known: &Known,
) -> Result<Vec<Refusal>> {
    let reachable: Vec<Provider> = match audience {
        Audience::User(user) => known.user_providers.get(user).cloned().unwrap_or_default(),
        Audience::Device(id) => known
            .device_providers
            .get(id.as_str())
            .map(|p| vec![*p])
            .unwrap_or_default(),
        Audience::PushId { platform, .. } => provider_for(*platform).into_iter().collect(),
        // A topic, a customer or a segment can reach any provider.
        Audience::Topic(_) | Audience::Customer(_) | Audience::Segment(_) => Vec::new(),
    };
    let reachable: Vec<Provider> = ALL_PROVIDERS
        .into_iter()
        .filter(|p| reachable.is_empty() || reachable.contains(p))
        .collect();
    let notification = req.notification.clone().unwrap_or_default();
    limits::judge(&notification, &reachable).map_err(|refused| {
        let reasons: Vec<String> = refused.into_iter().map(|r| r.reason).collect();
        Error::invalid(
            "notification",
            format!(
                "no provider it can reach would take it: {}",
                reasons.join("; ")
            ),
        )
    })
}

/// The device a push id names, once it passed the checks a registration makes.
fn push_id_device(audience: Audience, allow_http: bool) -> Result<Option<DeviceProfile>> {
    let Audience::PushId {
        platform,
        token,
        browser,
        web,
    } = audience
    else {
        return Ok(None);
    };
    const WEB_FIELD: &str = "destination.push_id.web_subscription";
    if let Some(sub) = &web {
        validate::web_subscription(WEB_FIELD, sub, allow_http)?;
    }
    provider_checks(
        platform,
        &token,
        web.as_ref(),
        "destination.push_id.token",
        WEB_FIELD,
    )?;
    let web = web.unwrap_or_default();
    Ok(Some(DeviceProfile {
        platform,
        push_token: token,
        browser: Some(browser).filter(|b| *b != Browser::Unspecified),
        web_p256dh: web.p256dh,
        web_auth: web.auth,
        ..Default::default()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_ignores_the_key_and_sees_everything_else() {
        let req = SendRequest {
            idempotency_key: "k1".into(),
            correlation_id: "c".into(),
            ..Default::default()
        };
        let other_key = SendRequest {
            idempotency_key: "k2".into(),
            ..req.clone()
        };
        let other_content = SendRequest {
            correlation_id: "d".into(),
            ..req.clone()
        };
        assert_eq!(request_digest(&req), request_digest(&other_key));
        assert_ne!(request_digest(&req), request_digest(&other_content));
    }
}
