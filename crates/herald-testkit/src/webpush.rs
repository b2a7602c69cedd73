//! A mock Web Push service (RFC 8030): browser subscriptions whose private keys it holds, and
//! `POST /push/<id>` over HTTP/2 and TLS.
//!
//! It checks what push services check: the `TTL` header, `Content-Encoding: aes128gcm`, the
//! `Urgency` and `Topic` formats, the VAPID JWT (ES256 signature with the `k` key, `aud` = its
//! origin, `exp` within 24 hours, a mailto:/https: `sub`) and that `k` is the
//! applicationServerKey the subscription was made with, the 4096-byte body limit and the
//! aes128gcm header. Like a real push service it cannot read the body (it is encrypted for the
//! browser); when a test reads a push, the mock decrypts it with the subscription's keys, as the
//! browser would, so tests see what the service worker would.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use herald_providers::webpush::{b64url, ece, from_b64url};
use p256::SecretKey;
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};
use serde_json::Value;

pub use crate::mock::{Answer, ReceivedPush, Version};
use crate::mock::{Mock, Peer, Recorder, Sealed, authorization, header_map, with_retry_after};
use crate::tls::{HttpsServer, TestCa};

const MAX_BODY: usize = 4096;
const MAX_JWT_LIFETIME: u64 = 24 * 3600;

/// A browser's PushSubscription, as the page would hand it to the application server.
#[derive(Clone, Debug)]
pub struct Subscription {
    pub endpoint: String,
    /// Base64url, as `subscription.toJSON().keys.p256dh`.
    pub p256dh: String,
    pub auth: String,
}

impl Subscription {
    /// The subscription as `subscription.toJSON()` gives it.
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "endpoint": self.endpoint,
            "expirationTime": null,
            "keys": {"p256dh": self.p256dh, "auth": self.auth},
        })
    }
}

struct Subscriber {
    key: SecretKey,
    auth: Vec<u8>,
    application_server_key: Vec<u8>,
}

/// What the mock's handlers share.
pub struct WebPushState {
    recorder: Recorder,
    origin: String,
    subscribers: Mutex<HashMap<String, Subscriber>>,
    vapid_tokens: Mutex<HashSet<String>>,
    /// (JWT, k) pairs whose signature verified: checked once, as a push service would cache.
    verified: Mutex<HashSet<(String, Vec<u8>)>>,
    log_pushes: bool,
}

impl std::fmt::Debug for WebPushState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebPushState")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl AsRef<Recorder> for WebPushState {
    fn as_ref(&self) -> &Recorder {
        &self.recorder
    }
}

/// A running mock push service; it dereferences to its [`Recorder`]. Recorded pushes carry
/// the decrypted JSON as their body and the subscription id as their token.
pub type MockPushService = Mock<WebPushState>;

impl MockPushService {
    pub async fn start(ca: &TestCa) -> anyhow::Result<Self> {
        Self::start_on(ca, 0, false).await
    }

    /// Starts a mock on `port` (0: any); `log_pushes` logs each decrypted push.
    pub async fn start_on(ca: &TestCa, port: u16, log_pushes: bool) -> anyhow::Result<Self> {
        let port = crate::tls::resolve_port(port)?;
        let shared = Arc::new(WebPushState {
            recorder: Recorder::default(),
            origin: format!("https://localhost:{port}"),
            subscribers: Mutex::default(),
            vapid_tokens: Mutex::default(),
            verified: Mutex::default(),
            log_pushes,
        });
        let router = Router::new()
            .route("/push/{id}", post(push))
            .with_state(shared.clone());
        let server = HttpsServer::start(ca, router, port).await?;
        Ok(Self { server, shared })
    }

    /// Subscribes a browser with the application server key `vapid_public_key` (base64url),
    /// as `pushManager.subscribe({applicationServerKey})` does.
    pub fn subscribe(&self, vapid_public_key: &str) -> Subscription {
        let key = ece::random_secret_key();
        let auth = herald_core::crypto::random_bytes::<16>().to_vec();
        let id = b64url(&herald_core::crypto::random_bytes::<12>());
        let subscription = Subscription {
            endpoint: format!("{}/push/{id}", self.shared.origin),
            p256dh: b64url(&key.public_key().to_sec1_bytes()),
            auth: b64url(&auth),
        };
        let subscriber = Subscriber {
            key,
            auth,
            application_server_key: from_b64url(vapid_public_key).unwrap_or_default(),
        };
        self.shared
            .subscribers
            .lock()
            .expect("mock state")
            .insert(id, subscriber);
        subscription
    }

    /// A subscription made before the page knew its application server key: the first push
    /// with a valid VAPID key binds it to that key, as if the page had subscribed with it.
    /// `herald up --with-mocks` writes one for a newcomer, whose tenant has no VAPID keys yet.
    pub fn subscribe_unbound(&self) -> Subscription {
        self.subscribe("")
    }

    /// The id of a subscription (the recorded pushes' `token`).
    pub fn id_of(subscription: &Subscription) -> &str {
        subscription.endpoint.rsplit('/').next().unwrap_or_default()
    }

    /// How many different VAPID JWTs were presented.
    pub fn vapid_tokens_seen(&self) -> usize {
        self.shared.vapid_tokens.lock().expect("mock state").len()
    }
}

fn refuse(status: StatusCode, why: &str) -> Response {
    (status, why.to_owned()).into_response()
}

