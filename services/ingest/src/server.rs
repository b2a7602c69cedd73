//! The gRPC server around the API: every service accepts and answers gzip, reports its health
//! under its own name, and is described by server reflection (so grpcurl and Postman work
//! without the .proto files); a call to anything else is answered UNIMPLEMENTED with what is
//! missing. Browsers call the same services with gRPC-Web. The REST surface (`rest_api`, with its OpenAPI document), the app endpoints (`rest`)
//! and Wazo's (`wazo`) share the port, over HTTP/1.1 or HTTP/2.

use axum::http::{HeaderMap, HeaderName, Method, Uri, header};
use herald_proto::v1::admin_server::AdminServer;
use herald_proto::v1::credentials_server::CredentialsServer;
use herald_proto::v1::customers_server::CustomersServer;
use herald_proto::v1::devices_server::DevicesServer;
use herald_proto::v1::events_server::EventsServer;
use herald_proto::v1::notifications_server::NotificationsServer;
use herald_proto::v1::topics_server::TopicsServer;
use herald_proto::v1::webhooks_server::WebhooksServer;
use tonic::codec::CompressionEncoding::Gzip;
use tonic::service::Routes;
use tonic_health::ServingStatus;
use tonic_web::GrpcWebLayer;
use tower_http::cors::{Any, CorsLayer};
use tower_layer::Layer as _;

use crate::Api;

/// A service of the API as it is served: gzip both ways, and gRPC-Web (binary and text, over
/// HTTP/1.1 or HTTP/2) beside gRPC, for browsers.
macro_rules! served {
    ($server:ident, $api:expr) => {
        GrpcWebLayer::new().layer(
            $server::new($api.clone())
                .accept_compressed(Gzip)
                .send_compressed(Gzip),
        )
    };
}

/// Any origin may call the API from a browser with gRPC-Web: the key travels in the
/// `Authorization` header, never in a cookie, so a page gains nothing its own key would not give.
fn grpc_web_cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::POST])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("x-grpc-web"),
            HeaderName::from_static("x-user-agent"),
            HeaderName::from_static("grpc-timeout"),
        ])
        .expose_headers([
            HeaderName::from_static("grpc-status"),
            HeaderName::from_static("grpc-message"),
            HeaderName::from_static("grpc-status-details-bin"),
        ])
}

/// The routes of every service `api` serves, with health and reflection.
pub(crate) async fn routes(api: Api) -> anyhow::Result<Routes> {
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter.set_serving::<AdminServer<Api>>().await;
    reporter.set_serving::<DevicesServer<Api>>().await;
    reporter.set_serving::<NotificationsServer<Api>>().await;
    reporter.set_serving::<CredentialsServer<Api>>().await;
    reporter.set_serving::<TopicsServer<Api>>().await;
    reporter.set_serving::<CustomersServer<Api>>().await;
    reporter.set_serving::<WebhooksServer<Api>>().await;
    reporter.set_serving::<EventsServer<Api>>().await;
    reporter
        .set_service_status("", ServingStatus::Serving)
        .await;
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(herald_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let routes = Routes::new(GrpcWebLayer::new().layer(health))
        .add_service(GrpcWebLayer::new().layer(reflection().build_v1()?))
        .add_service(GrpcWebLayer::new().layer(reflection().build_v1alpha()?))
        .add_service(served!(AdminServer, api))
        .add_service(served!(DevicesServer, api))
        .add_service(served!(NotificationsServer, api))
        .add_service(served!(CredentialsServer, api))
        .add_service(served!(TopicsServer, api))
        .add_service(served!(CustomersServer, api))
        .add_service(served!(WebhooksServer, api))
        .add_service(served!(EventsServer, api));
    Ok(routes
        .into_axum_router()
        .layer(grpc_web_cors())
        .merge(crate::rest::router(api.clone()))
        .merge(crate::rest_api::router(api.clone()))
        .merge(crate::wazo::router(api.clone()))
        .merge(crate::console::router(api))
        .fallback(unimplemented)
        .into())
}

/// The answer to a path this server does not have: for a gRPC call, UNIMPLEMENTED naming the
/// method; for anything else, a JSON 404 as the REST routes answer.
async fn unimplemented(method: Method, uri: Uri, headers: HeaderMap) -> axum::response::Response {
    let grpc = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"));
    if grpc {
        let path = uri.path();
        return tonic::Status::unimplemented(format!("{path} is not a method of Herald's API"))
            .into_http();
    }
    crate::rest_api::failure(
        tonic::Code::NotFound,
        &format!(
            "{method} {} is not a route of Herald's HTTP API (see /v1/openapi.json)",
            uri.path()
        ),
        "",
    )
}
