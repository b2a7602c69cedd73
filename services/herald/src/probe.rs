//! The fairness probe of `herald bench-fanout`: another tenant sends one push at a time to
//! its own device, every few milliseconds, before and during the campaign, and each push's
//! time from `Send` to its mock tells how much the campaign delayed it.

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

use crate::bench::percentile;
use crate::rig::Push;

/// A probe sending until told to stop; each push's message id and when it was sent, by phase.
pub struct Probe {
    sent: Arc<AtomicUsize>,
    phase: watch::Sender<Phase>,
    task: tokio::task::JoinHandle<anyhow::Result<Vec<(String, Instant, Phase)>>>,
}

/// Before the campaign (the baseline), during it, or stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
                let at = Instant::now();
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
                out.push((id, at, now));
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
    pub async fn stop(self) -> anyhow::Result<Vec<(String, Instant, Phase)>> {
        self.phase.send_replace(Phase::Stop);
        self.task.await?
    }
}

/// Each phase's latencies from `Send` to the mock, in milliseconds, and how much the
/// campaign added at p50 and p99.
pub fn report(sent: &[(String, Instant, Phase)], pushes: &[Push]) -> Value {
    let arrived: HashMap<&str, Instant> =
        pushes.iter().map(|p| (p.message.as_str(), p.at)).collect();
    let phase = |wanted: Phase| {
        let mut latencies: Vec<Duration> = sent
            .iter()
            .filter(|(_, _, p)| *p == wanted)
            .filter_map(|(id, at, _)| arrived.get(id.as_str()).map(|got| got.duration_since(*at)))
            .collect();
        latencies.sort_unstable();
        let count = sent.iter().filter(|(_, _, p)| *p == wanted).count();
        json!({
            "sent": count, "reached": latencies.len(),
            "p50_ms": percentile(&latencies, 0.50), "p99_ms": percentile(&latencies, 0.99),
            "max_ms": latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
        })
    };
    let (before, during) = (phase(Phase::Before), phase(Phase::During));
    let added =
        |key: &str| during[key].as_f64().unwrap_or(0.0) - before[key].as_f64().unwrap_or(0.0);
    json!({
        "before_campaign": before, "during_campaign": during,
        "added_p50_ms": added("p50_ms"), "added_p99_ms": added("p99_ms"),
    })
}
