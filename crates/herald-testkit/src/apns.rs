//! A mock APNs: `POST /3/device/<token>` over HTTP/2 and TLS, authenticating with a provider
//! token (ES256 JWT checked against the team key's public half) or a client certificate issued
//! by the test CA.
//!
//! It checks what APNs checks: the token's key id, team and age, the topic against the app's
//! bundle id (and `.voip`), the push type, priority (5 for background), expiration, collapse id
//! (≤ 64 bytes), apns-id (lowercase UUID), the device token, and the payload size (4096 bytes,
//! 5120 for VoIP); it answers Apple's reasons, can be scripted per device token, and records the
//! most streams that were in flight on one connection at once.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _,
    UnparsedPublicKey,
};
use serde_json::{Value, json};

pub use crate::mock::{Answer, ReceivedPush, Version};
use crate::mock::{ClientCert, Mock, Peer, Recorder, authorization, header_map, with_retry_after};
use crate::tls::{ClientIdentity, HttpsServer, TestCa};

/// The mock app and its team key.
pub const BUNDLE_ID: &str = "com.herald.test";
pub const TEAM_ID: &str = "HERALDTEAM";
pub const KEY_ID: &str = "HERALDKEY1";
/// A provider token older than this is refused (ExpiredProviderToken).
const TOKEN_MAX_AGE: Duration = Duration::from_secs(3600);
const PUSH_TYPES: [&str; 9] = [
    "alert",
    "background",
    "voip",
    "location",
    "complication",
    "fileprovider",
    "mdm",
    "liveactivity",
    "pushtotalk",
];

#[derive(Debug, Default)]
struct Streams {
    current: HashMap<SocketAddr, usize>,
    max: usize,
}

/// What the mock's handlers share.
#[derive(Debug)]
pub struct ApnsState {
    recorder: Recorder,
    team_key_pem: String,
    team_public_key: Vec<u8>,
    certificates: Mutex<HashSet<Vec<u8>>>,
    provider_tokens: Mutex<HashSet<String>>,
    streams: Mutex<Streams>,
    log_pushes: bool,
}

impl AsRef<Recorder> for ApnsState {
    fn as_ref(&self) -> &Recorder {
        &self.recorder
    }
}

/// A running mock APNs; it dereferences to its [`Recorder`] (scripts, received pushes).
pub type MockApns = Mock<ApnsState>;

impl MockApns {
    pub async fn start(ca: &TestCa) -> anyhow::Result<Self> {
        Self::start_on(ca, 0, false).await
    }

    /// Starts a mock on `port` (0: any); `log_pushes` logs each accepted push.
    pub async fn start_on(ca: &TestCa, port: u16, log_pushes: bool) -> anyhow::Result<Self> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| anyhow::anyhow!("cannot make a P-256 key"))?;
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .map_err(|_| anyhow::anyhow!("cannot read the P-256 key"))?;
        let shared = Arc::new(ApnsState {
            recorder: Recorder::default(),
            team_key_pem: herald_core::crypto::pem("PRIVATE KEY", pkcs8.as_ref()),
            team_public_key: key.public_key().as_ref().to_vec(),
            certificates: Mutex::default(),
            provider_tokens: Mutex::default(),
            streams: Mutex::default(),
            log_pushes,
        });
        let router = Router::new()
            .route("/3/device/{token}", post(send))
            .with_state(shared.clone());
        let server = HttpsServer::start_with_client_auth(ca, router, port).await?;
        Ok(Self { server, shared })
    }

    /// The team's .p8 key (PEM) that token authentication signs with.
    pub fn team_key_pem(&self) -> &str {
        &self.shared.team_key_pem
    }

    /// Issues a client certificate for the mock app and accepts it from now on.
    pub fn client_certificate(&self, ca: &TestCa) -> anyhow::Result<ClientIdentity> {
        let identity = ca.issue_client(&format!("Apple Push Services: {BUNDLE_ID}"))?;
        self.shared
            .certificates
            .lock()
            .expect("mock state")
            .insert(identity.der.clone());
        Ok(identity)
    }

    /// How many different provider tokens were presented.
    pub fn provider_tokens_seen(&self) -> usize {
        self.shared
            .provider_tokens
            .lock()
            .expect("mock state")
            .len()
    }

    /// The most requests in flight at once on one connection.
    pub fn max_streams_in_flight(&self) -> usize {
        self.shared.streams.lock().expect("mock state").max
    }
}

