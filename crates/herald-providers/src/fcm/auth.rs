//! OAuth2 for a service account: a JWT-bearer assertion exchanged at the account's `token_uri`
//! for an access token, cached in a [`TokenCache`].

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ring::signature::RsaKeyPair;
use rustls_pki_types::PrivatePkcs8KeyDer;
use rustls_pki_types::pem::PemObject as _;
use serde::Deserialize;
use serde_json::json;

use crate::CredentialError;
use crate::http::HttpClient;
use crate::token::{AccessTokens, TokenCache, TokenError, fetch_form};

/// The API field a service-account problem is reported against.
const FIELD: &str = "fcm.service_account_json";
const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";

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
            .map_err(|e| CredentialError::invalid(FIELD, e.to_string()))?;
        if account.client_email.is_empty() || account.token_uri.is_empty() {
            return Err(CredentialError::invalid(
                FIELD,
                "client_email and token_uri are required",
            ));
        }
        url_of(&account.token_uri)?;
        account.signing_key()?;
        Ok(account)
    }

    fn signing_key(&self) -> Result<RsaKeyPair, CredentialError> {
        let der = PrivatePkcs8KeyDer::from_pem_slice(self.private_key.as_bytes())
            .map_err(|_| CredentialError::invalid(FIELD, "private_key is not a PKCS#8 PEM key"))?;
        RsaKeyPair::from_pkcs8(der.secret_pkcs8_der())
            .map_err(|e| CredentialError::invalid(FIELD, format!("private_key: {e}")))
    }
}

fn url_of(raw: &str) -> Result<reqwest::Url, CredentialError> {
    reqwest::Url::parse(raw).map_err(|_| CredentialError::invalid(FIELD, "token_uri is not a URL"))
}

/// Access tokens for one service account.
pub struct TokenSource {
    account: ServiceAccount,
    key: RsaKeyPair,
    http: HttpClient,
    cache: TokenCache,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSource")
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

impl AccessTokens for TokenSource {
    async fn token(&self) -> Result<String, TokenError> {
        self.cache
            .get(herald_proto::v1::Provider::Fcm, || self.fetch())
            .await
    }

    async fn invalidate(&self, stale: &str) {
        self.cache.invalidate(stale).await;
    }
}

impl TokenSource {
    pub fn new(account: ServiceAccount, http: HttpClient) -> Result<Self, CredentialError> {
        let key = account.signing_key()?;
        Ok(Self {
            account,
            key,
            http,
            cache: TokenCache::default(),
        })
    }

    /// Exchanges a freshly signed JWT-bearer assertion for an access token.
    #[tracing::instrument(skip(self), fields(account = %self.account.client_email))]
    async fn fetch(&self) -> Result<(String, Duration), TokenError> {
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
        let form = [
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", assertion.as_str()),
        ];
        fetch_form(&self.http, &self.account.token_uri, &form).await
    }
}
