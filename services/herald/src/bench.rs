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

use anyhow::bail;
use futures::FutureExt as _;
use herald_proto::v1::notifications_client::NotificationsClient;
use herald_proto::v1::*;
use herald_runtime::Settings;
use herald_store::Store;
use serde_json::{Value, json};

use crate::rig::{self, Mode, Rig};

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
    /// An outside HTTP/2 server (an `https://` origin such as h2o; trust its CA with
    /// `HERALD_EXTRA_CA_FILE`) that APNs requests and Web Push subscriptions go to instead of the
    /// mocks, so Herald can be measured against other push libraries sending to the same server
    /// (`scripts/bench-peers`). Deliveries are then counted from Herald's receipts (no latency
    /// figures); `--mix` may name only `apns` and `webpush`.
    #[arg(long)]
    sink: Option<String>,
}

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

/// The run's progress on standard error, redrawn each second when it is a terminal: the
/// notifications accepted and the deliveries the mock providers got so far.
struct Progress {
    started: Instant,
    expected: usize,
    shown: bool,
}

impl Progress {
    fn new(started: Instant, expected: usize) -> Self {
        use std::io::IsTerminal as _;
        Self {
            started,
            expected,
            shown: std::io::stderr().is_terminal(),
        }
    }

    fn draw(&self, accepted: usize, delivered: usize) {
        if self.shown {
            eprint!(
                "\r{:>5.0} s  accepted {accepted:>9}  delivered {delivered:>9} of {}   ",
                self.started.elapsed().as_secs_f64(),
                self.expected
            );
        }
    }

    fn finish(&self) {
        if self.shown {
            eprintln!();
        }
    }
}

