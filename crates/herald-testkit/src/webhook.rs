//! A webhook receiver over HTTPS (the test CA's certificate, on loopback): it records every
//! request and answers statuses from a script, then a default; it can go down and come back
//! on the same port.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri};

use crate::tls::{HttpsServer, TestCa};

/// One request the receiver took.
#[derive(Clone, Debug)]
pub struct Received {
    pub uri: Uri,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub at: Instant,
    /// The status it was answered.
    pub status: u16,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// One scripted answer: its status, a `Retry-After`, and how long to wait before answering.
#[derive(Debug, Default)]
struct Scripted {
    status: u16,
    retry_after: Option<String>,
    delay: Duration,
}

#[derive(Debug)]
struct State {
    received: Mutex<Vec<Received>>,
    script: Mutex<VecDeque<Scripted>>,
    default: Mutex<u16>,
    arrived: tokio::sync::Notify,
    /// Logs each request (for `herald up --with-mocks`).
    log: bool,
    /// The one refresh token `/token` takes now (it replaces it at each use).
    refresh_token: Mutex<Option<String>>,
}

/// The receiver; stops when dropped.
pub struct WebhookReceiver {
    server: Option<HttpsServer>,
    port: u16,
    state: Arc<State>,
    acceptor: tokio_rustls::TlsAcceptor,
}

impl std::fmt::Debug for WebhookReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookReceiver")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl WebhookReceiver {
    /// Starts on a free port, trusted through `ca` (the mocks' CA, which Herald's settings trust).
    pub async fn start(ca: &TestCa) -> anyhow::Result<Self> {
        Self::start_on(ca, 0, false).await
    }

    /// Starts on `port` (0: a free one), logging each request it takes if `log`.
    pub async fn start_on(ca: &TestCa, port: u16, log: bool) -> anyhow::Result<Self> {
        let mut receiver = Self {
            server: None,
            port,
            state: Arc::new(State {
                received: Mutex::default(),
                script: Mutex::default(),
                default: Mutex::new(200),
                arrived: tokio::sync::Notify::new(),
                log,
                refresh_token: Mutex::default(),
            }),
            acceptor: ca.acceptor(false)?,
        };
        receiver.serve().await?;
        Ok(receiver)
    }

    async fn serve(&mut self) -> anyhow::Result<()> {
        let state = self.state.clone();
        let router =
            axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
                answer(state.clone(), uri, headers, body)
            });
        let server = HttpsServer::serve(self.acceptor.clone(), router, self.port).await?;
        self.port = server.addr.port();
        self.server = Some(server);
        Ok(())
    }

    /// The URL to register (`https://localhost:<port>/hook`).
    pub fn url(&self) -> String {
        format!("https://localhost:{}/hook", self.port)
    }

    /// An endpoint behind HTTP Digest: requests without credentials get [`DIGEST_CHALLENGE`];
    /// the others are answered like the hook's (the test checks the credentials).
    pub fn digest_url(&self) -> String {
        format!("https://localhost:{}/digest?team=ops", self.port)
    }

    /// Its OAuth 2.0 token endpoint, which issues `tok-1`, `tok-2`, … (client credentials).
    pub fn token_url(&self) -> String {
        format!("https://localhost:{}/token", self.port)
    }

    /// Answers these statuses to the next requests, in order, then the default.
    pub fn script(&self, statuses: impl IntoIterator<Item = u16>) {
        self.state
            .script
            .lock()
            .expect("script")
            .extend(statuses.into_iter().map(|status| Scripted {
                status,
                ..Scripted::default()
            }));
    }

    /// Answers `status` with a `Retry-After` to the next request.
    pub fn script_retry_after(&self, status: u16, retry_after: &str) {
        self.state
            .script
            .lock()
            .expect("script")
            .push_back(Scripted {
                status,
                retry_after: Some(retry_after.to_owned()),
                ..Scripted::default()
            });
    }

    /// Answers `status` to the next request only after `delay`.
    pub fn script_slow(&self, status: u16, delay: Duration) {
        self.state
            .script
            .lock()
            .expect("script")
            .push_back(Scripted {
                status,
                delay,
                ..Scripted::default()
            });
    }

    pub fn answer_by_default(&self, status: u16) {
        *self.state.default.lock().expect("default") = status;
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().expect("received").clone()
    }

    /// Waits until at least `count` requests arrived (or `timeout` passed) and answers them all.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let arrived = self.state.arrived.notified();
            let received = self.received();
            if received.len() >= count || Instant::now() >= deadline {
                return received;
            }
            let _ = tokio::time::timeout(Duration::from_millis(100), arrived).await;
        }
    }

    /// Stops listening (connections are refused) until [`WebhookReceiver::restart`].
    pub fn stop(&mut self) {
        self.server = None;
    }

    /// Listens again on the same port.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.serve().await
    }
}

