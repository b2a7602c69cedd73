//! A mock FCM: the OAuth2 token endpoint of a service account (JWT bearer grant) and the HTTP v1
//! `messages:send` endpoint, over HTTP/2 and TLS.
//!
//! It checks what FCM checks: the assertion's RS256 signature and claims, the bearer token, the
//! project, exactly one target, string-only data without reserved keys, the TTL format, the
//! priority and the 4096-byte payload limit; it answers FCM's error bodies. Tests script answers
//! per device token (errors, `Retry-After`, delays) and read back what it received.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{KeyPair as _, RSA_PKCS1_2048_8192_SHA256, RsaKeyPair, UnparsedPublicKey};
use serde_json::{Value, json};

pub use crate::mock::{Answer, ReceivedPush, Version};
use crate::mock::{Mock, Peer, Recorder, authorization, header_map, with_retry_after};
use crate::tls::{HttpsServer, TestCa};
use crate::unix_now;

/// The private key of the mock service account (a throwaway test key).
const SERVICE_ACCOUNT_KEY_PEM: &str = include_str!("../fixtures/fcm-service-account-key.pem");
pub const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
const MAX_PAYLOAD: usize = 4096;

/// What the mock's handlers share.
#[derive(Debug)]
pub struct FcmState {
    project_id: String,
    client_email: String,
    public_key: Vec<u8>,
    token_uri: String,
    token_lifetime: Duration,
    log_pushes: bool,
    recorder: Recorder,
}

impl AsRef<Recorder> for FcmState {
    fn as_ref(&self) -> &Recorder {
        &self.recorder
    }
}

/// A running mock; it dereferences to its [`Recorder`] (scripts, received pushes).
pub type MockFcm = Mock<FcmState>;

impl MockFcm {
    /// Starts a mock for project `herald-test` on a free port.
    pub async fn start(ca: &TestCa) -> anyhow::Result<Self> {
        Self::start_on(ca, 0, false).await
    }

    /// Starts a mock on `port` (0: any); `log_pushes` logs each accepted push (for
    /// `herald up --with-mocks`).
    pub async fn start_on(ca: &TestCa, port: u16, log_pushes: bool) -> anyhow::Result<Self> {
        let port = crate::tls::resolve_port(port)?;
        let key = service_account_key();
        let shared = Arc::new(FcmState {
            project_id: "herald-test".into(),
            client_email: "herald-test@herald-test.iam.gserviceaccount.com".into(),
            public_key: key.public_key().as_ref().to_vec(),
            token_uri: format!("https://localhost:{port}/token"),
            token_lifetime: Duration::from_secs(3600),
            log_pushes,
            recorder: Recorder::default(),
        });
        let router = Router::new()
            .route("/token", post(token))
            .route("/v1/projects/{project}/messages:send", post(send))
            .with_state(shared.clone());
        let server = HttpsServer::start(ca, router, port).await?;
        Ok(Self { server, shared })
    }

    /// A service-account JSON whose `token_uri` points at this mock.
    pub fn service_account_json(&self) -> String {
        json!({
            "type": "service_account",
            "project_id": self.shared.project_id,
            "private_key_id": "mock-key-1",
            "private_key": SERVICE_ACCOUNT_KEY_PEM,
            "client_email": self.shared.client_email,
            "client_id": "1234567890",
            "token_uri": self.shared.token_uri,
        })
        .to_string()
    }
}

fn service_account_key() -> RsaKeyPair {
    let der = pem_body(SERVICE_ACCOUNT_KEY_PEM);
    RsaKeyPair::from_pkcs8(&der).expect("the fixture key is a PKCS#8 RSA key")
}

fn pem_body(pem: &str) -> Vec<u8> {
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("PEM body")
}

fn oauth_error(description: &str) -> Response {
    let body = json!({ "error": "invalid_grant", "error_description": description });
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

async fn token(State(shared): State<Arc<FcmState>>, body: Bytes) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    if form.get("grant_type").map(String::as_str)
        != Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
    {
        return oauth_error("unsupported grant_type");
    }
    let Some(assertion) = form.get("assertion") else {
        return oauth_error("missing assertion");
    };
    if let Err(problem) = check_assertion(&shared, assertion) {
        return oauth_error(&problem);
    }
    let access_token = shared
        .recorder
        .issue_token("ya29.mock", shared.token_lifetime);
    axum::Json(json!({
        "access_token": access_token,
        "expires_in": shared.token_lifetime.as_secs(),
        "token_type": "Bearer",
    }))
    .into_response()
}

/// Checks a service-account assertion as Google's token endpoint does.
fn check_assertion(shared: &FcmState, jwt: &str) -> Result<(), String> {
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header, claims, signature] = parts.as_slice() else {
        return Err("assertion is not a JWT".into());
    };
    let decode = |part: &str| -> Result<Value, String> {
        let bytes = URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| "bad base64url".to_string())?;
        serde_json::from_slice(&bytes).map_err(|_| "bad JSON".to_string())
    };
    let header = decode(header)?;
    if header["alg"] != "RS256" {
        return Err("alg must be RS256".into());
    }
    let sig = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| "bad signature encoding")?;
    let signed = &jwt[..jwt.rfind('.').unwrap_or_default()];
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &shared.public_key)
        .verify(signed.as_bytes(), &sig)
        .map_err(|_| "Invalid JWT Signature.".to_string())?;
    let claims = decode(claims)?;
    let now = unix_now();
    let iat = claims["iat"].as_u64().ok_or("iat missing")?;
    let exp = claims["exp"].as_u64().ok_or("exp missing")?;
    if claims["iss"] != shared.client_email.as_str() {
        return Err("iss is not the service account".into());
    }
    if !claims["scope"]
        .as_str()
        .unwrap_or_default()
        .split(' ')
        .any(|s| s == SCOPE)
    {
        return Err("scope lacks firebase.messaging".into());
    }
    if claims["aud"] != shared.token_uri.as_str() {
        return Err("aud must be the token_uri".into());
    }
    if exp > iat + 3600 || exp <= now || iat > now + 300 {
        return Err("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe".into());
    }
    Ok(())
}

