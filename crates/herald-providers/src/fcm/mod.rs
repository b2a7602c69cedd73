//! Firebase Cloud Messaging, HTTP v1 API.

mod auth;
mod client;
mod errors;
pub mod limits;
pub mod payload;

pub use auth::ServiceAccount;
pub use client::FcmClient;

/// Google's production endpoint.
pub const DEFAULT_BASE_URL: &str = "https://fcm.googleapis.com";