/// Counts a request in flight on its connection while alive.
struct InFlight<'a> {
    streams: &'a Mutex<Streams>,
    peer: SocketAddr,
}

impl<'a> InFlight<'a> {
    fn enter(streams: &'a Mutex<Streams>, peer: SocketAddr) -> Self {
        let mut s = streams.lock().expect("mock state");
        let current = s.current.entry(peer).or_default();
        *current += 1;
        let now = *current;
        s.max = s.max.max(now);
        Self { streams, peer }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Some(current) = self
            .streams
            .lock()
            .expect("mock state")
            .current
            .get_mut(&self.peer)
        {
            *current -= 1;
        }
    }
}

fn reason(status: StatusCode, reason: &str) -> Response {
    let mut body = json!({ "reason": reason });
    if status == StatusCode::GONE {
        body["timestamp"] = json!(crate::unix_now() * 1000);
    }
    (status, axum::Json(body)).into_response()
}

/// Checks a provider token as APNs does.
fn check_provider_token(shared: &ApnsState, jwt: &str) -> Result<(), &'static str> {
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header, claims, signature] = parts.as_slice() else {
        return Err("InvalidProviderToken");
    };
    let decode = |part: &str| -> Option<Value> {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok()
    };
    let (Some(header), Some(claims)) = (decode(header), decode(claims)) else {
        return Err("InvalidProviderToken");
    };
    if header["alg"] != "ES256" {
        return Err("InvalidProviderToken");
    }
    if header["kid"] != KEY_ID {
        return Err("UnrelatedKeyIdInToken");
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| "InvalidProviderToken")?;
    // A token accepted before verified then; APNs, too, checks a token's signature once.
    if !shared
        .provider_tokens
        .lock()
        .expect("mock state")
        .contains(jwt)
    {
        let signed = &jwt[..jwt.rfind('.').unwrap_or_default()];
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &shared.team_public_key)
            .verify(signed.as_bytes(), &signature)
            .map_err(|_| "InvalidProviderToken")?;
    }
    if claims["iss"] != TEAM_ID {
        return Err("InvalidProviderToken");
    }
    let iat = claims["iat"].as_u64().ok_or("InvalidProviderToken")?;
    if crate::unix_now().saturating_sub(iat) > TOKEN_MAX_AGE.as_secs() {
        return Err("ExpiredProviderToken");
    }
    Ok(())
}

