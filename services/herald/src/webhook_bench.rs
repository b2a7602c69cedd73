//! `herald bench-webhooks`: how many delivery events per second the webhook dispatcher posts,
//! and whether any is lost while the receiver is down. A whole Herald (rig) with an endpoint at
//! a TLS receiver on loopback for `delivery.submitted`; a topic of `--devices` devices gets one
//! notification with the receiver up (events per second, from the send to the last event
//! received), then another with the receiver down for `--down-secs` (the seeds' policy retries
//! a minute later): every event must arrive, each once or more, counted by `webhook-id`.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::bail;
use herald_proto::client::AuthedChannel;
use herald_proto::v1::notifications_client::NotificationsClient;
use herald_proto::v1::webhooks_client::WebhooksClient;
use herald_proto::v1::*;
use herald_runtime::Settings;
use herald_testkit::webhook::WebhookReceiver;
use serde_json::{Value, json};

use crate::fanout::{TOPIC, topic_audience, usage};
use crate::rig::{self, Mode, Rig};

#[derive(clap::Args, Debug)]
pub struct WebhookBenchArgs {
    /// Devices in the topic: events per phase.
    #[arg(long, default_value_t = 20_000)]
    devices: usize,
    #[arg(long, value_enum, default_value = "processes")]
    mode: Mode,
    /// `sqlite`, or a PostgreSQL server URL (a fresh database is created on it).
    #[arg(long, default_value = "sqlite")]
    database: String,
    /// How long the receiver is down in the second phase (0 skips it).
    #[arg(long, default_value_t = 60)]
    down_secs: u64,
    /// The endpoint's retry schedule in seconds (default: the seeds' 60,60,60).
    #[arg(long, value_delimiter = ',')]
    retry: Vec<u32>,
    #[arg(long, default_value = "webhook-bench-report.json")]
    out: PathBuf,
    /// Give up waiting for a phase's events after this long (past the outage).
    #[arg(long, default_value_t = 400)]
    timeout_secs: u64,
}

