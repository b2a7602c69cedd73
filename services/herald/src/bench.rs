//! `herald bench`: a throughput and latency benchmark. It starts a private nats-server (file
//! storage), a fresh database, the test kit's mock providers (answering at once or after a set
//! delay) and Herald itself — in this process, or as separate service processes — registers
//! devices spread over the providers, sends notifications through the public gRPC API from
//! concurrent clients, and reports what it measured (also as JSON).
//!
//! A benchmark, not a test: it reports figures and fails only when something was lost.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use herald_core::crypto::{MasterKey, generate_api_key};
use herald_proto::client::{AuthedChannel, BearerAuth};
use herald_proto::v1::admin_client::AdminClient;
use herald_proto::v1::credentials_client::CredentialsClient;
use herald_proto::v1::devices_client::DevicesClient;
use herald_proto::v1::notifications_client::NotificationsClient;
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
    /// Every service in the benchmark's own process, as `herald up` runs them.
    InProcess,
    /// Each service in its own process (the binaries next to `herald`).
    Processes,
}

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Devices to register.
    #[arg(long, default_value_t = 10_000)]
    devices: usize,
    /// Notifications to send (each to one user; users have 1 to 3 devices).
    #[arg(long, default_value_t = 20_000)]
    notifications: usize,
    /// Concurrent gRPC clients.
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Notifications per SendBatch call (1 uses Send).
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Offered load in notifications per second; 0 sends as fast as Herald accepts.
    #[arg(long, default_value_t = 0)]
    rate: u64,
    /// How long each mock provider takes to answer (a real provider's round trip is ~30 ms).
    #[arg(long, default_value_t = 0)]
    mock_delay_ms: u64,
    #[arg(long, value_enum, default_value = "in-process")]
    mode: Mode,
    /// `sqlite`, or a PostgreSQL server URL (a fresh database is created on it).
    #[arg(long, default_value = "sqlite")]
    database: String,
    /// Shares of devices per provider.
    #[arg(long, default_value = "fcm=60,apns=25,hms=10,webpush=5")]
    mix: String,
    /// Where to write the JSON report.
    #[arg(long, default_value = "bench-report.json")]
    out: PathBuf,
    /// Give up waiting for deliveries after this long.
    #[arg(long, default_value_t = 300)]
    timeout_secs: u64,
}

/// Starts the mock providers, each answering after `delay`, and keeping little of each push.
async fn start_mocks(delay: Duration) -> anyhow::Result<Mocks> {
    let mocks = Mocks::start().await?;
    for recorder in mocks.recorders() {
        recorder.lean();
        recorder.answer_by_default(Answer::delayed(delay));
    }
    Ok(mocks)
}

fn received(mocks: &Mocks) -> usize {
    mocks.recorders().iter().map(|r| r.received_count()).sum()
}

