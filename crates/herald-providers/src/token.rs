//! OAuth2 access tokens shared by the provider clients: fetched from a token endpoint, cached
//! until shortly before they expire. Concurrent senders share one fetch (the mutex is held
//! across it), so a burst of sends costs one token request.

use std::future::Future;
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::http::HttpClient;

/// Refresh this long before the token expires, so no send uses a token about to lapse.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// Why no access token could be had.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The token endpoint refused the credential: retrying will not help.
    #[error("the token endpoint refused the credential: {0}")]
    Rejected(String),
    /// The token endpoint could not be reached or failed: try later.
    #[error("the token endpoint is unavailable: {0}")]
    Unavailable(String),
}

#[derive(Debug)]
struct Cached {
    token: String,
    refresh_at: Instant,
}

/// One credential's cached access token.
#[derive(Debug, Default)]
pub struct TokenCache {
    cached: tokio::sync::Mutex<Option<Cached>>,
}

impl TokenCache {
    /// A valid token: the cached one, or one `fetch` obtains (token and lifetime) from
    /// `provider`'s token service (counted in the metrics).
    pub async fn get<F, Fut>(
        &self,
        provider: herald_proto::v1::Provider,
        fetch: F,
    ) -> Result<String, TokenError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(String, Duration), TokenError>>,
    {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref().filter(|c| c.refresh_at > Instant::now()) {
            return Ok(c.token.clone());
        }
        let fetched = fetch().await;
        herald_telemetry::metrics().token_refresh(provider, fetched.is_ok());
        let (token, lifetime) = fetched?;
        let refresh_in = lifetime.saturating_sub(REFRESH_MARGIN).max(lifetime / 2);
        *cached = Some(Cached {
            token: token.clone(),
            refresh_at: Instant::now() + refresh_in,
        });
        Ok(token)
    }

    /// Drops `stale` (the provider refused it), so the next `get` fetches anew.
    pub async fn invalidate(&self, stale: &str) {
        let mut cached = self.cached.lock().await;
        if cached.as_ref().is_some_and(|c| c.token == stale) {
            *cached = None;
        }
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: u64,
}

/// POSTs `form` to a token endpoint and reads `{access_token, expires_in}`. Server errors and
/// throttling are `Unavailable` (retry later); any other refusal is `Rejected`.
pub async fn fetch_form(
    http: &HttpClient,
    url: &str,
    form: &[(&str, &str)],
) -> Result<(String, Duration), TokenError> {
    let response = http
        .send(|client| client.post(url).form(form))
        .await
        .map_err(|e| TokenError::Unavailable(e.reason))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| TokenError::Unavailable(e.to_string()))?;
    if status.is_server_error() || status.as_u16() == 429 {
        return Err(TokenError::Unavailable(format!("{status}: {text}")));
    }
    if !status.is_success() {
        return Err(TokenError::Rejected(format!("{status}: {text}")));
    }
    let parsed: TokenResponse = serde_json::from_str(&text)
        .map_err(|e| TokenError::Unavailable(format!("unreadable token response: {e}")))?;
    tracing::debug!(expires_in = parsed.expires_in, "fetched an access token");
    Ok((parsed.access_token, Duration::from_secs(parsed.expires_in)))
}

/// A source of access tokens for one credential.
pub trait AccessTokens {
    fn token(&self) -> impl Future<Output = Result<String, TokenError>> + Send;
    fn invalidate(&self, stale: &str) -> impl Future<Output = ()> + Send;
}

/// What a provider's answer means for the sender.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Classified {
    Outcome(crate::SendOutcome),
    /// The access token was refused (`reason` says how): refresh it and retry once.
    AccessTokenRejected {
        reason: String,
    },
}

/// Runs `post` with an access token; when the provider refuses the token, drops it, fetches a new
/// one and tries once more. A freshly fetched token refused too is a credential problem: the
/// send fails with the provider's reason. `provider` names the provider in the reasons.
pub async fn send_with_refresh<T, P, F>(provider: &str, tokens: &T, post: P) -> crate::SendOutcome
where
    T: AccessTokens,
    P: Fn(String) -> F,
    F: Future<Output = Classified>,
{
    use crate::SendOutcome;
    let mut refused = String::new();
    for _ in 0..2 {
        let token = match tokens.token().await {
            Ok(token) => token,
            Err(TokenError::Rejected(detail)) => {
                return SendOutcome::Failed {
                    reason: format!(
                        "{provider} credential refused by the token endpoint: {detail}"
                    ),
                };
            }
            Err(TokenError::Unavailable(detail)) => {
                return SendOutcome::Retry {
                    reason: format!("{provider} token endpoint unavailable: {detail}"),
                    after: None,
                };
            }
        };
        match post(token.clone()).await {
            Classified::Outcome(outcome) => return outcome,
            Classified::AccessTokenRejected { reason } => {
                tokens.invalidate(&token).await;
                refused = reason;
            }
        }
    }
    SendOutcome::Failed {
        reason: format!("{provider} refused a freshly fetched access token: {refused}"),
    }
}
