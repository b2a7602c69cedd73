//! What every mock provider shares: answers scripted per device token, the access tokens it
//! issued, and a record of each push it took (with the client connection it came over).

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

pub use crate::tls::{ClientCert, Peer};

/// The HTTP version a push arrived over.
pub use axum::http::Version;

/// How a mock answers one send.
#[derive(Clone, Debug, Default)]
pub struct Answer {
    /// The provider's error to answer (an FCM `errorCode`, an HMS result code, or `"503"`);
    /// `None` answers success.
    pub error: Option<&'static str>,
    pub retry_after: Option<String>,
    /// Waits this long before answering.
    pub delay: Duration,
    /// Refuses the access token, as the provider does for an expired one.
    pub bad_access_token: bool,
}

impl Answer {
    pub fn success() -> Self {
        Self::default()
    }

    pub fn error(code: &'static str) -> Self {
        Self {
            error: Some(code),
            ..Self::default()
        }
    }

    pub fn error_retry_after(code: &'static str, retry_after: impl Into<String>) -> Self {
        Self {
            error: Some(code),
            retry_after: Some(retry_after.into()),
            ..Self::default()
        }
    }

    pub fn delayed(delay: Duration) -> Self {
        Self {
            delay,
            ..Self::default()
        }
    }

    pub fn expired_access_token() -> Self {
        Self {
            bad_access_token: true,
            ..Self::default()
        }
    }
}

/// A push a mock accepted (or validated, for `validate_only`).
#[derive(Clone, Debug)]
pub struct ReceivedPush {
    /// The device token (empty for a topic send).
    pub token: String,
    /// The whole request body.
    pub body: Value,
    pub authorization: String,
    /// Every request header, by lowercase name.
    pub headers: std::collections::BTreeMap<String, String>,
    pub http_version: Version,
    pub validate_only: bool,
    /// The client end of the connection: one per HTTP/2 connection of a sender.
    pub peer: SocketAddr,
    /// When the request arrived (before any scripted answer delay).
    pub at: Instant,
    /// A body only the device can read, opened into `body` when a test reads the push.
    pub(crate) sealed: Option<Sealed>,
}

impl ReceivedPush {
    /// The push as the device sees it: a sealed body opened.
    fn opened(&self) -> Self {
        let mut push = self.clone();
        if let Some(sealed) = push.sealed.take() {
            push.body = (sealed.0)();
        }
        push
    }
}

/// A body encrypted end to end (Web Push): a push service cannot read it, so the mock accepts
/// it unread as the real one does, and opens it, as the browser would, when a test reads the
/// push.
#[derive(Clone)]
pub(crate) struct Sealed(Arc<dyn Fn() -> Value + Send + Sync>);

impl Sealed {
    pub(crate) fn new(open: impl Fn() -> Value + Send + Sync + 'static) -> Self {
        Self(Arc::new(open))
    }
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealed")
    }
}

#[derive(Debug, Default)]
struct Ledger {
    /// The answer for tokens with no script (success unless set).
    default_answer: Answer,
    /// Keep request bodies and headers of accepted pushes (off for long benchmarks).
    lean: bool,
    issued: HashMap<String, Instant>,
    token_requests: usize,
    received: Vec<ReceivedPush>,
    scripts: HashMap<String, VecDeque<Answer>>,
    attempts: HashMap<String, usize>,
}

/// A mock's memory; the mocks dereference to it.
#[derive(Debug, Default)]
pub struct Recorder {
    ledger: Mutex<Ledger>,
}

impl Recorder {
    fn lock(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger.lock().expect("mock state")
    }

    /// Queues answers for sends to `token`, used in order; then sends succeed.
    pub fn script(&self, token: &str, answers: impl IntoIterator<Item = Answer>) {
        self.lock()
            .scripts
            .entry(token.to_owned())
            .or_default()
            .extend(answers);
    }

    /// Answers every unscripted send with `answer` (e.g. a delay, like a real provider's round
    /// trip).
    pub fn answer_by_default(&self, answer: Answer) {
        self.lock().default_answer = answer;
    }

    /// Stops keeping request headers of accepted pushes (bodies are kept: they carry the ids).
    pub fn lean(&self) {
        self.lock().lean = true;
    }

