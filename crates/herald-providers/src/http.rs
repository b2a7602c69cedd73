//! The HTTP client the provider clients share: HTTP/2 over TLS with long-lived pooled
//! connections, and extra trusted CAs so tests and `--with-mocks` can point the same code at
//! local mock providers.
//!
//! A cold pool opens each connection once: while a connection to an origin is not known to be
//! open, one request opens it and the others wait for it, instead of each starting its own TLS
//! handshake (HTTP/2 is only known after ALPN, so concurrent first requests would otherwise all
//! connect, and all but one be dropped: Apple treats rapid connect and disconnect as an attack).

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;

/// HTTP/2 connections to each provider host, filled in order (see [`STREAMS_BEFORE_SPILL`]). One
/// connection carries at most the server's SETTINGS_MAX_CONCURRENT_STREAMS requests at once
/// (commonly 100 to 200), so with a provider's round trip of tens of milliseconds a single
/// connection caps a sender at a few thousand requests a second, below its concurrency.
pub const CONNECTIONS: usize = 4;

/// How long an idle connection is kept (and so known to be open after its last answer).
const IDLE: Duration = Duration::from_secs(300);

/// Requests in flight on one connection before the next connection takes some: requests gather
/// on as few connections as the load needs, so each connection's writes carry several
/// requests' frames (one socket write per request otherwise), and the other connections open
/// only when the provider is slow or the load high.
pub(crate) const STREAMS_BEFORE_SPILL: usize = 64;

/// The HTTP client the provider clients take: [`CONNECTIONS`] independent reqwest clients
/// (each keeps its own HTTP/2 connection per host), the first used until it carries
/// [`STREAMS_BEFORE_SPILL`] requests, then the next, and so on. Cheap to clone.
#[derive(Clone, Debug)]
pub struct HttpClient {
    slots: Arc<[Slot]>,
}

/// One reqwest client (one connection per origin) and the state of its connections.
#[derive(Debug)]
struct Slot {
    client: reqwest::Client,
    gates: Mutex<HashMap<String, Arc<Gate>>>,
    /// Requests sent through it and not answered yet.
    in_flight: AtomicUsize,
}

/// Counts a request in flight on its slot until dropped (answered, failed or abandoned).
struct InFlight<'a>(&'a AtomicUsize);

