//! `herald bench-fanout`: the large-audience benchmark. It starts the rig (a private
//! nats-server, a fresh database, the mock providers and Herald, by default as separate service
//! processes), imports devices subscribed to one topic through `ImportDevices`, sends one
//! notification to the topic, and reports how long until every device's push reached its mock,
//! deliveries per second, the router's and every process's peak memory, and the pushes lost
//! and duplicated. With `--kill-router-at` it kills the router (SIGKILL) once that share of the
//! audience has been reached, starts it again, and the report says what the crash cost.
//!
//! A benchmark, not a test: it fails only when a device was never reached.

use std::collections::{HashMap, HashSet};
use std::io::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use herald_core::ids::TenantId;
use herald_proto::v1::notifications_client::NotificationsClient;
use herald_proto::v1::topics_client::TopicsClient;
use herald_proto::v1::*;
use herald_runtime::Settings;
use herald_store::Store;
use serde_json::{Value, json};

use crate::probe::Probe;
use crate::rig::{self, Herald, Mode, Rig};

#[derive(clap::Args, Debug)]
pub struct FanoutArgs {
    /// Devices subscribed to the topic.
    #[arg(long, default_value_t = 1_000_000)]
    devices: usize,
    /// Shares of devices per provider.
    #[arg(long, default_value = "fcm=60,apns=25,hms=10,webpush=5")]
    mix: String,
    #[arg(long, value_enum, default_value = "processes")]
    mode: Mode,
    /// `sqlite`, or a PostgreSQL server URL (a fresh database is created on it).
    #[arg(long, default_value = "sqlite")]
    database: String,
    /// How long each mock provider takes to answer.
    #[arg(long, default_value_t = 0)]
    mock_delay_ms: u64,
    /// Kill the router with SIGKILL once its fan-out checkpoint has passed this share (0 to 1)
    /// of the audience, and start it again (processes mode).
    #[arg(long)]
    kill_router_at: Option<f64>,
    /// How long the killed router stays down.
    #[arg(long, default_value_t = 1.0)]
    down_secs: f64,
    /// Where each service's log goes (`<dir>/<service>.log`); default: warnings on stderr.
    #[arg(long)]
    logs: Option<PathBuf>,
    /// Where to write the JSON report.
    #[arg(long, default_value = "fanout-report.json")]
    out: PathBuf,
    /// Give up waiting for the pushes after this long.
    #[arg(long, default_value_t = 600)]
    timeout_secs: u64,
    /// Another tenant sends one push every so many milliseconds, for 5 s before the campaign
    /// and all through it, to measure what the campaign adds to its latency (0: no probe).
    #[arg(long, default_value_t = 100)]
    probe_every_ms: u64,
    /// Throttle the campaign to this many pushes a minute (`SendRequest.throttle_per_minute`;
    /// 0: as fast as Herald goes).
    #[arg(long, default_value_t = 0)]
    throttle_per_minute: u32,
}

pub(crate) const TOPIC: &str = "everyone";

/// How long the probe sends alone before the campaign, for its baseline.
const PROBE_BASELINE: Duration = Duration::from_secs(5);

