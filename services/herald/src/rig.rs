//! A whole Herald on this machine, for `herald bench` and `herald chaos`: a private nats-server
//! (file storage), a fresh database, the test kit's mock providers, and Herald itself — in this
//! process, or as separate service processes that can be killed and started again — with a
//! tenant whose credentials point at the mocks and devices spread over the providers. It
//! counts what reached the mocks.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use herald_core::crypto::{MasterKey, generate_api_key};
use herald_proto::client::{AuthedChannel, BearerAuth};
use herald_proto::v1::admin_client::AdminClient;
use herald_proto::v1::credentials_client::CredentialsClient;
use herald_proto::v1::devices_client::DevicesClient;
use herald_proto::v1::*;
use herald_runtime::{Secret, Settings};
use herald_store::Store;
use herald_testkit::db::TestDatabase;
use herald_testkit::mock::{Answer, ReceivedPush};
use herald_testkit::mocks::Mocks;
use herald_testkit::nats::NatsServer;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Every service in this process, as `herald up` runs them.
    InProcess,
    /// Each service in its own process (the binaries next to `herald`).
    Processes,
}

/// The service processes of `Mode::Processes`, by name.
pub const SERVICES: [&str; 8] = [
    "ingest",
    "router",
    "receipt",
    "dispatcher",
    "sender-fcm",
    "sender-apns",
    "sender-hms",
    "sender-webpush",
];

/// Herald's dependencies and Herald itself, running.
pub struct Rig {
    pub nats: NatsServer,
    pub database: TestDatabase,
    pub mocks: Mocks,
    pub herald: Herald,
    /// The gRPC endpoint.
    pub endpoint: String,
    pub admin_key: String,
    /// The largest size the SQLite WAL reached (bytes; 0 on PostgreSQL), sampled every 100 ms.
    wal_peak: Arc<AtomicU64>,
    /// An outside HTTP/2 server that APNs requests and Web Push subscriptions go to instead of
    /// the mocks (see [`Rig::start`]).
    sink: Option<String>,
}

