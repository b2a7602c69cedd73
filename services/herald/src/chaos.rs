//! `herald chaos`: crash and fault runs. For each target it starts Herald as separate service
//! processes against a private nats-server, a fresh database and the mock providers, offers a
//! steady load through the public API (clients retry what fails, with idempotency keys, as a
//! careful client does), and at a chosen moment kills one process (a service, or nats-server)
//! with SIGKILL or SIGTERM, or takes the database away, then starts it again. It reports, as
//! JSON, what was sent, delivered, lost and duplicated, the deliveries and messages left in a
//! wrong final state, and how long Herald took to recover.
//!
//! Recovery is measured from the fault: until every delivery that was pending at that moment
//! (its message accepted, not yet at a provider) reached its provider, and every delivery
//! created by then was recorded; the longest pause in deliveries is reported beside it.
//!
//! A crash-and-fault harness, not a test: it fails (exit status 1) only when a delivery was
//! lost or left in a wrong state.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::bail;
use herald_core::ids::TenantId;
use herald_core::time::now_ms;
use herald_proto::client::AuthedChannel;
use herald_proto::v1::notifications_client::NotificationsClient;
use herald_proto::v1::*;
use herald_runtime::Settings;
use herald_store::Store;
use serde_json::{Value, json};

use crate::rig::{self, Herald, Mode, Rig};

/// What a run breaks.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Ingest,
    Router,
    Receipt,
    SenderFcm,
    SenderApns,
    SenderHms,
    SenderWebpush,
    /// The nats-server (SIGKILL whatever --signal says), restarted on its store.
    Nats,
    /// The database: every connection to it terminated, again and again, for --down-secs
    /// (PostgreSQL); the database locked for writing for --down-secs (SQLite).
    Database,
    /// Each of the above in turn, each on a fresh Herald.
    All,
}

impl Target {
    fn name(self) -> &'static str {
        match self {
            Self::Ingest => "ingest",
            Self::Router => "router",
            Self::Receipt => "receipt",
            Self::SenderFcm => "sender-fcm",
            Self::SenderApns => "sender-apns",
            Self::SenderHms => "sender-hms",
            Self::SenderWebpush => "sender-webpush",
            Self::Nats => "nats",
            Self::Database => "database",
            Self::All => "all",
        }
    }

    const EACH: [Target; 9] = [
        Self::Ingest,
        Self::Router,
        Self::Receipt,
        Self::SenderFcm,
        Self::SenderApns,
        Self::SenderHms,
        Self::SenderWebpush,
        Self::Nats,
        Self::Database,
    ];
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// SIGKILL: a crash.
    Kill,
    /// SIGTERM: a rolling restart (the process drains first).
    Term,
}

#[derive(clap::Args, Debug)]
pub struct ChaosArgs {
    /// What to break (repeat the flag for several runs).
    #[arg(long, value_enum, default_value = "all")]
    target: Vec<Target>,
    #[arg(long, value_enum, default_value = "kill")]
    signal: Signal,
    /// Deliveries to make in each run (one notification each).
    #[arg(long, default_value_t = 20_000)]
    deliveries: usize,
    /// Offered load, in deliveries per second.
    #[arg(long, default_value_t = 1_000)]
    rate: u64,
    /// When the fault strikes, in seconds after the load starts (default: a third of the way).
    #[arg(long)]
    fault_at_secs: Option<f64>,
    /// How long the target stays down before it is started again.
    #[arg(long, default_value_t = 1.0)]
    down_secs: f64,
    /// Devices (one per user); notifications go round them.
    #[arg(long, default_value_t = 2_000)]
    devices: usize,
    /// Shares of devices per provider.
    #[arg(long, default_value = "fcm=60,apns=25,hms=10,webpush=5")]
    mix: String,
    /// Notifications per SendBatch call.
    #[arg(long, default_value_t = 10)]
    batch: usize,
    /// Concurrent gRPC clients.
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// How long each mock provider takes to answer.
    #[arg(long, default_value_t = 0)]
    mock_delay_ms: u64,
    /// `sqlite`, or a PostgreSQL server URL (a fresh database is created on it).
    #[arg(long, default_value = "sqlite")]
    database: String,
    /// Where to write the JSON report (one entry per run).
    #[arg(long, default_value = "chaos-report.json")]
    out: PathBuf,
    /// Give up waiting for a run to settle after this long.
    #[arg(long, default_value_t = 180)]
    timeout_secs: u64,
    /// Keep each service's log (at level info) in `<dir>/<target>/<service>.log`.
    #[arg(long)]
    logs: Option<PathBuf>,
}

