//! The REST endpoints an app calls with its app client key (or a server key), for mobile and web
//! SDKs that carry no gRPC: register the device, report what it did with a delivery. JSON in,
//! JSON out, errors as `{"error": {"code", "message", "field"}}`; any origin may call them (the
//! key travels in the `Authorization` header, never in a cookie).

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use herald_core::Error;
use herald_core::import::BrowserSubscription;
use herald_core::names::Named;
use herald_proto::v1::{
    Browser, DeviceEventKind, Platform, RegisterDeviceRequest, ReportDeliveryEventRequest,
    WebSubscription,
};
use serde::Deserialize;
use tonic::metadata::MetadataMap;
use tower_http::cors::{Any, CorsLayer};

use crate::Api;

/// The routes, to serve beside the gRPC services.
pub(crate) fn router(api: Api) -> axum::Router {
    axum::Router::new()
        .route("/v1/app/devices", post(register))
        .route("/v1/app/deliveries/{delivery_id}/events", post(report))
        .route("/v1/app/{*rest}", any(no_such_endpoint))
        .layer(
            CorsLayer::new()
                .allow_origin(Any)
                .allow_methods([Method::POST])
                .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]),
        )
        .with_state(api)
}

/// A device as an app registers it; `web_subscription` is a browser's
/// `PushSubscription.toJSON()`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviceBody {
    #[serde(default)]
    user_id: String,
    #[serde(default)]
    customer_id: String,
    platform: String,
    #[serde(default)]
    push_token: String,
    browser: Option<String>,
    web_subscription: Option<BrowserSubscription>,
    #[serde(default)]
    sandbox: bool,
    #[serde(default)]
    app_version: String,
    #[serde(default)]
    locale: String,
    #[serde(default)]
    time_zone: String,
}

/// What a device did with a delivery.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventBody {
    /// delivered, read, clicked or button.
    kind: String,
    #[serde(default)]
    button: String,
    #[serde(default)]
    at_ms: i64,
}

/// An error as the REST endpoints answer it.
struct Failure(Error);

impl From<Error> for Failure {
    fn from(err: Error) -> Self {
        Self(err)
    }
}

impl From<JsonRejection> for Failure {
    fn from(rejection: JsonRejection) -> Self {
        Self(Error::invalid("body", rejection.body_text()))
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let (status, code, field) = match &self.0 {
            Error::InvalidArgument { field, .. } => {
                (StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", field.clone())
            }
            Error::NotFound(_) => (StatusCode::NOT_FOUND, "NOT_FOUND", String::new()),
            Error::Unauthenticated(_) => {
                (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", String::new())
            }
            Error::PermissionDenied(_) => {
                (StatusCode::FORBIDDEN, "PERMISSION_DENIED", String::new())
            }
            Error::FailedPrecondition(_) => {
                (StatusCode::CONFLICT, "FAILED_PRECONDITION", String::new())
            }
            Error::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "UNAVAILABLE",
                String::new(),
            ),
            Error::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", String::new()),
        };
        // What the gRPC status would say (internal details stay in the log).
        let message = tonic::Status::from(self.0).message().to_owned();
        let mut error = serde_json::json!({"code": code, "message": message});
        if !field.is_empty() {
            error["field"] = field.into();
        }
        (status, Json(serde_json::json!({ "error": error }))).into_response()
    }
}

/// The value `name` spells, or an invalid-argument error for `field`.
fn named<T: Named>(field: &str, name: &str) -> Result<T, Error> {
    T::from_name(name).ok_or_else(|| Error::invalid(field, format!("one of: {}", T::spellings())))
}

/// Any other path under the app endpoints: a REST client is told in REST, not gRPC.
async fn no_such_endpoint() -> Failure {
    Failure(Error::NotFound(
        "this endpoint (the app endpoints are POST /v1/app/devices and \
         POST /v1/app/deliveries/{delivery_id}/events)"
            .into(),
    ))
}

async fn register(
    State(api): State<Api>,
    headers: HeaderMap,
    body: Result<Json<DeviceBody>, JsonRejection>,
) -> Result<Response, Failure> {
    let (tenant, app) = api
        .device_tenant(&MetadataMap::from_headers(headers))
        .await?;
    let Json(body) = body?;
    let platform: Platform = named("platform", &body.platform)?;
    let browser: Option<Browser> = body
        .browser
        .as_deref()
        .map(|b| named("browser", b))
        .transpose()?;
    let request = RegisterDeviceRequest {
        user_id: body.user_id,
        customer_id: body.customer_id,
        platform: platform.into(),
        push_token: body.push_token,
        browser: browser.unwrap_or(Browser::Unspecified).into(),
        web_subscription: body.web_subscription.map(WebSubscription::from),
        sandbox: body.sandbox,
        app_version: body.app_version,
        locale: body.locale,
        time_zone: body.time_zone,
    };
    let registered = api.register(&tenant, &request, app).await?;
    let device = registered.device.unwrap_or_default();
    let status = if registered.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let answer = serde_json::json!({
        "device_id": device.device_id,
        "created": registered.created,
        "state": device.state().name(),
    });
    Ok((status, Json(answer)).into_response())
}

async fn report(
    State(api): State<Api>,
    Path(delivery_id): Path<String>,
    headers: HeaderMap,
    body: Result<Json<EventBody>, JsonRejection>,
) -> Result<StatusCode, Failure> {
    let (tenant, _) = api
        .device_tenant(&MetadataMap::from_headers(headers))
        .await?;
    let Json(body) = body?;
    let kind = match body.kind.as_str() {
        "delivered" => DeviceEventKind::Delivered,
        "read" => DeviceEventKind::Read,
        "clicked" => DeviceEventKind::Clicked,
        "button" => DeviceEventKind::Button,
        _ => {
            return Err(Error::invalid("kind", "one of: delivered, read, clicked, button").into());
        }
    };
    let request = ReportDeliveryEventRequest {
        delivery_id,
        kind: kind.into(),
        button: body.button,
        at_ms: body.at_ms,
    };
    api.report(&tenant, &request).await?;
    Ok(StatusCode::NO_CONTENT)
}