pub async fn run(args: FanoutArgs, settings: Settings) -> anyhow::Result<()> {
    let mix = rig::parse_mix(&args.mix)?;
    if args.kill_router_at.is_some() && args.mode != Mode::Processes {
        bail!("--kill-router-at needs --mode processes");
    }
    let mut rig = Rig::start(
        settings,
        args.mode,
        &args.database,
        Duration::from_millis(args.mock_delay_ms),
        args.logs.clone(),
        None,
    )
    .await?;
    let (tenant_id, channel, vapid_key) = rig.tenant("fanout").await?;
    let import_secs = topic_audience(&rig, &channel, &vapid_key, args.devices, &mix).await?;
    println!(
        "imported {} devices in {import_secs:.1} s ({:.0} rows/s)",
        args.devices,
        args.devices as f64 / import_secs
    );

    // Another tenant's pushes, one at a time: first alone, for the baseline.
    let probe = if args.probe_every_ms > 0 {
        let (probe_tenant, probe_channel, _) = rig.tenant("probe").await?;
        let probe = Probe::start(probe_channel, Duration::from_millis(args.probe_every_ms)).await?;
        tokio::time::sleep(PROBE_BASELINE).await;
        Some((probe, TenantId::from_trusted(probe_tenant)))
    } else {
        None
    };
    let probes = |probe: &Option<(Probe, TenantId)>| probe.as_ref().map_or(0, |(p, _)| p.sent());

    // One notification to the topic.
    let store = Store::connect(&rig.database.url).await?;
    let tenant = TenantId::from_trusted(tenant_id);
    let before = usage(&rig);
    if let Some((probe, _)) = &probe {
        probe.campaign_started();
    }
    let started = Instant::now();
    let sent = NotificationsClient::new(channel.clone())
        .send(SendRequest {
            destination: Some(Destination {
                kind: Some(destination::Kind::Topic(TOPIC.into())),
            }),
            notification: Some(Notification {
                title: "Fan-out".into(),
                body: "One notification to every subscriber".into(),
                ..Default::default()
            }),
            throttle_per_minute: args.throttle_per_minute,
            ..Default::default()
        })
        .await?
        .into_inner();
    let accept_ms = started.elapsed().as_secs_f64() * 1000.0;
    let message = herald_core::ids::MessageId::from_trusted(sent.message_id.clone());

    let deadline = started + Duration::from_secs(args.timeout_secs);
    let mut router_peak_mib: f64 = 0.0;
    let mut killed: Option<Value> = None;
    let mut last_report = Instant::now();
    while rig.received() < args.devices + probes(&probe) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        router_peak_mib = router_peak_mib.max(router_rss(&rig));
        if let Some(share) = args.kill_router_at
            && killed.is_none()
            && let Some(routed) = store.fanout_progress(&tenant, &message).await?
            && routed as f64 >= share * args.devices as f64
        {
            killed = Some(kill_router(&mut rig, args.down_secs, started, routed).await?);
        }
        if last_report.elapsed() >= Duration::from_secs(5) {
            last_report = Instant::now();
            println!(
                "  {:>6.1} s: {} at the mocks",
                started.elapsed().as_secs_f64(),
                rig.received()
            );
        }
    }
    let at_mocks_secs = started.elapsed().as_secs_f64();
    let probed = match probe {
        Some((probe, tenant)) => {
            let sent = probe.stop().await?;
            // The last probes' pushes, still on their way.
            tokio::time::sleep(Duration::from_secs(1)).await;
            Some((sent, tenant))
        }
        None => None,
    };

    // Every delivery recorded, and the message settled.
    let mut recorded_secs = 0.0;
    while Instant::now() < deadline {
        let recorded: i64 = store
            .delivery_counts(&tenant)
            .await?
            .iter()
            .filter(|(status, _)| *status != DeliveryStatus::Queued)
            .map(|(_, n)| *n)
            .sum();
        if recorded >= args.devices as i64 {
            recorded_secs = started.elapsed().as_secs_f64();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let message_state = store
        .get_message(
            &tenant,
            &herald_core::ids::MessageId::from_trusted(sent.message_id.clone()),
        )
        .await?
        .map(|m| m.state);
    let after = usage(&rig);
    let pushes = rig.pushes();
    let probe_report = match &probed {
        Some((sent, tenant)) => Some(crate::probe::report(sent, &pushes, &store, tenant).await?),
        None => None,
    };
    store.close().await;
    let wal_peak_mib = rig.wal_peak_mib();
    let Rig { herald, .. } = rig;
    herald.stop().await?;

    let mut unique = HashSet::with_capacity(pushes.len());
    let mut duplicates = 0usize;
    let mut last_push = started;
    for push in pushes.iter().filter(|p| p.message == sent.message_id) {
        if !unique.insert(push.delivery.as_str()) {
            duplicates += 1;
        }
        last_push = last_push.max(push.at);
    }
    let deliver_secs = last_push.duration_since(started).as_secs_f64();
    let lost = args.devices.saturating_sub(unique.len());
    let processes: Vec<Value> = after
        .iter()
        .map(|(name, (cpu, rss))| {
            let earlier = before.get(name).map_or(0.0, |(c, _)| *c);
            json!({"name": name, "cpu_seconds": cpu - earlier, "peak_rss_mib": rss})
        })
        .collect();
    let services_rss: f64 = after
        .iter()
        .filter(|(name, _)| !name.starts_with("herald ("))
        .map(|(_, (_, rss))| rss)
        .sum();
    let report = json!({
        "machine": rig::machine(),
        "scenario": {
            "mode": format!("{:?}", args.mode),
            "database": if args.database == "sqlite" { "sqlite" } else { "postgres" },
            "devices": args.devices, "mix": args.mix, "mock_delay_ms": args.mock_delay_ms,
            "kill_router_at": args.kill_router_at,
            "throttle_per_minute": args.throttle_per_minute,
        },
        "import": {
            "seconds": import_secs, "rows_per_second": args.devices as f64 / import_secs,
        },
        "send_accepted_ms": accept_ms,
        "all_at_mocks_seconds": deliver_secs,
        "waited_seconds": at_mocks_secs,
        "all_recorded_seconds": recorded_secs,
        "deliveries_per_second": unique.len() as f64 / deliver_secs.max(f64::EPSILON),
        "message_state": message_state.map(|s| format!("{s:?}")),
        "router_peak_rss_mib": router_peak_mib,
        "services_and_nats_peak_rss_mib": services_rss,
        "router_kill": killed,
        "counts": {
            "expected": args.devices, "unique_at_mocks": unique.len(), "lost": lost,
            "duplicates": duplicates,
            "duplicate_percent": duplicates as f64 * 100.0 / args.devices.max(1) as f64,
        },
        "processes": processes,
        "sqlite_wal_peak_mib": wal_peak_mib,
        "another_tenants_pushes": probe_report,
    });
    rig::write_report(&args.out, &report)?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    if lost > 0 {
        bail!("{lost} devices were never reached");
    }
    Ok(())
}

/// Writes the audience: `devices` rows spread over the providers by `mix`, each subscribed to
/// the topic; web rows carry a subscription made at the mock push service.
/// Creates [`TOPIC`] and imports `devices` devices subscribed to it (as a CSV file, through
/// the API); answers how long the import took, in seconds.
pub(crate) async fn topic_audience(
    rig: &Rig,
    channel: &herald_proto::client::AuthedChannel,
    vapid_key: &str,
    devices: usize,
    mix: &[(Platform, u32)],
) -> anyhow::Result<f64> {
    TopicsClient::new(channel.clone())
        .create_topic(CreateTopicRequest {
            name: TOPIC.into(),
            description: "every device of the benchmark".into(),
        })
        .await?;
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("devices.csv");
    write_devices(&file, devices, mix, rig, vapid_key)?;
    let import = crate::import::run(channel.clone(), &file, None, false, false).await?;
    let refused = import.response.error_count + import.unreadable.len() as u64;
    if refused > 0 || import.response.imported != devices as u64 {
        bail!(
            "the import refused {refused} rows: {:?} {:?}",
            import.unreadable.first(),
            import.response.errors.first()
        );
    }
    Ok(import.elapsed.as_secs_f64())
}

/// Writes an import file of `devices` devices (users `fan-<n>`, the platforms of `mix`), each
/// subscribed to [`TOPIC`].
fn write_devices(
    file: &std::path::Path,
    devices: usize,
    mix: &[(Platform, u32)],
    rig: &Rig,
    vapid_key: &str,
) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(file)?);
    writeln!(out, "user,platform,token,topics,browser,p256dh,auth")?;
    for n in 0..devices {
        let platform = rig::platform_of(n, mix);
        let user = format!("fan-{n}");
        match platform {
            Platform::Web => {
                let sub = rig.mocks.push.subscribe(vapid_key);
                writeln!(
                    out,
                    "{user},web,{},{TOPIC},chrome,{},{}",
                    sub.endpoint, sub.p256dh, sub.auth
                )?;
            }
            Platform::Ios => writeln!(out, "{user},ios,{n:064x},{TOPIC},,,")?,
            Platform::Huawei => writeln!(out, "{user},huawei,fan-token-{n},{TOPIC},,,")?,
            _ => writeln!(out, "{user},android,fan-token-{n},{TOPIC},,,")?,
        }
    }
    out.flush().context("cannot write the device file")
}

