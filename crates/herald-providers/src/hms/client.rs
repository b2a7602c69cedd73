//! The HMS client of one app credential: one HTTP/2 connection pool and one token cache, reused
//! for every send of the tenant.

use herald_proto::v1::HmsCredential;
use serde_json::Value;

use super::auth::AppTokens;
use super::errors::classify;
use crate::http::post_json;
use crate::token::{Classified, send_with_refresh};
use crate::{CredentialError, SendOutcome};

#[derive(Debug)]
pub struct HmsClient {
    http: reqwest::Client,
    send_url: String,
    tokens: AppTokens,
}

impl HmsClient {
    /// A client for `credential`, sending to `base_url` and fetching tokens at `token_url`
    /// (Huawei's, or a mock's).
    pub fn new(
        http: reqwest::Client,
        base_url: &str,
        token_url: &str,
        credential: &HmsCredential,
    ) -> Result<Self, CredentialError> {
        if credential.app_id.is_empty() || !credential.app_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CredentialError::Invalid(
                "hms.app_id: the numeric app id is required".into(),
            ));
        }
        if credential.app_secret.is_empty() {
            return Err(CredentialError::Invalid("hms.app_secret: required".into()));
        }
        Ok(Self {
            send_url: format!(
                "{}/v1/{}/messages:send",
                base_url.trim_end_matches('/'),
                credential.app_id
            ),
            tokens: AppTokens::new(
                credential.app_id.clone(),
                credential.app_secret.clone(),
                token_url.to_owned(),
                http.clone(),
            ),
            http,
        })
    }

    /// Sends one `messages:send` body addressed to `token`; an expired access token (80200003)
    /// is refreshed once.
    #[tracing::instrument(skip_all)]
    pub async fn send(&self, body: &Value, token: &str) -> SendOutcome {
        send_with_refresh("HMS", &self.tokens, |access| async move {
            self.post(&access, body, token).await
        })
        .await
    }

    async fn post(&self, access_token: &str, body: &Value, token: &str) -> Classified {
        match post_json(&self.http, &self.send_url, access_token, body).await {
            Ok(a) => classify(a.status, a.retry_after, &a.body, token),
            Err(outcome) => Classified::Outcome(outcome),
        }
    }
}
