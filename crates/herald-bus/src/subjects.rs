//! Subject names. Every subject ends with the tenant id, so a deployment can scope permissions
//! and metrics per tenant.

pub const INGEST_ALL: &str = "herald.ingest.>";
pub const SEND_ALL: &str = "herald.send.>";
pub const RECEIPT_ALL: &str = "herald.receipt.>";

/// Accepted messages of a tenant (ingest → router).
pub fn ingest(tenant: &str) -> String {
    format!("herald.ingest.{tenant}")
}

/// Send tasks for one provider (router → sender-<provider>).
pub fn send(provider: &str, tenant: &str) -> String {
    format!("herald.send.{provider}.{tenant}")
}

/// The filter of one provider's sender consumer.
pub fn send_filter(provider: &str) -> String {
    format!("herald.send.{provider}.>")
}

/// Receipts of a tenant (senders and device reports → receipt).
pub fn receipt(tenant: &str) -> String {
    format!("herald.receipt.{tenant}")
}
