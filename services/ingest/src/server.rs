//! The gRPC server around the API: every service accepts and answers gzip, reports its health
//! under its own name, and is described by server reflection (so grpcurl and Postman work
//! without the .proto files); a call to anything else is answered UNIMPLEMENTED with what is
//! missing. The REST surface (`rest_api`, with its OpenAPI document), the app endpoints (`rest`)
//! and Wazo's (`wazo`) share the port, over HTTP/1.1 or HTTP/2.

use axum::http::{HeaderMap, Method, Uri, header};
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

use crate::Api;

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
    let routes = Routes::new(health)
        .add_service(reflection().build_v1()?)
        .add_service(reflection().build_v1alpha()?)
        .add_service(
            AdminServer::new(api.clone())
                .accept_compressed(Gzip)
                .send_compressed(Gzip),
        )
        .add_service(
            DevicesServer::new(api.clone())
                .accept_compressed(Gzip)
                .send_compressed(Gzip),
        )
        .add_service(
            NotificationsServer::new(api.clone())
                .accept_compressed(Gzip)
                .send_compressed(Gzip),
        )
        .add_service(
            CredentialsServer::new(api.clone())
                .accept_compressed(Gzip)
                .send_compressed(Gzip),
        )
        .add_service(
            TopicsServer::new(api.clone())
                .accept_compressed(Gzip)
                .send_compressed(Gzip),
        )
        .add_service(
            CustomersServer::new(api.clone())
                .accept_compressed(Gzip)
                .send_compressed(Gzip),
        )
        .add_service(
            WebhooksServer::new(api.clone())
                .accept_compressed(Gzip)
                .send_compressed(Gzip),
        )
        .add_service(
            EventsServer::new(api.clone())
                .accept_compressed(Gzip)
                .send_compressed(Gzip),
        );
    Ok(routes
        .into_axum_router()
        .merge(crate::rest::router(api.clone()))
        .merge(crate::rest_api::router(api.clone()))
        .merge(crate::wazo::router(api))
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
