//! The end-to-end harness: Herald's four services running in this process through their `run`
//! functions (the same ones the binaries call), against a private nats-server, a fresh database
//! and a mock FCM over HTTP/2 and TLS. Tests talk to it only through the public gRPC API, and
//! look at the raw database where a test is about what is stored.
#![forbid(unsafe_code)]

use std::time::{Duration, Instant};

use herald::Stack as Services;
use herald_core::crypto::MasterKey;
use herald_proto::client::{AuthedChannel, BearerAuth};
use herald_proto::v1::admin_client::AdminClient;
use herald_proto::v1::credentials_client::CredentialsClient;
use herald_proto::v1::customers_client::CustomersClient;
use herald_proto::v1::devices_client::DevicesClient;
use herald_proto::v1::events_client::EventsClient;
use herald_proto::v1::notifications_client::NotificationsClient;
use herald_proto::v1::topics_client::TopicsClient;
use herald_proto::v1::webhooks_client::WebhooksClient;
use herald_proto::v1::*;
use herald_runtime::{Secret, Settings};
use herald_store::Store;
use herald_testkit::db::{Backend, TestDatabase};
use herald_testkit::mocks::Mocks;
use herald_testkit::nats::NatsServer;
use herald_testkit::webpush::{MockPushService, Subscription};
use sqlx::Row as _;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

pub use herald_testkit::db::Backend as DbBackend;

/// How long a sender waits for a mock provider before it counts as a timeout.
pub const PROVIDER_TIMEOUT_SECS: u64 = 3;

/// A running Herald with its dependencies.
pub struct Stack {
    pub nats: NatsServer,
    pub db: TestDatabase,
    pub mocks: Mocks,
    pub store: Store,
    pub admin_key: String,
    pub endpoint: String,
    /// The admin endpoint's `/metrics`, as `herald up` serves it.
    pub metrics_url: String,
    /// The settings the services run with.
    pub settings: Settings,
    fcm_senders: usize,
    shutdown: CancellationToken,
    services: Option<herald::Running>,
}

/// A tenant with an API key and clients that use it.
#[derive(Clone)]
pub struct Tenant {
    pub tenant_id: String,
    pub key: String,
    /// The tenant's VAPID public key (empty until generated).
    pub vapid_public_key: String,
    pub notifications: NotificationsClient<AuthedChannel>,
    pub devices: DevicesClient<AuthedChannel>,
    pub credentials: CredentialsClient<AuthedChannel>,
    pub admin: AdminClient<AuthedChannel>,
    pub topics: TopicsClient<AuthedChannel>,
    pub customers: CustomersClient<AuthedChannel>,
    pub webhooks: WebhooksClient<AuthedChannel>,
    pub events: EventsClient<AuthedChannel>,
}

impl Stack {
    pub async fn start(backend: Backend) -> Stack {
        Self::start_with(backend, 1).await
    }

    /// Starts the stack with `fcm_senders` FCM sender instances sharing one consumer.
    pub async fn start_with(backend: Backend, fcm_senders: usize) -> Stack {
        Self::start_tuned(backend, fcm_senders, |_| {}).await
    }

    /// Starts the stack with settings `tune` changed from the test defaults.
    pub async fn start_tuned(
        backend: Backend,
        fcm_senders: usize,
        tune: impl FnOnce(&mut Settings),
    ) -> Stack {
        herald_runtime::init_test_logging();
        let nats = NatsServer::start().expect("nats-server");
        let db = TestDatabase::new(backend).await.expect("database");
        let mocks = Mocks::start().await.expect("mock providers");
        let store = Store::connect(&db.url).await.expect("store");
        let admin_key = herald_core::crypto::generate_api_key();
        // The built-in defaults, not this machine's environment.
        let mut settings = Settings::from_layers(None, |_| None).expect("default settings");
        settings.database_url = Some(Secret::new(db.url.clone()));
        settings.nats_url = nats.url();
        settings.master_key = Some(Secret::new(MasterKey::generate_base64()));
        settings.admin_key = Some(Secret::new(admin_key.clone()));
        settings.sender.concurrency = 16;
        // A short timeout, so a slow answer is a quick retry.
        settings.providers.timeout_secs = PROVIDER_TIMEOUT_SECS;
        mocks
            .apply(&mut settings.providers)
            .expect("mock endpoints");
        tune(&mut settings);
        let mut stack = Stack {
            nats,
            db,
            mocks,
            store,
            admin_key,
            endpoint: String::new(),
            metrics_url: String::new(),
            settings,
            fcm_senders,
            shutdown: CancellationToken::new(),
            services: None,
        };
        let admin = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("admin listener");
        stack.metrics_url = format!("http://{}/metrics", admin.local_addr().expect("addr"));
        tokio::spawn(herald_runtime::admin::serve(
            admin,
            herald_runtime::admin::Admin::new(CancellationToken::new()),
        ));
        stack.start_services().await;
        stack
    }

