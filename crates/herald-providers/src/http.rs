//! The HTTP client the provider clients share: HTTP/2 over TLS with long-lived pooled
//! connections, and an optional extra trusted CA so tests and `--with-mocks` can point the same
//! code at local mock providers.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// HTTP/2 connections to each provider host, used in turn. One connection carries at most the
/// server's SETTINGS_MAX_CONCURRENT_STREAMS requests at once (commonly 100 to 200), so with a
/// provider's round trip of tens of milliseconds a single connection caps a sender at a few
/// thousand requests a second, below its concurrency.
pub const CONNECTIONS: usize = 4;

/// The HTTP client the provider clients take: [`CONNECTIONS`] independent reqwest clients
/// (each keeps its own HTTP/2 connection per host), handed out in turn. Cheap to clone.
#[derive(Clone, Debug)]
pub struct HttpClient {
    clients: Arc<[reqwest::Client]>,
    turn: Arc<AtomicUsize>,
}

impl HttpClient {
    /// The client (and so the connection) for the next request.
    pub fn next(&self) -> &reqwest::Client {
        &self.clients[self.turn.fetch_add(1, Ordering::Relaxed) % self.clients.len()]
    }
}

/// Transport settings common to every provider.
#[derive(Clone, Debug, Default)]
pub struct HttpConfig {
    /// PEM CA certificates (one or more) trusted in addition to the public roots.
    pub extra_ca_pem: Option<String>,
    /// Per-request timeout; 0 means 30 s.
    pub timeout: Duration,
}

/// Builds a client; errors only on a malformed extra CA.
pub fn client(config: &HttpConfig) -> Result<HttpClient, reqwest::Error> {
    client_with_identity(config, None)
}

/// Builds a client that presents `identity` (PEM: a private key and its certificate chain) for
/// mutual TLS.
pub fn client_with_identity(
    config: &HttpConfig,
    identity: Option<&[u8]>,
) -> Result<HttpClient, reqwest::Error> {
    let timeout = if config.timeout.is_zero() {
        Duration::from_secs(30)
    } else {
        config.timeout
    };
    let one = || {
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(10))
            .pool_idle_timeout(Duration::from_secs(300))
            .http2_adaptive_window(true)
            .http2_keep_alive_interval(Duration::from_secs(30))
            .http2_keep_alive_while_idle(true)
            .redirect(reqwest::redirect::Policy::none());
        if let Some(pem) = &config.extra_ca_pem {
            for certificate in reqwest::Certificate::from_pem_bundle(pem.as_bytes())? {
                builder = builder.add_root_certificate(certificate);
            }
        }
        if let Some(identity) = identity {
            builder = builder.identity(reqwest::Identity::from_pem(identity)?);
        }
        builder.build()
    };
    let clients = (0..CONNECTIONS)
        .map(|_| one())
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpClient {
        clients: clients.into(),
        turn: Arc::default(),
    })
}

/// A provider's HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    /// `Retry-After`, parsed.
    pub retry_after: Option<Duration>,
    /// The response header that identifies the push (APNs `apns-id`, Web Push `Location`).
    pub id: String,
    pub body: String,
}

/// POSTs `body` as JSON with a bearer token.
pub async fn post_json(
    http: &HttpClient,
    url: &str,
    bearer: &str,
    body: &serde_json::Value,
) -> Result<Answer, crate::SendOutcome> {
    let response = http
        .next()
        .post(url)
        .bearer_auth(bearer)
        .json(body)
        .send()
        .await
        .map_err(|e| unanswered(&e))?;
    Ok(read_answer(response, "").await)
}

/// A request that never got an answer (timeout, connection failure) is a retry.
pub fn unanswered(err: &reqwest::Error) -> crate::SendOutcome {
    let kind = if err.is_timeout() {
        "timeout"
    } else {
        "network"
    };
    crate::SendOutcome::Retry {
        reason: format!("{kind}: {err}"),
        after: None,
    }
}

/// Reads a provider's answer, taking the push's id from the `id_header` response header.
pub async fn read_answer(response: reqwest::Response, id_header: &str) -> Answer {
    let status = response.status().as_u16();
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
    };
    let retry_after =
        header(reqwest::header::RETRY_AFTER.as_str()).and_then(crate::parse_retry_after);
    let id = if id_header.is_empty() {
        None
    } else {
        header(id_header)
    };
    let id = id.unwrap_or_default().to_owned();
    let body = response.text().await.unwrap_or_default();
    Answer {
        status,
        retry_after,
        id,
        body,
    }
}
