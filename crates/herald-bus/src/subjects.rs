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

/// Send tasks for one provider (router → sender-<provider>).
pub fn send(provider: Provider, tenant: &str) -> String {
    format!("herald.send.{}.{tenant}", provider.name())
}

/// The filter of one provider's sender consumer.
pub fn send_filter(provider: Provider) -> String {
    format!("herald.send.{}.>", provider.name())
}

/// Receipts of a tenant (senders and device reports → receipt).
pub fn receipt(tenant: &str) -> String {
    format!("herald.receipt.{tenant}")
}
