//! A mock HUAWEI Push Kit: the OAuth2 client-credentials token endpoint and `messages:send`,
//! over HTTP/2 and TLS.
//!
//! It checks what Push Kit checks: the app's id and secret, the bearer token, the app in the
//! path, one kind of target with at most 1000 tokens, `data` as a string, the TTL format and
//! range, the urgency (and a category for a high-priority data message), a notification's title
//! and body, https click-action and image URLs, a badge's class, at most three buttons, and the
//! 4096-byte body limit (tokens excluded); it answers Push Kit's result codes (80200001 for an
//! access token it does not accept). Tests script answers per device token.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

pub use crate::mock::{Answer, ReceivedPush, Version};
use crate::mock::{Mock, Peer, Recorder, authorization, header_map, with_retry_after};
use crate::tls::{HttpsServer, TestCa};

/// The mock app's credentials.
pub const APP_ID: &str = "100200300";
pub const APP_SECRET: &str = "hms-test-app-secret";
/// The mock app's launcher activity, for badges.
pub const BADGE_CLASS: &str = "com.herald.test.MainActivity";
const MAX_BODY: usize = 4096;
const MAX_TOKENS: usize = 1000;
const MAX_TTL_SECONDS: u64 = 1_296_000;

/// What the mock's handlers share.
#[derive(Debug)]
pub struct HmsState {
    log_pushes: bool,
    recorder: Recorder,
}

impl AsRef<Recorder> for HmsState {
    fn as_ref(&self) -> &Recorder {
        &self.recorder
    }
}

/// A running mock; it dereferences to its [`Recorder`] (scripts, received pushes).
pub type MockHms = Mock<HmsState>;

impl MockHms {
    pub async fn start(ca: &TestCa) -> anyhow::Result<Self> {
        Self::start_on(ca, 0, false).await
    }

    /// Starts a mock on `port` (0: any); `log_pushes` logs each accepted push.
    pub async fn start_on(ca: &TestCa, port: u16, log_pushes: bool) -> anyhow::Result<Self> {
        let shared = Arc::new(HmsState {
            log_pushes,
            recorder: Recorder::default(),
        });
        let router = Router::new()
            .route("/oauth2/v3/token", post(token))
            .route("/v1/{app_id}/messages:send", post(send))
            .with_state(shared.clone());
        let server = HttpsServer::start(ca, router, port).await?;
        Ok(Self { server, shared })
    }

    /// The URL to configure as Herald's HMS token endpoint.
    pub fn token_url(&self) -> String {
        format!("{}/oauth2/v3/token", self.server.base_url())
    }
}

