//! Provider clients: each provider in its own folder with the same layout (`payload` for what
//! the provider receives, `limits` for what it refuses, `auth`, `client`, `errors`), answering
//! every send with a [`SendOutcome`] whose class decides what the sender does next. Adding a
//! provider is one folder plus its match arms in [`limits`] and [`ProviderClient`].
#![forbid(unsafe_code)]

pub mod android;
pub mod apns;
mod client;
pub mod fcm;
pub mod hms;
pub mod http;
mod jwt;
pub mod limits;
pub mod payload;
mod refusal;
pub mod token;
pub mod webpush;

use std::time::Duration;

pub use client::{Endpoints, ProviderClient};

/// What a provider said of one push.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendOutcome {
    /// Accepted; the provider's id for the push.
    Submitted { provider_message_id: String },
    /// Try again later (throttled, provider down, timeout), after `after` if the provider said.
    Retry {
        reason: String,
        after: Option<Duration>,
    },
    /// The token will never work again: the device must be retired.
    TokenDead { reason: String },
    /// Refused for good (bad request, credential problem); `reason` says what to fix.
    Failed { reason: String },
}

/// A credential problem found before anything was sent; `field` names the credential's field
/// the way the API spells it (`fcm.service_account_json`, `hms.app_id`).
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
}

impl From<CredentialError> for herald_core::Error {
    fn from(err: CredentialError) -> Self {
        let CredentialError::Invalid { field, reason } = err;
        herald_core::Error::invalid(field, reason)
    }
}

impl CredentialError {
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            reason: reason.into(),
        }
    }
}

pub use herald_core::backoff::parse_retry_after;