fn is_lowercase_uuid(id: &str) -> bool {
    let groups: Vec<&str> = id.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && id
            .bytes()
            .all(|b| b == b'-' || b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Checks the headers and token of a push; answers the reason APNs would refuse it with.
fn check_request(
    headers: &HeaderMap,
    token: &str,
    body: &[u8],
    token_auth: bool,
) -> Result<(), (StatusCode, &'static str)> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let bad = |reason| Err((StatusCode::BAD_REQUEST, reason));
    let topic = match header("apns-topic") {
        Some(topic) => topic,
        None if token_auth => return bad("MissingTopic"),
        None => BUNDLE_ID,
    };
    let push_type = header("apns-push-type").unwrap_or("alert");
    if !PUSH_TYPES.contains(&push_type) {
        return bad("InvalidPushType");
    }
    if topic != BUNDLE_ID && topic != format!("{BUNDLE_ID}.voip") {
        return bad("TopicDisallowed");
    }
    if (push_type == "voip") != topic.ends_with(".voip") {
        return bad("BadTopic");
    }
    match (header("apns-priority"), push_type) {
        (Some("10"), "background") => return bad("BadPriority"),
        (Some("1" | "5" | "10") | None, _) => {}
        _ => return bad("BadPriority"),
    }
    if header("apns-expiration").is_some_and(|e| e.parse::<u64>().is_err()) {
        return bad("BadExpirationDate");
    }
    if header("apns-collapse-id").is_some_and(|c| c.len() > 64) {
        return bad("BadCollapseId");
    }
    if header("apns-id").is_some_and(|id| !is_lowercase_uuid(id)) {
        return bad("BadMessageId");
    }
    if token.len() < 64
        || !token.bytes().all(|b| b.is_ascii_hexdigit())
        || token.bytes().all(|b| b == b'0')
    {
        return bad("BadDeviceToken");
    }
    if body.is_empty() {
        return bad("PayloadEmpty");
    }
    let limit = if push_type == "voip" { 5120 } else { 4096 };
    if body.len() > limit {
        return Err((StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLarge"));
    }
    Ok(())
}

async fn send(
    State(shared): State<Arc<ApnsState>>,
    Extension(Peer(peer)): Extension<Peer>,
    Extension(ClientCert(client_cert)): Extension<ClientCert>,
    Path(token): Path<String>,
    version: Version,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let arrived = Instant::now();
    let _in_flight = InFlight::enter(&shared.streams, peer);
    let authorization = authorization(&headers);
    let token_auth = !authorization.is_empty();
    if let Some(jwt) = authorization.strip_prefix("bearer ") {
        if let Err(why) = check_provider_token(&shared, jwt) {
            return reason(StatusCode::FORBIDDEN, why);
        }
        shared
            .provider_tokens
            .lock()
            .expect("mock state")
            .insert(jwt.to_owned());
    } else if token_auth {
        return reason(StatusCode::FORBIDDEN, "InvalidProviderToken");
    } else {
        let known = client_cert
            .is_some_and(|c| shared.certificates.lock().expect("mock state").contains(&c));
        if !known {
            return reason(StatusCode::FORBIDDEN, "MissingProviderToken");
        }
    }
    if let Err((status, why)) = check_request(&headers, &token, &body, token_auth) {
        return reason(status, why);
    }
    let answer = shared.recorder.next_answer(&token);
    if !answer.delay.is_zero() {
        tokio::time::sleep(answer.delay).await;
    }
    if answer.bad_access_token {
        return reason(StatusCode::FORBIDDEN, "ExpiredProviderToken");
    }
    if let Some(why) = answer.error {
        let status = match why {
            "Unregistered" | "ExpiredToken" => StatusCode::GONE,
            "TooManyRequests" | "TooManyProviderTokenUpdates" => StatusCode::TOO_MANY_REQUESTS,
            "InternalServerError" => StatusCode::INTERNAL_SERVER_ERROR,
            "ServiceUnavailable" | "Shutdown" => StatusCode::SERVICE_UNAVAILABLE,
            "ExpiredProviderToken" | "InvalidProviderToken" | "Forbidden" | "BadCertificate" => {
                StatusCode::FORBIDDEN
            }
            _ => StatusCode::BAD_REQUEST,
        };
        return with_retry_after(reason(status, why), &answer);
    }
    let apns_id = headers
        .get("apns-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("00000000-0000-0000-0000-000000000000")
        .to_owned();
    let payload: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if shared.log_pushes {
        tracing::info!(target: "herald::mock_apns", %token, body = %payload, "mock APNs accepted a push");
    }
    shared.recorder.record(ReceivedPush {
        token,
        body: payload,
        authorization,
        headers: header_map(&headers),
        http_version: version,
        validate_only: false,
        peer,
        at: arrived,
        sealed: None,
    });
    ([("apns-id", apns_id)], StatusCode::OK).into_response()
}
