//! The events API: publish an event (its triggers judged, their notifications sent through the
//! same path as a Send, the event's record kept), read the records, manage triggers (the
//! tenant's own and its changes to the built-in call and message ones), and users' mobile
//! sessions.

use std::collections::HashMap;

use herald_core::crypto::hex;
use herald_core::ids::{EventId, SessionId, TenantId, TriggerId};
use herald_core::time::now_ms;
use herald_core::triggers::{self, Condition, Payload};
use herald_core::{Error, Result, validate};
use herald_proto::v1::events_server::Events;
use herald_proto::v1::*;
use herald_store::{InsertedEvent, SessionRecord};
use prost::Message as _;
use sha2::{Digest as _, Sha256};
use tonic::{Request, Response, Status};

use crate::Api;
use crate::pages::Page;
use crate::sending::Triggered;

/// The most mobile sessions of one user an event reaches (the newest).
const MAX_SESSIONS_REACHED: usize = 20;
/// The most triggers a tenant may have for one event type.
const MAX_TRIGGERS_PER_TYPE: usize = 100;

/// An event as published, checked.
#[derive(Clone, Debug)]
pub(crate) struct EventInput {
    pub event_type: String,
    pub payload: Payload,
    pub destination: Option<Destination>,
    pub idempotency_key: String,
    /// `api` or `wazo`.
    pub source: &'static str,
    /// What a repeat of the idempotency key must match.
    pub digest: String,
}

/// One send a trigger decided on, before it is validated and stored.
struct Planned {
    outcome: usize,
    request: SendRequest,
    triggered: Triggered,
}

fn session(record: SessionRecord) -> MobileSession {
    MobileSession {
        session_id: record.id.into_string(),
        user_id: record.user_id,
        device_id: record.device_id,
        voip_device_id: record.voip_device_id,
        created_at_ms: record.created_at,
    }
}

/// Whether a trigger's notification goes as a VoIP push on iOS.
fn is_voip(t: &Trigger) -> bool {
    t.template
        .as_ref()
        .and_then(|n| n.ios.as_ref())
        .is_some_and(|o| o.push_type() == ApnsPushType::Voip)
}

impl Api {
    /// The triggers of an event type, in id order: the built-in ones (as the tenant changed
    /// them) and the tenant's own.
    async fn triggers_of(&self, tenant: &TenantId, event_type: &str) -> Result<Vec<Trigger>> {
        let mut all = self
            .store
            .list_triggers(tenant, Some(event_type), "", u32::MAX)
            .await?;
        for (id, builtin_type) in triggers::BUILTIN {
            if builtin_type == event_type && !all.iter().any(|t| t.trigger_id == id) {
                all.extend(triggers::builtin(id));
            }
        }
        all.sort_by(|a, b| a.trigger_id.cmp(&b.trigger_id));
        Ok(all)
    }

