//! The one HTTP client that posts to endpoints: redirects are not followed, every connection
//! goes through the guard's resolver (and IP-literal hosts are checked before sending), and
//! each request is signed and authorized as its endpoint says.

use std::time::{Duration, Instant};

use herald_proto::v1::SignatureScheme;
use url::Url;

use crate::guard::Guard;
use crate::policy::Answer;
use crate::{Auth, Secret, digest, sign};

/// How much of an answer's body is kept with the attempt.
pub const KEPT_BODY_BYTES: usize = 512;

/// Where and how to post.
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub url: Url,
    pub scheme: SignatureScheme,
    /// The secrets that sign, newest first (two during a rotation).
    pub secrets: Vec<Secret>,
    pub auth: Auth,
    pub timeout: Duration,
}

/// What came back from one POST.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempted {
    pub answer: Answer,
    /// The start of the answer's body, or what went wrong.
    pub detail: String,
    pub elapsed: Duration,
    /// The endpoint's authorization from now on, when the post changed it (the authorization
    /// server replaced the refresh token): the caller stores it.
    pub replaced: Option<Auth>,
}

/// Posts signed events. Cheap to clone (one connection pool).
#[derive(Clone, Debug)]
pub struct Poster {
    client: reqwest::Client,
    guard: Guard,
    tokens: crate::oauth::Tokens,
}

