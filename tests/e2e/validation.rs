//! Bad input is refused with the field named, and changes nothing.

use herald_e2e::{DbBackend, Stack, hello};
use herald_proto::v1::*;
use tonic::Code;

#[tokio::test]
async fn invalid_input_is_refused_with_the_field_named_and_nothing_is_stored() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    acme.register("alice", "tok-alice").await;
    let to_alice = || {
        Some(Destination {
            kind: Some(destination::Kind::UserId("alice".into())),
        })
    };
    let cases = [
        (
            SendRequest {
                notification: Some(hello()),
                ..Default::default()
            },
            "destination",
        ),
        (
            SendRequest {
                destination: to_alice(),
                ..Default::default()
            },
            "notification",
        ),
        (
            SendRequest {
                destination: to_alice(),
                notification: Some(Notification {
                    priority: 9,
                    ..hello()
                }),
                ..Default::default()
            },
            "notification.priority",
        ),
        (
            SendRequest {
                destination: to_alice(),
                notification: Some(Notification {
                    data: [("from".to_string(), "x".to_string())].into(),
                    ..hello()
                }),
                ..Default::default()
            },
            "notification.data[from]",
        ),
        (
            SendRequest {
                destination: to_alice(),
                notification: Some(Notification {
                    body: "x".repeat(5000),
                    ..hello()
                }),
                ..Default::default()
            },
            "notification",
        ),
        (
            SendRequest {
                destination: to_alice(),
                notification: Some(hello()),
                notify_url: " https://x.example".into(),
                ..Default::default()
            },
            "notify_url",
        ),
        (
            SendRequest {
                destination: Some(Destination {
                    kind: Some(destination::Kind::DeviceId("not-an-id".into())),
                }),
                notification: Some(hello()),
                ..Default::default()
            },
            "destination.device_id",
        ),
    ];
    for (request, field) in cases {
        let err = acme.notifications.send(request).await.unwrap_err();
        assert_eq!(
            err.code(),
            Code::InvalidArgument,
            "{field}: {}",
            err.message()
        );
        assert!(
            err.message().starts_with(&format!("{field}: ")),
            "expected {field}, got {}",
            err.message()
        );
    }
    let err = acme
        .devices
        .register_device(RegisterDeviceRequest {
            user_id: "u".into(),
            push_token: "t".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), err.message().starts_with("platform: ")),
        (Code::InvalidArgument, true)
    );

    // A topic the tenant does not have is named.
    let topic = SendRequest {
        destination: Some(Destination {
            kind: Some(destination::Kind::Topic("news".into())),
        }),
        notification: Some(hello()),
        ..Default::default()
    };
    let missing = acme.notifications.send(topic).await.unwrap_err();
    assert_eq!(
        (missing.code(), missing.message()),
        (Code::NotFound, "topic \"news\" not found")
    );

    assert_eq!(
        stack.raw_text("SELECT COUNT(*) FROM messages").await,
        vec!["0"]
    );
    assert_eq!(
        stack.raw_text("SELECT COUNT(*) FROM devices").await,
        vec!["1"]
    );
    assert_eq!(stack.mocks.fcm.attempts("tok-alice"), 0);
    stack.stop().await;
}