    /// The page a list of the tenant's asks for, filtered by `filter` (empty: unfiltered), and
    /// the filter.
    fn filtered<'a>(
        &'a self,
        list: &str,
        tenant: &TenantId,
        filter: &'a str,
        page_size: u32,
        page_token: &str,
    ) -> Result<(Page<'a>, Option<&'a str>)> {
        let page = Page::read(
            &self.config.master_key,
            format!("{list}/{tenant}/{filter}"),
            page_size,
            page_token,
        )?;
        Ok((page, Some(filter).filter(|f| !f.is_empty())))
    }

    /// A trigger as the tenant has it: stored, or a built-in one as shipped.
    async fn trigger(&self, tenant: &TenantId, id: &str) -> Result<Trigger> {
        TriggerId::parse("trigger_id", id)?;
        match self.store.get_trigger(tenant, id).await? {
            Some(t) => Ok(t),
            None => triggers::builtin(id).ok_or_else(|| Error::NotFound(format!("trigger {id}"))),
        }
    }

    /// Publishes an event to `triggers` (its type's, or the Wazo endpoint's one): judges each,
    /// sends what they decided, and keeps the record. A repeated idempotency key answers the
    /// first record.
    pub(crate) async fn publish(
        &self,
        tenant: &TenantId,
        input: EventInput,
        triggers: Vec<Trigger>,
    ) -> Result<PublishEventResponse> {
        if !input.idempotency_key.is_empty()
            && let Some((record, digest)) = self
                .store
                .event_by_key(tenant, &input.idempotency_key)
                .await?
        {
            return duplicate(record, &digest, &input.digest);
        }
        let event_id = EventId::generate();
        let event_json = serde_json::to_string(&input.payload).map_err(Error::internal)?;
        let mut outcomes = Vec::with_capacity(triggers.len());
        let mut planned = Vec::new();
        for trigger in &triggers {
            let mut outcome = TriggerOutcome {
                trigger_id: trigger.trigger_id.clone(),
                display_name: trigger.display_name.clone(),
                ..Default::default()
            };
            match self
                .judge(tenant, &input, trigger, &event_id, &event_json)
                .await?
            {
                Ok(sends) => {
                    outcome.matched = true;
                    planned.extend(sends.into_iter().map(|(request, triggered)| Planned {
                        outcome: outcomes.len(),
                        request,
                        triggered,
                    }));
                }
                Err((matched, reason)) => {
                    outcome.matched = matched;
                    outcome.reason = reason;
                }
            }
            outcomes.push(outcome);
        }
        let (requests, triggered): (Vec<_>, Vec<_>) = planned
            .iter()
            .map(|p| (p.request.clone(), p.triggered.clone()))
            .unzip();
        let prepared = self.prepare_triggered(tenant, requests, triggered).await?;
        let mut accepted_for = Vec::new();
        let mut to_accept = Vec::new();
        for (plan, prepared) in planned.iter().zip(prepared) {
            match prepared {
                Ok(p) => {
                    accepted_for.push(plan.outcome);
                    to_accept.push(p);
                }
                Err(err) => note(&mut outcomes[plan.outcome], &err.to_string()),
            }
        }
        let answers = self.accept(tenant, to_accept).await?;
        let mut message_ids = Vec::new();
        for (index, answer) in accepted_for.into_iter().zip(answers) {
            match answer {
                Ok(sent) => {
                    outcomes[index].message_ids.push(sent.message_id.clone());
                    message_ids.push(sent.message_id);
                }
                Err(err) => note(&mut outcomes[index], &err.to_string()),
            }
        }
        let record = EventRecord {
            event_id: event_id.into_string(),
            event_type: input.event_type,
            payload_json: event_json,
            destination: input.destination,
            idempotency_key: input.idempotency_key,
            created_at_ms: now_ms(),
            outcomes,
            message_ids,
            source: input.source.to_owned(),
        };
        match self
            .store
            .insert_event(tenant, &record, &input.digest)
            .await?
        {
            InsertedEvent::Inserted => Ok(PublishEventResponse {
                message_ids: record.message_ids,
                event_id: record.event_id,
                outcomes: record.outcomes,
                duplicate: false,
            }),
            InsertedEvent::Duplicate {
                record,
                request_digest,
            } => duplicate(*record, &request_digest, &input.digest),
        }
    }

    /// What one trigger makes of an event: the sends it decided on, or whether it matched and
    /// why it sends nothing.
    async fn judge(
        &self,
        tenant: &TenantId,
        input: &EventInput,
        trigger: &Trigger,
        event_id: &EventId,
        event_json: &str,
    ) -> Result<Result<Vec<(SendRequest, Triggered)>, (bool, String)>> {
        if !trigger.enabled {
            return Ok(Err((false, "the trigger is disabled".into())));
        }
        let condition = match Condition::compile("condition", &trigger.condition) {
            Ok(c) => c,
            Err(err) => return Ok(Err((false, err.to_string()))),
        };
        if let Some(condition) = condition {
            match condition.holds(&input.event_type, &input.payload) {
                Ok(true) => {}
                Ok(false) => return Ok(Err((false, "the condition is false".into()))),
                Err(reason) => return Ok(Err((false, reason))),
            }
        }
        // The trigger's own destination made from the event; where it has none, or the event
        // lacks what makes it (a built-in's `user_uuid`), the event's own destination.
        let rendered = trigger
            .destination
            .as_ref()
            .map(|d| triggers::render_destination(d, &input.payload));
        let destination = match (rendered, input.destination.as_ref()) {
            (Some(Ok(d)), _) => d,
            (Some(Err(_)) | None, Some(own)) => own.clone(),
            (Some(Err(reason)), None) => return Ok(Err((true, reason))),
            (None, None) => {
                return Ok(Err((
                    true,
                    "no destination: the trigger has none and the event gave none".into(),
                )));
            }
        };
        let triggered = Triggered {
            event_json: event_json.to_owned(),
            providers: trigger.providers.clone(),
        };
        let request = |destination: Destination, part: &str| SendRequest {
            destination: Some(destination),
            notification: trigger.template.clone(),
            idempotency_key: if input.idempotency_key.is_empty() {
                String::new()
            } else {
                // The same event sends the same messages, even when published again after a
                // crash before its record was stored.
                format!(
                    "event:{}",
                    hex(&Sha256::digest(format!(
                        "{}\n{}\n{part}",
                        input.idempotency_key, trigger.trigger_id
                    ))[..16])
                )
            },
            correlation_id: event_id.to_string(),
            class: trigger.class,
            ..Default::default()
        };
        if !trigger.mobile_sessions {
            return Ok(Ok(vec![(request(destination, ""), triggered)]));
        }
        let Some(destination::Kind::UserId(user)) = destination.kind else {
            return Ok(Err((
                true,
                "a mobile-session trigger needs a user destination".into(),
            )));
        };
        if let Err(err) = validate::user_id("destination.user_id", &user) {
            return Ok(Err((true, err.to_string())));
        }
        let sessions = self.live_sessions(tenant, &user).await?;
        if sessions.is_empty() {
            return Ok(Err((
                true,
                format!("user {user:?} has no active mobile session"),
            )));
        }
        let voip = is_voip(trigger);
        let mut sends = Vec::new();
        let mut skipped = Vec::new();
        for (s, platform) in sessions {
            let device = if !voip {
                s.device_id
            } else if !s.voip_device_id.is_empty() {
                s.voip_device_id
            } else if matches!(platform, Platform::Ios | Platform::Macos) {
                // A VoIP push to the app's regular token is refused by APNs.
                skipped.push(format!(
                    "session {} has no PushKit token for a VoIP push",
                    s.id
                ));
                continue;
            } else {
                s.device_id
            };
            let to = Destination {
                kind: Some(destination::Kind::DeviceId(device.clone())),
            };
            sends.push((request(to, &device), triggered.clone()));
        }
        if sends.is_empty() {
            return Ok(Err((true, skipped.join("; "))));
        }
        Ok(Ok(sends))
    }

    /// A user's newest sessions (at most [`MAX_SESSIONS_REACHED`]) whose device is still
    /// active and still the user's (a token registered again for another user leaves the old
    /// user's session behind), with the device's platform; a VoIP device no longer active is
    /// left out of its session.
    async fn live_sessions(
        &self,
        tenant: &TenantId,
        user: &str,
    ) -> Result<Vec<(SessionRecord, Platform)>> {
        let mut sessions = self.store.sessions_of_user(tenant, user).await?;
        if sessions.len() > MAX_SESSIONS_REACHED {
            sessions.drain(..sessions.len() - MAX_SESSIONS_REACHED);
        }
        if sessions.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<&str> = sessions
            .iter()
            .flat_map(|s| [s.device_id.as_str(), s.voip_device_id.as_str()])
            .filter(|id| !id.is_empty())
            .collect();
        let devices: HashMap<String, (bool, Option<String>, Platform)> = self
            .store
            .devices_by_ids(tenant, &ids)
            .await?
            .into_iter()
            .map(|d| {
                let active = d.is_active();
                (
                    d.id.into_string(),
                    (active, d.profile.user_id, d.profile.platform),
                )
            })
            .collect();
        Ok(sessions
            .into_iter()
            .filter_map(|mut s| {
                let (active, owner, platform) = devices.get(&s.device_id)?;
                if !*active || owner.as_deref() != Some(user) {
                    return None;
                }
                if !devices.get(&s.voip_device_id).is_some_and(|(a, _, _)| *a) {
                    s.voip_device_id.clear();
                }
                Some((s, *platform))
            })
            .collect())
    }
}

