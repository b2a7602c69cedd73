//! What a client written from the .proto files alone relies on: reflection, health per service,
//! gzip, readable errors (field violations, per-entry statuses), paging, field masks,
//! idempotency keys held to their request, and UNIMPLEMENTED that names the missing method.

use futures::StreamExt as _;
use herald_e2e::{DbBackend, Stack, hello};
use herald_proto::v1::*;
use tonic::Code;
use tonic::codec::CompressionEncoding;
use tonic_types::{RpcStatusExt as _, StatusExt as _};

#[tokio::test]
async fn reflection_lists_the_services_and_health_answers_for_each() {
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut reflection = ServerReflectionClient::new(stack.channel().await);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut answers = reflection
        .server_reflection_info(futures::stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let Some(Ok(answer)) = answers.next().await else {
        panic!("no reflection answer")
    };
    let Some(MessageResponse::ListServicesResponse(list)) = answer.message_response else {
        panic!("not a service list: {answer:?}")
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for service in [
        "herald.v1.Admin",
        "herald.v1.Devices",
        "herald.v1.Notifications",
        "herald.v1.Credentials",
        "grpc.health.v1.Health",
    ] {
        assert!(names.iter().any(|n| n == service), "{service} in {names:?}");
    }
    // Files are described too, and what they import, so a client can build requests.
    for request in [
        MessageRequest::FileContainingSymbol("herald.v1.Notifications".into()),
        MessageRequest::FileByFilename("herald/v1/devices.proto".into()),
        MessageRequest::FileByFilename("google/rpc/status.proto".into()),
    ] {
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(request),
        };
        let mut answers = reflection
            .server_reflection_info(futures::stream::iter([request.clone()]))
            .await
            .unwrap()
            .into_inner();
        let answer = answers.next().await.unwrap().unwrap();
        let Some(MessageResponse::FileDescriptorResponse(files)) = answer.message_response else {
            panic!("no descriptor for {request:?}: {answer:?}")
        };
        assert!(!files.file_descriptor_proto.is_empty());
    }

    let mut health = tonic_health::pb::health_client::HealthClient::new(stack.channel().await);
    for service in [
        "",
        "herald.v1.Admin",
        "herald.v1.Devices",
        "herald.v1.Notifications",
        "herald.v1.Credentials",
    ] {
        let status = health
            .check(tonic_health::pb::HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap_or_else(|e| panic!("health of {service:?}: {e}"))
            .into_inner();
        assert_eq!(
            status.status(),
            tonic_health::pb::health_check_response::ServingStatus::Serving,
            "{service:?}"
        );
    }
    stack.stop().await;
}

#[tokio::test]
async fn errors_name_the_field_and_batch_entries_carry_their_own_status() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    acme.register("ann", "tok-ann").await;
    let to_ann = |notification: Notification| SendRequest {
        destination: Some(Destination {
            kind: Some(destination::Kind::UserId("ann".into())),
        }),
        notification: Some(notification),
        ..Default::default()
    };
    let err = acme
        .notifications
        .send(to_ann(Notification {
            priority: 9,
            ..hello()
        }))
        .await
        .unwrap_err();
    let details = err.get_error_details();
    let violation = &details
        .bad_request()
        .expect("a BadRequest detail")
        .field_violations[0];
    assert_eq!(violation.field, "notification.priority");
    assert!(
        violation.description.contains("1 (lowest) to 5"),
        "{violation:?}"
    );

    let segment = SendRequest {
        destination: Some(Destination {
            kind: Some(destination::Kind::Segment("vip".into())),
        }),
        notification: Some(hello()),
        ..Default::default()
    };
    let results = acme
        .notifications
        .send_batch(SendBatchRequest {
            requests: vec![
                to_ann(hello()),
                to_ann(Notification {
                    priority: 9,
                    ..hello()
                }),
                segment,
            ],
        })
        .await
        .unwrap()
        .into_inner()
        .results;
    assert!(matches!(
        results[0].result,
        Some(send_batch_result::Result::Accepted(_))
    ));
    let Some(send_batch_result::Result::Error(invalid)) = &results[1].result else {
        panic!("entry 1 is invalid: {:?}", results[1])
    };
    assert_eq!(invalid.code, Code::InvalidArgument as i32);
    let details = invalid.get_error_details();
    assert_eq!(
        details.bad_request().unwrap().field_violations[0].field,
        "requests[1].notification.priority"
    );
    let Some(send_batch_result::Result::Error(missing)) = &results[2].result else {
        panic!("entry 2 names no segment the tenant has: {:?}", results[2])
    };
    assert_eq!(missing.code, Code::NotFound as i32);
    assert_eq!(missing.message, "segment \"vip\" not found");
    stack.stop().await;
}

#[tokio::test]
async fn gzip_requests_are_accepted_and_the_bearer_scheme_may_be_any_case() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    acme.register("gus", "tok-gus").await;
    let mut gzipped = acme
        .notifications
        .clone()
        .send_compressed(CompressionEncoding::Gzip)
        .accept_compressed(CompressionEncoding::Gzip);
    let sent = gzipped
        .send(SendRequest {
            destination: Some(Destination {
                kind: Some(destination::Kind::UserId("gus".into())),
            }),
            notification: Some(hello()),
            ..Default::default()
        })
        .await
        .expect("a gzip-compressed request")
        .into_inner();
    assert!(sent.message_id.starts_with("msg_"));

    for scheme in ["bearer", "BEARER"] {
        let mut request = tonic::Request::new(GetMessageRequest {
            message_id: sent.message_id.clone(),
        });
        request.metadata_mut().insert(
            "authorization",
            format!("{scheme} {}", acme.key).parse().unwrap(),
        );
        let mut raw = notifications_client::NotificationsClient::new(stack.channel().await);
        raw.get_message(request)
            .await
            .unwrap_or_else(|e| panic!("{scheme}: {e}"));
    }
    stack.stop().await;
}