#[tokio::test]
async fn oversized_fields_are_refused_before_anything_is_stored() {
    use tonic_types::StatusExt as _;
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    acme.register("alice", "tok-alice").await;
    let to_alice = |notification: Notification| SendRequest {
        destination: Some(Destination {
            kind: Some(destination::Kind::UserId("alice".into())),
        }),
        notification: Some(notification),
        ..Default::default()
    };
    // What an outside tester sent: a 1.1 MB correlation id, and a VoIP push whose Android
    // title is 1 MB (VoIP goes only to APNs, whose size check ignored it).
    let huge_correlation = SendRequest {
        correlation_id: "c".repeat(1_100_000),
        ..to_alice(hello())
    };
    let voip = to_alice(Notification {
        android: Some(AndroidOptions {
            title: Some("t".repeat(1_000_000)),
            ..Default::default()
        }),
        ios: Some(IosOptions {
            push_type: ApnsPushType::Voip as i32,
            ..Default::default()
        }),
        ..hello()
    });
    let long_title = to_alice(Notification {
        title: "t".repeat(6000),
        ..hello()
    });
    for (request, field) in [
        (huge_correlation, "request"),
        (voip, "request"),
        (long_title, "notification.title"),
    ] {
        let err = acme.notifications.send(request).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
        let details = err.get_error_details();
        let violation = &details
            .bad_request()
            .expect("a BadRequest")
            .field_violations[0];
        assert_eq!(violation.field, field);
        assert!(violation.description.contains("at most"), "{violation:?}");
    }
    assert_eq!(
        stack.raw_text("SELECT COUNT(*) FROM messages").await,
        vec!["0"]
    );
    stack.stop().await;
}

#[tokio::test]
async fn a_request_that_does_not_decode_is_an_invalid_argument() {
    use tonic_types::StatusExt as _;
    let stack = Stack::start(DbBackend::Sqlite).await;
    let acme = stack.tenant("acme").await;
    // A GetMessageRequest's bytes are no SendRequest: its field 1 would have to be a
    // Destination.
    let mut grpc = tonic::client::Grpc::new(stack.channel().await);
    grpc.ready().await.unwrap();
    let mut request = tonic::Request::new(GetMessageRequest {
        message_id: "zz".into(),
    });
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {}", acme.key).parse().unwrap(),
    );
    let err = grpc
        .unary(
            request,
            "/herald.v1.Notifications/Send".parse().unwrap(),
            herald_proto::codec::Codec::<GetMessageRequest, SendResponse>::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert!(err.message().contains("does not decode"), "{err:?}");
    let details = err.get_error_details();
    assert_eq!(
        details
            .bad_request()
            .expect("a BadRequest")
            .field_violations[0]
            .field,
        "request"
    );
    stack.stop().await;
}

#[tokio::test]
async fn variables_fill_the_destination_and_texts_and_an_undefined_one_is_refused() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    acme.register("alice", "tok-alice").await;
    let variables: std::collections::BTreeMap<String, String> = [
        ("who".to_owned(), "alice".to_owned()),
        ("name".to_owned(), "Ada".to_owned()),
    ]
    .into();
    let sent = acme
        .notifications
        .send(SendRequest {
            destination: Some(Destination {
                kind: Some(destination::Kind::UserId("$(who)".into())),
            }),
            notification: Some(Notification {
                title: "Hi $(name)".into(),
                body: "costs $$(5)".into(),
                data: [("for".to_owned(), "$(who)".to_owned())].into(),
                ..Default::default()
            }),
            variables: variables.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let received = stack
        .mocks
        .fcm
        .wait_for(1, std::time::Duration::from_secs(20))
        .await;
    let message = &received[0].body["message"];
    assert_eq!(message["token"], "tok-alice");
    assert_eq!(message["notification"]["title"], "Hi Ada");
    assert_eq!(message["notification"]["body"], "costs $(5)");
    assert_eq!(message["data"]["for"], "alice");
    acme.wait_settled(&sent.message_id).await;

    let refused = acme
        .notifications
        .send(SendRequest {
            destination: Some(Destination {
                kind: Some(destination::Kind::UserId("alice".into())),
            }),
            notification: Some(Notification {
                title: "Hi $(nickname)".into(),
                ..Default::default()
            }),
            variables,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused.message().starts_with("notification.title: ")
            && refused.message().contains("\"nickname\""),
        "{}",
        refused.message()
    );
    assert_eq!(
        stack.raw_text("SELECT COUNT(*) FROM messages").await,
        vec!["1"]
    );
    stack.stop().await;
}