impl Rig {
    /// Starts everything; the mocks answer after `mock_delay`. `database` is `sqlite` or a
    /// PostgreSQL server URL (a fresh database is created on it). With a `sink` (an `https://`
    /// origin; its CA given by the settings' extra CA file), APNs requests go there instead of
    /// the APNs mock, and devices registered for the web get subscriptions at it.
    pub async fn start(
        mut settings: Settings,
        mode: Mode,
        database: &str,
        mock_delay: Duration,
        logs: Option<PathBuf>,
        sink: Option<String>,
    ) -> anyhow::Result<Self> {
        let nats = NatsServer::start()?;
        let database = if database == "sqlite" {
            TestDatabase::sqlite()?
        } else {
            TestDatabase::postgres_on(database).await?
        };
        let mocks = Mocks::start().await?;
        for recorder in mocks.recorders() {
            recorder.lean();
            recorder.answer_by_default(Answer::delayed(mock_delay));
        }
        // The settings of this environment (concurrency, batches), with Herald's dependencies
        // the rig's own.
        let admin_key = generate_api_key();
        settings.database_url = Some(Secret::new(database.url.clone()));
        settings.nats_url = nats.url();
        settings.master_key = Some(Secret::new(MasterKey::generate_base64()));
        settings.admin_key = Some(Secret::new(admin_key.clone()));
        settings.grpc_addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        settings.health_addr = "127.0.0.1:0".parse()?;
        settings.telemetry.metrics_addr = "127.0.0.1:0".parse()?;
        mocks.apply(&mut settings.providers)?;
        // The mocks have no quota: a benchmark measures Herald, not FCM's default quota (which
        // would hold FCM to 10,000 pushes a second).
        settings.sender.fcm_per_minute = 0;
        if let Some(sink) = &sink {
            settings.providers.apns_url.clone_from(sink);
            settings.providers.apns_sandbox_url.clone_from(sink);
        }
        let endpoint = format!("http://{}", settings.grpc_addr);
        let herald = match mode {
            Mode::InProcess => {
                let shutdown = CancellationToken::new();
                let listener = tokio::net::TcpListener::bind(settings.grpc_addr).await?;
                let services = herald::Stack::new(settings.clone())
                    .start(listener, &shutdown)
                    .await?;
                Herald::InProcess { shutdown, services }
            }
            Mode::Processes => {
                // The schema first, so the processes do not race to create it.
                Store::connect(&database.url).await?.close().await;
                if let Some(dir) = &logs {
                    std::fs::create_dir_all(dir)?;
                }
                let mut processes = Processes {
                    settings: settings.clone(),
                    logs,
                    running: Vec::new(),
                };
                for name in SERVICES {
                    processes.start(name)?;
                }
                Herald::Processes(Box::new(processes))
            }
        };
        let wal_peak = Arc::new(AtomicU64::new(0));
        if let Some(path) = database
            .url
            .strip_prefix("sqlite://")
            .and_then(|rest| rest.split('?').next())
        {
            let wal = PathBuf::from(format!("{path}-wal"));
            let peak = Arc::downgrade(&wal_peak);
            tokio::spawn(async move {
                while let Some(peak) = peak.upgrade() {
                    if let Ok(meta) = std::fs::metadata(&wal) {
                        peak.fetch_max(meta.len(), Ordering::Relaxed);
                    }
                    drop(peak);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            });
        }
        Ok(Self {
            nats,
            database,
            mocks,
            herald,
            endpoint,
            admin_key,
            wal_peak,
            sink,
        })
    }

    /// The largest size the SQLite WAL file reached so far, in MiB (0 on PostgreSQL).
    pub fn wal_peak_mib(&self) -> f64 {
        self.wal_peak.load(Ordering::Relaxed) as f64 / (1024.0 * 1024.0)
    }

    /// Connects to the API (waiting for it to listen).
    pub async fn channel(&self) -> anyhow::Result<Channel> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match Channel::from_shared(self.endpoint.clone())?.connect().await {
                Ok(channel) => return Ok(channel),
                Err(err) if Instant::now() > deadline => {
                    return Err(err).context("Herald did not start");
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    /// Creates a tenant with credentials for every provider (the mocks'); answers its id, a
    /// channel with its key, and its VAPID public key.
    pub async fn tenant(&self, name: &str) -> anyhow::Result<(String, AuthedChannel, String)> {
        let channel = self.channel().await?;
        let mut admin = AdminClient::new(authed(channel.clone(), &self.admin_key)?);
        let tenant = admin
            .create_tenant(CreateTenantRequest {
                display_name: name.into(),
            })
            .await?
            .into_inner();
        let key = admin
            .create_api_key(CreateApiKeyRequest {
                tenant_id: tenant.tenant_id.clone(),
                display_name: name.into(),
                ..Default::default()
            })
            .await?
            .into_inner()
            .key;
        let tenant_channel = authed(channel, &key)?;
        let vapid_key = set_credentials(&tenant_channel, &self.mocks).await?;
        Ok((tenant.tenant_id, tenant_channel, vapid_key))
    }

    /// Registers devices — `(user, platform, n)`, `n` making each token unique — from `clients`
    /// concurrent clients.
    pub async fn register_devices(
        &self,
        channel: &AuthedChannel,
        vapid_key: &str,
        plan: Vec<(String, Platform, usize)>,
        clients: usize,
    ) -> anyhow::Result<()> {
        let requests: Vec<RegisterDeviceRequest> = plan
            .into_iter()
            .map(|(user, platform, n)| {
                let mut request = RegisterDeviceRequest {
                    user_id: user,
                    platform: platform as i32,
                    ..Default::default()
                };
                match platform {
                    Platform::Web => {
                        let sub = self.mocks.push.subscribe(vapid_key);
                        let endpoint = match &self.sink {
                            Some(sink) => format!(
                                "{sink}/push/{}",
                                herald_testkit::webpush::MockPushService::id_of(&sub)
                            ),
                            None => sub.endpoint,
                        };
                        request.browser = Browser::Chrome as i32;
                        request.web_subscription = Some(WebSubscription {
                            endpoint,
                            p256dh: sub.p256dh,
                            auth: sub.auth,
                        });
                    }
                    Platform::Ios => request.push_token = format!("{n:064x}"),
                    _ => request.push_token = format!("rig-token-{n}"),
                }
                request
            })
            .collect();
        let queue = Arc::new(std::sync::Mutex::new(requests));
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..clients.max(1) {
            let queue = queue.clone();
            let mut devices = DevicesClient::new(channel.clone());
            workers.spawn(async move {
                loop {
                    let Some(request) = queue.lock().expect("queue").pop() else {
                        return anyhow::Ok(());
                    };
                    devices.register_device(request).await?;
                }
            });
        }
        while let Some(result) = workers.join_next().await {
            result??;
        }
        Ok(())
    }

    /// Every push the mocks accepted so far.
    pub fn received(&self) -> usize {
        self.mocks
            .recorders()
            .iter()
            .map(|r| r.received_count())
            .sum()
    }

    /// Every push the mocks accepted: provider, Herald's message and delivery ids, when.
    pub fn pushes(&self) -> Vec<Push> {
        let mut out = Vec::new();
        for (provider, recorder) in ["fcm", "hms", "apns", "webpush"]
            .into_iter()
            .zip(self.mocks.recorders())
        {
            for push in recorder.received() {
                let (message, delivery) = ids_of(provider, &push);
                out.push(Push {
                    provider,
                    message,
                    delivery,
                    at: push.at,
                });
            }
        }
        out
    }
}

/// One push a mock accepted.
#[derive(Clone, Debug)]
pub struct Push {
    pub provider: &'static str,
    pub message: String,
    pub delivery: String,
    pub at: Instant,
}

/// Herald's ids from a push body, wherever each provider carries its data.
fn ids_of(provider: &str, push: &ReceivedPush) -> (String, String) {
    let data = match provider {
        "fcm" => push.body["message"]["data"].clone(),
        "hms" => serde_json::from_str(push.body["message"]["data"].as_str().unwrap_or("{}"))
            .unwrap_or(Value::Null),
        "webpush" => push.body["data"].clone(),
        _ => push.body.clone(),
    };
    let text = |key: &str| data[key].as_str().unwrap_or_default().to_owned();
    (text("herald_message_id"), text("herald_delivery_id"))
}

/// A running Herald under test.
pub enum Herald {
    InProcess {
        shutdown: CancellationToken,
        services: herald::Running,
    },
    Processes(Box<Processes>),
}

impl Herald {
    /// The processes involved (this one included) and their pids, nats-server's too.
    pub fn processes(&self, nats: &NatsServer) -> Vec<(String, u32)> {
        let mut list = match self {
            Self::InProcess { .. } => vec![(
                "herald (services + mocks + clients)".to_owned(),
                std::process::id(),
            )],
            Self::Processes(processes) => {
                let mut list: Vec<(String, u32)> = processes
                    .running
                    .iter()
                    .map(|(name, child)| (name.clone(), child.id()))
                    .collect();
                list.push(("herald (mocks + clients)".to_owned(), std::process::id()));
                list
            }
        };
        if let Some(pid) = nats.pid() {
            list.push(("nats-server".to_owned(), pid));
        }
        list
    }

    /// Stops every service gracefully; fails if one did not stop cleanly.
    pub async fn stop(self) -> anyhow::Result<()> {
        match self {
            Self::InProcess { shutdown, services } => {
                shutdown.cancel();
                services.wait(&shutdown).await
            }
            Self::Processes(mut processes) => {
                for (name, child) in &mut processes.running {
                    let status =
                        herald_testkit::process::terminate(child, Duration::from_secs(40))?;
                    if !status.success() {
                        bail!("{name} exited with {status}");
                    }
                }
                processes.running.clear();
                Ok(())
            }
        }
    }
}

/// Service processes of the release binaries next to this one, each with exactly the rig's
/// settings.
pub struct Processes {
    settings: Settings,
    /// Where each service's log goes (`<dir>/<service>.log`, at level info); else warnings
    /// go to this process's standard error.
    logs: Option<PathBuf>,
    running: Vec<(String, std::process::Child)>,
}

impl Processes {
    /// Starts service `name` (one of [`SERVICES`]).
    pub fn start(&mut self, name: &str) -> anyhow::Result<()> {
        let (binary, provider) = match name.split_once('-') {
            Some(("sender", provider)) => ("sender", Some(provider)),
            _ => (name, None),
        };
        let path = std::env::current_exe()?.with_file_name(format!("herald-{binary}"));
        let mut command = std::process::Command::new(&path);
        command.envs(self.settings.to_env());
        match &self.logs {
            Some(dir) => {
                let log = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(dir.join(format!("{name}.log")))?;
                command
                    .env("RUST_LOG", "info")
                    .stdout(log.try_clone()?)
                    .stderr(log);
            }
            None => {
                command.env("RUST_LOG", "warn,sqlx=error");
            }
        }
        if let Some(provider) = provider {
            command.env("HERALD_SENDER_PROVIDER", provider);
        }
        let child = command.spawn().with_context(|| {
            format!(
                "cannot start {} (build every binary first: cargo build --bins)",
                path.display()
            )
        })?;
        self.running.push((name.to_owned(), child));
        Ok(())
    }

    /// Stops service `name`: with SIGKILL (a crash), or SIGTERM (a rolling restart: it drains
    /// first).
    pub fn stop(&mut self, name: &str, kill: bool) -> anyhow::Result<()> {
        let at = self
            .running
            .iter()
            .position(|(n, _)| n == name)
            .with_context(|| format!("no service {name} runs"))?;
        let (_, mut child) = self.running.remove(at);
        if kill {
            child.kill()?;
            child.wait()?;
        } else {
            herald_testkit::process::terminate(&mut child, Duration::from_secs(40))?;
        }
        Ok(())
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        for (_, child) in &mut self.running {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Each process of `herald` (and nats-server) with its CPU seconds and peak RSS (MiB).
pub fn usages(herald: &Herald, nats: &NatsServer) -> Vec<(String, f64, f64)> {
    herald
        .processes(nats)
        .into_iter()
        .filter_map(|(name, pid)| usage(pid).map(|(cpu, rss)| (name, cpu, rss)))
        .collect()
}

/// CPU seconds (user + system) and peak resident set (MiB) of a process, from /proc.
pub fn usage(pid: u32) -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // Linux reports them in clock ticks of 1/100 s (USER_HZ) on every common architecture.
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let peak_kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some((ticks / 100.0, peak_kib / 1024.0))
}

/// The machine the figures were made on.
pub fn machine() -> Value {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_default();
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines().find_map(|l| {
                l.strip_prefix("MemTotal:")
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            })
        })
        .map_or(0.0, |kib| kib / 1024.0 / 1024.0);
    json!({"cpus": cpus, "model": model, "memory_gib": (mem_gib * 10.0).round() / 10.0})
}

fn authed(channel: Channel, key: &str) -> anyhow::Result<AuthedChannel> {
    Ok(tonic::service::interceptor::InterceptedService::new(
        channel,
        BearerAuth::new(key)?,
    ))
}

async fn set_credentials(channel: &AuthedChannel, mocks: &Mocks) -> anyhow::Result<String> {
    use set_credential_request::Credential;
    let mut credentials = CredentialsClient::new(channel.clone());
    let apns = ApnsCredential {
        auth: Some(apns_credential::Auth::Token(ApnsTokenAuth {
            private_key_pem: mocks.apns.team_key_pem().to_owned(),
            key_id: herald_testkit::apns::KEY_ID.into(),
            team_id: herald_testkit::apns::TEAM_ID.into(),
        })),
        bundle_id: herald_testkit::apns::BUNDLE_ID.into(),
        sandbox: false,
    };
    let all = [
        Credential::Fcm(FcmCredential {
            service_account_json: mocks.fcm.service_account_json(),
            project_id: String::new(),
        }),
        Credential::Hms(HmsCredential {
            app_id: herald_testkit::hms::APP_ID.into(),
            app_secret: herald_testkit::hms::APP_SECRET.into(),
            ..Default::default()
        }),
        Credential::Apns(apns),
    ];
    for credential in all {
        credentials
            .set_credential(SetCredentialRequest {
                credential: Some(credential),
                label: "rig".into(),
            })
            .await?;
    }
    let vapid = credentials
        .generate_vapid_keys(GenerateVapidKeysRequest {
            subject: "mailto:rig@herald.test".into(),
        })
        .await?;
    Ok(vapid.into_inner().public_key)
}

/// Parses `fcm=60,apns=25,…` into shares per platform.
pub fn parse_mix(mix: &str) -> anyhow::Result<Vec<(Platform, u32)>> {
    mix.split(',')
        .map(|part| {
            let (name, share) = part
                .split_once('=')
                .with_context(|| format!("{part:?} is not provider=share"))?;
            let platform = match name.trim() {
                "fcm" => Platform::Android,
                "apns" => Platform::Ios,
                "hms" => Platform::Huawei,
                "webpush" => Platform::Web,
                other => bail!("unknown provider {other:?} in --mix"),
            };
            Ok((platform, share.trim().parse()?))
        })
        .collect()
}

/// The platform of device `n` under `mix` (spread evenly, in a fixed order).
pub fn platform_of(n: usize, mix: &[(Platform, u32)]) -> Platform {
    let total: u32 = mix.iter().map(|(_, s)| s).sum();
    let slot = (n as u32).wrapping_mul(7919) % total.max(1);
    let mut acc = 0;
    mix.iter()
        .find(|(_, share)| {
            acc += share;
            slot < acc
        })
        .map(|(p, _)| *p)
        .unwrap_or(Platform::Android)
}

/// Where a report goes.
pub fn write_report(out: &PathBuf, report: &Value) -> anyhow::Result<()> {
    std::fs::write(out, serde_json::to_string_pretty(report)?)
        .with_context(|| format!("cannot write {}", out.display()))
}
