//! Two `herald-sender` processes share one durable consumer: the work splits between them and
//! each push reaches the provider once; a tenant's rate limit holds for both together.

use std::collections::HashSet;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use herald_bus::{Bus, SEND_STREAM};
use herald_core::crypto::MasterKey;
use herald_core::ids::{DeliveryId, DeviceId, MessageId};
use herald_core::time::now_ms;
use herald_proto::bus::v1::{SendTask, TargetDevice};
use herald_proto::v1::{FcmCredential, Notification, Platform, Provider};
use herald_store::{CredentialRecord, NewDelivery, RoutedMessage, Store};
use herald_testkit::fcm::{Answer, MockFcm};
use herald_testkit::nats::NatsServer;
use herald_testkit::process::terminate;
use herald_testkit::tls::TestCa;
use prost::Message as _;

struct Sender(Child);

impl Drop for Sender {
    fn drop(&mut self) {
        let _ = self.0.kill();
    }
}

/// Two `herald-sender` processes for FCM on one private nats-server and one database, a tenant
/// with an FCM credential at the mock.
struct Rig {
    _nats: NatsServer,
    _dir: tempfile::TempDir,
    store: Store,
    fcm: MockFcm,
    bus: Bus,
    js: async_nats::jetstream::Context,
    tenant: herald_core::ids::TenantId,
    senders: [Sender; 2],
}

impl Rig {
    async fn start() -> Rig {
        let nats = NatsServer::start().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let database_url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("herald.db").display()
        );
        let store = Store::connect(&database_url).await.unwrap();
        let ca = TestCa::new().unwrap();
        let fcm = MockFcm::start(&ca).await.unwrap();
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, &ca.cert_pem).unwrap();

        let master_key = MasterKey::generate_base64();
        let tenant = store.create_tenant("acme").await.unwrap().id;
        let credential = FcmCredential {
            service_account_json: fcm.service_account_json(),
            project_id: String::new(),
        };
        let record = CredentialRecord {
            provider: Provider::Fcm,
            label: String::new(),
            identifier: "herald-test".into(),
            principal: String::new(),
            updated_at: 0,
        };
        let key = MasterKey::from_base64(&master_key).unwrap();
        store
            .seal_credential(&tenant, &record, &credential.encode_to_vec(), &key)
            .await
            .unwrap();

        let bus = Bus::connect(&nats.url()).await.unwrap();
        let spawn = || {
            Sender(
                Command::new(env!("CARGO_BIN_EXE_herald-sender"))
                    .env("HERALD_DATABASE_URL", &database_url)
                    .env("HERALD_NATS_URL", nats.url())
                    .env("HERALD_MASTER_KEY", &master_key)
                    .env("HERALD_SENDER_PROVIDER", "fcm")
                    .env("HERALD_SENDER_CONCURRENCY", "8")
                    .env("HERALD_FCM_BASE_URL", fcm.base_url())
                    .env("HERALD_EXTRA_CA_FILE", &ca_file)
                    .env("HERALD_HEALTH_ADDR", "127.0.0.1:0")
                    .env("HERALD_METRICS_ADDR", "127.0.0.1:0")
                    .env("RUST_LOG", "warn")
                    .spawn()
                    .expect("start herald-sender"),
            )
        };
        let senders = [spawn(), spawn()];

        let js = async_nats::jetstream::new(async_nats::connect(nats.url()).await.unwrap());
        let started = Instant::now();
        loop {
            let waiting = match js.get_stream(SEND_STREAM).await {
                Ok(stream) => match stream.consumer_info("sender-fcm").await {
                    Ok(info) => info.num_waiting,
                    Err(_) => 0,
                },
                Err(_) => 0,
            };
            if waiting >= 2 {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the senders did not start pulling"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Rig {
            _nats: nats,
            _dir: dir,
            store,
            fcm,
            bus,
            js,
            tenant,
            senders,
        }
    }

    /// Routes a message to a device of each token, as the router would (stored, its delivery
    /// recorded), and publishes each send task in a batch of its own, so both processes take a
    /// share.
    async fn route(&self, tokens: &[String]) {
        let tenant = &self.tenant;
        let mut routed = Vec::new();
        let mut messages = Vec::new();
        let tasks: Vec<_> = tokens
            .iter()
            .map(|token| {
                let message = MessageId::generate();
                messages.push(herald_store::NewMessage {
                    id: message.clone(),
                    tenant_id: tenant.clone(),
                    idempotency_key: None,
                    request_digest: None,
                    body: Vec::new(),
                    correlation_id: String::new(),
                    callback_data: String::new(),
                    notify_url: String::new(),
                    created_at: now_ms(),
                    expires_at: now_ms() + 600_000,
                    send_at: None,
                });
                let device = DeviceId::generate();
                let delivery = DeliveryId::derive(&message, &device);
                routed.push(RoutedMessage {
                    tenant_id: tenant.clone(),
                    message_id: message.clone(),
                    deliveries: vec![NewDelivery {
                        id: delivery.clone(),
                        device_id: device.clone(),
                        provider: Provider::Fcm,
                    }],
                });
                let task = SendTask {
                    tenant_id: tenant.to_string(),
                    message_id: message.to_string(),
                    delivery_id: delivery.to_string(),
                    device: Some(TargetDevice {
                        device_id: device.to_string(),
                        platform: Platform::Android as i32,
                        push_token: token.clone(),
                        ..Default::default()
                    }),
                    notification: Some(Notification {
                        title: "Hello".into(),
                        ..Default::default()
                    }),
                    accepted_at_ms: now_ms(),
                    expires_at_ms: now_ms() + 600_000,
                    attempt: 1,
                    ..Default::default()
                };
                herald_bus::send_batches(Provider::Fcm, vec![task], 0)
            })
            .collect();
        // Routed messages are stored ones: the router records deliveries only for those.
        self.store.insert_messages(&messages).await.unwrap();
        self.store.record_routing(&routed, &[]).await.unwrap();
        herald_bus::all_published(self.bus.publish_all(tasks.into_iter().flatten()).await).unwrap();
    }

    /// Waits for a push to each token and checks each came exactly once.
    async fn received_once(&self, tokens: &[String]) -> Vec<herald_testkit::mock::ReceivedPush> {
        let received = self
            .fcm
            .wait_for(tokens.len(), Duration::from_secs(60))
            .await;
        let mut seen: Vec<&str> = received.iter().map(|p| p.token.as_str()).collect();
        seen.sort_unstable();
        assert_eq!(
            seen,
            tokens.iter().map(String::as_str).collect::<Vec<_>>(),
            "each push exactly once"
        );
        received
    }

    async fn stop(mut self) {
        for sender in &mut self.senders {
            let status = terminate(&mut sender.0, Duration::from_secs(30))
                .expect("a sender stops on SIGTERM");
            assert!(status.success(), "a sender exited with {status}");
        }
    }
}