#[tokio::test]
async fn a_method_herald_does_not_have_is_unimplemented_and_named() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut grpc = tonic::client::Grpc::new(stack.channel().await);
    let mut call = async |path: &'static str| {
        grpc.ready().await.unwrap();
        let codec = tonic_prost::ProstCodec::<ListTriggersRequest, ListTriggersResponse>::default();
        grpc.unary(
            tonic::Request::new(ListTriggersRequest::default()),
            http::uri::PathAndQuery::from_static(path),
            codec,
        )
        .await
        .unwrap_err()
    };
    // A service Herald does not have: the answer names the method.
    let err = call("/herald.v1.Nothing/ListEverything").await;
    assert_eq!(err.code(), Code::Unimplemented);
    assert!(
        err.message()
            .contains("/herald.v1.Nothing/ListEverything is not a method of Herald's API"),
        "{}",
        err.message()
    );
    // A method a service does not have.
    let err = call("/herald.v1.Events/ListEverything").await;
    assert_eq!(err.code(), Code::Unimplemented);
    stack.stop().await;
}

#[tokio::test]
async fn lists_page_with_opaque_tokens_and_clamp_large_pages() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    for i in 0..5 {
        acme.register("pia", &format!("tok-pia-{i}")).await;
    }
    let list = |page_size: u32, page_token: String| ListDevicesRequest {
        user_id: "pia".into(),
        page_size,
        page_token,
        ..Default::default()
    };
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = acme
            .devices
            .list_devices(list(2, token))
            .await
            .unwrap()
            .into_inner();
        assert!(page.devices.len() <= 2);
        seen.extend(page.devices.into_iter().map(|d| d.device_id));
        if page.next_page_token.is_empty() {
            break;
        }
        // Opaque: not even its base64 decoding shows a device id.
        let decoded = base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            &page.next_page_token,
        )
        .unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&decoded).contains("dev_")
                && !page.next_page_token.contains("dev_"),
            "opaque: {}",
            page.next_page_token
        );
        token = page.next_page_token;
    }
    assert_eq!(seen.len(), 5);
    let all = acme
        .devices
        .list_devices(list(1_000_000, String::new()))
        .await
        .expect("an oversized page is clamped, not refused")
        .into_inner();
    assert_eq!(all.devices.len(), 5);
    let err = acme
        .devices
        .list_devices(list(2, seen[0].clone()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(!err.message().contains("dev_"), "{}", err.message());

    let keys = acme
        .admin
        .list_api_keys(ListApiKeysRequest {
            page_size: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(keys.api_keys.len(), 1);
    stack.stop().await;
}

#[tokio::test]
async fn update_tenant_changes_only_the_fields_its_mask_names() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let acme = stack.tenant("acme").await;
    let mut admin = stack.admin().await.admin;
    let change = |display_name: &str, allow: bool, paths: &[&str]| UpdateTenantRequest {
        tenant: Some(Tenant {
            tenant_id: acme.tenant_id.clone(),
            display_name: display_name.into(),
            settings: Some(TenantSettings {
                allow_http_web_push: allow,
                ..Default::default()
            }),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: paths.iter().map(|p| (*p).to_owned()).collect(),
        }),
    };
    let renamed = admin
        .update_tenant(change("Acme Corp", true, &["display_name"]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(renamed.display_name, "Acme Corp");
    assert!(
        !renamed.settings.unwrap().allow_http_web_push,
        "not in the mask"
    );
    assert!(renamed.created_at_ms > 0, "the whole tenant is answered");
    let err = admin
        .update_tenant(change("x", true, &["tenant_id"]))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(
        err.message().starts_with("update_mask: "),
        "{}",
        err.message()
    );
    stack.stop().await;
}

#[tokio::test]
async fn a_repeated_idempotency_key_with_another_request_is_refused() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    acme.register("ida", "tok-ida").await;
    let send = |title: &str| SendRequest {
        destination: Some(Destination {
            kind: Some(destination::Kind::UserId("ida".into())),
        }),
        notification: Some(Notification {
            title: title.into(),
            ..Default::default()
        }),
        idempotency_key: "order-42".into(),
        ..Default::default()
    };
    let first = acme
        .notifications
        .send(send("Shipped"))
        .await
        .unwrap()
        .into_inner();
    let again = acme
        .notifications
        .send(send("Shipped"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (again.message_id.as_str(), again.duplicate),
        (first.message_id.as_str(), true)
    );
    let err = acme
        .notifications
        .send(send("Delivered"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(
        err.message().starts_with("idempotency_key: "),
        "{}",
        err.message()
    );
    assert!(
        err.message().contains(&first.message_id),
        "{}",
        err.message()
    );
    assert_eq!(
        stack.raw_text("SELECT COUNT(*) FROM messages").await,
        vec!["1"]
    );
    stack.stop().await;
}
