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
    let mut admin = stack.admin().await;
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
