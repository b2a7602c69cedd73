//! The JSON an endpoint receives for an event, Standard Webhooks' shape:
//! `{"type": "delivery.delivered", "timestamp": "<RFC 3339>", "data": {...}}`, and the event's
//! id (the `webhook-id` header), stable per delivery and status so a receiver can drop repeats.

use herald_core::names::Named as _;
use herald_proto::bus::v1::{DeliveryEvent, EventKind, WebhookJob};
use herald_proto::v1::{DeliveryStatus, DeviceEventKind, Provider, WebhookEvent};
use serde_json::json;

/// The webhook event a delivery status is reported as (none for `queued`).
pub fn of_status(status: DeliveryStatus) -> Option<WebhookEvent> {
    Some(match status {
        DeliveryStatus::Submitted => WebhookEvent::DeliverySubmitted,
        DeliveryStatus::Delivered => WebhookEvent::DeliveryDelivered,
        DeliveryStatus::Read => WebhookEvent::DeliveryRead,
        DeliveryStatus::Failed => WebhookEvent::DeliveryFailed,
        DeliveryStatus::Expired => WebhookEvent::DeliveryExpired,
        DeliveryStatus::Cancelled => WebhookEvent::DeliveryCancelled,
        DeliveryStatus::Queued | DeliveryStatus::Unspecified => return None,
    })
}

/// The `webhook-id` of a delivery's report at a status.
pub fn event_id(delivery_id: &str, status: DeliveryStatus) -> String {
    id_of(&[delivery_id, status.name()])
}

/// An event id: a digest of what names the event.
fn id_of(parts: &[&str]) -> String {
    use ring::digest;
    let mut context = digest::Context::new(&digest::SHA256);
    for part in parts {
        context.update(part.as_bytes());
        context.update(&[0]);
    }
    format!(
        "evt_{}",
        herald_core::crypto::hex(&context.finish().as_ref()[..12])
    )
}

/// A delivery event as an endpoint receives it: its type, id and JSON body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub event: WebhookEvent,
    pub id: String,
    pub body: Vec<u8>,
}

impl Rendered {
    /// Whether an endpoint that chose `events` (and `provider`, if any) wants this event of a
    /// delivery through `through`.
    pub fn wanted(
        &self,
        events: &[WebhookEvent],
        provider: Option<Provider>,
        through: Provider,
    ) -> bool {
        events.contains(&self.event) && provider.is_none_or(|p| p == through)
    }

    /// The job that posts this event to one endpoint.
    pub fn job(&self, tenant: &str, webhook: &str, message_id: &str) -> WebhookJob {
        WebhookJob {
            tenant_id: tenant.to_owned(),
            webhook_id: webhook.to_owned(),
            event_id: self.id.clone(),
            event: self.event.into(),
            message_id: message_id.to_owned(),
            body: self.body.clone(),
            notify_url: String::new(),
        }
    }
}

/// The body of `event`, or `None` when it is not reported (a `queued` status). A device's
/// retirement is `device.inactive` (one per device), a tap `interaction` (one per delivery and
/// button), each with the delivery it came with.
pub fn render(event: &DeliveryEvent) -> Option<Rendered> {
    let delivery = event.delivery.as_ref()?;
    let status = delivery.status();
    let tap = event.interaction.as_ref();
    let (kind, id, at_ms) = match event.kind() {
        EventKind::Status => (
            of_status(status)?,
            event_id(&delivery.delivery_id, status),
            delivery.updated_at_ms,
        ),
        EventKind::DeviceRetired => (
            WebhookEvent::DeviceInactive,
            id_of(&[&delivery.device_id, "inactive"]),
            delivery.updated_at_ms,
        ),
        EventKind::Interaction => {
            let tap = tap?;
            (
                WebhookEvent::Interaction,
                id_of(&[
                    &delivery.delivery_id,
                    "interaction",
                    action(tap.kind()),
                    &tap.button,
                ]),
                tap.at_ms,
            )
        }
    };
    let mut data = json!({
        "message_id": event.message_id,
        "delivery_id": delivery.delivery_id,
        "device_id": delivery.device_id,
        "provider": delivery.provider().name(),
        "status": status.name(),
        "reason": delivery.reason,
        "provider_message_id": delivery.provider_message_id,
        "attempts": delivery.attempts,
        "correlation_id": event.correlation_id,
        "callback_data": event.callback_data,
    });
    if let (WebhookEvent::Interaction, Some(tap)) = (kind, tap) {
        data["action"] = json!(action(tap.kind()));
        data["button"] = json!(tap.button);
    }
    let body = json!({
        "type": kind.name(),
        "timestamp": herald_core::time::rfc3339(at_ms),
        "data": data,
    });
    Some(Rendered {
        event: kind,
        id,
        body: serde_json::to_vec(&body).expect("JSON values serialize"),
    })
}

