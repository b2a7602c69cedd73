//! `herald status` and `herald drain`, for operators. `status` reads the broker (each stream's
//! messages and each durable consumer's backlog) and the store (the outbox, and the providers'
//! outcomes today); `drain` asks one process, at its admin endpoint, to stop taking work and
//! waits until what it had in hand is done (a rolling update's preStop hook).

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context as _, bail};
use herald_bus::{Bus, StreamState};
use herald_core::names::Named as _;
use herald_runtime::Settings;
use herald_store::{DailyCounts, Store};
use serde_json::{Value, json};

/// The messages a process's consumers have taken and not yet acknowledged, from its metrics.
async fn in_hand(client: &reqwest::Client, addr: SocketAddr) -> Option<u64> {
    let text = client
        .get(format!("http://{addr}/metrics"))
        .timeout(Duration::from_millis(500))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    ack_pending(&text)
}

/// The sum of `herald_jetstream_consumer_ack_pending_messages` in an OpenMetrics text.
fn ack_pending(metrics: &str) -> Option<u64> {
    let values: Vec<u64> = metrics
        .lines()
        .filter(|l| l.starts_with("herald_jetstream_consumer_ack_pending_messages"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|v| v as u64)
        .collect();
    (!values.is_empty()).then(|| values.iter().sum())
}

/// What `herald status` shows.
#[derive(Debug)]
pub struct Status {
    pub streams: Vec<StreamState>,
    /// Messages accepted over 5 s ago and not yet published to JetStream.
    pub outbox: u64,
    /// The UTC day of `providers`.
    pub day: String,
    /// Every tenant's deliveries today, per provider.
    pub providers: Vec<DailyCounts>,
}

impl Status {
    /// Reads the broker and the store of `settings`.
    pub async fn collect(settings: &Settings) -> anyhow::Result<Self> {
        let bus = Bus::connect(&settings.nats_url)
            .await
            .with_context(|| format!("cannot reach NATS at {}", settings.nats_url))?;
        let store = Store::connect(&settings.database_url())
            .await
            .context("cannot open the database")?;
        let day = herald_core::stats::day_of(herald_core::time::now_ms());
        let status = Self {
            streams: bus.status().await?,
            // What the relay would republish: older than its grace, not a send still publishing.
            outbox: store
                .outbox_backlog(herald_core::time::now_ms() - herald_ingest::relay::GRACE_MS)
                .await?,
            providers: store.provider_stats(&day).await?,
            day,
        };
        store.close().await;
        Ok(status)
    }

    /// A durable consumer's state, by name.
    pub fn consumer(&self, name: &str) -> Option<&herald_bus::ConsumerState> {
        self.streams
            .iter()
            .flat_map(|s| &s.consumers)
            .find(|c| c.name == name)
    }

    /// For scripts: the same figures as JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "streams": self.streams.iter().map(|s| json!({
                "name": s.name,
                "messages": s.messages,
                "bytes": s.bytes,
                "consumers": s.consumers.iter().map(|c| json!({
                    "name": c.name,
                    "pending": c.pending,
                    "ack_pending": c.ack_pending,
                    "redelivered": c.redelivered,
                    "waiting": c.waiting,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "outbox": self.outbox,
            "providers": {
                "day": self.day,
                "rows": self.providers.iter().map(|p| {
                    let c = &p.counts;
                    json!({
                        "provider": p.provider.name(),
                        "sent": c.sent,
                        "submitted": c.submitted,
                        "delivered": c.delivered,
                        "read": c.read,
                        "failed": c.failed,
                        "expired": c.expired,
                        "cancelled": c.cancelled,
                    })
                }).collect::<Vec<_>>(),
            },
        })
    }

    /// For people: tables of the streams, the consumers and the providers.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{:<16} {:>10} {:>12}", "STREAM", "MESSAGES", "BYTES");
        for s in &self.streams {
            let _ = writeln!(out, "{:<16} {:>10} {:>12}", s.name, s.messages, s.bytes);
        }
        let _ = writeln!(
            out,
            "\n{:<16} {:<18} {:>10} {:>12} {:>12} {:>8}",
            "STREAM", "CONSUMER", "PENDING", "ACK PENDING", "REDELIVERED", "WAITING"
        );
        for s in &self.streams {
            for c in &s.consumers {
                let _ = writeln!(
                    out,
                    "{:<16} {:<18} {:>10} {:>12} {:>12} {:>8}",
                    s.name, c.name, c.pending, c.ack_pending, c.redelivered, c.waiting
                );
            }
        }
        let _ = writeln!(
            out,
            "\noutbox: {} accepted message(s) not on the bus after 5 s",
            self.outbox
        );
        let _ = writeln!(
            out,
            "\nproviders today ({} UTC, every tenant)\n{:<10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
            self.day, "PROVIDER", "SENT", "SUBMITTED", "DELIVERED", "FAILED", "EXPIRED", "FAILED %"
        );
        for p in &self.providers {
            let c = &p.counts;
            let settled = c.submitted + c.failed + c.expired;
            let rate = if settled == 0 {
                "-".to_owned()
            } else {
                format!(
                    "{:.1}",
                    100.0 * (c.failed + c.expired) as f64 / settled as f64
                )
            };
            let _ = writeln!(
                out,
                "{:<10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
                p.provider.name(),
                c.sent,
                c.submitted,
                c.delivered,
                c.failed,
                c.expired,
                rate
            );
        }
        out
    }
}