/// FCM's error body, with an FcmError detail when `error_code` is set.
fn fcm_error(
    status: StatusCode,
    google_status: &str,
    error_code: Option<&str>,
    message: &str,
) -> Response {
    let mut error = json!({ "code": status.as_u16(), "message": message, "status": google_status });
    if let Some(code) = error_code {
        error["details"] = json!([{
            "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
            "errorCode": code,
        }]);
    }
    (status, axum::Json(json!({ "error": error }))).into_response()
}

fn invalid(message: &str) -> Response {
    fcm_error(
        StatusCode::BAD_REQUEST,
        "INVALID_ARGUMENT",
        Some("INVALID_ARGUMENT"),
        message,
    )
}

async fn send(
    State(shared): State<Arc<FcmState>>,
    Extension(Peer(peer)): Extension<Peer>,
    Path(project): Path<String>,
    version: Version,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let arrived = Instant::now();
    let authorization = authorization(&headers);
    if !shared.recorder.token_valid(&authorization) {
        return fcm_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            None,
            "Request had invalid authentication credentials. Expected OAuth 2 access token.",
        );
    }
    if project != shared.project_id {
        return fcm_error(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            None,
            "Permission 'cloudmessaging.messages.create' denied on resource",
        );
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return invalid("Invalid JSON payload received.");
    };
    let message = &request["message"];
    if let Err(problem) = check_message(message) {
        return invalid(&problem);
    }
    let token = message["token"].as_str().unwrap_or_default().to_owned();
    let validate_only = request["validate_only"].as_bool().unwrap_or(false);

    let answer = shared.recorder.next_answer(&token);
    if !answer.delay.is_zero() {
        tokio::time::sleep(answer.delay).await;
    }
    if answer.bad_access_token {
        shared.recorder.forget_token(&authorization);
        return fcm_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            None,
            "Request had invalid authentication credentials.",
        );
    }
    if let Some(code) = answer.error {
        let (status, google_status) = match code {
            "UNREGISTERED" => (StatusCode::NOT_FOUND, "NOT_FOUND"),
            "SENDER_ID_MISMATCH" => (StatusCode::FORBIDDEN, "PERMISSION_DENIED"),
            "THIRD_PARTY_AUTH_ERROR" => (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED"),
            "QUOTA_EXCEEDED" => (StatusCode::TOO_MANY_REQUESTS, "RESOURCE_EXHAUSTED"),
            "UNAVAILABLE" => (StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE"),
            "INTERNAL" => (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL"),
            _ => (StatusCode::BAD_REQUEST, "INVALID_ARGUMENT"),
        };
        let message = match code {
            "UNREGISTERED" => "Requested entity was not found.",
            "INVALID_ARGUMENT" => "The registration token is not a valid FCM registration token",
            _ => code,
        };
        return with_retry_after(
            fcm_error(status, google_status, Some(code), message),
            &answer,
        );
    }

    if shared.log_pushes && !validate_only {
        tracing::info!(target: "herald::mock_fcm", %token, body = %message, "mock FCM accepted a push");
    }
    let sequence = shared.recorder.record(ReceivedPush {
        token,
        body: request,
        authorization,
        headers: header_map(&headers),
        http_version: version,
        validate_only,
        peer,
        at: arrived,
        sealed: None,
    });
    let name = format!(
        "projects/{}/messages/0:{}%mock{sequence}",
        shared.project_id,
        unix_now()
    );
    axum::Json(json!({ "name": name })).into_response()
}

/// FCM's own checks of a message.
fn check_message(message: &Value) -> Result<(), String> {
    let Some(object) = message.as_object() else {
        return Err("message is required".into());
    };
    let targets = ["token", "topic", "condition"]
        .iter()
        .filter(|t| object.contains_key(**t))
        .count();
    if targets != 1 {
        return Err("exactly one of token, topic or condition must be set".into());
    }
    if let Some(data) = object.get("data") {
        let data = data.as_object().ok_or("data must be a map")?;
        for (key, value) in data {
            if !value.is_string() {
                return Err(format!(
                    "Invalid value at 'message.data[{key}].value' (TYPE_STRING)"
                ));
            }
            if ["from", "message_type"].contains(&key.as_str())
                || key.starts_with("google.")
                || key.starts_with("gcm.")
            {
                return Err(format!("Invalid data payload key: {key}"));
            }
        }
    }
    if let Some(android) = object.get("android") {
        if let Some(ttl) = android.get("ttl") {
            let ttl = ttl
                .as_str()
                .ok_or("android.ttl must be a duration string")?;
            let seconds: f64 = ttl
                .strip_suffix('s')
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| format!("Invalid value at 'message.android.ttl' ({ttl})"))?;
            if !(0.0..=2_419_200.0).contains(&seconds) {
                return Err("android.ttl must be at most 4 weeks".into());
            }
        }
        if let Some(priority) = android.get("priority")
            && !matches!(priority.as_str(), Some("NORMAL" | "HIGH"))
        {
            return Err(format!(
                "Invalid value at 'message.android.priority' ({priority})"
            ));
        }
    }
    let mut payload = object.clone();
    payload.remove("token");
    if Value::Object(payload).to_string().len() > MAX_PAYLOAD {
        return Err("Message is too big".into());
    }
    Ok(())
}
