//! Herald's test kit: real dependencies started per test (a private nats-server, a fresh
//! database) and mock providers that speak each provider's documented protocol over HTTP/2 and
//! TLS, check requests the way the real service does, and can be scripted to fail.
#![forbid(unsafe_code)]

pub mod apns;
pub mod db;
pub mod fcm;
pub mod hms;
pub mod mock;
pub mod mocks;
pub mod nats;
pub mod process;
pub mod tls;
pub mod webhook;
pub mod webpush;

/// Seconds since the Unix epoch.
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}
