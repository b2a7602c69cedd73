//! The REST surface beside gRPC, for curl and for SDKs without gRPC: send, read a message and
//! its counts, devices, delivery reports and events, each route the gRPC call of the same name
//! (same authentication, validation and answers), its JSON the proto3 JSON mapping with the
//! `.proto` field names. [`ROUTES`] is what is served and what `GET /v1/openapi.json`
//! describes (`openapi`), so the document cannot drift from the server.

use std::collections::HashMap;
use std::future::Future;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, post};
use herald_proto::v1::devices_server::Devices;
use herald_proto::v1::events_server::Events;
use herald_proto::v1::notifications_server::Notifications;
use herald_proto::v1::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tonic::Code;
use tonic_types::StatusExt as _;
use tower_http::cors::{Any, CorsLayer};

use crate::Api;

/// One REST route and the gRPC call it is.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Route {
    pub method: &'static str,
    /// The path, OpenAPI style (`{message_id}`); each parameter is the request's field of that
    /// name.
    pub path: &'static str,
    /// The gRPC method, and the OpenAPI operation id.
    pub operation: &'static str,
    pub summary: &'static str,
    /// The request message (its JSON is the body of a POST, the query of a GET or DELETE).
    pub request: &'static str,
    pub response: &'static str,
}

/// Every route of the REST surface.
pub(crate) const ROUTES: &[Route] = &[
    Route {
        method: "post",
        path: "/v1/notifications",
        operation: "Send",
        summary: "Accepts a notification for delivery and answers its message id",
        request: "SendRequest",
        response: "SendResponse",
    },
    Route {
        method: "get",
        path: "/v1/messages/{message_id}",
        operation: "GetMessage",
        summary: "The message as accepted and the status of each of its deliveries",
        request: "GetMessageRequest",
        response: "GetMessageResponse",
    },
    Route {
        method: "get",
        path: "/v1/messages/{message_id}/stats",
        operation: "GetMessageStats",
        summary: "A message's deliveries counted by the stage they reached, with rates",
        request: "GetMessageStatsRequest",
        response: "DeliveryStats",
    },
    Route {
        method: "get",
        path: "/v1/messages",
        operation: "ListMessages",
        summary: "The tenant's messages, newest first",
        request: "ListMessagesRequest",
        response: "ListMessagesResponse",
    },
    Route {
        method: "get",
        path: "/v1/scheduled-messages",
        operation: "ListScheduledMessages",
        summary: "The tenant's scheduled messages, soonest first",
        request: "ListScheduledMessagesRequest",
        response: "ListScheduledMessagesResponse",
    },
    Route {
        method: "post",
        path: "/v1/messages/{message_id}/reschedule",
        operation: "RescheduleMessage",
        summary: "Moves a scheduled message to another instant",
        request: "RescheduleMessageRequest",
        response: "Message",
    },
    Route {
        method: "post",
        path: "/v1/messages/{message_id}/cancel",
        operation: "CancelMessage",
        summary: "Cancels a message: a scheduled one never starts",
        request: "CancelMessageRequest",
        response: "CancelMessageResponse",
    },
    Route {
        method: "post",
        path: "/v1/devices",
        operation: "RegisterDevice",
        summary: "Registers a device (a known token is updated and moved to the new user)",
        request: "RegisterDeviceRequest",
        response: "RegisterDeviceResponse",
    },
    Route {
        method: "get",
        path: "/v1/devices",
        operation: "ListDevices",
        summary: "The tenant's devices, filtered by user, platform, browser and state",
        request: "ListDevicesRequest",
        response: "ListDevicesResponse",
    },
    Route {
        method: "get",
        path: "/v1/devices/{device_id}",
        operation: "GetDevice",
        summary: "One device",
        request: "GetDeviceRequest",
        response: "Device",
    },
    Route {
        method: "delete",
        path: "/v1/devices/{device_id}",
        operation: "UnregisterDevice",
        summary: "Unsubscribes a device: it is never sent to again until registered again",
        request: "UnregisterDeviceRequest",
        response: "UnregisterDeviceResponse",
    },
    Route {
        method: "post",
        path: "/v1/deliveries/{delivery_id}/reports",
        operation: "ReportDeliveryEvent",
        summary: "Records what a device did with a delivery (delivered, read, clicked, button)",
        request: "ReportDeliveryEventRequest",
        response: "ReportDeliveryEventResponse",
    },
    Route {
        method: "post",
        path: "/v1/events",
        operation: "PublishEvent",
        summary: "Publishes an event: its triggers send, and its record says what each did",
        request: "PublishEventRequest",
        response: "PublishEventResponse",
    },
    Route {
        method: "get",
        path: "/v1/events",
        operation: "ListEvents",
        summary: "The tenant's events, newest first",
        request: "ListEventsRequest",
        response: "ListEventsResponse",
    },
    Route {
        method: "get",
        path: "/v1/events/{event_id}",
        operation: "GetEvent",
        summary: "An event's record",
        request: "GetEventRequest",
        response: "EventRecord",
    },
];

