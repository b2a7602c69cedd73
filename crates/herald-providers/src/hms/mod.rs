//! HUAWEI Push Kit (HMS), `messages:send` API.

mod auth;
mod client;
mod errors;
pub mod limits;
pub mod payload;

pub use client::HmsClient;

/// Huawei's production endpoints.
pub const DEFAULT_BASE_URL: &str = "https://push-api.cloud.huawei.com";
pub const DEFAULT_TOKEN_URL: &str = "https://oauth-login.cloud.huawei.com/oauth2/v3/token";