/// Each process's CPU seconds and peak RSS (MiB), by name.
pub(crate) fn usage(rig: &Rig) -> HashMap<String, (f64, f64)> {
    rig::usages(&rig.herald, &rig.nats)
        .into_iter()
        .map(|(name, cpu, rss)| (name, (cpu, rss)))
        .collect()
}

/// The router's peak RSS (MiB) so far; 0 when it runs in this process or is down.
fn router_rss(rig: &Rig) -> f64 {
    usage(rig).get("router").map_or(0.0, |(_, rss)| *rss)
}

/// Kills the router, waits `down_secs`, starts it again; answers what happened when.
async fn kill_router(
    rig: &mut Rig,
    down_secs: f64,
    started: Instant,
    checkpoint: i64,
) -> anyhow::Result<Value> {
    let at_mocks = rig.received();
    let at = started.elapsed().as_secs_f64();
    let Herald::Processes(processes) = &mut rig.herald else {
        bail!("the router runs in this process");
    };
    processes.stop("router", true)?;
    tokio::time::sleep(Duration::from_secs_f64(down_secs)).await;
    processes.start("router")?;
    println!(
        "  {at:>6.1} s: router killed at checkpoint {checkpoint} with {at_mocks} at the mocks; restarted"
    );
    Ok(json!({
        "at_seconds": at, "checkpoint_when_killed": checkpoint,
        "at_mocks_when_killed": at_mocks, "down_seconds": down_secs,
    }))
}
