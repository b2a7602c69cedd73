//! What a notification's unset options mean: priority 0 is the default (3, normal on Herald's
//! 1–5 scale) and a time to live of 0 is the longest Herald keeps a notification.

use herald_proto::v1::Notification;

use crate::validate::MAX_TTL_SECONDS;

/// Priority on Herald's 1–5 scale (the seeds' scale; 0 in a request means "normal", 3).
pub fn effective_priority(requested: u32) -> u32 {
    if requested == 0 { 3 } else { requested }
}

/// The time to live in seconds, defaulting to the providers' maximum (28 days).
pub fn effective_ttl(notification: &Notification) -> u32 {
    if notification.ttl_seconds == 0 {
        MAX_TTL_SECONDS
    } else {
        notification.ttl_seconds
    }
}