async fn token(State(shared): State<Arc<HmsState>>, body: Bytes) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| form.get(name).map(String::as_str);
    if field("grant_type") != Some("client_credentials") {
        let body = json!({"error": 1102, "error_description": "unsupported grant_type"});
        return (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
    }
    if field("client_id") != Some(APP_ID) || field("client_secret") != Some(APP_SECRET) {
        let body =
            json!({"error": 1101, "sub_error": 20186, "error_description": "invalid client"});
        return (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
    }
    let lifetime = Duration::from_secs(3600);
    let access_token = shared.recorder.issue_token("hms-mock", lifetime);
    axum::Json(json!({"access_token": access_token, "expires_in": lifetime.as_secs(), "token_type": "Bearer"}))
        .into_response()
}

/// Push Kit's answer body.
fn result(status: StatusCode, code: &str, msg: &str) -> Response {
    let body =
        json!({"code": code, "msg": msg, "requestId": format!("mock-{}", crate::unix_now())});
    (status, axum::Json(body)).into_response()
}

async fn send(
    State(shared): State<Arc<HmsState>>,
    Extension(Peer(peer)): Extension<Peer>,
    Path(app_id): Path<String>,
    version: Version,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let arrived = Instant::now();
    let authorization = authorization(&headers);
    // Push Kit answers an access token it does not accept (expired, revoked, unknown) so.
    if !shared.recorder.token_valid(&authorization) {
        return result(
            StatusCode::UNAUTHORIZED,
            "80200001",
            "Oauth authentication error",
        );
    }
    if app_id != APP_ID {
        return result(
            StatusCode::FORBIDDEN,
            "80300002",
            "No permission to send message to these tokens",
        );
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return result(
            StatusCode::BAD_REQUEST,
            "80100003",
            "Illegal payload: invalid JSON",
        );
    };
    let message = &request["message"];
    let tokens: Vec<String> = message["token"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if tokens.len() > MAX_TOKENS {
        return result(
            StatusCode::BAD_REQUEST,
            "80300010",
            "The number of tokens exceeds the default value",
        );
    }
    if let Err(problem) = check_message(message) {
        return result(
            StatusCode::BAD_REQUEST,
            "80100003",
            &format!("Illegal payload, {problem}"),
        );
    }
    let token = tokens.first().cloned().unwrap_or_default();
    let validate_only = request["validate_only"].as_bool().unwrap_or(false);

    let answer = shared.recorder.next_answer(&token);
    if !answer.delay.is_zero() {
        tokio::time::sleep(answer.delay).await;
    }
    if answer.bad_access_token {
        shared.recorder.forget_token(&authorization);
        return result(
            StatusCode::UNAUTHORIZED,
            "80200001",
            "Oauth authentication error",
        );
    }
    if let Some(code) = answer.error {
        let response = match code {
            "503" => (StatusCode::SERVICE_UNAVAILABLE, "flow control").into_response(),
            "80100000" => {
                let detail = json!({"success": 0, "failure": 1, "illegal_tokens": [token]});
                result(StatusCode::OK, code, &detail.to_string())
            }
            "80300007" => result(StatusCode::OK, code, "All the tokens are invalid"),
            "80200001" => result(StatusCode::UNAUTHORIZED, code, "Oauth authentication error"),
            other => result(StatusCode::BAD_REQUEST, other, "scripted error"),
        };
        return with_retry_after(response, &answer);
    }
    if shared.log_pushes && !validate_only {
        tracing::info!(target: "herald::mock_hms", %token, body = %message, "mock HMS accepted a push");
    }
    shared.recorder.record(ReceivedPush {
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
    result(StatusCode::OK, "80000000", "Success")
}

/// Push Kit's own checks of a message.
fn check_message(message: &Value) -> Result<(), String> {
    let object = message.as_object().ok_or("message is required")?;
    let targets = ["token", "topic", "condition"]
        .iter()
        .filter(|t| object.contains_key(**t))
        .count();
    if targets != 1 {
        return Err("exactly one of token, topic or condition must be set".into());
    }
    if object
        .get("token")
        .is_some_and(|t| t.as_array().is_none_or(Vec::is_empty))
    {
        return Err("token must be a non-empty list".into());
    }
    if object.get("data").is_some_and(|d| !d.is_string()) {
        return Err("data must be a string".into());
    }
    if let Some(android) = object.get("android") {
        if let Some(ttl) = android.get("ttl") {
            let seconds: u64 = ttl
                .as_str()
                .and_then(|t| t.strip_suffix('s'))
                .and_then(|t| t.parse().ok())
                .ok_or_else(|| format!("ttl {ttl} is not a duration like \"86400s\""))?;
            if seconds > MAX_TTL_SECONDS {
                return Err(format!("ttl must be at most {MAX_TTL_SECONDS}s"));
            }
        }
        if let Some(urgency) = android.get("urgency")
            && !matches!(urgency.as_str(), Some("HIGH" | "NORMAL"))
        {
            return Err(format!("urgency {urgency} must be HIGH or NORMAL"));
        }
        if let Some(notification) = android.get("notification") {
            let action = &notification["click_action"];
            match action["type"].as_u64() {
                Some(1) if action["intent"].is_string() || action["action"].is_string() => {}
                Some(2)
                    if action["url"]
                        .as_str()
                        .is_some_and(|u| u.starts_with("https://")) => {}
                Some(3) => {}
                _ => return Err(format!("click_action {action} is invalid")),
            }
            for key in ["title", "body"] {
                if notification[key].as_str().is_none_or(str::is_empty) {
                    return Err(format!("notification {key} is required"));
                }
            }
            if notification
                .get("image")
                .is_some_and(|i| !i.as_str().is_some_and(|u| u.starts_with("https://")))
            {
                return Err("the image must be an https URL".into());
            }
            if let Some(badge) = notification.get("badge")
                && badge["class"].as_str().is_none_or(str::is_empty)
            {
                return Err("badge class is required".into());
            }
            if let Some(buttons) = notification.get("buttons") {
                let buttons = buttons.as_array().ok_or("buttons must be a list")?;
                if buttons.len() > 3
                    || buttons.iter().any(|b| {
                        b["name"]
                            .as_str()
                            .is_none_or(|n| n.is_empty() || n.chars().count() > 40)
                            || b["action_type"].as_u64().is_none_or(|t| t > 4)
                    })
                {
                    return Err(format!("buttons {buttons:?} are invalid"));
                }
            }
        } else if android.get("urgency").and_then(Value::as_str) == Some("HIGH")
            && android.get("category").and_then(Value::as_str).is_none()
        {
            return Err("a high-priority data message needs a category".into());
        }
    }
    let mut without_tokens = object.clone();
    without_tokens.remove("token");
    let size = json!({"validate_only": false, "message": without_tokens})
        .to_string()
        .len();
    if size > MAX_BODY {
        return Err(format!(
            "the message body is {size} bytes, more than {MAX_BODY}"
        ));
    }
    Ok(())
}