pub async fn run(args: BenchArgs, settings: Settings) -> anyhow::Result<()> {
    let mix = rig::parse_mix(&args.mix)?;
    anyhow::ensure!(
        mix.iter().map(|(_, s)| s).sum::<u32>() > 0,
        "--mix needs a positive share"
    );
    if let Some(sink) = &args.sink {
        let url: tonic::transport::Uri = sink.parse()?;
        anyhow::ensure!(
            url.scheme_str() == Some("https")
                && matches!(url.path(), "" | "/")
                && url.query().is_none(),
            "--sink must be an https:// origin, e.g. https://127.0.0.1:8443"
        );
        anyhow::ensure!(
            mix.iter()
                .all(|(p, share)| *share == 0 || matches!(p, Platform::Ios | Platform::Web)),
            "with --sink, --mix may name only apns and webpush"
        );
    }
    let rig = Rig::start(
        settings,
        args.mode,
        &args.database,
        Duration::from_millis(args.mock_delay_ms),
        None,
        args.sink
            .as_ref()
            .map(|s| s.trim_end_matches('/').to_owned()),
    )
    .await?;
    let (tenant_id, tenant_channel, vapid_key) = rig.tenant("bench").await?;

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
            plan.push((format!("user-{user}"), rig::platform_of(n, &mix), n));
            n += 1;
        }
    }
    rig.register_devices(&tenant_channel, &vapid_key, plan, args.clients)
        .await?;
    let setup_secs = started_setup.elapsed().as_secs_f64();

    // Load. CPU is counted from here, so registration does not weigh on the figures.
    let before = rig::usages(&rig.herald, &rig.nats);
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
    let progress = Progress::new(started, expected_deliveries);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            next = clients.join_next() => match next {
                Some(result) => result??,
                None => break,
            },
            _ = tick.tick() => {
                progress.draw(accepted.lock().expect("accepted").len(), rig.received());
            }
        }
    }
    let accept_secs = started.elapsed().as_secs_f64();

    // Wait for every delivery at the mocks, then for every receipt in the store.
    let deadline = started + Duration::from_secs(args.timeout_secs);
    while args.sink.is_none() && rig.received() < expected_deliveries && Instant::now() < deadline {
        if tick.tick().now_or_never().is_some() {
            progress.draw(accepted.lock().expect("accepted").len(), rig.received());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    progress.finish();
    let store = Store::connect(&rig.database.url).await?;
    let tenant_id = herald_core::ids::TenantId::from_trusted(tenant_id);
    let mut recorded = 0;
    let mut failed = 0;
    let mut receipts_secs = 0.0;
    while Instant::now() < deadline {
        let counts = store.delivery_counts(&tenant_id).await?;
        let count = |wanted: fn(DeliveryStatus) -> bool| -> usize {
            counts
                .iter()
                .filter(|(status, _)| wanted(*status))
                .map(|(_, n)| *n as usize)
                .sum()
        };
        recorded = count(|status| status != DeliveryStatus::Queued);
        failed = count(|status| status == DeliveryStatus::Failed);
        if recorded >= expected_deliveries {
            receipts_secs = started.elapsed().as_secs_f64();
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let usage: Vec<(String, f64, f64)> = rig::usages(&rig.herald, &rig.nats)
        .into_iter()
        .map(|(name, cpu, rss)| {
            let earlier = before
                .iter()
                .find(|(n, _, _)| *n == name)
                .map_or(0.0, |(_, c, _)| *c);
            (name, cpu - earlier, rss)
        })
        .collect();
    let pushes = rig.pushes();
    let wal_peak_mib = rig.wal_peak_mib();
    let Rig { herald, .. } = rig;
    herald.stop().await?;
    store.close().await;

    // Figures.
    let accepted = accepted.lock().expect("accepted").clone();
    let mut unique = std::collections::HashSet::new();
    let mut duplicates = 0;
    let mut latencies = Vec::with_capacity(pushes.len());
    let mut last_push = started;
    let mut per_provider: HashMap<&str, usize> = HashMap::new();
    for push in &pushes {
        if !unique.insert(push.delivery.clone()) {
            duplicates += 1;
        }
        *per_provider.entry(push.provider).or_default() += 1;
        last_push = last_push.max(push.at);
        if let Some(sent) = accepted.get(&push.message) {
            latencies.push(push.at.saturating_duration_since(*sent));
        }
    }
    latencies.sort_unstable();
    // At a sink Herald's receipts are the only record: a delivery counts once recorded and not
    // failed, and its time is when the last receipt was seen.
    let (delivered, deliver_secs) = if args.sink.is_some() {
        (recorded - failed, receipts_secs)
    } else {
        (
            unique.len(),
            last_push.duration_since(started).as_secs_f64(),
        )
    };
    let lost = expected_deliveries.saturating_sub(delivered);
    let report = json!({
        "machine": rig::machine(),
        "scenario": {
            "mode": format!("{:?}", args.mode), "database": if args.database == "sqlite" { "sqlite" } else { "postgres" },
            "devices": args.devices, "users": users, "notifications": args.notifications,
            "clients": args.clients, "batch": args.batch, "offered_rate": args.rate,
            "mock_delay_ms": args.mock_delay_ms, "mix": args.mix, "nats_storage": "file", "sink": args.sink,
        },
        "setup_seconds": setup_secs,
        "ingest_accepted_per_second": args.notifications as f64 / accept_secs,
        "deliveries_per_second": delivered as f64 / deliver_secs.max(f64::EPSILON),
        "receipts_recorded_per_second": if receipts_secs > 0.0 { recorded as f64 / receipts_secs } else { 0.0 },
        "latency_ms": {
            "p50": percentile(&latencies, 0.50), "p95": percentile(&latencies, 0.95),
            "p99": percentile(&latencies, 0.99), "max": latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
        },
        "counts": {
            "expected_deliveries": expected_deliveries, "unique_deliveries_at_mocks": unique.len(),
            "duplicates": duplicates, "lost": lost, "receipts_recorded": recorded, "failed": failed, "per_provider": per_provider,
        },
        "load_seconds": deliver_secs.max(receipts_secs),
        "sqlite_wal_peak_mib": wal_peak_mib,
        "processes": usage.iter().map(|(name, cpu, rss)| json!({"name": name, "cpu_seconds_during_load": cpu, "peak_rss_mib": rss})).collect::<Vec<_>>(),
    });
    rig::write_report(&args.out, &report)?;
    print_report(&report);
    if lost > 0 {
        bail!("{lost} deliveries never reached a provider ({failed} failed)");
    }
    Ok(())
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
    println!(
        "SQLite WAL at most: {:.1} MiB",
        f(&report["sqlite_wal_peak_mib"])
    );
    for p in report["processes"].as_array().into_iter().flatten() {
        println!(
            "  {:<44} cpu {:>7.1} s   peak rss {:>7.1} MiB",
            p["name"].as_str().unwrap_or_default(),
            f(&p["cpu_seconds_during_load"]),
            f(&p["peak_rss_mib"])
        );
    }
}
