//! Subject names. Every subject ends with the tenant id, so a deployment can scope permissions
//! and metrics per tenant; a provider is spelled as `herald_core::names` spells it.

use herald_core::names::Named as _;
use herald_proto::v1::Provider;

pub const INGEST_ALL: &str = "herald.ingest.>";
pub const SEND_ALL: &str = "herald.send.>";
pub const RECEIPT_ALL: &str = "herald.receipt.>";

/// Accepted messages of a tenant (ingest → router).
pub fn ingest(tenant: &str) -> String {
    format!("herald.ingest.{tenant}")
}

pub const URGENT_ALL: &str = "herald.urgent.>";

/// The router's filter of urgent accepted messages.
pub const URGENT_INGEST_ALL: &str = "herald.urgent.ingest.>";

/// Accepted transactional messages of a tenant (ingest → router), ahead of every other.
pub fn urgent_ingest(tenant: &str) -> String {
    format!("herald.urgent.ingest.{tenant}")
}

/// Send tasks of transactional messages for one provider (router → sender-<provider>-urgent).
pub fn urgent_send(provider: Provider, tenant: &str) -> String {
    format!("herald.urgent.send.{}.{tenant}", provider.name())
}

/// The filter of one provider's urgent-lane consumer.
pub fn urgent_send_filter(provider: Provider) -> String {
    format!("herald.urgent.send.{}.>", provider.name())
}

/// Send tasks for one provider (router → sender-<provider>).
pub fn send(provider: Provider, tenant: &str) -> String {
    format!("herald.send.{}.{tenant}", provider.name())
}

/// The filter of one provider's sender consumer.
pub fn send_filter(provider: Provider) -> String {
    format!("herald.send.{}.>", provider.name())
}

pub const BULK_ALL: &str = "herald.bulk.>";

/// Send tasks of large audiences for one provider (router → sender-<provider>-bulk): a lane of
/// their own, so a campaign never queues ahead of another send.
pub fn bulk(provider: Provider, tenant: &str) -> String {
    format!("herald.bulk.{}.{tenant}", provider.name())
}

/// Every provider's bulk-lane tasks of one tenant.
pub fn bulk_of_tenant(tenant: &str) -> String {
    format!("herald.bulk.*.{tenant}")
}

/// The filter of one provider's bulk-lane consumer.
pub fn bulk_filter(provider: Provider) -> String {
    format!("herald.bulk.{}.>", provider.name())
}

/// Receipts of a tenant (senders and device reports → receipt).
pub fn receipt(tenant: &str) -> String {
    format!("herald.receipt.{tenant}")
}

pub const EVENT_ALL: &str = "herald.event.>";

/// Delivery events of one message (receipt → watchers); the message id comes first so one
/// message's events can be read alone.
pub fn event(message: &str, tenant: &str) -> String {
    format!("herald.event.{message}.{tenant}")
}

pub const WEBHOOK_ALL: &str = "herald.webhook.>";

/// Events to post to a tenant's webhook endpoints, one per endpoint (webhook fan-out → dispatch).
pub fn webhook(tenant: &str) -> String {
    format!("herald.webhook.{tenant}")
}

pub const DEAD_ALL: &str = "herald.dead.>";

/// Dead letters of a tenant: what a service could not handle, parked with the reason.
pub fn dead(tenant: &str) -> String {
    format!("herald.dead.{tenant}")
}

/// The tenant a subject belongs to: its last token.
pub fn tenant_of(subject: &str) -> &str {
    subject.rsplit('.').next().unwrap_or_default()
}

/// Announced (core NATS, to every ingest replica) when an API key is revoked; the payload is
/// the key's id.
pub const API_KEY_REVOKED: &str = "herald.control.api_key_revoked";

/// Announced (core NATS, to every webhook dispatcher) when a tenant's webhook endpoints change;
/// the payload is the tenant's id. Dispatchers read that tenant's endpoints again.
pub const WEBHOOKS_CHANGED: &str = "herald.control.webhooks_changed";

/// Announced (core NATS, to every sender) when a message is recalled; the payload is
/// `<tenant id> <message id>`. A sender holding one of its deliveries does not hand it to its
/// provider after that (the recalled claim in the database settles the rest).
pub const MESSAGE_RECALLED: &str = "herald.control.message_recalled";
