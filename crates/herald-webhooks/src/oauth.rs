//! OAuth 2.0 for endpoints behind an authorization server (RFC 6749): client credentials
//! (§4.4), and the authorization code (§4.1) exchanged once for a refresh token that then asks
//! for access tokens (§6). The client authenticates with its id and secret (HTTP Basic, §2.3.1,
//! or in the form body where the server wants them there). An access token is kept until a
//! minute before it expires and forgotten when the endpoint answers 401; a refresh token the
//! server replaces is handed back to be stored. Form POSTs and JSON answers: written here
//! rather than pulling in the `oauth2` crate, whose dependencies would duplicate `sha2` and
//! `rand`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;

/// A token is renewed this long before it expires.
const RENEW_BEFORE: Duration = Duration::from_secs(60);
/// A token without `expires_in` is kept this long.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);

/// An endpoint's client-credentials grant.
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize, Deserialize)]
pub struct ClientCredentials {
    pub token_url: String,
    pub client_id: String,
    pub client_secret: String,
    /// Space-separated scopes (empty: none asked for).
    pub scope: String,
    /// Sends the client's id and secret in the form body instead of HTTP Basic.
    pub credentials_in_body: bool,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// An endpoint's refresh-token grant (what an authorization code was exchanged for): the
/// client, whose `scope` is asked for with each refresh (empty: those granted), and the
/// refresh token.
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize, Deserialize)]
pub struct RefreshGrant {
    #[serde(flatten)]
    pub client: ClientCredentials,
    pub refresh_token: String,
}

impl std::fmt::Debug for RefreshGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshGrant")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

/// An authorization code to exchange (RFC 6749 §4.1.3).
#[derive(Clone, Copy, Debug)]
pub struct Code<'a> {
    pub code: &'a str,
    pub redirect_uri: &'a str,
    /// The PKCE verifier (RFC 7636), when the authorization request had a challenge.
    pub verifier: &'a str,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    token_type: String,
    expires_in: Option<u64>,
    refresh_token: Option<String>,
}

/// Asks the token endpoint of `client` with `form` (and the client's authentication).
async fn ask(
    http: &reqwest::Client,
    client: &ClientCredentials,
    mut form: Vec<(&str, &str)>,
) -> Result<TokenAnswer, TokenError> {
    let mut request = http
        .post(&client.token_url)
        .timeout(Duration::from_secs(10));
    if client.credentials_in_body {
        form.push(("client_id", client.client_id.as_str()));
        form.push(("client_secret", client.client_secret.as_str()));
    } else {
        // RFC 6749 §2.3.1: each form-urlencoded, then HTTP Basic.
        let encode =
            |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        request = request.basic_auth(
            encode(&client.client_id),
            Some(encode(&client.client_secret)),
        );
    }
    let response = request
        .header(reqwest::header::ACCEPT, "application/json")
        .form(&form)
        .send()
        .await
        .map_err(|e| TokenError::Unreachable(crate::post::describe(&e)))?;
    let status = response.status().as_u16();
    let body = response
        .bytes()
        .await
        .map_err(|e| TokenError::Unreachable(crate::post::describe(&e)))?;
    if status != 200 {
        let body = String::from_utf8_lossy(&body[..body.len().min(256)]).into_owned();
        return Err(TokenError::Refused { status, body });
    }
    let answer: TokenAnswer =
        serde_json::from_slice(&body).map_err(|e| TokenError::Malformed(e.to_string()))?;
    if !answer.token_type.eq_ignore_ascii_case("bearer") || answer.access_token.is_empty() {
        return Err(TokenError::Malformed(format!(
            "token_type {:?}",
            answer.token_type
        )));
    }
    Ok(answer)
}

/// Why no token could be had.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the token endpoint could not be reached: {0}")]
    Unreachable(String),
    #[error("the token endpoint answered {status}: {body}")]
    Refused { status: u16, body: String },
    #[error("the token endpoint's answer is not a bearer token: {0}")]
    Malformed(String),
}

/// The grant a kept token was had with.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Grant {
    Client(ClientCredentials),
    Refresh(RefreshGrant),
}

/// Tokens by grant, shared by every post of a process.
#[derive(Clone, Default)]
pub struct Tokens {
    kept: Arc<Mutex<HashMap<Grant, (String, Instant)>>>,
    /// Held while a refresh token is used: two posts that both need a token do not both spend
    /// it (a server that replaces refresh tokens would refuse the second).
    refreshing: Arc<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tokens(…)")
    }
}

