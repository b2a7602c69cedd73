//! Tenancy and API keys: every call is authenticated, and no key reaches another tenant's data.

use herald_e2e::{DbBackend, Stack, hello};
use herald_proto::v1::*;
use tonic::Code;

#[tokio::test]
async fn a_tenant_key_cannot_read_or_change_another_tenants_data() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut a = stack.tenant("a").await;
    let mut b = stack.tenant("b").await;
    let device = a.register("alice", "tok-a").await;
    let sent = a
        .send(destination::Kind::UserId("alice".into()), hello())
        .await;
    a.wait_settled(&sent.message_id).await;

    let not_found = b
        .notifications
        .get_message(GetMessageRequest {
            message_id: sent.message_id.clone(),
        })
        .await;
    assert_eq!(not_found.unwrap_err().code(), Code::NotFound);
    let not_found = b
        .devices
        .get_device(GetDeviceRequest {
            device_id: device.device_id.clone(),
        })
        .await;
    assert_eq!(not_found.unwrap_err().code(), Code::NotFound);
    let not_found = b
        .devices
        .unregister_device(UnregisterDeviceRequest {
            device_id: device.device_id.clone(),
        })
        .await;
    assert_eq!(not_found.unwrap_err().code(), Code::NotFound);
    assert!(
        b.devices
            .list_devices(ListDevicesRequest::default())
            .await
            .unwrap()
            .into_inner()
            .devices
            .is_empty()
    );
    let users_devices = ListDevicesRequest {
        user_id: "alice".into(),
        ..Default::default()
    };
    assert!(
        b.devices
            .list_devices(users_devices)
            .await
            .unwrap()
            .into_inner()
            .devices
            .is_empty()
    );

    // B sending to A's device id or A's user reaches nobody.
    let by_id = b
        .send(
            destination::Kind::DeviceId(device.device_id.clone()),
            hello(),
        )
        .await;
    let status = b.wait_settled(&by_id.message_id).await;
    assert_eq!(status.message.unwrap().state(), MessageState::Failed);
    let by_user = b
        .send(destination::Kind::UserId("alice".into()), hello())
        .await;
    assert_eq!(
        b.wait_settled(&by_user.message_id)
            .await
            .message
            .unwrap()
            .state(),
        MessageState::Failed
    );
    assert_eq!(stack.mocks.fcm.attempts("tok-a"), 1);

    // B cannot mint or list keys for A.
    let err = b
        .admin
        .create_api_key(CreateApiKeyRequest {
            tenant_id: a.tenant_id.clone(),
            display_name: "x".into(),
            ..Default::default()
        })
        .await;
    assert_eq!(err.unwrap_err().code(), Code::PermissionDenied);
    let err = b
        .admin
        .list_api_keys(ListApiKeysRequest {
            tenant_id: a.tenant_id.clone(),
            ..Default::default()
        })
        .await;
    assert_eq!(err.unwrap_err().code(), Code::PermissionDenied);
    // A's device is still there and untouched.
    let still = a
        .devices
        .get_device(GetDeviceRequest {
            device_id: device.device_id,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(still.state(), DeviceState::Active);
    stack.stop().await;
}

#[tokio::test]
async fn calls_without_a_valid_key_are_unauthenticated() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut stranger = stack.clients("", "hrld_not-a-real-key").await;
    let err = stranger
        .devices
        .list_devices(ListDevicesRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    let channel = stack.channel().await;
    let mut anonymous = herald_proto::v1::notifications_client::NotificationsClient::new(channel);
    let err = anonymous
        .get_message(GetMessageRequest {
            message_id: "msg_x".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    // A tenant key cannot create tenants; the admin key cannot send.
    let mut acme = stack.tenant("acme").await;
    let err = acme
        .admin
        .create_tenant(CreateTenantRequest {
            display_name: "evil".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    // Nor list them; the admin key lists every tenant, a page at a time.
    let err = acme
        .admin
        .list_tenants(ListTenantsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let mut admin = stack.admin().await;
    let _globex = stack.tenant("globex").await;
    let first = admin
        .admin
        .list_tenants(ListTenantsRequest {
            page_size: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let second = admin
        .admin
        .list_tenants(ListTenantsRequest {
            page_size: 1000,
            page_token: first.next_page_token.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let mut names: Vec<&str> = first
        .tenants
        .iter()
        .chain(&second.tenants)
        .map(|t| t.display_name.as_str())
        .collect();
    names.sort_unstable();
    assert_eq!(first.tenants.len(), 1);
    assert!(
        names.contains(&"acme") && names.contains(&"globex"),
        "{names:?}"
    );
    let err = admin
        .notifications
        .send(SendRequest {
            destination: Some(Destination {
                kind: Some(destination::Kind::UserId("u".into())),
            }),
            notification: Some(hello()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    stack.stop().await;
}

#[tokio::test]
async fn api_keys_are_prefixed_shown_once_stored_hashed_and_revocable() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    let created = acme
        .admin
        .create_api_key(CreateApiKeyRequest {
            tenant_id: String::new(),
            display_name: "ci".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(created.key.starts_with("hrld_"));
    let info = created.api_key.unwrap();
    assert!(created.key.starts_with(&info.prefix));

    // Nothing stored holds the key in clear.
    let stored = stack.raw_text("SELECT key_hash FROM api_keys").await;
    assert_eq!(stored.len(), 2);
    let secret_part = &created.key["hrld_".len()..];
    for table_column in ["key_hash", "prefix", "name", "id"] {
        for value in stack
            .raw_text(&format!("SELECT {table_column} FROM api_keys"))
            .await
        {
            assert!(!value.contains(secret_part), "{table_column} holds the key");
        }
    }
    let listed = acme
        .admin
        .list_api_keys(ListApiKeysRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.api_keys.len(), 2);

    let mut ci = stack.clients(&acme.tenant_id, &created.key).await;
    ci.devices
        .list_devices(ListDevicesRequest::default())
        .await
        .expect("the new key works");
    acme.admin
        .revoke_api_key(RevokeApiKeyRequest {
            tenant_id: String::new(),
            key_id: info.key_id.clone(),
        })
        .await
        .unwrap();
    let err = ci
        .devices
        .list_devices(ListDevicesRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    let again = acme
        .admin
        .revoke_api_key(RevokeApiKeyRequest {
            tenant_id: String::new(),
            key_id: info.key_id,
        })
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::NotFound);
    stack.stop().await;
}

#[tokio::test]
async fn credentials_are_sealed_at_rest_and_never_returned() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    let vapid_public_key = acme.vapid_public_key.clone();
    let listed = acme
        .credentials
        .list_credentials(ListCredentialsRequest::default())
        .await
        .unwrap()
        .into_inner();
    let shown: Vec<_> = listed
        .credentials
        .iter()
        .map(|c| (c.provider(), c.identifier.as_str(), c.principal.as_str()))
        .collect();
    assert_eq!(
        shown,
        [
            (
                Provider::Apns,
                herald_testkit::apns::BUNDLE_ID,
                "key HERALDKEY1 of team HERALDTEAM (production)",
            ),
            (
                Provider::Fcm,
                "herald-test",
                "herald-test@herald-test.iam.gserviceaccount.com"
            ),
            (Provider::Hms, herald_testkit::hms::APP_ID, ""),
            (
                Provider::Webpush,
                vapid_public_key.as_str(),
                "mailto:ops@herald.test"
            ),
        ]
    );
    // The raw rows hold neither secret nor any recognisable part of the credentials.
    let sealed = stack.raw_text("SELECT sealed FROM credentials").await;
    assert_eq!(sealed.len(), 4);
    for row in &sealed {
        for secret in [
            "PRIVATE KEY",
            "client_email",
            "token_uri",
            herald_testkit::hms::APP_SECRET,
        ] {
            assert!(!row.contains(secret), "a sealed row contains {secret:?}");
        }
    }
    for (credential, field) in [
        (
            set_credential_request::Credential::Fcm(FcmCredential {
                service_account_json: "{\"client_email\": \"x\"}".into(),
                project_id: String::new(),
            }),
            "fcm.service_account_json",
        ),
        (
            set_credential_request::Credential::Apns(ApnsCredential {
                bundle_id: String::new(),
                ..stack.apns_token_credential()
            }),
            "apns.bundle_id",
        ),
        (
            set_credential_request::Credential::Apns(ApnsCredential {
                auth: Some(apns_credential::Auth::Token(ApnsTokenAuth {
                    private_key_pem: stack.mocks.apns.team_key_pem().into(),
                    key_id: "short".into(),
                    team_id: herald_testkit::apns::TEAM_ID.into(),
                })),
                ..stack.apns_token_credential()
            }),
            "apns.token.key_id",
        ),
        (
            set_credential_request::Credential::Hms(HmsCredential {
                app_id: "not-numeric".into(),
                app_secret: "s".into(),
                ..Default::default()
            }),
            "hms.app_id",
        ),
        (
            set_credential_request::Credential::Hms(HmsCredential {
                app_id: "123".into(),
                app_secret: String::new(),
                ..Default::default()
            }),
            "hms.app_secret",
        ),
    ] {
        let bad = acme
            .credentials
            .set_credential(SetCredentialRequest {
                credential: Some(credential),
                label: String::new(),
            })
            .await
            .unwrap_err();
        assert_eq!(bad.code(), Code::InvalidArgument);
        assert!(
            bad.message().starts_with(&format!("{field}: ")),
            "{}",
            bad.message()
        );
    }
    assert_eq!(
        stack.raw_text("SELECT COUNT(*) FROM credentials").await,
        vec!["4"]
    );
    stack.stop().await;
}

/// What an app makes of a REST answer: its status and JSON body (null when it has none).
async fn rest(
    stack: &Stack,
    key: Option<&str>,
    path: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}{path}", stack.endpoint))
        .json(&body);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let answer = request.send().await.expect("the REST endpoint answers");
    let status = answer.status().as_u16();
    let text = answer.text().await.unwrap();
    let json = if text.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(&text).expect("a JSON body")
    };
    (status, json)
}

#[tokio::test]
async fn an_app_client_key_only_registers_devices_and_reports_delivery_events() {
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    let created = acme
        .admin
        .create_api_key(CreateApiKeyRequest {
            display_name: "ios app".into(),
            scope: ApiKeyScope::App as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let info = created.api_key.unwrap();
    assert_eq!(info.scope(), ApiKeyScope::App);
    let app_key = created.key;
    let mut app = stack.clients(&acme.tenant_id, &app_key).await;

    // Its two permissions, over gRPC.
    let registered = app
        .devices
        .register_device(RegisterDeviceRequest {
            user_id: "alice".into(),
            platform: Platform::Android as i32,
            push_token: "tok-app".into(),
            ..Default::default()
        })
        .await
        .expect("an app key registers its device")
        .into_inner();
    assert!(registered.created);
    let message_id = acme.send_with_context("alice").await;
    let settled = acme.wait_settled(&message_id).await;
    let delivery_id = settled.deliveries[0].delivery_id.clone();
    app.notifications
        .report_delivery_event(ReportDeliveryEventRequest {
            delivery_id: delivery_id.clone(),
            kind: DeviceEventKind::Delivered as i32,
            ..Default::default()
        })
        .await
        .expect("an app key reports what its device did");

    // Anything else is refused, whatever the service.
    let denied = |result: Result<(), tonic::Status>, what: &str| {
        let status = result.expect_err(what);
        assert_eq!(status.code(), Code::PermissionDenied, "{what}: {status:?}");
        assert!(status.message().contains("app client key"), "{status:?}");
    };
    let send = app
        .notifications
        .send(SendRequest {
            destination: Some(Destination {
                kind: Some(destination::Kind::UserId("alice".into())),
            }),
            notification: Some(hello()),
            ..Default::default()
        })
        .await;
    denied(send.map(drop), "send");
    let get = app
        .notifications
        .get_message(GetMessageRequest {
            message_id: message_id.clone(),
        })
        .await;
    denied(get.map(drop), "get a message");
    let list = app
        .devices
        .list_devices(ListDevicesRequest::default())
        .await;
    denied(list.map(drop), "list devices");
    let unregister = app
        .devices
        .unregister_device(UnregisterDeviceRequest {
            device_id: registered.device.unwrap().device_id,
        })
        .await;
    denied(unregister.map(drop), "unregister a device");
    let hooks = app
        .webhooks
        .list_webhooks(ListWebhooksRequest::default())
        .await;
    denied(hooks.map(drop), "list webhooks");
    let credentials = app
        .credentials
        .list_credentials(ListCredentialsRequest::default())
        .await;
    denied(credentials.map(drop), "list credentials");
    let key = app
        .admin
        .create_api_key(CreateApiKeyRequest::default())
        .await;
    denied(key.map(drop), "create a key");
    let topics = app.topics.list_topics(ListTopicsRequest::default()).await;
    denied(topics.map(drop), "list topics");
    let stats = app
        .notifications
        .get_message_stats(GetMessageStatsRequest {
            message_id: message_id.clone(),
        })
        .await;
    denied(stats.map(drop), "read a message's stats");
    let keys = app.admin.list_api_keys(ListApiKeysRequest::default()).await;
    denied(keys.map(drop), "list keys");

    // The same two over REST, for SDKs without gRPC.
    let app_key = Some(app_key.as_str());
    let device = serde_json::json!({
        "user_id": "bob", "platform": "android", "push_token": "tok-rest", "locale": "de-AT",
    });
    let (status, body) = rest(&stack, app_key, "/v1/app/devices", device.clone()).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["created"], true);
    assert_eq!(body["state"], "active");
    assert!(
        body["device_id"].as_str().unwrap().starts_with("dev_"),
        "{body}"
    );
    let (status, again) = rest(&stack, app_key, "/v1/app/devices", device).await;
    assert_eq!(
        (status, &again["created"]),
        (200, &serde_json::json!(false))
    );
    let events = format!("/v1/app/deliveries/{delivery_id}/events");
    let (status, body) = rest(
        &stack,
        app_key,
        &events,
        serde_json::json!({"kind": "read"}),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    acme.wait_message(&message_id, std::time::Duration::from_secs(20), |m| {
        m.deliveries[0].status() == DeliveryStatus::Read
    })
    .await;

    // Errors name their cause.
    let (status, body) = rest(&stack, None, "/v1/app/devices", serde_json::json!({})).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (401, &"UNAUTHENTICATED".into())
    );
    let (status, body) = rest(
        &stack,
        app_key,
        &events,
        serde_json::json!({"kind": "liked"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["field"], "kind");
    let (status, body) = rest(
        &stack,
        app_key,
        "/v1/app/devices",
        serde_json::json!({"platform": "android", "push_token": "t", "user": "x"}),
    )
    .await;
    assert_eq!(
        (status, &body["error"]["field"]),
        (400, &"body".into()),
        "{body}"
    );
    let unknown = "/v1/app/deliveries/dlv_unknown/events";
    let (status, _) = rest(
        &stack,
        app_key,
        unknown,
        serde_json::json!({"kind": "read"}),
    )
    .await;
    assert_eq!(status, 404);
    // A web subscription registered with an app key must be at a browser's push service: the
    // key is public, and the senders must not be sent anywhere else by it.
    let inward = serde_json::json!({
        "user_id": "bob", "platform": "web", "browser": "chrome",
        "web_subscription": {"endpoint": "https://10.0.0.1/push", "keys": {"p256dh": "k", "auth": "a"}},
    });
    let (status, body) = rest(&stack, app_key, "/v1/app/devices", inward).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["field"], "web_subscription.endpoint");
    // A report's time stays between the delivery's creation and now.
    let (status, _) = rest(
        &stack,
        app_key,
        &events,
        serde_json::json!({"kind": "clicked", "at_ms": 1}),
    )
    .await;
    assert_eq!(status, 204);
    let mut clicked = 0;
    for _ in 0..200 {
        clicked = acme
            .notifications
            .get_message_stats(GetMessageStatsRequest {
                message_id: message_id.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .clicked;
        if clicked == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(clicked, 1, "the click was counted");
    let in_1970 = acme
        .notifications
        .get_delivery_stats(GetDeliveryStatsRequest {
            since_ms: 1,
            until_ms: 2 * 86_400_000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(in_1970.days.is_empty(), "{in_1970:?}");
    let (status, body) = rest(&stack, app_key, "/v1/app/nothing", serde_json::json!({})).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (404, &"NOT_FOUND".into()),
        "{body}"
    );
    assert!(body["error"].get("field").is_none(), "{body}");
    let admin = Some(stack.admin_key.as_str());
    let (status, body) = rest(&stack, admin, &events, serde_json::json!({"kind": "read"})).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (403, &"PERMISSION_DENIED".into())
    );

    // A web page on another origin may call them.
    let preflight = reqwest::Client::new()
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/v1/app/devices", stack.endpoint),
        )
        .header("origin", "https://app.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{preflight:?}");
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "*",
        "{preflight:?}"
    );
    stack.stop().await;
}
