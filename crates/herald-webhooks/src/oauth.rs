//! OAuth 2.0 client credentials (RFC 6749 §4.4) for endpoints behind an authorization server:
//! a token is asked for with the client's id and secret (HTTP Basic, §2.3.1, or in the form
//! body where the server wants them there), kept until a minute before it expires, and
//! forgotten when the endpoint answers 401. One form POST and a JSON answer: written here rather
//! than pulling in the `oauth2` crate, whose dependencies would duplicate `sha2` and `rand`.

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

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    token_type: String,
    expires_in: Option<u64>,
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

/// Tokens by grant, shared by every post of a process.
#[derive(Clone, Default)]
pub struct Tokens(Arc<Mutex<HashMap<ClientCredentials, (String, Instant)>>>);

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tokens(…)")
    }
}

impl Tokens {
    /// A token for `grant`: the one kept, or a new one from its token endpoint.
    pub async fn token(
        &self,
        client: &reqwest::Client,
        grant: &ClientCredentials,
    ) -> Result<String, TokenError> {
        if let Some((token, until)) = self.0.lock().expect("tokens").get(grant)
            && Instant::now() + RENEW_BEFORE < *until
        {
            return Ok(token.clone());
        }
        let asked = Instant::now();
        let mut form = vec![("grant_type", "client_credentials")];
        if !grant.scope.is_empty() {
            form.push(("scope", grant.scope.as_str()));
        }
        let mut request = client
            .post(&grant.token_url)
            .timeout(Duration::from_secs(10));
        if grant.credentials_in_body {
            form.push(("client_id", grant.client_id.as_str()));
            form.push(("client_secret", grant.client_secret.as_str()));
        } else {
            // RFC 6749 §2.3.1: each form-urlencoded, then HTTP Basic.
            let encode =
                |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            request =
                request.basic_auth(encode(&grant.client_id), Some(encode(&grant.client_secret)));
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
        let lifetime = answer
            .expires_in
            .map_or(DEFAULT_LIFETIME, Duration::from_secs);
        self.0.lock().expect("tokens").insert(
            grant.clone(),
            (answer.access_token.clone(), asked + lifetime),
        );
        Ok(answer.access_token)
    }

    /// Forgets the token of `grant` (the endpoint refused it).
    pub fn forget(&self, grant: &ClientCredentials) {
        self.0.lock().expect("tokens").remove(grant);
    }
}