pub async fn run(args: ChaosArgs, settings: Settings) -> anyhow::Result<()> {
    let targets: Vec<Target> = if args.target.contains(&Target::All) {
        Target::EACH.to_vec()
    } else {
        args.target.clone()
    };
    let mut reports = Vec::new();
    let mut failed = Vec::new();
    for target in targets {
        let report = one_run(&args, settings.clone(), target).await?;
        print_report(&report);
        if report["lost"].as_u64() != Some(0)
            || report["wrong_final_states"].as_u64() != Some(0)
            || report["dead_letters"].as_u64() != Some(0)
        {
            failed.push(target.name());
        }
        reports.push(report);
    }
    rig::write_report(
        &args.out,
        &json!({
            "machine": rig::machine(),
            "scenario": {
                "signal": format!("{:?}", args.signal).to_lowercase(), "deliveries": args.deliveries,
                "rate": args.rate, "down_secs": args.down_secs, "devices": args.devices,
                "mix": args.mix, "batch": args.batch, "clients": args.clients,
                "mock_delay_ms": args.mock_delay_ms,
                "database": if args.database == "sqlite" { "sqlite" } else { "postgres" },
                "mode": "processes", "nats_storage": "file",
            },
            "runs": reports,
        }),
    )?;
    if !failed.is_empty() {
        bail!(
            "deliveries lost or left in a wrong state: {}",
            failed.join(", ")
        );
    }
    Ok(())
}

/// What the load's clients saw: per notification, its message id and when it was accepted.
#[derive(Default)]
struct Accepted {
    at: HashMap<String, Instant>,
    retries: usize,
}