impl<'a> InFlight<'a> {
    fn start(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Self(count)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One connection's opening: who opens it, and whether it is known to be open.
#[derive(Debug, Default)]
struct Gate {
    /// When a request over it was last answered.
    answered_at: Mutex<Option<Instant>>,
    /// Held by the one request that opens the connection while it is cold.
    opening: tokio::sync::Mutex<()>,
    /// Failed openings so far, and the last one's error.
    failed: Mutex<(u64, Option<HttpError>)>,
}

impl Gate {
    fn warm(&self) -> bool {
        self.answered_at
            .lock()
            .expect("gate")
            .is_some_and(|at| at.elapsed() < IDLE - Duration::from_secs(60))
    }

    /// Runs `send` through the gate: at once over an open connection; while the connection is
    /// cold, after the request that opens it (failing as it failed, if it did).
    async fn pass<F>(&self, send: F) -> Result<reqwest::Response, HttpError>
    where
        F: Future<Output = Result<reqwest::Response, reqwest::Error>>,
    {
        if self.warm() {
            return self.answered(send.await);
        }
        let failures_before = self.failed.lock().expect("gate").0;
        let opening = self.opening.lock().await;
        if self.warm() {
            // Another request opened it meanwhile.
            drop(opening);
            return self.answered(send.await);
        }
        let failed = self.failed.lock().expect("gate").clone();
        if failed.0 > failures_before
            && let Some(err) = failed.1
        {
            return Err(err);
        }
        // This request opens the connection; the others wait until it was answered.
        let result = self.answered(send.await);
        drop(opening);
        result
    }

    fn answered(
        &self,
        result: Result<reqwest::Response, reqwest::Error>,
    ) -> Result<reqwest::Response, HttpError> {
        match result {
            Ok(response) => {
                *self.answered_at.lock().expect("gate") = Some(Instant::now());
                Ok(response)
            }
            Err(err) => {
                let err = HttpError::from(&err);
                let mut failed = self.failed.lock().expect("gate");
                *failed = (failed.0 + 1, Some(err.clone()));
                Err(err)
            }
        }
    }
}

impl HttpClient {
    /// Sends the request `build` makes with the next connection's client.
    pub async fn send(
        &self,
        build: impl FnOnce(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, HttpError> {
        let slot = self.pick();
        let _in_flight = InFlight::start(&slot.in_flight);
        let request = build(&slot.client)
            .build()
            .map_err(|e| HttpError::from(&e))?;
        // The scheme, host and port, as the URL spells them (no copy unless the origin is new).
        let origin = &request.url()[..url::Position::BeforePath];
        let gate = {
            let mut gates = slot.gates.lock().expect("gates");
            match gates.get(origin) {
                Some(gate) => gate.clone(),
                None => gates.entry(origin.to_owned()).or_default().clone(),
            }
        };
        gate.pass(slot.client.execute(request)).await
    }

    /// The first connection with room under [`STREAMS_BEFORE_SPILL`], else the least busy.
    fn pick(&self) -> &Slot {
        self.slots
            .iter()
            .find(|slot| slot.in_flight.load(Ordering::Relaxed) < STREAMS_BEFORE_SPILL)
            .or_else(|| {
                self.slots
                    .iter()
                    .min_by_key(|slot| slot.in_flight.load(Ordering::Relaxed))
            })
            .expect("at least one connection")
    }
}

/// Why a request got no answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct HttpError {
    /// What went wrong, in words: TLS failures and timeouts say so.
    pub reason: String,
}

impl From<&reqwest::Error> for HttpError {
    fn from(err: &reqwest::Error) -> Self {
        let host = err
            .url()
            .and_then(|u| u.host_str())
            .unwrap_or("the provider")
            .to_owned();
        let mut chain = vec![err.to_string()];
        let mut tls = None;
        let mut source = std::error::Error::source(err);
        while let Some(cause) = source {
            // rustls's error sits inside the io::Error the TLS stream reports.
            let inner = cause
                .downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .map_or(cause, |inner| inner as &(dyn std::error::Error + 'static));
            if let Some(rustls) = inner.downcast_ref::<rustls::Error>() {
                tls = Some(rustls.to_string());
            }
            chain.push(cause.to_string());
            source = cause.source();
        }
        chain.dedup();
        // Not every TLS stack keeps rustls's error reachable by type; its words name it too.
        if tls.is_none() {
            tls = chain
                .iter()
                .rev()
                .find(|text| text.contains("certificate") || text.contains("TLS"))
                .cloned();
        }
        let reason = match tls {
            Some(detail) => format!(
                "TLS handshake with {host} failed: {detail} (is its certificate authority \
                 trusted? HERALD_EXTRA_CA_FILE adds one)"
            ),
            None if err.is_timeout() => format!("timeout: {}", chain.join(": ")),
            None => format!("network: {}", chain.join(": ")),
        };
        Self { reason }
    }
}

/// The longest a provider request may take (`providers.timeout_secs` at most).
pub const MAX_TIMEOUT: Duration = Duration::from_secs(60);

/// Transport settings common to every provider.
#[derive(Clone, Debug, Default)]
pub struct HttpConfig {
    /// PEM CA certificates (one or more) trusted in addition to the public roots.
    pub extra_ca_pem: Option<String>,
    /// Per-request timeout; 0 means 30 s; at most [`MAX_TIMEOUT`].
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
        config.timeout.min(MAX_TIMEOUT)
    };
    let one = || {
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(10))
            .pool_idle_timeout(IDLE)
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
        Ok(Slot {
            client: builder.build()?,
            gates: Mutex::default(),
            in_flight: AtomicUsize::new(0),
        })
    };
    let slots = (0..CONNECTIONS)
        .map(|_| one())
        .collect::<Result<Vec<_>, reqwest::Error>>()?;
    Ok(HttpClient {
        slots: slots.into(),
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

/// POSTs `body` (JSON) with a bearer token to `url` (parsed once, when its client was made).
pub async fn post_json(
    http: &HttpClient,
    url: &reqwest::Url,
    bearer: &str,
    body: &Bytes,
) -> Result<Answer, crate::SendOutcome> {
    let response = http
        .send(|client| {
            client
                .post(url.clone())
                .bearer_auth(bearer)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone())
        })
        .await
        .map_err(|e| unanswered(&e))?;
    Ok(read_answer(response, "").await)
}

/// A request that never got an answer (timeout, connection or TLS failure) is a retry.
pub fn unanswered(err: &HttpError) -> crate::SendOutcome {
    crate::SendOutcome::Retry {
        reason: err.reason.clone(),
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