/// Checks `Authorization: vapid t=<jwt>, k=<key>`; answers the JWT and key.
fn check_vapid(
    shared: &WebPushState,
    authorization: &str,
) -> Result<(String, Vec<u8>), &'static str> {
    let params = authorization
        .strip_prefix("vapid ")
        .ok_or("Authorization must use the vapid scheme")?;
    let mut jwt = None;
    let mut key = None;
    for part in params.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => jwt = Some(value.to_owned()),
            Some(("k", value)) => key = from_b64url(value),
            _ => {}
        }
    }
    let (jwt, key) = jwt.zip(key).ok_or("vapid needs t= and k=")?;
    let (input, signature) = jwt.rsplit_once('.').ok_or("t is not a JWT")?;
    let pair = (jwt.clone(), key.clone());
    if !shared.verified.lock().expect("mock state").contains(&pair) {
        let verifying =
            VerifyingKey::from_sec1_bytes(&key).map_err(|_| "k is not a P-256 public key")?;
        let signature = from_b64url(signature)
            .and_then(|s| Signature::from_slice(&s).ok())
            .ok_or("bad JWT signature")?;
        verifying
            .verify(input.as_bytes(), &signature)
            .map_err(|_| "the JWT signature does not verify with k")?;
        shared.verified.lock().expect("mock state").insert(pair);
    }
    let claims: Value = input
        .split('.')
        .nth(1)
        .and_then(from_b64url)
        .and_then(|c| serde_json::from_slice(&c).ok())
        .ok_or("unreadable JWT claims")?;
    if claims["aud"] != shared.origin.as_str() {
        return Err("aud is not this push service's origin");
    }
    let exp = claims["exp"].as_u64().ok_or("exp missing")?;
    let now = crate::unix_now();
    if exp <= now || exp > now + MAX_JWT_LIFETIME {
        return Err("exp must be in the next 24 hours");
    }
    let sub = claims["sub"].as_str().unwrap_or_default();
    if !(sub.starts_with("mailto:") || sub.starts_with("https://")) {
        return Err("sub must be a mailto: or https: contact");
    }
    Ok((jwt, key))
}

/// Checks the RFC 8030 headers.
fn check_headers(headers: &HeaderMap) -> Result<(), (StatusCode, &'static str)> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if header("ttl").and_then(|t| t.parse::<u64>().ok()).is_none() {
        return Err((
            StatusCode::BAD_REQUEST,
            "a TTL header (seconds) is required",
        ));
    }
    if header("content-encoding") != Some("aes128gcm") {
        return Err((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Encoding must be aes128gcm",
        ));
    }
    if header("urgency").is_some_and(|u| !["very-low", "low", "normal", "high"].contains(&u)) {
        return Err((
            StatusCode::BAD_REQUEST,
            "Urgency must be very-low, low, normal or high",
        ));
    }
    let bad_topic = |t: &str| {
        t.len() > 32
            || !t
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if header("topic").is_some_and(bad_topic) {
        return Err((
            StatusCode::BAD_REQUEST,
            "Topic must be at most 32 base64url characters",
        ));
    }
    Ok(())
}

async fn push(
    State(shared): State<Arc<WebPushState>>,
    Extension(Peer(peer)): Extension<Peer>,
    Path(id): Path<String>,
    version: Version,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let arrived = Instant::now();
    if let Err((status, why)) = check_headers(&headers) {
        return refuse(status, why);
    }
    let authorization = authorization(&headers);
    let (jwt, key) = match check_vapid(&shared, &authorization) {
        Ok(pair) => pair,
        Err(why) => return refuse(StatusCode::UNAUTHORIZED, why),
    };
    if body.len() > MAX_BODY {
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, "the body is over 4096 bytes");
    }
    // The aes128gcm header (salt, record size, a 65-byte key id) and one tag at least.
    if body.len() < 21 + 65 + 16 || body[20] != 65 {
        return refuse(StatusCode::BAD_REQUEST, "the aes128gcm header is malformed");
    }
    let answer = shared.recorder.next_answer(&id);
    if !answer.delay.is_zero() {
        tokio::time::sleep(answer.delay).await;
    }
    if let Some(code) = answer.error {
        let status = code
            .parse()
            .ok()
            .and_then(|c| StatusCode::from_u16(c).ok())
            .unwrap_or(StatusCode::BAD_REQUEST);
        return with_retry_after(refuse(status, "scripted"), &answer);
    }
    let (key, auth) = {
        let mut subscribers = shared.subscribers.lock().expect("mock state");
        let Some(subscriber) = subscribers.get_mut(&id) else {
            return refuse(StatusCode::NOT_FOUND, "no such subscription");
        };
        if subscriber.application_server_key.is_empty() {
            subscriber.application_server_key = key.clone();
        }
        if subscriber.application_server_key != key {
            return refuse(
                StatusCode::FORBIDDEN,
                "k is not the key the subscription was made with",
            );
        }
        (subscriber.key.clone(), subscriber.auth.clone())
    };
    shared.vapid_tokens.lock().expect("mock state").insert(jwt);
    // What the browser reads: the decrypted body as JSON (or as text, or why it is unreadable).
    let open = move || match ece::decrypt(&body, &key, &auth) {
        Ok(plaintext) => serde_json::from_slice(&plaintext)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&plaintext).into_owned())),
        Err(err) => Value::String(format!("the body does not decrypt: {err}")),
    };
    let (message, sealed) = if shared.log_pushes {
        let message = open();
        tracing::info!(target: "herald::mock_webpush", subscription = %id, message = %message, "mock push service delivered a message");
        (message, None)
    } else {
        (Value::Null, Some(Sealed::new(open)))
    };
    let sequence = shared.recorder.record(ReceivedPush {
        token: id,
        body: message,
        authorization,
        headers: header_map(&headers),
        http_version: version,
        validate_only: false,
        peer,
        at: arrived,
        sealed,
    });
    let location = format!("{}/message/{sequence}", shared.origin);
    (StatusCode::CREATED, [("location", location)]).into_response()
}