async fn one_run(args: &ChaosArgs, settings: Settings, target: Target) -> anyhow::Result<Value> {
    let mix = rig::parse_mix(&args.mix)?;
    let mut rig = Rig::start(
        settings,
        Mode::Processes,
        &args.database,
        Duration::from_millis(args.mock_delay_ms),
        args.logs.as_ref().map(|dir| dir.join(target.name())),
        None,
    )
    .await?;
    let setup_started = Instant::now();
    let (tenant_id, channel, vapid_key) = rig.tenant("chaos").await?;
    let plan = (0..args.devices)
        .map(|n| (format!("user-{n}"), rig::platform_of(n, &mix), n))
        .collect();
    rig.register_devices(&channel, &vapid_key, plan, args.clients)
        .await?;
    let store = Store::connect(&rig.database.url).await?;
    let setup = setup_started.elapsed();

    let load_secs = args.deliveries as f64 / args.rate.max(1) as f64;
    let fault_after = Duration::from_secs_f64(args.fault_at_secs.unwrap_or(load_secs / 3.0));
    let down = Duration::from_secs_f64(args.down_secs);
    let accepted = Arc::new(Mutex::new(Accepted::default()));
    let started = Instant::now();
    let load = tokio::spawn(offer_load(
        channel,
        args.deliveries,
        args.devices,
        args.rate,
        args.batch,
        args.clients,
        accepted.clone(),
        started,
    ));

    // The fault, and the way back.
    tokio::time::sleep_until((started + fault_after).into()).await;
    let fault_at = Instant::now();
    let fault_ms = now_ms();
    strike(&mut rig, target, args.signal, down).await?;
    let restarted_at = Instant::now();

    // Until the backlog left at the fault is recorded (while the load goes on).
    let deadline = started + Duration::from_secs(args.timeout_secs);
    let mut recorded_at = None;
    while Instant::now() < deadline {
        if let Ok(0) = store.queued_since_before(fault_ms).await {
            recorded_at = Some(Instant::now());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    load.await??;
    let load_done = Instant::now();

    // Until every accepted notification reached a mock and was recorded.
    let tenant = TenantId::from_trusted(tenant_id);
    let expected = accepted.lock().expect("accepted").at.len();
    let mut recorded = 0;
    while Instant::now() < deadline {
        recorded = store
            .delivery_counts(&tenant)
            .await
            .map(|counts| {
                counts
                    .iter()
                    .filter(|(status, _)| *status != DeliveryStatus::Queued)
                    .map(|(_, n)| *n as usize)
                    .sum()
            })
            .unwrap_or(recorded);
        if rig.received() >= expected && recorded >= expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Until nothing waits in the work queues: a batch a dead process held (delivered again
    // after the ack wait) or a copy looked at again later could still send.
    let bus = herald_bus::Bus::connect(&rig.nats.url()).await?;
    while Instant::now() < deadline && bus.backlog().await.map_or(true, |n| n > 0) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let settled = Instant::now();

    let pushes = rig.pushes();
    let deliveries = store.delivery_counts(&tenant).await?;
    let messages = store.message_counts(&tenant).await?;
    let stuck: Vec<Value> = store
        .deliveries_in_status(&tenant, DeliveryStatus::Queued, 20)
        .await?
        .into_iter()
        .map(|d| {
            json!({"delivery": d.id.as_str(), "message": d.message_id.as_str(),
                "provider": d.provider.as_str_name(), "attempts": d.attempts})
        })
        .collect();
    store.close().await;
    let dead_letters = herald_bus::dead::list(&bus, None, 1000).await?.len();
    let Rig { herald, .. } = rig;
    let stopping = Instant::now();
    let stopped = herald.stop().await;
    let stop = stopping.elapsed();

    let accepted = std::mem::take(&mut *accepted.lock().expect("accepted"));
    let mut first_push: HashMap<&str, Instant> = HashMap::new();
    let mut delivered: HashMap<&str, Instant> = HashMap::new();
    let mut duplicates = 0;
    // How long before the fault each duplicated delivery first reached its provider (ms; a
    // negative value is after it): the crash window they fell in.
    let mut duplicated_before_fault_ms = Vec::new();
    for push in &pushes {
        match delivered.get(push.delivery.as_str()) {
            Some(first) => {
                duplicates += 1;
                let before = if *first <= fault_at {
                    (fault_at - *first).as_secs_f64()
                } else {
                    -(*first - fault_at).as_secs_f64()
                };
                duplicated_before_fault_ms.push((before * 1000.0).round() as i64);
            }
            None => {
                delivered.insert(push.delivery.as_str(), push.at);
            }
        }
        let first = first_push.entry(push.message.as_str()).or_insert(push.at);
        *first = (*first).min(push.at);
    }
    duplicated_before_fault_ms.sort_unstable();
    let delivered_accepted = accepted
        .at
        .keys()
        .filter(|id| first_push.contains_key(id.as_str()))
        .count();
    let lost = expected - delivered_accepted;
    // Pending at the fault: accepted before it, not at a provider by then.
    let pending: Vec<&String> = accepted
        .at
        .iter()
        .filter(|(id, at)| {
            **at < fault_at
                && first_push
                    .get(id.as_str())
                    .is_none_or(|first| *first >= fault_at)
        })
        .map(|(id, _)| id)
        .collect();
    let pushed_pending_by = pending
        .iter()
        .filter_map(|id| first_push.get(id.as_str()))
        .max()
        .copied();
    let recovered_at = [pushed_pending_by, recorded_at]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(fault_at);
    let mut times: Vec<Instant> = pushes.iter().map(|p| p.at).collect();
    times.sort_unstable();
    let longest_gap = times
        .windows(2)
        .filter(|w| w[0] >= started)
        .map(|w| w[1] - w[0])
        .max()
        .unwrap_or_default();
    let submitted = count_of(&deliveries, DeliveryStatus::Submitted);
    let routed = count_of(&messages, MessageState::Routed);
    let wrong = (expected.saturating_sub(submitted)) + (expected.saturating_sub(routed));
    let secs = |d: Duration| (d.as_secs_f64() * 100.0).round() / 100.0;
    Ok(json!({
        "target": target.name(),
        "signal": if matches!(target, Target::Nats) { "kill" } else { match args.signal { Signal::Kill => "kill", Signal::Term => "term" } },
        "sent": args.deliveries,
        "accepted": expected,
        "client_retries": accepted.retries,
        "delivered": delivered_accepted,
        "lost": lost,
        "duplicates": duplicates,
        "duplicate_rate": duplicates as f64 / expected.max(1) as f64,
        "duplicates_first_sent_ms_before_fault": duplicated_before_fault_ms,
        "wrong_final_states": wrong,
        "deliveries_by_status": deliveries.iter().map(|(s, n)| (s.as_str_name().to_owned(), json!(n))).collect::<serde_json::Map<_, _>>(),
        "messages_by_state": messages.iter().map(|(s, n)| (s.as_str_name().to_owned(), json!(n))).collect::<serde_json::Map<_, _>>(),
        "stuck_deliveries": stuck,
        "dead_letters": dead_letters,
        "pending_at_fault": pending.len(),
        "fault_at_seconds": secs(fault_at - started),
        "down_seconds": secs(restarted_at - fault_at),
        "recovery_seconds": secs(recovered_at - fault_at),
        "recovery_after_restart_seconds": secs(recovered_at.saturating_duration_since(restarted_at)),
        "longest_gap_seconds": secs(longest_gap),
        "load_seconds": secs(load_done - started),
        "setup_seconds": secs(setup),
        "settle_seconds": secs(settled - load_done),
        "stop_seconds": secs(stop),
        "stopped_cleanly": stopped.is_ok(),
        "stop_error": stopped.err().map(|e| format!("{e:#}")),
    }))
}

fn count_of<S: PartialEq>(counts: &[(S, i64)], state: S) -> usize {
    counts
        .iter()
        .find(|(s, _)| *s == state)
        .map_or(0, |(_, n)| *n as usize)
}

/// Breaks `target` for `down`, then starts it again.
async fn strike(
    rig: &mut Rig,
    target: Target,
    signal: Signal,
    down: Duration,
) -> anyhow::Result<()> {
    match target {
        Target::Nats => {
            rig.nats.kill();
            tokio::time::sleep(down).await;
            rig.nats.restart()?;
        }
        Target::Database => herald_testkit::db::outage(&rig.database.url, down).await?,
        Target::All => unreachable!("expanded into each target"),
        service => {
            let Herald::Processes(processes) = &mut rig.herald else {
                bail!("chaos runs need the services as processes");
            };
            processes.stop(service.name(), signal == Signal::Kill)?;
            tokio::time::sleep(down).await;
            processes.start(service.name())?;
        }
    }
    Ok(())
}

/// Sends `count` notifications round `devices` users at `rate` per second in SendBatch calls
/// of `batch`, from `clients` clients; a call that fails is tried again with the same
/// idempotency keys until it is accepted.
#[allow(clippy::too_many_arguments)]
async fn offer_load(
    channel: AuthedChannel,
    count: usize,
    devices: usize,
    rate: u64,
    batch: usize,
    clients: usize,
    accepted: Arc<Mutex<Accepted>>,
    started: Instant,
) -> anyhow::Result<()> {
    let batch = batch.max(1);
    let per_batch = Duration::from_secs_f64(batch as f64 / rate.max(1) as f64);
    let batches: Vec<(usize, std::ops::Range<usize>)> = (0..count)
        .step_by(batch)
        .map(|from| from..(from + batch).min(count))
        .enumerate()
        .collect();
    let queue = Arc::new(Mutex::new(std::collections::VecDeque::from(batches)));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..clients.max(1) {
        let queue = queue.clone();
        let accepted = accepted.clone();
        let mut client = NotificationsClient::new(channel.clone());
        workers.spawn(async move {
            loop {
                let Some((index, range)) = queue.lock().expect("queue").pop_front() else {
                    return anyhow::Ok(());
                };
                tokio::time::sleep_until((started + per_batch * index as u32).into()).await;
                let requests: Vec<SendRequest> = range
                    .map(|seq| SendRequest {
                        destination: Some(Destination {
                            kind: Some(destination::Kind::UserId(format!(
                                "user-{}",
                                seq % devices.max(1)
                            ))),
                        }),
                        notification: Some(Notification {
                            title: "Chaos".into(),
                            body: format!("notification {seq}"),
                            ..Default::default()
                        }),
                        idempotency_key: format!("chaos-{seq}"),
                        ..Default::default()
                    })
                    .collect();
                let ids = send_until_accepted(&mut client, requests, &accepted).await?;
                let now = Instant::now();
                let mut accepted = accepted.lock().expect("accepted");
                for id in ids {
                    accepted.at.entry(id).or_insert(now);
                }
            }
        });
    }
    while let Some(result) = workers.join_next().await {
        result??;
    }
    Ok(())
}

/// How long a client keeps trying one call before the run fails.
const CALL_PATIENCE: Duration = Duration::from_secs(120);

async fn send_until_accepted(
    client: &mut NotificationsClient<AuthedChannel>,
    requests: Vec<SendRequest>,
    accepted: &Mutex<Accepted>,
) -> anyhow::Result<Vec<String>> {
    let started = Instant::now();
    loop {
        let call = client
            .send_batch(SendBatchRequest {
                requests: requests.clone(),
            })
            .await;
        let failure = match call {
            Ok(response) => {
                let results = response.into_inner().results;
                let ids: Option<Vec<String>> = results
                    .iter()
                    .map(|r| match &r.result {
                        Some(send_batch_result::Result::Accepted(a)) => Some(a.message_id.clone()),
                        _ => None,
                    })
                    .collect();
                match ids {
                    Some(ids) => return Ok(ids),
                    None => format!("an entry was refused: {results:?}"),
                }
            }
            Err(status) => status.to_string(),
        };
        accepted.lock().expect("accepted").retries += 1;
        if started.elapsed() > CALL_PATIENCE {
            bail!("a SendBatch call kept failing for {CALL_PATIENCE:?}: {failure}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn print_report(report: &Value) {
    println!(
        "{:<15} sent {:>6}  delivered {:>6}  lost {}  duplicates {} ({:.3} %)  wrong states {}  \
         pending at fault {:>5}  recovery {:>5.1} s  longest gap {:>5.1} s  client retries {}",
        report["target"].as_str().unwrap_or_default(),
        report["sent"],
        report["delivered"],
        report["lost"],
        report["duplicates"],
        report["duplicate_rate"].as_f64().unwrap_or_default() * 100.0,
        report["wrong_final_states"],
        report["pending_at_fault"],
        report["recovery_seconds"].as_f64().unwrap_or_default(),
        report["longest_gap_seconds"].as_f64().unwrap_or_default(),
        report["client_retries"],
    );
}
