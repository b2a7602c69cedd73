//! Sending notifications and reading back their deliveries.

use std::pin::Pin;

use herald_bus::Accepted;
use herald_core::ids::{DeliveryId, MessageId, TenantId};
use herald_core::time::now_ms;
use herald_core::validate::Audience;
use herald_core::{Error, Result, options, validate};
use herald_proto::bus::v1::{DeliveryReceipt, MessageAccepted, Outcome};
use herald_proto::v1::notifications_server::Notifications;
use herald_proto::v1::*;
use herald_store::{DeviceProfile, InsertedMessage, NewMessage};
use prost::Message as _;
use tonic::{Request, Response, Status};

use crate::Api;
use crate::convert::{delivery, message};
use crate::devices::provider_checks;

/// The most notifications one SendBatch may carry.
const MAX_BATCH: usize = 500;

/// A validated `Send`: the message to store, and the device its push id names, if it has one
/// (registered before the message is stored, so the router only reads devices).
#[derive(Clone, Debug)]
struct Prepared {
    message: NewMessage,
    push_id: Option<DeviceProfile>,
}

/// Whether a request sends to a web push id, whose endpoint the tenant's settings judge.
fn to_web_push_id(req: &SendRequest) -> bool {
    matches!(
        req.destination.as_ref().and_then(|d| d.kind.as_ref()),
        Some(destination::Kind::PushId(push)) if push.platform() == Platform::Web
    )
}

impl Api {
    /// Validates one notification and builds the message to store; `allow_http` is the
    /// tenant's setting for web push ids.
    fn prepare(&self, tenant: &TenantId, req: SendRequest, allow_http: bool) -> Result<Prepared> {
        let push_id = match validate::send_request(&req)? {
            Audience::PushId {
                platform,
                token,
                browser,
                web,
            } => {
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
                Some(DeviceProfile {
                    platform,
                    push_token: token,
                    browser: Some(browser).filter(|b| *b != Browser::Unspecified),
                    web_p256dh: web.p256dh,
                    web_auth: web.auth,
                    ..Default::default()
                })
            }
            _ => None,
        };
        let notification = req.notification.unwrap_or_default();
        provider_limits(&notification)?;
        let now = now_ms();
        let id = MessageId::generate();
        let ttl_ms = i64::from(options::effective_ttl(&notification)) * 1000;
        let accepted = MessageAccepted {
            tenant_id: tenant.to_string(),
            message_id: id.to_string(),
            destination: req.destination,
            notification: Some(notification),
            correlation_id: req.correlation_id,
            accepted_at_ms: now,
            expires_at_ms: now + ttl_ms,
            refusals: Vec::new(),
        };
        let message = NewMessage {
            id,
            tenant_id: tenant.clone(),
            idempotency_key: (!req.idempotency_key.is_empty()).then_some(req.idempotency_key),
            body: accepted.encode_to_vec(),
            callback_data: req.callback_data,
            notify_url: req.notify_url.trim_end().to_owned(),
            created_at: now,
            expires_at: accepted.expires_at_ms,
        };
        Ok(Prepared { message, push_id })
    }

    /// Validates a call's requests, each on its own; the tenant's settings are read only when a
    /// request needs them.
    async fn prepare_all(
        &self,
        tenant: &TenantId,
        requests: Vec<SendRequest>,
    ) -> Result<Vec<Result<Prepared>>> {
        let allow_http =
            requests.iter().any(to_web_push_id) && self.allows_http_web_push(tenant).await?;
        Ok(requests
            .into_iter()
            .map(|req| self.prepare(tenant, req, allow_http))
            .collect())
    }

    /// Stores prepared messages in one transaction, publishes the new ones (and repeats whose
    /// first publish never got acknowledged) with a window of acks in flight, and answers each
    /// message's id. A failed publish leaves the messages to the relay: they are stored, so the
    /// caller's messages are accepted all the same.
    #[tracing::instrument(skip_all, fields(tenant_id = %tenant, count = prepared.len()))]
    async fn accept(
        &self,
        tenant: &TenantId,
        prepared: Vec<Prepared>,
    ) -> Result<Vec<SendResponse>> {
        let mut messages = Vec::with_capacity(prepared.len());
        for Prepared { message, push_id } in prepared {
            if let Some(device) = push_id {
                self.store.ensure_device(tenant, &device).await?;
            }
            messages.push(message);
        }
        let stored = self.store.insert_messages(&messages).await?;
        let mut responses = Vec::with_capacity(messages.len());
        let mut publish = Vec::new();
        let mut ids = Vec::new();
        for (message, inserted) in messages.into_iter().zip(stored) {
            let (id, duplicate, unpublished) = match inserted {
                InsertedMessage::Inserted => (message.id, false, Some(message.body)),
                InsertedMessage::Duplicate {
                    id,
                    published,
                    body,
                } => (id, true, (!published).then_some(body)),
            };
            if let Some(body) = unpublished {
                publish.push(Accepted {
                    message_id: id.to_string(),
                    body,
                });
                ids.push(id.clone());
            }
            responses.push(SendResponse {
                message_id: id.into_string(),
                duplicate,
            });
        }
        let publish = herald_bus::accepted_batches(tenant.as_str(), publish);
        match self.bus.publish_all(publish).await {
            Ok(()) => self.marker.published(tenant, ids),
            Err(err) => tracing::warn!(%err, "publish failed; the outbox relay will retry"),
        }
        tracing::debug!(count = responses.len(), "messages accepted");
        Ok(responses)
    }
}

