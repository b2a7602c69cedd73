//! The fairness probe of `herald bench-fanout`: another tenant sends one push at a time to
//! its own device, every few milliseconds, before and during the campaign, and each push's
//! time from `Send` to its mock tells how much the campaign delayed it; the instants the store
//! recorded (accepted, routed) tell at which stage.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use herald_proto::client::AuthedChannel;
use herald_proto::v1::devices_client::DevicesClient;
use herald_proto::v1::notifications_client::NotificationsClient;
use herald_proto::v1::*;
use serde_json::{Value, json};
use tokio::sync::watch;

use herald_core::ids::{MessageId, TenantId};
use herald_store::Store;

use crate::bench::percentile;
use crate::rig::Push;

/// One probe push: its message id, when it was sent (monotonic and wall clock), in which phase.
pub struct Sent {
    id: String,
    at: Instant,
    at_ms: i64,
    phase: Phase,
}

/// A probe sending until told to stop; each push's message id and when it was sent, by phase.
pub struct Probe {
    sent: Arc<AtomicUsize>,
    phase: watch::Sender<Phase>,
    task: tokio::task::JoinHandle<anyhow::Result<Vec<Sent>>>,
}

/// Before the campaign (the baseline), during it, or stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    Before,
    During,
    Stop,
}

impl Probe {
    /// Registers the probe tenant's device and starts sending every `every`.
    pub async fn start(channel: AuthedChannel, every: Duration) -> anyhow::Result<Self> {
        DevicesClient::new(channel.clone())
            .register_device(RegisterDeviceRequest {
                user_id: "probe".into(),
                platform: Platform::Android as i32,
                push_token: "probe-token".into(),
                ..Default::default()
            })
            .await?;
        let sent = Arc::new(AtomicUsize::new(0));
        let (phase, mut watching) = watch::channel(Phase::Before);
        let counter = sent.clone();
        let task = tokio::spawn(async move {
            let mut client = NotificationsClient::new(channel);
            let mut out = Vec::new();
            let mut ticks = tokio::time::interval(every);
            loop {
                ticks.tick().await;
                let now = *watching.borrow_and_update();
                if now == Phase::Stop {
                    return Ok(out);
                }
                let (at, at_ms) = (Instant::now(), herald_core::time::now_ms());
                let id = client
                    .send(SendRequest {
                        destination: Some(Destination {
                            kind: Some(destination::Kind::UserId("probe".into())),
                        }),
                        notification: Some(Notification {
                            title: "Probe".into(),
                            ..Default::default()
                        }),
                        ..Default::default()
                    })
                    .await?
                    .into_inner()
                    .message_id;
                counter.fetch_add(1, Ordering::Relaxed);
                out.push(Sent {
                    id,
                    at,
                    at_ms,
                    phase: now,
                });
            }
        });
        Ok(Self { sent, phase, task })
    }

    /// Pushes sent so far.
    pub fn sent(&self) -> usize {
        self.sent.load(Ordering::Relaxed)
    }

    pub fn campaign_started(&self) {
        self.phase.send_replace(Phase::During);
    }

    /// Stops sending; answers what was sent.
    pub async fn stop(self) -> anyhow::Result<Vec<Sent>> {
        self.phase.send_replace(Phase::Stop);
        self.task.await?
    }
}

/// Each phase's latencies from `Send` to the mock, in milliseconds, how much the campaign
/// added at p50 and p99, and each phase's stages: `Send` to stored (ingest), stored to routed
/// (the router), routed to the mock (the bus, the sender and its request).
pub async fn report(
    sent: &[Sent],
    pushes: &[Push],
    store: &Store,
    tenant: &TenantId,
) -> anyhow::Result<Value> {
    let arrived: HashMap<&str, Instant> =
        pushes.iter().map(|p| (p.message.as_str(), p.at)).collect();
    // The mock's instants on the wall clock the store's are on.
    let (then, then_ms) = (Instant::now(), herald_core::time::now_ms());
    let wall =
        |at: Instant| then_ms - i64::try_from(then.duration_since(at).as_millis()).unwrap_or(0);
    let mut stages: HashMap<(Phase, &str), Vec<Duration>> = HashMap::new();
    for push in sent {
        let Some(got) = arrived.get(push.id.as_str()) else {
            continue;
        };
        let id = MessageId::from_trusted(push.id.clone());
        let Some(message) = store.get_message(tenant, &id).await? else {
            continue;
        };
        let Some(delivery) = store
            .deliveries_of_message_page(tenant, &id, "", 1)
            .await?
            .pop()
        else {
            continue;
        };
        let span =
            |from: i64, to: i64| Duration::from_millis(u64::try_from(to - from).unwrap_or(0));
        for (stage, took) in [
            ("ingest", span(push.at_ms, message.created_at)),
            ("router", span(message.created_at, delivery.created_at)),
            ("sender", span(delivery.created_at, wall(*got))),
        ] {
            stages.entry((push.phase, stage)).or_default().push(took);
        }
    }
    let mut phase = |wanted: Phase| {
        let mut latencies: Vec<Duration> = sent
            .iter()
            .filter(|s| s.phase == wanted)
            .filter_map(|s| {
                arrived
                    .get(s.id.as_str())
                    .map(|got| got.duration_since(s.at))
            })
            .collect();
        latencies.sort_unstable();
        let count = sent.iter().filter(|s| s.phase == wanted).count();
        let mut by_stage = serde_json::Map::new();
        for stage in ["ingest", "router", "sender"] {
            let mut took = stages.remove(&(wanted, stage)).unwrap_or_default();
            took.sort_unstable();
            by_stage.insert(
                stage.to_owned(),
                json!({"p50_ms": percentile(&took, 0.50), "p99_ms": percentile(&took, 0.99)}),
            );
        }
        json!({
            "sent": count, "reached": latencies.len(),
            "p50_ms": percentile(&latencies, 0.50), "p99_ms": percentile(&latencies, 0.99),
            "max_ms": latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
            "stages": by_stage,
        })
    };
    let before = phase(Phase::Before);
    let during = phase(Phase::During);
    let added =
        |key: &str| during[key].as_f64().unwrap_or(0.0) - before[key].as_f64().unwrap_or(0.0);
    Ok(json!({
        "before_campaign": before, "during_campaign": during,
        "added_p50_ms": added("p50_ms"), "added_p99_ms": added("p99_ms"),
    }))
}