impl Tokens {
    fn kept(&self, grant: &Grant) -> Option<String> {
        self.kept
            .lock()
            .expect("tokens")
            .get(grant)
            .filter(|(_, until)| Instant::now() + RENEW_BEFORE < *until)
            .map(|(token, _)| token.clone())
    }

    fn keep(&self, grant: Grant, token: &str, asked: Instant, expires_in: Option<u64>) {
        let lifetime = expires_in.map_or(DEFAULT_LIFETIME, Duration::from_secs);
        self.kept
            .lock()
            .expect("tokens")
            .insert(grant, (token.to_owned(), asked + lifetime));
    }

    /// A token for `grant`: the one kept, or a new one from its token endpoint.
    pub async fn token(
        &self,
        http: &reqwest::Client,
        grant: &ClientCredentials,
    ) -> Result<String, TokenError> {
        let key = Grant::Client(grant.clone());
        if let Some(token) = self.kept(&key) {
            return Ok(token);
        }
        let asked = Instant::now();
        let mut form = vec![("grant_type", "client_credentials")];
        if !grant.scope.is_empty() {
            form.push(("scope", grant.scope.as_str()));
        }
        let answer = ask(http, grant, form).await?;
        self.keep(key, &answer.access_token, asked, answer.expires_in);
        Ok(answer.access_token)
    }

    /// A token for `grant`: the one kept, or one asked for with its refresh token; with the
    /// grant to keep from now on when the server replaced the refresh token.
    pub async fn refreshed(
        &self,
        http: &reqwest::Client,
        grant: &RefreshGrant,
    ) -> Result<(String, Option<RefreshGrant>), TokenError> {
        let key = Grant::Refresh(grant.clone());
        if let Some(token) = self.kept(&key) {
            return Ok((token, None));
        }
        let _refreshing = self.refreshing.lock().await;
        // Another post may have refreshed it meanwhile.
        if let Some(token) = self.kept(&key) {
            return Ok((token, None));
        }
        let asked = Instant::now();
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", grant.refresh_token.as_str()),
        ];
        if !grant.client.scope.is_empty() {
            form.push(("scope", grant.client.scope.as_str()));
        }
        let answer = ask(http, &grant.client, form).await?;
        let replaced = answer
            .refresh_token
            .filter(|new| !new.is_empty() && *new != grant.refresh_token)
            .map(|refresh_token| RefreshGrant {
                refresh_token,
                ..grant.clone()
            });
        // Under the grant the posts hold until the replacement is stored and read back, and
        // under the replacement.
        if let Some(replacement) = &replaced {
            self.keep(
                Grant::Refresh(replacement.clone()),
                &answer.access_token,
                asked,
                answer.expires_in,
            );
        }
        self.keep(key, &answer.access_token, asked, answer.expires_in);
        Ok((answer.access_token, replaced))
    }

    /// Exchanges an authorization code for the refresh token `grant` lacks (RFC 6749 §4.1.3),
    /// keeping the access token that comes with it; the server must issue a refresh token.
    pub async fn exchange(
        &self,
        http: &reqwest::Client,
        grant: &RefreshGrant,
        code: Code<'_>,
    ) -> Result<RefreshGrant, TokenError> {
        let asked = Instant::now();
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code.code),
            ("redirect_uri", code.redirect_uri),
        ];
        if !code.verifier.is_empty() {
            form.push(("code_verifier", code.verifier));
        }
        let answer = ask(http, &grant.client, form).await?;
        let refresh_token = answer
            .refresh_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                TokenError::Malformed(
                "no refresh_token in the answer (ask the authorization server for offline access)"
                    .to_owned(),
            )
            })?;
        let granted = RefreshGrant {
            refresh_token,
            ..grant.clone()
        };
        self.keep(
            Grant::Refresh(granted.clone()),
            &answer.access_token,
            asked,
            answer.expires_in,
        );
        Ok(granted)
    }

    /// Forgets the token of a client-credentials grant (the endpoint refused it).
    pub fn forget(&self, grant: &ClientCredentials) {
        self.kept
            .lock()
            .expect("tokens")
            .remove(&Grant::Client(grant.clone()));
    }

    /// Forgets the token of a refresh grant (the endpoint refused it).
    pub fn forget_refreshed(&self, grant: &RefreshGrant) {
        self.kept
            .lock()
            .expect("tokens")
            .remove(&Grant::Refresh(grant.clone()));
    }
}
