//! Wazo's push endpoint, `POST /1.0/mobile/notifications` (also under the prefix a Wazo stack
//! serves it at, `/api/wazo-webhookd`): a server API key in `X-Auth-Token`, the tenant in
//! `Wazo-Tenant` (optional; it must be the key's), the body as wazo-webhookd's schema takes it
//! (with Herald's bounds on `extra`: an event's 64 KiB, and the data rules of a Send).
//! The push goes to the user's active mobile sessions, as an event of the request's type whose
//! record says what came of it; the answer is wazo-webhookd's: 204, or 400/401/403 with
//! `{"message", "error_id", "details", "timestamp"}`.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use herald_core::Error;
use herald_core::personalize::literal;
use herald_core::time::now_ms;
use herald_core::triggers::Payload;
use herald_core::wazo::{self, Details};
use herald_proto::v1::{Destination, Trigger, destination};
use tonic::metadata::{MetadataMap, MetadataValue};

use crate::Api;
use crate::events::{EventInput, event_digest};

/// The routes.
pub(crate) fn router(api: Api) -> Router {
    Router::new()
        .route("/1.0/mobile/notifications", post(send))
        .route("/api/wazo-webhookd/1.0/mobile/notifications", post(send))
        // A request is a few hundred bytes; `extra` may not exceed an event's 64 KiB.
        .layer(DefaultBodyLimit::max(128 * 1024))
        .with_state(api)
}

/// An error as wazo-webhookd answers it.
fn failure(
    status: StatusCode,
    message: &str,
    error_id: &str,
    details: serde_json::Value,
) -> Response {
    let body = serde_json::json!({
        "message": message,
        "error_id": error_id,
        "details": details,
        "timestamp": now_ms() as f64 / 1000.0,
    });
    (status, Json(body)).into_response()
}

fn invalid(details: &Details) -> Response {
    failure(
        StatusCode::BAD_REQUEST,
        "Sent data is invalid",
        "invalid-data",
        serde_json::json!(details),
    )
}

async fn send(State(api): State<Api>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(token) = headers
        .get("x-auth-token")
        .and_then(|v| v.to_str().ok())
        .filter(|t| !t.is_empty())
    else {
        return failure(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "unauthorized",
            serde_json::json!({"reason": "no X-Auth-Token header"}),
        );
    };
    let mut metadata = MetadataMap::new();
    match MetadataValue::try_from(format!("Bearer {token}")) {
        Ok(value) => {
            metadata.insert("authorization", value);
        }
        Err(_) => {
            return failure(
                StatusCode::UNAUTHORIZED,
                "Unauthorized",
                "unauthorized",
                serde_json::json!({"reason": "the token is not a valid header value"}),
            );
        }
    }
    let tenant = match api.tenant(&metadata).await {
        Ok(tenant) => tenant,
        Err(Error::Unauthenticated(reason)) => {
            return failure(
                StatusCode::UNAUTHORIZED,
                "Unauthorized",
                "unauthorized",
                serde_json::json!({ "reason": reason }),
            );
        }
        Err(Error::PermissionDenied(reason)) => {
            return failure(
                StatusCode::FORBIDDEN,
                "Forbidden",
                "forbidden",
                serde_json::json!({ "reason": reason }),
            );
        }
        Err(err) => return server_error(&err),
    };
    // As xivo's tenant helpers answer a tenant the token may not act for.
    if let Some(asked) = headers.get("wazo-tenant")
        && asked.to_str().ok() != Some(tenant.as_str())
    {
        let asked = String::from_utf8_lossy(asked.as_bytes()).into_owned();
        return failure(
            StatusCode::UNAUTHORIZED,
            &format!("Unauthorized tenant: {asked}"),
            "unauthorized-tenant",
            serde_json::json!({ "tenant_uuid": asked }),
        );
    }
    let request = match wazo::notification(&body) {
        Ok(request) => request,
        Err(details) => return invalid(&details),
    };
    let mut payload = Payload::new();
    payload.insert("user_uuid".into(), request.user_uuid.clone().into());
    payload.insert("title".into(), request.title.clone().into());
    payload.insert("body".into(), request.body.clone().into());
    payload.insert("extra".into(), request.extra.clone().into());
    let notification = wazo::custom_notification(&request);
    // What `extra` makes of the push's data is checked as a Send's would be: a 400 now rather
    // than a 204 for a push that is then refused.
    if let Err(err) = herald_core::validate::notification_fields(&notification) {
        let reason = match err {
            Error::InvalidArgument { field, reason } => format!("{field}: {reason}"),
            other => other.to_string(),
        };
        let mut details = Details::new();
        details.insert("extra".into(), vec![reason]);
        return invalid(&details);
    }
    let trigger = Trigger {
        trigger_id: "wazo".into(),
        display_name: "Wazo API push (POST /1.0/mobile/notifications)".into(),
        event_type: request.notification_type.clone(),
        template: Some(notification),
        enabled: true,
        // The user's uuid is the destination as it is, never a template.
        destination: Some(Destination {
            kind: Some(destination::Kind::UserId(literal(&request.user_uuid))),
        }),
        mobile_sessions: true,
        ..Default::default()
    };
    let input = EventInput {
        digest: event_digest(&[&body]),
        event_type: request.notification_type,
        payload,
        destination: None,
        idempotency_key: String::new(),
        source: "wazo",
    };
    match api.publish(&tenant, input, vec![trigger]).await {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(err) => server_error(&err),
    }
}

/// A failure of Herald's own (the database or the bus out of reach): 503, or 500.
fn server_error(err: &Error) -> Response {
    tracing::warn!(%err, "a Wazo push failed");
    let status = if matches!(err, Error::Unavailable(_)) {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    };
    failure(
        status,
        "The push could not be accepted; try again",
        "unavailable",
        serde_json::json!({}),
    )
}