/// Checks a notification against the limits of the providers it can reach: a VoIP push is an
/// iOS call notification, which only APNs (with its larger VoIP limit) carries.
fn provider_limits(n: &Notification) -> Result<()> {
    let providers: &[Provider] = if herald_providers::apns::payload::is_voip(n) {
        &[Provider::Apns]
    } else {
        &[
            Provider::Fcm,
            Provider::Hms,
            Provider::Apns,
            Provider::Webpush,
        ]
    };
    for provider in providers {
        herald_providers::limits::check(*provider, n)
            .map_err(|refusal| Error::invalid("notification", refusal.reason))?;
    }
    Ok(())
}

type UpdateStream = Pin<Box<dyn futures::Stream<Item = Result<DeliveryUpdate, Status>> + Send>>;

#[tonic::async_trait]
impl Notifications for Api {
    async fn send(&self, request: Request<SendRequest>) -> Result<Response<SendResponse>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let mut prepared = self
            .prepare_all(&tenant, vec![request.into_inner()])
            .await?;
        let message = prepared.pop().expect("one per request")?;
        let mut accepted = self.accept(&tenant, vec![message]).await?;
        Ok(Response::new(
            accepted.pop().expect("one answer per message"),
        ))
    }

    async fn send_batch(
        &self,
        request: Request<SendBatchRequest>,
    ) -> Result<Response<SendBatchResponse>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let requests = request.into_inner().requests;
        if requests.len() > MAX_BATCH {
            return Err(
                Error::invalid("requests", format!("at most {MAX_BATCH} per batch")).into(),
            );
        }
        // Validate each; store and publish the valid ones together; answer in request order.
        let prepared = self.prepare_all(&tenant, requests).await?;
        let valid: Vec<Prepared> = prepared
            .iter()
            .filter_map(|p| p.as_ref().ok().cloned())
            .collect();
        let mut accepted = self.accept(&tenant, valid).await?.into_iter();
        let results = prepared
            .into_iter()
            .enumerate()
            .map(|(i, p)| {
                let result = match p {
                    Ok(_) => send_batch_result::Result::Accepted(
                        accepted.next().expect("one answer per valid message"),
                    ),
                    Err(err) => send_batch_result::Result::Error(format!("requests[{i}].{err}")),
                };
                SendBatchResult {
                    result: Some(result),
                }
            })
            .collect();
        Ok(Response::new(SendBatchResponse { results }))
    }

    async fn get_message(
        &self,
        request: Request<GetMessageRequest>,
    ) -> Result<Response<GetMessageResponse>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let id = MessageId::parse("message_id", &request.get_ref().message_id)?;
        let record = self
            .store
            .get_message(&tenant, &id)
            .await
            .map_err(Error::from)?
            .ok_or_else(|| Error::NotFound(format!("message {id}")))?;
        let accepted = MessageAccepted::decode(record.body.as_slice()).map_err(Error::internal)?;
        let deliveries = self
            .store
            .deliveries_of_message(&tenant, &id)
            .await
            .map_err(Error::from)?;
        Ok(Response::new(GetMessageResponse {
            message: Some(message(record, accepted)),
            deliveries: deliveries.into_iter().map(delivery).collect(),
        }))
    }

    type WatchMessageStream = UpdateStream;

    async fn watch_message(
        &self,
        _request: Request<WatchMessageRequest>,
    ) -> Result<Response<Self::WatchMessageStream>, Status> {
        Err(Error::Unimplemented("WatchMessage".into()).into())
    }

    #[tracing::instrument(skip_all)]
    async fn report_delivery_event(
        &self,
        request: Request<ReportDeliveryEventRequest>,
    ) -> Result<Response<ReportDeliveryEventResponse>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let req = request.get_ref();
        let id = DeliveryId::parse("delivery_id", &req.delivery_id)?;
        let outcome = match req.kind() {
            DeviceEventKind::Delivered => Outcome::Delivered,
            // A tap or a button press means the user saw it.
            DeviceEventKind::Read | DeviceEventKind::Clicked | DeviceEventKind::Button => {
                Outcome::Read
            }
            DeviceEventKind::Unspecified => return Err(Error::invalid("kind", "required").into()),
        };
        let record = self
            .store
            .get_delivery(&tenant, &id)
            .await
            .map_err(Error::from)?
            .ok_or_else(|| Error::NotFound(format!("delivery {id}")))?;
        let receipt = DeliveryReceipt {
            tenant_id: tenant.to_string(),
            message_id: record.message_id.to_string(),
            delivery_id: id.to_string(),
            device_id: record.device_id.to_string(),
            provider: record.provider as i32,
            outcome: outcome as i32,
            reason: String::new(),
            provider_message_id: String::new(),
            attempts: 0,
            at_ms: if req.at_ms > 0 { req.at_ms } else { now_ms() },
        };
        self.bus
            .publish_all(herald_bus::receipt_batches(vec![receipt]))
            .await
            .map_err(Error::from)?;
        Ok(Response::new(ReportDeliveryEventResponse {}))
    }
}
