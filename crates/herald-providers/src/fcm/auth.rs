//! OAuth2 for a service account: a JWT-bearer assertion exchanged at the account's `token_uri`
//! for an access token, cached until shortly before it expires. Concurrent senders share one
//! fetch (the mutex is held across it), so a burst of sends costs one token request.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ring::signature::RsaKeyPair;
use rustls_pki_types::PrivatePkcs8KeyDer;
use rustls_pki_types::pem::PemObject as _;
use serde::Deserialize;
use serde_json::json;

use crate::CredentialError;

const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
/// Refresh this long before the token expires, so no send uses a token about to lapse.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// The fields Herald uses from a service-account JSON.
#[derive(Clone, Deserialize)]
pub struct ServiceAccount {
    pub client_email: String,
    pub private_key: String,
    pub token_uri: String,
    #[serde(default)]
    pub project_id: String,
}

impl std::fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccount")
            .field("client_email", &self.client_email)
            .field("token_uri", &self.token_uri)
            .field("project_id", &self.project_id)
            .finish_non_exhaustive()
    }
}

impl ServiceAccount {
    /// Parses and checks a service-account JSON (the key must be a PKCS#8 RSA key).
    pub fn parse(json: &str) -> Result<Self, CredentialError> {
        let account: Self = serde_json::from_str(json)
            .map_err(|e| CredentialError::Invalid(format!("service_account_json: {e}")))?;
        if account.client_email.is_empty() || account.token_uri.is_empty() {
            return Err(CredentialError::Invalid(
                "service_account_json: client_email and token_uri are required".into(),
            ));
        }
        url_of(&account.token_uri)?;
        account.signing_key()?;
        Ok(account)
    }

    fn signing_key(&self) -> Result<RsaKeyPair, CredentialError> {
        let der =
            PrivatePkcs8KeyDer::from_pem_slice(self.private_key.as_bytes()).map_err(|_| {
                CredentialError::Invalid(
                    "service_account_json: private_key is not a PKCS#8 PEM key".into(),
                )
            })?;
        RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()).map_err(|e| {
            CredentialError::Invalid(format!("service_account_json: private_key: {e}"))
        })
    }
}

fn url_of(raw: &str) -> Result<reqwest::Url, CredentialError> {
    reqwest::Url::parse(raw).map_err(|_| {
        CredentialError::Invalid("service_account_json: token_uri is not a URL".into())
    })
}

/// Why no access token could be had.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The token endpoint refused the credential: retrying will not help.
    #[error("the token endpoint refused the service account: {0}")]
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

/// Access tokens for one service account.
pub struct TokenSource {
    account: ServiceAccount,
    key: RsaKeyPair,
    http: reqwest::Client,
    cached: tokio::sync::Mutex<Option<Cached>>,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSource")
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: u64,
}

impl TokenSource {
    pub fn new(account: ServiceAccount, http: reqwest::Client) -> Result<Self, CredentialError> {
        let key = account.signing_key()?;
        Ok(Self {
            account,
            key,
            http,
            cached: tokio::sync::Mutex::new(None),
        })
    }

    /// A valid access token, fetched only when the cached one is near expiry.
    pub async fn token(&self) -> Result<String, TokenError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref().filter(|c| c.refresh_at > Instant::now()) {
            return Ok(c.token.clone());
        }
        let fresh = self.fetch().await?;
        let token = fresh.token.clone();
        *cached = Some(fresh);
        Ok(token)
    }

    /// Drops `stale` from the cache (the provider refused it), so the next call fetches anew.
    pub async fn invalidate(&self, stale: &str) {
        let mut cached = self.cached.lock().await;
        if cached.as_ref().is_some_and(|c| c.token == stale) {
            *cached = None;
        }
    }

    #[tracing::instrument(skip(self), fields(account = %self.account.client_email))]
    async fn fetch(&self) -> Result<Cached, TokenError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let claims = json!({
            "iss": self.account.client_email,
            "scope": SCOPE,
            "aud": self.account.token_uri,
            "iat": now,
            "exp": now + 3600,
        });
        let assertion =
            crate::jwt::sign_rs256(&self.key, &json!({"alg": "RS256", "typ": "JWT"}), &claims)
                .map_err(|_| TokenError::Rejected("could not sign the assertion".into()))?;
        let response = self
            .http
            .post(&self.account.token_uri)
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", assertion.as_str()),
            ])
            .send()
            .await
            .map_err(|e| TokenError::Unavailable(e.to_string()))?;
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
        let lifetime = Duration::from_secs(parsed.expires_in);
        let refresh_in = lifetime.saturating_sub(REFRESH_MARGIN).max(lifetime / 2);
        Ok(Cached {
            token: parsed.access_token,
            refresh_at: Instant::now() + refresh_in,
        })
    }
}