/// Every accepted push with its provider, message id and delivery id.
fn pushes(mocks: &Mocks) -> Vec<(&'static str, String, String, Instant)> {
    let mut out = Vec::new();
    for (provider, recorder) in ["fcm", "hms", "apns", "webpush"]
        .into_iter()
        .zip(mocks.recorders())
    {
        for push in recorder.received() {
            let (message, delivery) = ids_of(provider, &push);
            out.push((provider, message, delivery, push.at));
        }
    }
    out
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
enum Herald {
    InProcess {
        shutdown: CancellationToken,
        services: herald::Running,
    },
    Processes {
        children: Vec<(String, std::process::Child)>,
    },
}

impl Herald {
    /// CPU seconds so far and peak RSS (MiB) of each process involved, nats-server included.
    fn usage(&self, nats: &NatsServer) -> Vec<(String, f64, f64)> {
        let mut processes = match self {
            Self::InProcess { .. } => vec![(
                "herald bench (services + mocks + clients)".to_owned(),
                std::process::id(),
            )],
            Self::Processes { children } => {
                let mut list: Vec<(String, u32)> = children
                    .iter()
                    .map(|(name, child)| (name.clone(), child.id()))
                    .collect();
                list.push((
                    "herald bench (mocks + clients)".to_owned(),
                    std::process::id(),
                ));
                list
            }
        };
        if let Some(pid) = nats.pid() {
            processes.push(("nats-server".to_owned(), pid));
        }
        processes
            .iter()
            .filter_map(|(name, pid)| proc_usage(name, *pid))
            .collect()
    }

    async fn stop(self) -> anyhow::Result<()> {
        match self {
            Self::InProcess { shutdown, services } => {
                shutdown.cancel();
                services.wait(&shutdown).await
            }
            Self::Processes { mut children } => {
                for (name, child) in &mut children {
                    let status =
                        herald_testkit::process::terminate(child, Duration::from_secs(40))?;
                    if !status.success() {
                        bail!("{name} exited with {status}");
                    }
                }
                Ok(())
            }
        }
    }
}

/// CPU seconds (user + system) and peak resident set (MiB) of a process, from /proc.
fn proc_usage(name: &str, pid: u32) -> Option<(String, f64, f64)> {
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
    Some((name.to_owned(), ticks / 100.0, peak_kib / 1024.0))
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

fn parse_mix(mix: &str) -> anyhow::Result<Vec<(Platform, u32)>> {
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

pub async fn run(args: BenchArgs, mut settings: Settings) -> anyhow::Result<()> {
    let mix = parse_mix(&args.mix)?;
    let total_share: u32 = mix.iter().map(|(_, s)| s).sum();
    anyhow::ensure!(total_share > 0, "--mix needs a positive share");
    let nats = NatsServer::start()?;
    let database = if args.database == "sqlite" {
        TestDatabase::sqlite()?
    } else {
        TestDatabase::postgres_on(&args.database).await?
    };
    let mocks = start_mocks(Duration::from_millis(args.mock_delay_ms)).await?;
    // The settings of this environment (concurrency, batches), with Herald's dependencies the
    // benchmark's own.
    let admin_key = generate_api_key();
    settings.database_url = Some(Secret::new(database.url.clone()));
    settings.nats_url = nats.url();
    settings.master_key = Some(Secret::new(MasterKey::generate_base64()));
    settings.admin_key = Some(Secret::new(admin_key.clone()));
    settings.grpc_addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    settings.health_addr = "127.0.0.1:0".parse()?;
    mocks.apply(&mut settings.providers)?;
    let endpoint = format!("http://{}", settings.grpc_addr);

    let herald = match args.mode {
        Mode::InProcess => {
            let shutdown = CancellationToken::new();
            let listener = tokio::net::TcpListener::bind(settings.grpc_addr).await?;
            let services = herald::Stack::new(settings)
                .start(listener, &shutdown)
                .await?;
            Herald::InProcess { shutdown, services }
        }
        Mode::Processes => {
            // The schema first, so the processes do not race to create it.
            Store::connect(&database.url).await?.close().await;
            let mut children = vec![spawn_service("ingest", &settings, &[])?];
            children.push(spawn_service("router", &settings, &[])?);
            children.push(spawn_service("receipt", &settings, &[])?);
            for provider in ["fcm", "apns", "hms", "webpush"] {
                let (_, child) =
                    spawn_service("sender", &settings, &[("HERALD_SENDER_PROVIDER", provider)])?;
                children.push((format!("sender-{provider}"), child));
            }
            Herald::Processes { children }
        }
    };
    let channel = connect(&endpoint).await?;

    // Tenant, key and credentials.
    let mut admin = AdminClient::new(authed(channel.clone(), &admin_key)?);
    let tenant = admin
        .create_tenant(CreateTenantRequest {
            display_name: "bench".into(),
        })
        .await?
        .into_inner();
    let key = admin
        .create_api_key(CreateApiKeyRequest {
            tenant_id: tenant.tenant_id.clone(),
            display_name: "bench".into(),
        })
        .await?
        .into_inner()
        .key;
    let tenant_channel = authed(channel, &key)?;
    let vapid_key = set_credentials(&tenant_channel, &mocks).await?;

    // Devices: users get 1, 2 or 3 devices in turn; each device's provider follows the mix.
    let started_setup = Instant::now();
    let mut devices_of_user: Vec<usize> = Vec::new();
    let mut plan = Vec::with_capacity(args.devices);
    let mut n = 0;
    while n < args.devices {
        let user = devices_of_user.len();
        let count = (1 + user % 3).min(args.devices - n);
        devices_of_user.push(count);
        for _ in 0..count {
            let slot = (n as u32 * 7919) % total_share;
            let mut acc = 0;
            let platform = mix
                .iter()
                .find(|(_, share)| {
                    acc += share;
                    slot < acc
                })
                .map(|(p, _)| *p)
                .unwrap_or(Platform::Android);
            plan.push((format!("user-{user}"), platform, n));
            n += 1;
        }
    }
    register_devices(&tenant_channel, &mocks, &vapid_key, plan, args.clients).await?;
    let setup_secs = started_setup.elapsed().as_secs_f64();

    // Load. CPU is counted from here, so registration does not weigh on the figures.
    let before = herald.usage(&nats);
    let users = devices_of_user.len();
    let targets: Vec<usize> = (0..args.notifications)
        .map(|i| (i * 104_729) % users)
        .collect();
    let expected_deliveries: usize = targets.iter().map(|u| devices_of_user[*u]).sum();
    let accepted = Arc::new(std::sync::Mutex::new(
        HashMap::<String, Instant>::with_capacity(args.notifications),
    ));
    let started = Instant::now();
    let batches: Vec<Vec<usize>> = targets
        .chunks(args.batch.max(1))
        .map(<[usize]>::to_vec)
        .collect();
    let per_batch = if args.rate == 0 {
        Duration::ZERO
    } else {
        Duration::from_secs_f64(args.batch.max(1) as f64 / args.rate as f64)
    };
    // In order: a client takes the next batch due, so the offered load is spread as asked.
    let queue = Arc::new(std::sync::Mutex::new(
        batches
            .into_iter()
            .enumerate()
            .collect::<std::collections::VecDeque<_>>(),
    ));
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..args.clients {
        let queue = queue.clone();
        let accepted = accepted.clone();
        let mut notifications = NotificationsClient::new(tenant_channel.clone());
        clients.spawn(async move {
            loop {
                let Some((index, batch)) = queue.lock().expect("queue").pop_front() else {
                    return anyhow::Ok(());
                };
                if !per_batch.is_zero() {
                    tokio::time::sleep_until((started + per_batch * index as u32).into()).await;
                }
                let requests: Vec<SendRequest> = batch
                    .iter()
                    .map(|user| SendRequest {
                        destination: Some(Destination {
                            kind: Some(destination::Kind::UserId(format!("user-{user}"))),
                        }),
                        notification: Some(Notification {
                            title: "Benchmark".into(),
                            body: "A notification from herald bench".into(),
                            data: [("seq".to_string(), index.to_string())].into(),
                            ..Default::default()
                        }),
                        ..Default::default()
                    })
                    .collect();
                // Latency counts from the call: Herald publishes before it replies, so a push
                // can reach a mock before the reply reaches the client. The figure is an upper
                // bound of accept→provider that includes the accept itself.
                let sent = Instant::now();
                let ids: Vec<String> = if requests.len() == 1 {
                    let request = requests.into_iter().next().expect("one request");
                    vec![notifications.send(request).await?.into_inner().message_id]
                } else {
                    let results = notifications
                        .send_batch(SendBatchRequest { requests })
                        .await?
                        .into_inner()
                        .results;
                    results
                        .into_iter()
                        .map(|r| match r.result {
                            Some(send_batch_result::Result::Accepted(a)) => Ok(a.message_id),
                            other => Err(anyhow::anyhow!("a notification was refused: {other:?}")),
                        })
                        .collect::<anyhow::Result<_>>()?
                };
                let mut accepted = accepted.lock().expect("accepted");
                for id in ids {
                    accepted.insert(id, sent);
                }
            }
        });
    }
    while let Some(result) = clients.join_next().await {
        result??;
    }
    let accept_secs = started.elapsed().as_secs_f64();

    // Wait for every delivery at the mocks, then for every receipt in the store.
    let deadline = started + Duration::from_secs(args.timeout_secs);
    while received(&mocks) < expected_deliveries && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let store = Store::connect(&database.url).await?;
    let tenant_id = herald_core::ids::TenantId::from_trusted(tenant.tenant_id.clone());
    let mut recorded = 0;
    let mut receipts_secs = 0.0;
    while Instant::now() < deadline {
        let counts = store.delivery_counts(&tenant_id).await?;
        recorded = counts
            .iter()
            .filter(|(status, _)| *status != DeliveryStatus::Queued)
            .map(|(_, n)| *n as usize)
            .sum();
        if recorded >= expected_deliveries {
            receipts_secs = started.elapsed().as_secs_f64();
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let usage: Vec<(String, f64, f64)> = herald
        .usage(&nats)
        .into_iter()
        .map(|(name, cpu, rss)| {
            let earlier = before
                .iter()
                .find(|(n, _, _)| *n == name)
                .map_or(0.0, |(_, c, _)| *c);
            (name, cpu - earlier, rss)
        })
        .collect();
    herald.stop().await?;
    store.close().await;

    // Figures.
    let pushes = pushes(&mocks);
    let accepted = accepted.lock().expect("accepted").clone();
    let mut unique = std::collections::HashSet::new();
    let mut duplicates = 0;
    let mut latencies = Vec::with_capacity(pushes.len());
    let mut last_push = started;
    let mut per_provider: HashMap<&str, usize> = HashMap::new();
    for (provider, message, delivery, at) in &pushes {
        if !unique.insert(delivery.clone()) {
            duplicates += 1;
        }
        *per_provider.entry(provider).or_default() += 1;
        last_push = last_push.max(*at);
        if let Some(sent) = accepted.get(message) {
            latencies.push(at.saturating_duration_since(*sent));
        }
    }
    latencies.sort_unstable();
    let deliver_secs = last_push.duration_since(started).as_secs_f64();
    let lost = expected_deliveries.saturating_sub(unique.len());
    let report = json!({
        "machine": machine(),
        "scenario": {
            "mode": format!("{:?}", args.mode), "database": if args.database == "sqlite" { "sqlite" } else { "postgres" },
            "devices": args.devices, "users": users, "notifications": args.notifications,
            "clients": args.clients, "batch": args.batch, "offered_rate": args.rate,
            "mock_delay_ms": args.mock_delay_ms, "mix": args.mix, "nats_storage": "file",
        },
        "setup_seconds": setup_secs,
        "ingest_accepted_per_second": args.notifications as f64 / accept_secs,
        "deliveries_per_second": unique.len() as f64 / deliver_secs.max(f64::EPSILON),
        "receipts_recorded_per_second": if receipts_secs > 0.0 { recorded as f64 / receipts_secs } else { 0.0 },
        "latency_ms": {
            "p50": percentile(&latencies, 0.50), "p95": percentile(&latencies, 0.95),
            "p99": percentile(&latencies, 0.99), "max": latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
        },
        "counts": {
            "expected_deliveries": expected_deliveries, "unique_deliveries_at_mocks": unique.len(),
            "duplicates": duplicates, "lost": lost, "receipts_recorded": recorded, "per_provider": per_provider,
        },
        "load_seconds": deliver_secs.max(receipts_secs),
        "processes": usage.iter().map(|(name, cpu, rss)| json!({"name": name, "cpu_seconds_during_load": cpu, "peak_rss_mib": rss})).collect::<Vec<_>>(),
    });
    std::fs::write(&args.out, serde_json::to_string_pretty(&report)?)?;
    print_report(&report);
    if lost > 0 {
        bail!("{lost} deliveries never reached a mock provider");
    }
    Ok(())
}

fn machine() -> Value {
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

fn print_report(report: &Value) {
    let f = |v: &Value| v.as_f64().unwrap_or_default();
    println!("herald bench — {}", report["scenario"]);
    println!("machine: {}", report["machine"]);
    println!(
        "setup (register devices): {:.1} s",
        f(&report["setup_seconds"])
    );
    println!(
        "ingest accepted:   {:>10.0} notifications/s",
        f(&report["ingest_accepted_per_second"])
    );
    println!(
        "delivered:         {:>10.0} deliveries/s (at the mock providers)",
        f(&report["deliveries_per_second"])
    );
    println!(
        "receipts recorded: {:>10.0} /s",
        f(&report["receipts_recorded_per_second"])
    );
    println!(
        "load phase: {:.1} s; CPU seconds during it:",
        f(&report["load_seconds"])
    );
    let l = &report["latency_ms"];
    println!(
        "latency send→provider:   p50 {:.1} ms  p95 {:.1} ms  p99 {:.1} ms  max {:.1} ms",
        f(&l["p50"]),
        f(&l["p95"]),
        f(&l["p99"]),
        f(&l["max"])
    );
    println!("counts: {}", report["counts"]);
    for p in report["processes"].as_array().into_iter().flatten() {
        println!(
            "  {:<44} cpu {:>7.1} s   peak rss {:>7.1} MiB",
            p["name"].as_str().unwrap_or_default(),
            f(&p["cpu_seconds_during_load"]),
            f(&p["peak_rss_mib"])
        );
    }
}

async fn connect(endpoint: &str) -> anyhow::Result<Channel> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match Channel::from_shared(endpoint.to_owned())?.connect().await {
            Ok(channel) => return Ok(channel),
            Err(err) if Instant::now() > deadline => {
                return Err(err).context("Herald did not start");
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
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
                label: "bench".into(),
            })
            .await?;
    }
    let vapid = credentials
        .generate_vapid_keys(GenerateVapidKeysRequest {
            subject: "mailto:bench@herald.test".into(),
        })
        .await?;
    Ok(vapid.into_inner().public_key)
}

async fn register_devices(
    channel: &AuthedChannel,
    mocks: &Mocks,
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
                    let sub = mocks.push.subscribe(vapid_key);
                    request.browser = Browser::Chrome as i32;
                    request.web_subscription = Some(WebSubscription {
                        endpoint: sub.endpoint,
                        p256dh: sub.p256dh,
                        auth: sub.auth,
                    });
                }
                Platform::Ios => request.push_token = format!("{n:064x}"),
                _ => request.push_token = format!("bench-token-{n}"),
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

/// Starts `herald-<service>` (next to this binary) with exactly the benchmark's settings.
fn spawn_service(
    service: &str,
    settings: &Settings,
    extra: &[(&str, &str)],
) -> anyhow::Result<(String, std::process::Child)> {
    let binary = std::env::current_exe()?.with_file_name(format!("herald-{service}"));
    let mut command = std::process::Command::new(&binary);
    command.envs(settings.to_env()).env("RUST_LOG", "warn");
    for (key, value) in extra {
        command.env(key, value);
    }
    let child = command.spawn().with_context(|| {
        format!(
            "cannot start {} (build every binary first)",
            binary.display()
        )
    })?;
    Ok((service.to_owned(), child))
}