/// Adds a reason to a trigger's outcome.
fn note(outcome: &mut TriggerOutcome, reason: &str) {
    if !outcome.reason.is_empty() {
        outcome.reason.push_str("; ");
    }
    outcome.reason.push_str(reason);
}

/// The answer to a repeated idempotency key: the first event, if the request is the same.
fn duplicate(record: EventRecord, first: &str, this: &str) -> Result<PublishEventResponse> {
    if first != this {
        return Err(Error::invalid(
            "idempotency_key",
            format!(
                "was used for event {} by a different request",
                record.event_id
            ),
        ));
    }
    Ok(PublishEventResponse {
        message_ids: record.message_ids,
        event_id: record.event_id,
        outcomes: record.outcomes,
        duplicate: true,
    })
}

/// The digest a repeat of an event's idempotency key must match.
pub(crate) fn event_digest(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for part in parts {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    hex(&h.finalize()[..16])
}

/// A trigger's fields that CreateTrigger and UpdateTrigger share, checked.
fn checked(t: Trigger) -> Result<Trigger> {
    triggers::check_trigger(&t)?;
    Ok(t)
}

#[tonic::async_trait]
impl Events for Api {
    #[tracing::instrument(skip_all)]
    async fn publish_event(
        &self,
        request: Request<PublishEventRequest>,
    ) -> Result<Response<PublishEventResponse>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let req = request.into_inner();
        triggers::event_type("event_type", &req.event_type)?;
        let payload = triggers::payload(&req.payload_json, &req.variables)?;
        if req.idempotency_key.len() > validate::MAX_IDEMPOTENCY_KEY_LEN {
            return Err(Error::invalid(
                "idempotency_key",
                format!("at most {} characters", validate::MAX_IDEMPOTENCY_KEY_LEN),
            )
            .into());
        }
        if let Some(d) = &req.destination
            && d.kind.is_none()
        {
            return Err(Error::invalid("destination", "set one kind, or leave it unset").into());
        }
        let mut canonical = req.clone();
        canonical.idempotency_key.clear();
        let digest = event_digest(&[&canonical.encode_to_vec()]);
        let triggers = self.triggers_of(&tenant, &req.event_type).await?;
        let input = EventInput {
            event_type: req.event_type,
            payload,
            destination: req.destination,
            idempotency_key: req.idempotency_key,
            source: "api",
            digest,
        };
        Ok(Response::new(self.publish(&tenant, input, triggers).await?))
    }

    async fn get_event(
        &self,
        request: Request<GetEventRequest>,
    ) -> Result<Response<EventRecord>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let raw = &request.get_ref().event_id;
        let id = EventId::parse("event_id", raw)?;
        let record = self
            .store
            .get_event(&tenant, &id)
            .await
            .map_err(Error::from)?
            .ok_or_else(|| Error::NotFound(format!("event {raw}")))?;
        Ok(Response::new(record))
    }

    async fn list_events(
        &self,
        request: Request<ListEventsRequest>,
    ) -> Result<Response<ListEventsResponse>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let req = request.get_ref();
        if !req.event_type.is_empty() {
            triggers::event_type("event_type", &req.event_type)?;
        }
        let (page, of_type) = self.filtered(
            "events",
            &tenant,
            &req.event_type,
            req.page_size,
            &req.page_token,
        )?;
        let events = self
            .store
            .list_events(
                &tenant,
                of_type,
                page.after.as_deref().unwrap_or(""),
                page.limit,
            )
            .await
            .map_err(Error::from)?;
        Ok(Response::new(ListEventsResponse {
            next_page_token: page.next_token(&events, |e| e.event_id.clone()),
            // The payloads stay out of a list (up to 64 KiB each): GetEvent has them.
            events: events
                .into_iter()
                .map(|e| EventRecord {
                    payload_json: String::new(),
                    ..e
                })
                .collect(),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn create_trigger(
        &self,
        request: Request<CreateTriggerRequest>,
    ) -> Result<Response<Trigger>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let req = request.into_inner();
        let now = now_ms();
        let trigger = checked(Trigger {
            trigger_id: TriggerId::generate().into_string(),
            display_name: req.display_name,
            event_type: req.event_type,
            condition: req.condition,
            template: req.template,
            providers: req.providers,
            enabled: !req.disabled,
            destination: req.destination,
            mobile_sessions: req.mobile_sessions,
            builtin: false,
            created_at_ms: now,
            updated_at_ms: now,
            class: req.class,
        })?;
        let existing = self
            .store
            .list_triggers(
                &tenant,
                Some(&trigger.event_type),
                "",
                MAX_TRIGGERS_PER_TYPE as u32,
            )
            .await
            .map_err(Error::from)?;
        if existing.len() >= MAX_TRIGGERS_PER_TYPE {
            return Err(Error::FailedPrecondition(format!(
                "the tenant has {MAX_TRIGGERS_PER_TYPE} triggers of {:?}, the most it may have",
                trigger.event_type
            ))
            .into());
        }
        self.store
            .put_trigger(&tenant, &trigger)
            .await
            .map_err(Error::from)?;
        Ok(Response::new(trigger))
    }

    #[tracing::instrument(skip_all)]
    async fn update_trigger(
        &self,
        request: Request<UpdateTriggerRequest>,
    ) -> Result<Response<Trigger>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let req = request.into_inner();
        let mut t = self.trigger(&tenant, &req.trigger_id).await?;
        if let Some(v) = req.display_name {
            t.display_name = v;
        }
        if let Some(v) = req.event_type {
            if t.builtin && v != t.event_type {
                return Err(Error::invalid(
                    "event_type",
                    "a built-in trigger keeps its event type",
                )
                .into());
            }
            t.event_type = v;
        }
        if let Some(v) = req.condition {
            t.condition = v;
        }
        if req.template.is_some() {
            t.template = req.template;
        }
        if let Some(c) = req.channels {
            t.providers = c.providers;
        }
        if req.destination.is_some() {
            t.destination = req.destination;
        }
        if let Some(v) = req.mobile_sessions {
            t.mobile_sessions = v;
        }
        if let Some(v) = req.enabled {
            t.enabled = v;
        }
        if req.class != MessageClass::Unspecified as i32 {
            t.class = req.class;
        }
        t.updated_at_ms = now_ms();
        if t.created_at_ms == 0 {
            t.created_at_ms = t.updated_at_ms;
        }
        let t = checked(t)?;
        self.store
            .put_trigger(&tenant, &t)
            .await
            .map_err(Error::from)?;
        Ok(Response::new(t))
    }

    async fn get_trigger(
        &self,
        request: Request<GetTriggerRequest>,
    ) -> Result<Response<Trigger>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        Ok(Response::new(
            self.trigger(&tenant, &request.get_ref().trigger_id).await?,
        ))
    }

    #[tracing::instrument(skip_all)]
    async fn delete_trigger(
        &self,
        request: Request<DeleteTriggerRequest>,
    ) -> Result<Response<DeleteTriggerResponse>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let id = &request.get_ref().trigger_id;
        TriggerId::parse("trigger_id", id)?;
        let deleted = self
            .store
            .delete_trigger(&tenant, id)
            .await
            .map_err(Error::from)?;
        if !deleted && !triggers::is_builtin_id(id) {
            return Err(Error::NotFound(format!("trigger {id}")).into());
        }
        Ok(Response::new(DeleteTriggerResponse {}))
    }

    async fn list_triggers(
        &self,
        request: Request<ListTriggersRequest>,
    ) -> Result<Response<ListTriggersResponse>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let req = request.get_ref();
        if !req.event_type.is_empty() {
            triggers::event_type("event_type", &req.event_type)?;
        }
        let (page, of_type) = self.filtered(
            "triggers",
            &tenant,
            &req.event_type,
            req.page_size,
            &req.page_token,
        )?;
        let after = page.after.clone().unwrap_or_default();
        let mut all = self
            .store
            .list_triggers(&tenant, of_type, &after, page.limit)
            .await
            .map_err(Error::from)?;
        // The built-in ones the tenant has not changed, merged in id order.
        for (id, event_type) in triggers::BUILTIN {
            if id > after.as_str()
                && of_type.is_none_or(|t| t == event_type)
                && self
                    .store
                    .get_trigger(&tenant, id)
                    .await
                    .map_err(Error::from)?
                    .is_none()
            {
                all.extend(triggers::builtin(id));
            }
        }
        all.sort_by(|a, b| a.trigger_id.cmp(&b.trigger_id));
        all.truncate(page.limit as usize);
        Ok(Response::new(ListTriggersResponse {
            next_page_token: page.next_token(&all, |t| t.trigger_id.clone()),
            triggers: all,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn start_mobile_session(
        &self,
        request: Request<StartMobileSessionRequest>,
    ) -> Result<Response<MobileSession>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let req = request.into_inner();
        validate::user_id("user_id", &req.user_id)?;
        if req.user_id.is_empty() {
            return Err(Error::invalid("user_id", "required").into());
        }
        let mut device = req
            .device
            .ok_or_else(|| Error::invalid("device", "required"))?;
        device.user_id.clone_from(&req.user_id);
        let voip = if req.voip_token.is_empty() {
            None
        } else {
            if device.platform() != Platform::Ios {
                return Err(Error::invalid(
                    "voip_token",
                    "only an iOS app has a PushKit VoIP token",
                )
                .into());
            }
            // The VoIP token is a device of no user: only the session's VoIP pushes reach it.
            Some(RegisterDeviceRequest {
                user_id: String::new(),
                customer_id: String::new(),
                platform: device.platform,
                push_token: req.voip_token,
                browser: 0,
                web_subscription: None,
                sandbox: device.sandbox,
                app_version: device.app_version.clone(),
                locale: device.locale.clone(),
                time_zone: device.time_zone.clone(),
            })
        };
        let registered = self
            .register(&tenant, &device, false)
            .await
            .map_err(|err| err.within("device"))?;
        let voip_device = match voip {
            Some(v) => self
                .register(&tenant, &v, false)
                .await
                .map_err(|err| match err {
                    Error::InvalidArgument { reason, .. } => Error::invalid("voip_token", reason),
                    other => other,
                })?
                .device
                .map(|d| d.device_id)
                .unwrap_or_default(),
            None => String::new(),
        };
        let device_id = registered.device.map(|d| d.device_id).unwrap_or_default();
        let record = self
            .store
            .start_session(&tenant, &req.user_id, &device_id, &voip_device)
            .await
            .map_err(Error::from)?;
        Ok(Response::new(session(record)))
    }

    #[tracing::instrument(skip_all)]
    async fn end_mobile_session(
        &self,
        request: Request<EndMobileSessionRequest>,
    ) -> Result<Response<EndMobileSessionResponse>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let raw = &request.get_ref().session_id;
        let id = SessionId::parse("session_id", raw)?;
        if !self
            .store
            .end_session(&tenant, &id)
            .await
            .map_err(Error::from)?
        {
            return Err(Error::NotFound(format!("mobile session {raw}")).into());
        }
        Ok(Response::new(EndMobileSessionResponse {}))
    }

    async fn list_mobile_sessions(
        &self,
        request: Request<ListMobileSessionsRequest>,
    ) -> Result<Response<ListMobileSessionsResponse>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let req = request.get_ref();
        if !req.user_id.is_empty() {
            validate::user_id("user_id", &req.user_id)?;
        }
        let (page, of_user) = self.filtered(
            "sessions",
            &tenant,
            &req.user_id,
            req.page_size,
            &req.page_token,
        )?;
        let records = self
            .store
            .list_sessions(
                &tenant,
                of_user,
                page.after.as_deref().unwrap_or(""),
                page.limit,
            )
            .await
            .map_err(Error::from)?;
        Ok(Response::new(ListMobileSessionsResponse {
            next_page_token: page.next_token(&records, |s| s.id.to_string()),
            sessions: records.into_iter().map(session).collect(),
        }))
    }
}