pub async fn run(args: WebhookBenchArgs, mut settings: Settings) -> anyhow::Result<()> {
    settings.webhooks.allow_networks = vec!["127.0.0.1/32".into(), "::1/128".into()];
    let rig = Rig::start(
        settings,
        args.mode,
        &args.database,
        Duration::ZERO,
        None,
        None,
    )
    .await?;
    let (_, channel, vapid_key) = rig.tenant("hooks").await?;
    topic_audience(
        &rig,
        &channel,
        &vapid_key,
        args.devices,
        &rig::parse_mix("fcm=100")?,
    )
    .await?;
    let mut receiver = WebhookReceiver::start(&rig.mocks.ca).await?;
    WebhooksClient::new(channel.clone())
        .create_webhook(CreateWebhookRequest {
            url: receiver.url(),
            events: vec![WebhookEvent::DeliverySubmitted as i32],
            retry: Some(RetryPolicy {
                delays_secs: args.retry.clone(),
                timeout_secs: 0,
            }),
            ..Default::default()
        })
        .await?;

    // Phase 1: the receiver up.
    let before = usage(&rig);
    let started = Instant::now();
    send(&channel, "Up").await?;
    // Request 0 was the test call.
    let steady = wait_after(
        &receiver,
        (1, &HashSet::new()),
        args.devices,
        started,
        args.timeout_secs,
    )
    .await;
    let after = usage(&rig);
    let cpu: serde_json::Map<String, Value> = after
        .iter()
        .map(|(name, (cpu, rss))| {
            let spent = cpu - before.get(name).map_or(0.0, |(c, _)| *c);
            (
                name.clone(),
                json!({"cpu_seconds": spent, "peak_rss_mib": rss}),
            )
        })
        .collect();
    println!(
        "receiver up: {} of {} events in {:.1} s ({:.0} events/s), {} duplicates",
        steady.unique,
        args.devices,
        steady.secs,
        steady.per_sec(),
        steady.duplicates
    );

    // Phase 2: the receiver down for a while.
    let outage = if args.down_secs > 0 {
        receiver.stop();
        let stopped = Instant::now();
        let already = receiver.received().len();
        send(&channel, "Down").await?;
        tokio::time::sleep(Duration::from_secs(args.down_secs)).await;
        receiver.restart().await?;
        let restarted = Instant::now();
        let phase = wait_after(
            &receiver,
            (already, &steady.ids),
            args.devices,
            stopped,
            args.down_secs + args.timeout_secs,
        )
        .await;
        println!(
            "receiver down {} s: {} of {} events arrived, the last {:.1} s after it came back, {} duplicates",
            args.down_secs,
            phase.unique,
            args.devices,
            (stopped + Duration::from_secs_f64(phase.secs))
                .saturating_duration_since(restarted)
                .as_secs_f64(),
            phase.duplicates
        );
        Some(json!({
            "down_secs": args.down_secs,
            "events_expected": args.devices,
            "events_received": phase.unique,
            "lost": args.devices - phase.unique.min(args.devices),
            "duplicates": phase.duplicates,
            "last_event_after_restart_secs": (stopped + Duration::from_secs_f64(phase.secs)).saturating_duration_since(restarted).as_secs_f64(),
        }))
    } else {
        None
    };
    let report = json!({
        "machine": rig::machine(),
        "mode": format!("{:?}", args.mode),
        "database": if args.database == "sqlite" { "sqlite" } else { "postgres" },
        "devices": args.devices,
        "receiver_up": {
            "events_expected": args.devices,
            "events_received": steady.unique,
            "duplicates": steady.duplicates,
            "seconds": steady.secs,
            "events_per_sec": steady.per_sec(),
            "processes": cpu,
        },
        "receiver_down": outage,
    });
    rig::write_report(&args.out, &report)?;
    let Rig { herald, .. } = rig;
    herald.stop().await?;
    let lost = args.devices - steady.unique.min(args.devices)
        + report["receiver_down"]["lost"].as_u64().unwrap_or(0) as usize;
    if lost > 0 {
        bail!("{lost} events were lost (report in {})", args.out.display());
    }
    Ok(())
}

async fn send(channel: &AuthedChannel, title: &str) -> anyhow::Result<()> {
    NotificationsClient::new(channel.clone())
        .send(SendRequest {
            destination: Some(Destination {
                kind: Some(destination::Kind::Topic(TOPIC.into())),
            }),
            notification: Some(Notification {
                title: title.into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await?;
    Ok(())
}

/// What a phase's receiver got.
struct Phase {
    ids: HashSet<String>,
    unique: usize,
    duplicates: usize,
    /// From the phase's start to its last event.
    secs: f64,
}

impl Phase {
    fn per_sec(&self) -> f64 {
        self.unique as f64 / self.secs.max(f64::EPSILON)
    }
}

/// Waits until `expected` distinct events arrived after the first `skip` requests, leaving out
/// the events of an earlier phase (`earlier`: one whose answer the outage cut off is posted
/// again after it), or the timeout.
async fn wait_after(
    receiver: &WebhookReceiver,
    (skip, earlier): (usize, &HashSet<String>),
    expected: usize,
    started: Instant,
    timeout_secs: u64,
) -> Phase {
    let deadline = started + Duration::from_secs(timeout_secs);
    loop {
        let received = receiver.received();
        let ours: Vec<_> = received
            .iter()
            .skip(skip)
            .filter(|r| r.status == 200)
            .filter(|r| {
                r.header("webhook-id")
                    .is_some_and(|id| !earlier.contains(id))
            })
            .collect();
        let ids: HashSet<String> = ours
            .iter()
            .filter_map(|r| r.header("webhook-id"))
            .map(str::to_owned)
            .collect();
        if ids.len() >= expected || Instant::now() >= deadline {
            let last = ours.iter().map(|r| r.at).max().unwrap_or(started);
            return Phase {
                unique: ids.len(),
                duplicates: ours.len() - ids.len(),
                secs: last.saturating_duration_since(started).as_secs_f64(),
                ids,
            };
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