/// `herald status`.
pub async fn status(settings: &Settings, as_json: bool) -> anyhow::Result<()> {
    let status = Status::collect(settings).await?;
    if as_json {
        println!("{}", status.to_json());
    } else {
        print!("{}", status.to_text());
    }
    Ok(())
}

/// `herald drain`: after `after` (time for a load balancer to stop sending it requests), asks
/// the process whose admin endpoint is `addr` to stop taking work, and waits (up to `timeout`)
/// until its in-flight work is done.
pub async fn drain(addr: SocketAddr, after: Duration, timeout: Duration) -> anyhow::Result<()> {
    if !after.is_zero() {
        eprintln!("draining {addr} in {} s…", after.as_secs());
        tokio::time::sleep(after).await;
    }
    let url = format!("http://{addr}/drain");
    eprintln!("draining {addr}: it takes no new work and finishes what it has in hand…");
    let client = reqwest::Client::builder().timeout(timeout).build()?;
    let drained = client.post(&url).send();
    tokio::pin!(drained);
    let started = std::time::Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let answer = loop {
        tokio::select! {
            answer = &mut drained => break answer.with_context(|| format!("no answer from {url}"))?,
            _ = tick.tick() => {
                // Progress, on standard error: how long so far, and what the process's
                // consumers still hold (its metrics; absent when it serves none).
                let in_hand = in_hand(&client, addr).await;
                let held = in_hand.map(|n| format!(", {n} messages in hand")).unwrap_or_default();
                eprint!("\rdraining {addr}: {} s{held}   ", started.elapsed().as_secs());
            }
        }
    };
    eprintln!();
    let ok = answer.status().is_success();
    let body: Value = answer
        .json()
        .await
        .with_context(|| format!("{url} did not answer JSON"))?;
    let seconds = body["seconds"].as_f64().unwrap_or_default();
    if !ok {
        bail!(
            "the drain did not finish cleanly after {seconds:.1} s: {}",
            body["error"].as_str().unwrap_or("no reason given")
        );
    }
    println!("drained in {seconds:.1} s; the process waits for SIGTERM");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::ack_pending;

    #[test]
    fn what_a_process_holds_is_read_off_its_metrics() {
        let metrics = "# TYPE herald_jetstream_consumer_ack_pending_messages gauge\n\
            herald_jetstream_consumer_ack_pending_messages{consumer=\"sender-fcm\"} 12\n\
            herald_jetstream_consumer_ack_pending_messages{consumer=\"sender-fcm-bulk\"} 3\n\
            herald_jetstream_consumer_pending_messages{consumer=\"sender-fcm\"} 400\n";
        assert_eq!(ack_pending(metrics), Some(15));
        assert_eq!(ack_pending("herald_accepted_total 3\n"), None);
    }
}
