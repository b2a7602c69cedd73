//! Apple Push Notification service over HTTP/2, with token (.p8) or certificate (.p12 / PEM)
//! authentication. Herald's own transport, since `a2`'s client only targets Apple's hosts.

mod auth;
mod client;
mod errors;
pub mod limits;
pub mod payload;

pub use client::ApnsClient;

/// Apple's hosts.
pub const PRODUCTION_URL: &str = "https://api.push.apple.com";
pub const SANDBOX_URL: &str = "https://api.sandbox.push.apple.com";

/// A device token no device has: a probe to it answers BadDeviceToken when the credential
/// works (APNs has no validate-only send).
pub const PROBE_TOKEN: &str = "0000000000000000000000000000000000000000000000000000000000000000";