/// The routes, with the OpenAPI document at `/v1/openapi.json`.
pub(crate) fn router(api: Api) -> axum::Router {
    let document = crate::openapi::document();
    let mut router = axum::Router::new().route(
        "/v1/openapi.json",
        get(move || {
            let document = document.clone();
            async move { Json(document) }
        }),
    );
    for route in ROUTES {
        router = router.route(route.path, handler(route));
    }
    router
        .layer(
            CorsLayer::new()
                .allow_origin(Any)
                .allow_methods([Method::GET, Method::POST, Method::DELETE])
                .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]),
        )
        .with_state(api)
}

/// The handler of a route: its gRPC call, on the request made of the path, body and query.
fn handler(route: &Route) -> MethodRouter<Api> {
    macro_rules! call {
        ($trait:ident :: $method:ident, $request:ty) => {{
            let run = |api: Api, headers: HeaderMap, params: Params, body: Bytes| async move {
                answer::<$request, _, _, _>(api, headers, params, body, |api, r| async move {
                    $trait::$method(&api, r).await
                })
                .await
            };
            run
        }};
    }
    macro_rules! route {
        ($trait:ident :: $method:ident, $request:ty) => {{
            let run = call!($trait::$method, $request);
            move |State(api): State<Api>,
                  headers: HeaderMap,
                  path: Option<Path<HashMap<String, String>>>,
                  Query(query): Query<HashMap<String, String>>,
                  body: Bytes| {
                run(
                    api,
                    headers,
                    Params {
                        path: path.map(|Path(p)| p).unwrap_or_default(),
                        query,
                    },
                    body,
                )
            }
        }};
    }
    match route.operation {
        "Send" => post(route!(Notifications::send, SendRequest)),
        "GetMessage" => get(route!(Notifications::get_message, GetMessageRequest)),
        "GetMessageStats" => get(route!(
            Notifications::get_message_stats,
            GetMessageStatsRequest
        )),
        "ListMessages" => get(route!(Notifications::list_messages, ListMessagesRequest)),
        "ListScheduledMessages" => get(route!(
            Notifications::list_scheduled_messages,
            ListScheduledMessagesRequest
        )),
        "RescheduleMessage" => post(route!(
            Notifications::reschedule_message,
            RescheduleMessageRequest
        )),
        "CancelMessage" => post(route!(Notifications::cancel_message, CancelMessageRequest)),
        "RegisterDevice" => post(route!(Devices::register_device, RegisterDeviceRequest)),
        "ListDevices" => get(route!(Devices::list_devices, ListDevicesRequest)),
        "GetDevice" => get(route!(Devices::get_device, GetDeviceRequest)),
        "UnregisterDevice" => delete(route!(Devices::unregister_device, UnregisterDeviceRequest)),
        "ReportDeliveryEvent" => post(route!(
            Notifications::report_delivery_event,
            ReportDeliveryEventRequest
        )),
        "PublishEvent" => post(route!(Events::publish_event, PublishEventRequest)),
        "ListEvents" => get(route!(Events::list_events, ListEventsRequest)),
        "GetEvent" => get(route!(Events::get_event, GetEventRequest)),
        other => unreachable!("the REST route {other} has no handler"),
    }
}

