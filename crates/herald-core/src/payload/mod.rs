//! Provider payload mapping: what each provider receives for a notification. Pure functions, so
//! ingest can check a provider's size limit with the exact bytes its sender would send.

pub mod fcm;

use herald_proto::v1::Notification;

/// Data keys Herald adds to every push so the app's SDK can report back.
pub const DELIVERY_ID_KEY: &str = "herald_delivery_id";
pub const MESSAGE_ID_KEY: &str = "herald_message_id";

/// Priority on Herald's 1–5 scale (the seeds' scale; 0 in a request means "normal", 3).
pub fn effective_priority(requested: u32) -> u32 {
    if requested == 0 { 3 } else { requested }
}

/// The time to live in seconds, defaulting to the providers' maximum (28 days).
pub fn effective_ttl(notification: &Notification) -> u32 {
    if notification.ttl_seconds == 0 {
        crate::validate::MAX_TTL_SECONDS
    } else {
        notification.ttl_seconds
    }
}