/// How an interaction is spelled in its body.
fn action(kind: DeviceEventKind) -> &'static str {
    match kind {
        DeviceEventKind::Button => "button",
        _ => "clicked",
    }
}

/// The event that tells a tenant's other endpoints that Herald disabled one.
pub fn disabled(webhook_id: &str, url: &str, reason: &str, at_ms: i64) -> Rendered {
    let body = json!({
        "type": WebhookEvent::WebhookDisabled.name(),
        "timestamp": herald_core::time::rfc3339(at_ms),
        "data": {"webhook_id": webhook_id, "url": url, "reason": reason},
    });
    Rendered {
        event: WebhookEvent::WebhookDisabled,
        id: id_of(&[webhook_id, "disabled", &at_ms.to_string()]),
        body: serde_json::to_vec(&body).expect("JSON values serialize"),
    }
}

/// The body of the test call made when an endpoint is created or its URL changes.
pub fn test_body(webhook_id: &str, at_ms: i64) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "type": "webhook.test",
        "timestamp": herald_core::time::rfc3339(at_ms),
        "data": {"webhook_id": webhook_id},
    }))
    .expect("JSON values serialize")
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_proto::v1::{Delivery, Provider};

    #[test]
    fn a_delivery_event_renders_with_its_context() {
        let event = DeliveryEvent {
            tenant_id: "ten_1".into(),
            message_id: "msg_1".into(),
            delivery: Some(Delivery {
                delivery_id: "dlv_1".into(),
                device_id: "dev_1".into(),
                provider: Provider::Apns.into(),
                status: DeliveryStatus::Failed.into(),
                reason: "BadDeviceToken".into(),
                provider_message_id: String::new(),
                attempts: 1,
                updated_at_ms: 1_700_000_000_000,
            }),
            correlation_id: "order-7".into(),
            callback_data: "cb".into(),
            ..Default::default()
        };
        let rendered = render(&event).unwrap();
        assert_eq!(rendered.event, WebhookEvent::DeliveryFailed);
        assert_eq!(rendered.id, event_id("dlv_1", DeliveryStatus::Failed));
        let body: serde_json::Value = serde_json::from_slice(&rendered.body).unwrap();
        assert_eq!(body["type"], "delivery.failed");
        assert_eq!(body["timestamp"], "2023-11-14T22:13:20Z");
        assert_eq!(body["data"]["reason"], "BadDeviceToken");
        assert_eq!(body["data"]["provider"], "apns");
        assert_eq!(body["data"]["correlation_id"], "order-7");
        assert_eq!(body["data"]["callback_data"], "cb");
    }

    #[test]
    fn retirements_and_taps_have_their_own_types_and_ids() {
        let status = DeliveryEvent {
            tenant_id: "ten_1".into(),
            message_id: "msg_1".into(),
            delivery: Some(Delivery {
                delivery_id: "dlv_1".into(),
                device_id: "dev_1".into(),
                status: DeliveryStatus::Read.into(),
                updated_at_ms: 1_000,
                ..Default::default()
            }),
            ..Default::default()
        };
        let retired = render(&DeliveryEvent {
            kind: EventKind::DeviceRetired.into(),
            ..status.clone()
        })
        .unwrap();
        assert_eq!(retired.event, WebhookEvent::DeviceInactive);
        let tap = |kind: DeviceEventKind, button: &str| {
            render(&DeliveryEvent {
                kind: EventKind::Interaction.into(),
                interaction: Some(herald_proto::bus::v1::Interaction {
                    kind: kind.into(),
                    button: button.into(),
                    at_ms: 2_000,
                }),
                ..status.clone()
            })
            .unwrap()
        };
        let (clicked, reply) = (
            tap(DeviceEventKind::Clicked, ""),
            tap(DeviceEventKind::Button, "reply"),
        );
        let body: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
        assert_eq!(body["type"], "interaction");
        assert_eq!(body["data"]["action"], "button");
        assert_eq!(body["data"]["button"], "reply");
        assert_eq!(body["timestamp"], "1970-01-01T00:00:02Z");
        let read = render(&status).unwrap();
        let ids = [read.id, retired.id, clicked.id, reply.id];
        for (i, a) in ids.iter().enumerate() {
            assert!(ids[i + 1..].iter().all(|b| a != b), "{ids:?}");
        }
        // An interaction without its tap is not reported.
        assert!(
            render(&DeliveryEvent {
                kind: EventKind::Interaction.into(),
                ..status
            })
            .is_none()
        );
    }

    #[test]
    fn ids_differ_by_status_and_queued_is_not_reported() {
        assert_ne!(
            event_id("dlv_1", DeliveryStatus::Submitted),
            event_id("dlv_1", DeliveryStatus::Delivered)
        );
        assert_eq!(of_status(DeliveryStatus::Queued), None);
    }
}