    /// The process's metrics as Prometheus scrapes them: each sample's name with its labels
    /// (as written) and its value.
    pub async fn scrape(&self) -> std::collections::HashMap<String, f64> {
        let answer = reqwest::get(&self.metrics_url).await.expect("scrape");
        assert!(answer.status().is_success(), "{}", answer.status());
        let content_type = answer.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            content_type.starts_with("application/openmetrics-text"),
            "{content_type}"
        );
        let text = answer.text().await.expect("metrics text");
        text.lines()
            .filter(|line| !line.starts_with('#') && !line.is_empty())
            .map(|line| {
                let (sample, value) = line.rsplit_once(' ').expect("a sample and its value");
                (sample.to_owned(), value.parse().expect("a number"))
            })
            .collect()
    }

    async fn start_services(&mut self) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("listener");
        self.endpoint = format!("http://{}", listener.local_addr().expect("addr"));
        let services = Services::new(self.settings.clone())
            .sender_replicas(Provider::Fcm, self.fcm_senders)
            .start(listener, &self.shutdown)
            .await
            .expect("services start");
        self.services = Some(services);
    }

    /// Each token the mock FCM received a push for, sorted.
    pub fn fcm_tokens(&self) -> Vec<String> {
        let mut tokens: Vec<String> = self
            .mocks
            .fcm
            .received()
            .iter()
            .map(|p| p.token.clone())
            .collect();
        tokens.sort();
        tokens
    }

    /// Sets `settings` (the mask `path` names) for `tenant` and answers how a send of `hello` to
    /// `destination` is refused.
    pub async fn refused_after(
        &self,
        tenant: &mut Tenant,
        settings: TenantSettings,
        path: &str,
        destination: destination::Kind,
    ) -> tonic::Status {
        self.set_tenant_settings(&tenant.tenant_id, settings, path)
            .await;
        tenant
            .try_send(destination, hello())
            .await
            .expect_err("refused")
    }

    /// Sets the tenant's settings the mask `path` names, with the admin key.
    pub async fn set_tenant_settings(&self, tenant_id: &str, settings: TenantSettings, path: &str) {
        self.admin()
            .await
            .admin
            .update_tenant(UpdateTenantRequest {
                tenant: Some(herald_proto::v1::Tenant {
                    tenant_id: tenant_id.to_owned(),
                    settings: Some(settings),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec![path.to_owned()],
                }),
            })
            .await
            .expect("update the tenant's settings");
    }

    /// Stops every service gracefully and reports whether each stopped cleanly.
    pub async fn stop(mut self) {
        self.stop_services().await;
    }

    async fn stop_services(&mut self) {
        self.shutdown.cancel();
        if let Some(services) = self.services.take() {
            services
                .wait(&self.shutdown)
                .await
                .expect("service stopped with an error");
        }
    }

    /// Stops the services gracefully (SIGTERM's path) and starts them again on the same
    /// database and bus, as a rolling restart would.
    pub async fn restart_services(&mut self) {
        self.restart_with_fcm_senders(1).await;
    }

    /// Restarts the services (as [`Stack::restart_services`]) with `count` FCM senders: none
    /// stands for a sender that is down.
    pub async fn restart_with_fcm_senders(&mut self, count: usize) {
        self.stop_services().await;
        self.shutdown = CancellationToken::new();
        self.fcm_senders = count;
        self.start_services().await;
    }

    pub async fn channel(&self) -> Channel {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match Channel::from_shared(self.endpoint.clone())
                .expect("endpoint")
                .connect()
                .await
            {
                Ok(channel) => return channel,
                Err(err) if Instant::now() > deadline => panic!("ingest not reachable: {err}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    }

    /// Clients authenticated with `key`.
    pub async fn clients(&self, tenant_id: &str, key: &str) -> Tenant {
        let channel = tonic::service::interceptor::InterceptedService::new(
            self.channel().await,
            BearerAuth::new(key).expect("key"),
        );
        Tenant {
            tenant_id: tenant_id.to_owned(),
            key: key.to_owned(),
            vapid_public_key: String::new(),
            notifications: NotificationsClient::new(channel.clone()),
            devices: DevicesClient::new(channel.clone()),
            credentials: CredentialsClient::new(channel.clone()),
            admin: AdminClient::new(channel.clone()),
            topics: TopicsClient::new(channel.clone()),
            customers: CustomersClient::new(channel.clone()),
            webhooks: WebhooksClient::new(channel.clone()),
            events: EventsClient::new(channel),
        }
    }

    /// Admin clients (the operator's key).
    pub async fn admin(&self) -> Tenant {
        self.clients("", &self.admin_key).await
    }

    /// A new tenant with a key, without provider credentials.
    pub async fn bare_tenant(&self, name: &str) -> Tenant {
        let mut admin = self.admin().await.admin;
        let tenant = admin
            .create_tenant(CreateTenantRequest {
                display_name: name.into(),
            })
            .await
            .expect("tenant")
            .into_inner();
        let key = admin
            .create_api_key(CreateApiKeyRequest {
                tenant_id: tenant.tenant_id.clone(),
                display_name: "test".into(),
                ..Default::default()
            })
            .await
            .expect("key")
            .into_inner();
        self.clients(&tenant.tenant_id, &key.key).await
    }

    /// A new tenant with a key, the mock FCM's service account as its FCM credential, the mock
    /// HMS app as its HMS credential, the mock APNs team key as its APNs credential and fresh
    /// VAPID keys.
    pub async fn tenant(&self, name: &str) -> Tenant {
        let mut tenant = self.bare_tenant(name).await;
        tenant
            .credentials
            .set_credential(SetCredentialRequest {
                credential: Some(set_credential_request::Credential::Apns(
                    self.apns_token_credential(),
                )),
                label: "mock".into(),
            })
            .await
            .expect("set APNs credential");
        tenant.vapid_public_key = tenant
            .credentials
            .generate_vapid_keys(GenerateVapidKeysRequest {
                subject: "mailto:ops@herald.test".into(),
            })
            .await
            .expect("generate VAPID keys")
            .into_inner()
            .public_key;
        tenant
            .credentials
            .set_credential(SetCredentialRequest {
                credential: Some(set_credential_request::Credential::Hms(HmsCredential {
                    app_id: herald_testkit::hms::APP_ID.into(),
                    app_secret: herald_testkit::hms::APP_SECRET.into(),
                    badge_class: herald_testkit::hms::BADGE_CLASS.into(),
                })),
                label: "mock".into(),
            })
            .await
            .expect("set HMS credential");
        tenant
            .credentials
            .set_credential(SetCredentialRequest {
                credential: Some(set_credential_request::Credential::Fcm(FcmCredential {
                    service_account_json: self.mocks.fcm.service_account_json(),
                    project_id: String::new(),
                })),
                label: "mock".into(),
            })
            .await
            .expect("set FCM credential");
        tenant
    }

    /// Token authentication with the mock APNs team key, for production.
    pub fn apns_token_credential(&self) -> ApnsCredential {
        ApnsCredential {
            auth: Some(apns_credential::Auth::Token(ApnsTokenAuth {
                private_key_pem: self.mocks.apns.team_key_pem().to_owned(),
                key_id: herald_testkit::apns::KEY_ID.into(),
                team_id: herald_testkit::apns::TEAM_ID.into(),
            })),
            bundle_id: herald_testkit::apns::BUNDLE_ID.into(),
            sandbox: false,
        }
    }

    /// Stores a message as ingest stores it, accepted ten seconds ago, but never publishes it (as
    /// after a crash between the commit and the publish): the outbox relay publishes it.
    pub async fn store_unpublished(
        &self,
        tenant_id: &str,
        destination: destination::Kind,
        notification: Notification,
    ) -> herald_core::ids::MessageId {
        self.store_unpublished_with(tenant_id, destination, notification, String::new())
            .await
    }

    /// [`Stack::store_unpublished`] with a correlation id.
    pub async fn store_unpublished_with(
        &self,
        tenant_id: &str,
        destination: destination::Kind,
        notification: Notification,
        correlation_id: String,
    ) -> herald_core::ids::MessageId {
        let id = herald_core::ids::MessageId::generate();
        let now = herald_core::time::now_ms();
        let accepted = herald_proto::bus::v1::MessageAccepted {
            tenant_id: tenant_id.to_owned(),
            message_id: id.to_string(),
            destination: Some(Destination {
                kind: Some(destination),
            }),
            notification: Some(notification),
            correlation_id,
            accepted_at_ms: now - 10_000,
            expires_at_ms: now + 600_000,
            ..Default::default()
        };
        self.store
            .insert_message(&herald_store::NewMessage {
                id: id.clone(),
                tenant_id: herald_core::ids::TenantId::from_trusted(tenant_id.to_owned()),
                idempotency_key: None,
                request_digest: None,
                body: prost::Message::encode_to_vec(&accepted),
                correlation_id: String::new(),
                callback_data: String::new(),
                notify_url: String::new(),
                created_at: now - 10_000,
                expires_at: now + 600_000,
                send_at: None,
            })
            .await
            .expect("store the message");
        id
    }

    /// Runs a query on the raw database and answers the first column of each row as text.
    pub async fn raw_text(&self, sql: &str) -> Vec<String> {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&self.db.url)
            .await
            .expect("raw pool");
        let rows = sqlx::query(sql).fetch_all(&pool).await.expect("raw query");
        let out = rows
            .iter()
            .map(|r| {
                r.try_get::<String, _>(0)
                    .or_else(|_| r.try_get::<i64, _>(0).map(|n| n.to_string()))
                    .or_else(|_| {
                        r.try_get::<Vec<u8>, _>(0)
                            .map(|b| String::from_utf8_lossy(&b).into_owned())
                    })
                    .expect("a text, integer or bytes column")
            })
            .collect();
        pool.close().await;
        out
    }
}

impl Tenant {
    /// Sends `hello` to `user` with a correlation id (`order-42`) and callback data
    /// (`{"cart":7}`); answers the message id.
    pub async fn send_with_context(&mut self, user: &str) -> String {
        self.notifications
            .send(SendRequest {
                destination: Some(Destination {
                    kind: Some(destination::Kind::UserId(user.into())),
                }),
                notification: Some(hello()),
                correlation_id: "order-42".into(),
                callback_data: "{\"cart\":7}".into(),
                ..Default::default()
            })
            .await
            .expect("send")
            .into_inner()
            .message_id
    }

    /// Reports what the device did with a delivery, as an app would.
    pub async fn report(&mut self, delivery_id: &str, kind: DeviceEventKind) {
        self.notifications
            .report_delivery_event(ReportDeliveryEventRequest {
                delivery_id: delivery_id.into(),
                kind: kind as i32,
                ..Default::default()
            })
            .await
            .expect("report");
    }

    /// Registers an Android (FCM) device.
    pub async fn register(&mut self, user: &str, token: &str) -> Device {
        self.register_on(Platform::Android, user, token).await
    }

    /// Subscribes a `browser` at the mock push service with the tenant's VAPID key and
    /// registers the subscription for `user`.
    pub async fn register_browser(
        &mut self,
        push: &MockPushService,
        user: &str,
        browser: Browser,
    ) -> (Device, Subscription) {
        let subscription = push.subscribe(&self.vapid_public_key);
        let device = self
            .devices
            .register_device(RegisterDeviceRequest {
                user_id: user.into(),
                platform: Platform::Web as i32,
                browser: browser as i32,
                web_subscription: Some(WebSubscription {
                    endpoint: subscription.endpoint.clone(),
                    p256dh: subscription.p256dh.clone(),
                    auth: subscription.auth.clone(),
                }),
                ..Default::default()
            })
            .await
            .expect("register a browser")
            .into_inner()
            .device
            .expect("device");
        (device, subscription)
    }

    /// Registers an Android (FCM) device with a locale and an app version.
    pub async fn register_with(
        &mut self,
        user: &str,
        token: &str,
        locale: &str,
        app_version: &str,
    ) -> Device {
        self.devices
            .register_device(RegisterDeviceRequest {
                user_id: user.into(),
                platform: Platform::Android as i32,
                push_token: token.into(),
                locale: locale.into(),
                app_version: app_version.into(),
                ..Default::default()
            })
            .await
            .expect("register device")
            .into_inner()
            .device
            .expect("device")
    }

    /// Sends `hello` to `destination`, waits until it settles, and answers the message.
    pub async fn settled(&mut self, destination: destination::Kind) -> Message {
        let sent = self.send(destination, hello()).await;
        self.wait_settled(&sent.message_id)
            .await
            .message
            .expect("the message")
    }

    /// A send's answer, refused or not.
    pub async fn try_send(
        &mut self,
        destination: destination::Kind,
        notification: Notification,
    ) -> Result<SendResponse, tonic::Status> {
        self.notifications
            .send(SendRequest {
                destination: Some(Destination {
                    kind: Some(destination),
                }),
                notification: Some(notification),
                ..Default::default()
            })
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn register_on(&mut self, platform: Platform, user: &str, token: &str) -> Device {
        self.devices
            .register_device(RegisterDeviceRequest {
                user_id: user.into(),
                platform: platform as i32,
                push_token: token.into(),
                ..Default::default()
            })
            .await
            .expect("register device")
            .into_inner()
            .device
            .expect("device")
    }

    pub async fn send(
        &mut self,
        destination: destination::Kind,
        notification: Notification,
    ) -> SendResponse {
        self.try_send(destination, notification)
            .await
            .expect("send")
    }

    /// TestConnection for `provider` with the tenant's stored credential.
    pub async fn test_connection(&mut self, provider: Provider) -> TestConnectionResponse {
        self.credentials
            .test_connection(TestConnectionRequest {
                provider: provider as i32,
            })
            .await
            .expect("test connection")
            .into_inner()
    }

    /// A device as GetDevice answers it.
    pub async fn device(&mut self, device_id: &str) -> Device {
        self.devices
            .get_device(GetDeviceRequest {
                device_id: device_id.to_owned(),
            })
            .await
            .unwrap()
            .into_inner()
    }

    pub async fn message(&mut self, id: &str) -> GetMessageResponse {
        self.notifications
            .get_message(GetMessageRequest {
                message_id: id.into(),
            })
            .await
            .expect("get message")
            .into_inner()
    }

    /// Polls the message until `done` holds, or fails after `timeout`.
    pub async fn wait_message(
        &mut self,
        id: &str,
        timeout: Duration,
        done: impl Fn(&GetMessageResponse) -> bool,
    ) -> GetMessageResponse {
        let deadline = Instant::now() + timeout;
        loop {
            let message = self.message(id).await;
            if done(&message) {
                return message;
            }
            assert!(
                Instant::now() < deadline,
                "message {id} did not reach the expected state: {message:#?}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Waits until every delivery of the message is final (not queued).
    pub async fn wait_settled(&mut self, id: &str) -> GetMessageResponse {
        self.wait_message(id, Duration::from_secs(20), |m| {
            herald_core::status::message_settled(
                m.message.as_ref().map(|m| m.state()).unwrap_or_default(),
            )
        })
        .await
    }
}

/// A notification with a title and a body.
pub fn hello() -> Notification {
    Notification {
        title: "Hello".into(),
        body: "World".into(),
        ..Default::default()
    }
}

/// What a delivery should end as: status, a fragment of the reason, the device's state, and the
/// delivery's attempts.
pub struct Expect {
    pub status: DeliveryStatus,
    pub reason: &'static str,
    pub device: DeviceState,
    pub attempts: u32,
}

pub const fn expect(
    status: DeliveryStatus,
    reason: &'static str,
    device: DeviceState,
    attempts: u32,
) -> Expect {
    Expect {
        status,
        reason,
        device,
        attempts,
    }
}

impl Tenant {
    /// Registers each token as its own user's device on `platform`, sends each user one
    /// notification, and checks each delivery ends as expected.
    pub async fn check_outcomes(&mut self, platform: Platform, cases: &[(&str, Expect)]) {
        let mut sent = Vec::new();
        for (token, want) in cases {
            let device = self.register_on(platform, token, token).await;
            let message = self
                .send(destination::Kind::UserId((*token).into()), hello())
                .await;
            sent.push((*token, message.message_id, device.device_id, want));
        }
        self.verify_outcomes(&sent).await;
    }

    /// Waits for each `(label, message id, device id, expected)` delivery to leave the queue and
    /// checks its status, reason, attempts and the device's state.
    pub async fn verify_outcomes(&mut self, sent: &[(&str, String, String, &Expect)]) {
        for (label, message_id, device_id, want) in sent {
            let status = self
                .wait_message(message_id, Duration::from_secs(40), |m| {
                    m.deliveries
                        .first()
                        .is_some_and(|d| d.status() != DeliveryStatus::Queued)
                })
                .await;
            let delivery = &status.deliveries[0];
            assert_eq!(delivery.status(), want.status, "{label}: {delivery:?}");
            assert!(
                delivery.reason.contains(want.reason),
                "{label}: reason {:?} lacks {:?}",
                delivery.reason,
                want.reason
            );
            assert_eq!(delivery.attempts, want.attempts, "{label}: attempts");
            let device = self.device(device_id).await;
            assert_eq!(device.state(), want.device, "{label}: device state");
        }
    }
}