/// What a request carries besides its body.
struct Params {
    path: HashMap<String, String>,
    query: HashMap<String, String>,
}

/// The request as JSON: the body (a POST), else the query; path parameters set their fields.
/// What is wrong with a body that is not a JSON object: the reason.
fn request_json(params: Params, body: &Bytes) -> Result<serde_json::Value, String> {
    let mut json = if body.is_empty() {
        serde_json::Value::Object(
            params
                .query
                .into_iter()
                .map(|(k, v)| (k, serde_json::Value::String(v)))
                .collect(),
        )
    } else {
        serde_json::from_slice(body).map_err(|err| format!("not JSON: {err}"))?
    };
    let Some(object) = json.as_object_mut() else {
        return Err("must be a JSON object".into());
    };
    for (name, value) in params.path {
        object.insert(name, serde_json::Value::String(value));
    }
    Ok(json)
}

/// Runs one route: the request decoded (proto3 JSON), the gRPC call made with the caller's
/// `Authorization`, its answer (or status) as JSON.
async fn answer<Req, Resp, F, Fut>(
    api: Api,
    headers: HeaderMap,
    params: Params,
    body: Bytes,
    call: F,
) -> Response
where
    Req: DeserializeOwned,
    Resp: Serialize,
    F: FnOnce(Api, tonic::Request<Req>) -> Fut,
    Fut: Future<Output = Result<tonic::Response<Resp>, tonic::Status>>,
{
    let json = match request_json(params, &body) {
        Ok(json) => json,
        Err(reason) => return failure(Code::InvalidArgument, &reason, "body"),
    };
    let message: Req = match serde_path_to_error::deserialize(json) {
        Ok(message) => message,
        Err(err) => {
            let field = err.path().to_string();
            let field = if field == "." {
                "body".to_owned()
            } else {
                field
            };
            return failure(Code::InvalidArgument, &err.inner().to_string(), &field);
        }
    };
    let mut request = tonic::Request::new(message);
    if let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
    {
        request.metadata_mut().insert("authorization", value);
    }
    match call(api, request).await {
        Ok(response) => (StatusCode::OK, Json(response.into_inner())).into_response(),
        Err(status) => {
            let field = status
                .get_error_details()
                .bad_request()
                .and_then(|b| b.field_violations.first().map(|v| v.field.clone()))
                .unwrap_or_default();
            failure(status.code(), status.message(), &field)
        }
    }
}

/// An error as the REST surface answers it: the HTTP status of its gRPC code, and
/// `{"error": {"code", "message", "field"}}` (the field when one is at fault).
pub(crate) fn failure(code: Code, message: &str, field: &str) -> Response {
    let status = match code {
        Code::InvalidArgument | Code::OutOfRange => StatusCode::BAD_REQUEST,
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::AlreadyExists | Code::FailedPrecondition | Code::Aborted => StatusCode::CONFLICT,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let name = format!("{code:?}");
    let mut error = serde_json::json!({"code": screaming(&name), "message": message});
    if !field.is_empty() {
        error["field"] = field.into();
    }
    (status, Json(serde_json::json!({ "error": error }))).into_response()
}

/// `InvalidArgument` → `INVALID_ARGUMENT`, as gRPC spells its codes.
fn screaming(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_spelled_as_grpc_spells_them() {
        assert_eq!(screaming("InvalidArgument"), "INVALID_ARGUMENT");
        assert_eq!(screaming("NotFound"), "NOT_FOUND");
        assert_eq!(screaming("Internal"), "INTERNAL");
    }

    #[test]
    fn every_route_has_a_handler() {
        for route in ROUTES {
            let _ = handler(route);
        }
    }
}
