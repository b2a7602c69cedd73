//! Web Push (RFC 8030) with message encryption (RFC 8291) and VAPID (RFC 8292), to any push
//! service a browser subscribed with.

mod client;
mod errors;

pub use client::WebPushClient;