#[tokio::test]
async fn two_sender_processes_share_one_consumer_and_send_each_push_once() {
    let rig = Rig::start().await;
    let tokens: Vec<String> = (0..40).map(|i| format!("proc-{i:02}")).collect();
    for token in &tokens {
        // Slow answers keep both processes busy at once.
        rig.fcm
            .script(token, [Answer::delayed(Duration::from_millis(100))]);
    }
    rig.route(&tokens).await;
    let received = rig.received_once(&tokens).await;
    let connections: HashSet<_> = received.iter().map(|p| p.peer).collect();
    assert!(
        connections.len() >= 2,
        "every push came over one process's connection"
    );

    // Each batch's receipt reaches the receipt stream, once (a receipt follows its push by a
    // moment).
    let mut receipts = rig.js.get_stream(herald_bus::RECEIPT_STREAM).await.unwrap();
    let started = Instant::now();
    loop {
        let count = receipts.info().await.unwrap().state.messages;
        if count >= tokens.len() as u64 || started.elapsed() > Duration::from_secs(10) {
            assert_eq!(count, tokens.len() as u64, "receipts published");
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    rig.stop().await;
}

#[tokio::test]
async fn a_rate_limit_holds_across_two_sender_processes() {
    let rig = Rig::start().await;
    // 120 a minute: two pushes a second, for both processes together.
    let mut tenant = rig.store.get_tenant(&rig.tenant).await.unwrap().unwrap();
    tenant.settings.rate_limits = herald_core::caps::RateLimit::read_all(
        "rate_limits",
        &[herald_proto::v1::RateLimit {
            provider: Provider::Fcm as i32,
            per_minute: 120,
        }],
    )
    .unwrap();
    assert!(rig.store.update_tenant(&tenant).await.unwrap());
    let tokens: Vec<String> = (0..12).map(|i| format!("slow-{i:02}")).collect();
    rig.route(&tokens).await;
    let mut at: Vec<Instant> = rig
        .received_once(&tokens)
        .await
        .iter()
        .map(|p| p.at)
        .collect();
    at.sort_unstable();
    // Twelve pushes at two a second need six wall-clock seconds: more than four seconds from
    // the first to the last. Each process on its own budget would take three.
    let span = at[at.len() - 1] - at[0];
    assert!(span > Duration::from_secs(4), "12 pushes within {span:?}");
    // Any second holds at most one wall-clock second's budget on each side of a boundary.
    for (i, first) in at.iter().enumerate() {
        let within = at[i..]
            .iter()
            .take_while(|t| **t - *first < Duration::from_secs(1))
            .count();
        assert!(within <= 4, "{within} pushes within a second");
    }
    rig.stop().await;
}