/// The challenge of the `/digest` endpoint: SHA-256 preferred over MD5, as RFC 7616 §3.7 lists.
pub const DIGEST_CHALLENGE: &str = r#"Digest realm="herald-test", qop="auth", algorithm=SHA-256, nonce="c2b5f3e0a1d94c7b8e6f", opaque="5ccc069c403ebaf9f0171e9517f40e41", Digest realm="herald-test", qop="auth", algorithm=MD5, nonce="c2b5f3e0a1d94c7b8e6f", opaque="5ccc069c403ebaf9f0171e9517f40e41""#;

/// What `/token` answers a form: client credentials get an access token; an authorization code
/// (any) or the current refresh token get one with a new refresh token (`refresh-N`), which
/// replaces the old one (RFC 6749 §6: a spent refresh token is refused, `invalid_grant`).
fn token_answer(state: &State, form: &[u8], issued: usize) -> (StatusCode, String) {
    let form: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(form).into_owned().collect();
    let access =
        format!(r#""access_token":"tok-{issued}","token_type":"Bearer","expires_in":3600"#);
    let mut current = state.refresh_token.lock().expect("refresh token");
    match form.get("grant_type").map(String::as_str) {
        Some("client_credentials") => (StatusCode::OK, format!("{{{access}}}")),
        Some("authorization_code") if form.contains_key("code") => {
            let fresh = format!("refresh-{issued}");
            *current = Some(fresh.clone());
            (
                StatusCode::OK,
                format!(r#"{{{access},"refresh_token":"{fresh}"}}"#),
            )
        }
        Some("refresh_token") if form.get("refresh_token") == current.as_ref() => {
            let fresh = format!("refresh-{issued}");
            *current = Some(fresh.clone());
            (
                StatusCode::OK,
                format!(r#"{{{access},"refresh_token":"{fresh}"}}"#),
            )
        }
        _ => (
            StatusCode::BAD_REQUEST,
            r#"{"error":"invalid_grant"}"#.to_owned(),
        ),
    }
}

/// Records a request and answers it: a token from `/token` (an OAuth 2.0 token endpoint that
/// issues `tok-1`, `tok-2`, …, see [`token_answer`]), else the next scripted status or the
/// default.
async fn answer(
    state: Arc<State>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> axum::http::Response<axum::body::Body> {
    if uri.path() == "/token" {
        let mut received = state.received.lock().expect("received");
        let issued = 1 + received.iter().filter(|r| r.uri.path() == "/token").count();
        let (status, answer) = token_answer(&state, &body, issued);
        received.push(Received {
            uri,
            headers,
            body,
            at: Instant::now(),
            status: status.as_u16(),
        });
        return axum::http::Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(axum::body::Body::from(answer))
            .expect("a response");
    }
    // An endpoint behind HTTP Digest (RFC 7616): a request without credentials is challenged.
    if uri.path() == "/digest" && !headers.contains_key("authorization") {
        state.received.lock().expect("received").push(Received {
            uri,
            headers,
            body,
            at: Instant::now(),
            status: 401,
        });
        state.arrived.notify_waiters();
        return axum::http::Response::builder()
            .status(StatusCode::UNAUTHORIZED)
            .header("www-authenticate", DIGEST_CHALLENGE)
            .body(axum::body::Body::empty())
            .expect("a response");
    }
    let next = state.script.lock().expect("script").pop_front();
    let Scripted {
        status,
        retry_after,
        delay,
    } = next.unwrap_or_else(|| Scripted {
        status: *state.default.lock().expect("default"),
        ..Scripted::default()
    });
    if state.log {
        let event: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        // Everything a reader needs to verify the signatures by hand.
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        tracing::info!(
            r#type = %event["type"].as_str().unwrap_or_default(),
            webhook_id = %header("webhook-id"),
            webhook_timestamp = %header("webhook-timestamp"),
            signature = %header("webhook-signature"),
            x_hub_signature = %header("x-hub-signature"),
            body = %String::from_utf8_lossy(&body),
            status,
            "mock webhook receiver got an event"
        );
    }
    state.received.lock().expect("received").push(Received {
        uri,
        headers,
        body,
        at: Instant::now(),
        status,
    });
    state.arrived.notify_waiters();
    // A slow answer is recorded when it arrives (the client may give up before it is sent).
    tokio::time::sleep(delay).await;
    let mut response =
        axum::http::Response::builder().status(StatusCode::from_u16(status).expect("a status"));
    if let Some(after) = retry_after {
        response = response.header("retry-after", after);
    }
    response
        .body(axum::body::Body::from("ok"))
        .expect("a response")
}