impl Poster {
    /// A client that trusts the system's roots and `extra_ca_pem`.
    pub fn new(guard: Guard, extra_ca_pem: Option<&str>) -> Result<Self, reqwest::Error> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(guard.clone().resolver())
            .user_agent(concat!("Herald-Webhooks/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(5))
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(32);
        if let Some(pem) = extra_ca_pem {
            for certificate in reqwest::Certificate::from_pem_bundle(pem.as_bytes())? {
                builder = builder.add_root_certificate(certificate);
            }
        }
        Ok(Self {
            client: builder.build()?,
            guard,
            tokens: crate::oauth::Tokens::default(),
        })
    }

    /// POSTs `body` as event `id` to `endpoint`, signed now.
    pub async fn post(&self, endpoint: &Endpoint, id: &str, body: &[u8]) -> Attempted {
        let started = Instant::now();
        if let Err(refused) = self.guard.check_literal(&endpoint.url) {
            return Attempted {
                detail: refused.to_string(),
                answer: Answer::Refused(refused.to_string()),
                elapsed: started.elapsed(),
                replaced: None,
            };
        }
        let had = match &endpoint.auth {
            Auth::OAuth2(grant) => self
                .tokens
                .token(&self.client, grant)
                .await
                .map(|token| (Some(token), None)),
            Auth::OAuth2Code(grant) => self
                .tokens
                .refreshed(&self.client, grant)
                .await
                .map(|(token, replaced)| (Some(token), replaced)),
            _ => Ok((None, None)),
        };
        let (token, replaced) = match had {
            Ok(had) => had,
            Err(err) => {
                return Attempted {
                    answer: Answer::Unanswered(err.to_string()),
                    detail: err.to_string(),
                    elapsed: started.elapsed(),
                    replaced: None,
                };
            }
        };
        let timestamp = herald_core::time::now_ms() / 1000;
        let secrets: Vec<&Secret> = endpoint.secrets.iter().collect();
        let signature = sign::standard(&secrets, id, timestamp, body);
        let hub = secrets
            .first()
            .and_then(|newest| sign::hub(endpoint.scheme, newest, body));
        let timestamp_text = timestamp.to_string();
        let mut headers = vec![
            ("content-type", "application/json"),
            ("webhook-id", id),
            ("webhook-timestamp", timestamp_text.as_str()),
            ("webhook-signature", signature.as_str()),
        ];
        if let Some(hub) = &hub {
            headers.push(("x-hub-signature", hub.as_str()));
        }
        let signed = match &endpoint.auth {
            Auth::AwsSigV4(keys) => match crate::sigv4::signing_headers(
                keys,
                &endpoint.url,
                &headers,
                body,
                std::time::SystemTime::now(),
            ) {
                Ok(signed) => signed,
                Err(err) => {
                    // Not sent, and trying again would not sign it either.
                    let detail = format!("could not sign the request (SigV4): {err}");
                    return Attempted {
                        answer: Answer::Refused(detail.clone()),
                        detail,
                        elapsed: started.elapsed(),
                        replaced: None,
                    };
                }
            },
            _ => Vec::new(),
        };
        let request = |authorization: Option<&str>| {
            let mut request = self
                .client
                .post(endpoint.url.clone())
                .timeout(endpoint.timeout);
            for (name, value) in &headers {
                request = request.header(*name, *value);
            }
            for (name, value) in &signed {
                request = request.header(name.as_str(), value.as_str());
            }
            if let Some(authorization) = authorization {
                request = request.header(reqwest::header::AUTHORIZATION, authorization);
            }
            endpoint
                .auth
                .apply(request, token.as_deref())
                .body(body.to_vec())
        };
        let mut sent = request(None).send().await;
        // Digest: the first answer is the challenge; the request is made again, answering it.
        if let (Auth::Digest { username, password }, Ok(challenged)) = (&endpoint.auth, &sent)
            && challenged.status() == reqwest::StatusCode::UNAUTHORIZED
            && let Some(challenge) = challenged
                .headers()
                .get_all(reqwest::header::WWW_AUTHENTICATE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .find_map(|v| digest::challenge(v).ok())
        {
            let uri = match endpoint.url.query() {
                Some(query) => format!("{}?{query}", endpoint.url.path()),
                None => endpoint.url.path().to_owned(),
            };
            let cnonce = herald_core::crypto::hex(&herald_core::crypto::random_bytes::<16>());
            let answer =
                digest::authorization(&challenge, (username, password), ("POST", &uri), &cnonce, 1);
            sent = request(Some(&answer)).send().await;
        }
        let (answer, detail) = match sent {
            Ok(response) => {
                let code = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(herald_core::backoff::parse_retry_after);
                let detail = match response.bytes().await {
                    Ok(bytes) => excerpt(&bytes),
                    Err(err) => format!("(the body could not be read: {})", describe(&err)),
                };
                // A refused token is asked for again next time.
                match (code, &endpoint.auth) {
                    (401, Auth::OAuth2(grant)) => self.tokens.forget(grant),
                    (401, Auth::OAuth2Code(grant)) => {
                        self.tokens
                            .forget_refreshed(replaced.as_ref().unwrap_or(grant));
                    }
                    _ => {}
                }
                (Answer::Status { code, retry_after }, detail)
            }
            Err(err) => {
                let detail = describe(&err);
                match refusal(&err) {
                    Some(refused) => (Answer::Refused(refused.clone()), refused),
                    None => (Answer::Unanswered(detail.clone()), detail),
                }
            }
        };
        Attempted {
            answer,
            detail,
            elapsed: started.elapsed(),
            replaced: replaced.map(Auth::OAuth2Code),
        }
    }

    /// Exchanges the authorization code of a new grant for its refresh token (once, when an
    /// endpoint is created or its authorization changed); the access token is kept for the
    /// test call.
    pub async fn exchange(
        &self,
        grant: &crate::oauth::RefreshGrant,
        code: crate::oauth::Code<'_>,
    ) -> Result<Auth, crate::oauth::TokenError> {
        let granted = self.tokens.exchange(&self.client, grant, code).await?;
        Ok(Auth::OAuth2Code(granted))
    }
}

/// The guard's refusal inside a client error, if that is what it is.
fn refusal(err: &reqwest::Error) -> Option<String> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(current) = source {
        if let Some(refused) = current.downcast_ref::<crate::guard::Refused>() {
            return Some(refused.to_string());
        }
        source = current.source();
    }
    None
}

/// A client error with its causes, in one line (a guard's refusal among them says why).
pub(crate) fn describe(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        return "timed out".to_owned();
    }
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(current) = source {
        text.push_str(": ");
        text.push_str(&current.to_string());
        source = current.source();
    }
    text
}

/// The start of a body as text.
fn excerpt(bytes: &[u8]) -> String {
    let cut = &bytes[..bytes.len().min(KEPT_BODY_BYTES)];
    String::from_utf8_lossy(cut).into_owned()
}