    /// How many pushes were accepted so far.
    pub fn received_count(&self) -> usize {
        self.lock().received.len()
    }

    /// Pushes accepted for delivery (not validate-only ones).
    pub fn received(&self) -> Vec<ReceivedPush> {
        self.lock()
            .received
            .iter()
            .filter(|p| !p.validate_only)
            .map(ReceivedPush::opened)
            .collect()
    }

    /// Validate-only requests the mock accepted.
    pub fn validated(&self) -> Vec<ReceivedPush> {
        self.lock()
            .received
            .iter()
            .filter(|p| p.validate_only)
            .map(ReceivedPush::opened)
            .collect()
    }

    /// How many send requests arrived for `token` (accepted or not).
    pub fn attempts(&self, token: &str) -> usize {
        self.lock().attempts.get(token).copied().unwrap_or_default()
    }

    /// How many access tokens were issued.
    pub fn token_requests(&self) -> usize {
        self.lock().token_requests
    }

    /// Waits until at least `count` pushes were accepted, or `timeout` passes.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<ReceivedPush> {
        let deadline = Instant::now() + timeout;
        loop {
            let received = self.received();
            if received.len() >= count || Instant::now() > deadline {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Issues an access token valid for `lifetime`.
    pub(crate) fn issue_token(&self, prefix: &str, lifetime: Duration) -> String {
        let mut ledger = self.lock();
        ledger.token_requests += 1;
        let token = format!("{prefix}-{}-{}", ledger.token_requests, crate::unix_now());
        ledger
            .issued
            .insert(token.clone(), Instant::now() + lifetime);
        token
    }

    pub(crate) fn token_valid(&self, authorization: &str) -> bool {
        authorization.strip_prefix("Bearer ").is_some_and(|token| {
            self.lock()
                .issued
                .get(token)
                .is_some_and(|expiry| *expiry > Instant::now())
        })
    }

    /// Forgets the access token `authorization` carries, as if it had expired.
    pub(crate) fn forget_token(&self, authorization: &str) {
        if let Some(token) = authorization.strip_prefix("Bearer ") {
            self.lock().issued.remove(token);
        }
    }

    /// Counts an attempt for `token` and answers the next scripted answer (else the default).
    pub(crate) fn next_answer(&self, token: &str) -> Answer {
        let mut ledger = self.lock();
        *ledger.attempts.entry(token.to_owned()).or_default() += 1;
        let scripted = ledger.scripts.get_mut(token).and_then(VecDeque::pop_front);
        scripted.unwrap_or_else(|| ledger.default_answer.clone())
    }

    /// Records an accepted push and answers its sequence number.
    pub(crate) fn record(&self, mut push: ReceivedPush) -> usize {
        let mut ledger = self.lock();
        if ledger.lean {
            push.headers.clear();
        }
        ledger.received.push(push);
        ledger.received.len()
    }
}

/// Every header of a request, by name.
pub(crate) fn header_map(
    headers: &axum::http::HeaderMap,
) -> std::collections::BTreeMap<String, String> {
    headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                value.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// The `authorization` header's value, or "".
pub(crate) fn authorization(headers: &axum::http::HeaderMap) -> String {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Adds the answer's `Retry-After` header to `response`, if it has one.
pub(crate) fn with_retry_after(
    mut response: axum::response::Response,
    answer: &Answer,
) -> axum::response::Response {
    if let Some(value) = answer.retry_after.as_deref().and_then(|v| v.parse().ok()) {
        response.headers_mut().insert("retry-after", value);
    }
    response
}

/// A running mock provider: its HTTPS server and the state its handlers share. It dereferences
/// to its [`Recorder`] (scripts, received pushes) and stops when dropped.
#[derive(Debug)]
pub struct Mock<S> {
    pub(crate) server: crate::tls::HttpsServer,
    pub(crate) shared: std::sync::Arc<S>,
}

impl<S: AsRef<Recorder>> std::ops::Deref for Mock<S> {
    type Target = Recorder;

    fn deref(&self) -> &Recorder {
        self.shared.as_ref().as_ref()
    }
}

impl<S> Mock<S> {
    /// The base URL to configure as Herald's endpoint for this provider.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// How many connections clients opened to the mock so far.
    pub fn connections(&self) -> usize {
        self.server.connections()
    }
}
