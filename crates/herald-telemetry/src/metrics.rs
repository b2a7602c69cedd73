//! Herald's Prometheus metrics: one registry per process (so `herald up`, which runs every
//! service in one process, exposes them all at one `/metrics`), the families every service
//! records into, and their OpenMetrics text.
//!
//! Label values come from typed enums (providers, outcomes, operations named in the code), so
//! each family has a bounded number of series; the tenant is a label only where the operator
//! asks for it ([`label_tenants`]), since a platform's tenants may number in the thousands.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use herald_core::names::Named as _;
use herald_proto::bus::v1::Outcome;
use herald_proto::v1::{AttemptOutcome, DeliveryStatus, Provider};
use prometheus_client::encoding::{EncodeLabel as _, EncodeLabelSet, LabelSetEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

/// The content type of [`encode`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

static TENANT_LABEL: AtomicBool = AtomicBool::new(false);

/// Whether the per-tenant families (accepted notifications, deliveries) carry a `tenant` label.
/// Off by default: set it once at start (`telemetry.tenant_label`) for a bounded set of tenants.
pub fn label_tenants(on: bool) {
    TENANT_LABEL.store(on, Ordering::Relaxed);
}

fn tenant_label(tenant: &str) -> Option<Box<str>> {
    TENANT_LABEL.load(Ordering::Relaxed).then(|| tenant.into())
}

/// Labels of a family: fixed names with values from code, plus the tenant when it is asked for.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct Labels<const N: usize> {
    values: [(&'static str, &'static str); N],
    tenant: Option<Box<str>>,
}

impl<const N: usize> EncodeLabelSet for Labels<N> {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> Result<(), std::fmt::Error> {
        for label in &self.values {
            label.encode(encoder.encode_label())?;
        }
        if let Some(tenant) = &self.tenant {
            ("tenant", tenant.as_ref()).encode(encoder.encode_label())?;
        }
        Ok(())
    }
}

fn labels<const N: usize>(values: [(&'static str, &'static str); N]) -> Labels<N> {
    Labels {
        values,
        tenant: None,
    }
}

/// A consumer's labels: its stream and durable name (set at most every few seconds).
type ConsumerLabels = [(&'static str, String); 2];

/// Builds the histograms of a family, all with the same buckets.
#[derive(Clone, Copy, Debug)]
struct Buckets(&'static [f64]);

impl MetricConstructor<Histogram> for Buckets {
    fn new_metric(&self) -> Histogram {
        Histogram::new(self.0.iter().copied())
    }
}

/// Seconds a provider's answer may take: from a few milliseconds to its timeout.
const REQUEST_SECONDS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Seconds a store operation may take: from a cached read to a slow bulk write.
const STORE_SECONDS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// Every metric family of a Herald process.
pub struct Metrics {
    registry: Registry,
    accepted: Family<Labels<0>, Counter>,
    deliveries: Family<Labels<2>, Counter>,
    retries: Family<Labels<1>, Counter>,
    provider_requests: Family<Labels<1>, Histogram, Buckets>,
    token_refreshes: Family<Labels<2>, Counter>,
    webhook_attempts: Family<Labels<1>, Counter>,
    receipts: Family<Labels<1>, Counter>,
    consumer_pending: Family<ConsumerLabels, Gauge>,
    consumer_ack_pending: Family<ConsumerLabels, Gauge>,
    outbox_backlog: Gauge,
    store_operations: Family<Labels<1>, Histogram, Buckets>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

/// This process's metrics.
pub fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

/// This process's metrics in the OpenMetrics text format ([`CONTENT_TYPE`]).
pub fn encode() -> String {
    metrics().encode()
}

impl Metrics {
    /// These metrics in the OpenMetrics text format.
    fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }

    fn new() -> Self {
        let mut registry = Registry::with_prefix("herald");
        let metrics = Self {
            accepted: Family::default(),
            deliveries: Family::default(),
            retries: Family::default(),
            provider_requests: Family::new_with_constructor(Buckets(REQUEST_SECONDS)),
            token_refreshes: Family::default(),
            webhook_attempts: Family::default(),
            receipts: Family::default(),
            consumer_pending: Family::default(),
            consumer_ack_pending: Family::default(),
            outbox_backlog: Gauge::default(),
            store_operations: Family::new_with_constructor(Buckets(STORE_SECONDS)),
            registry: Registry::default(),
        };
        registry.register(
            "notifications_accepted",
            "Notifications accepted by ingest (a Send, an event's trigger, a Wazo push)",
            metrics.accepted.clone(),
        );
        registry.register(
            "deliveries",
            "Deliveries settled by a sender, by provider and outcome (submitted, failed, token_dead, expired)",
            metrics.deliveries.clone(),
        );
        registry.register(
            "delivery_retries",
            "Provider answers that asked for a delivery to be tried again later",
            metrics.retries.clone(),
        );
        registry.register_with_unit(
            "provider_request_duration",
            "How long a provider took to answer a push request",
            Unit::Seconds,
            metrics.provider_requests.clone(),
        );
        registry.register(
            "provider_token_refreshes",
            "Provider access tokens fetched or signed (FCM and HMS OAuth, APNs JWT), by result",
            metrics.token_refreshes.clone(),
        );
        registry.register(
            "webhook_attempts",
            "Outbound webhook requests, by outcome (succeeded, retrying, failed, refused)",
            metrics.webhook_attempts.clone(),
        );
        registry.register(
            "receipts_recorded",
            "Deliveries the receipt service moved, by the status they reached (submitted, delivered, read, failed, expired)",
            metrics.receipts.clone(),
        );
        registry.register(
            "jetstream_consumer_pending_messages",
            "Messages of a stream its consumer has not been handed yet (every replica reports the consumer's own figure)",
            metrics.consumer_pending.clone(),
        );
        registry.register(
            "jetstream_consumer_ack_pending_messages",
            "Messages handed to a consumer and not yet acknowledged",
            metrics.consumer_ack_pending.clone(),
        );
        registry.register(
            "outbox_backlog_messages",
            "Messages accepted over 5 s ago and not yet published to JetStream (the outbox relay's work)",
            metrics.outbox_backlog.clone(),
        );
        registry.register_with_unit(
            "store_operation_duration",
            "How long a store operation (one or a few SQL statements) took",
            Unit::Seconds,
            metrics.store_operations.clone(),
        );
        Self {
            registry,
            ..metrics
        }
    }

    /// `count` notifications accepted for `tenant`.
    pub fn accepted(&self, tenant: &str, count: u64) {
        let labels = Labels {
            values: [],
            tenant: tenant_label(tenant),
        };
        self.accepted.get_or_create(&labels).inc_by(count);
    }

    /// A delivery settled by a provider's sender.
    pub fn delivery(&self, provider: Provider, outcome: Outcome, tenant: &str) {
        let labels = Labels {
            values: [
                ("provider", provider.name()),
                ("outcome", outcome_name(outcome)),
            ],
            tenant: tenant_label(tenant),
        };
        self.deliveries.get_or_create(&labels).inc();
    }

    /// Starts `provider`'s outcome and token series at zero (a sender does at start), so that a
    /// rate or an increase over them sees their first failure.
    pub fn provider(&self, provider: Provider) {
        for outcome in [
            Outcome::Submitted,
            Outcome::Failed,
            Outcome::TokenDead,
            Outcome::Expired,
        ] {
            let labels = Labels {
                values: [
                    ("provider", provider.name()),
                    ("outcome", outcome_name(outcome)),
                ],
                tenant: None,
            };
            drop(self.deliveries.get_or_create(&labels));
        }
        for result in ["ok", "error"] {
            drop(
                self.token_refreshes
                    .get_or_create(&labels([("provider", provider.name()), ("result", result)])),
            );
        }
    }

    /// A provider asked for a delivery to be tried again.
    pub fn retry(&self, provider: Provider) {
        self.retries
            .get_or_create(&labels([("provider", provider.name())]))
            .inc();
    }

    /// How long one push request to `provider` took.
    pub fn provider_request(&self, provider: Provider, took: Duration) {
        self.provider_requests
            .get_or_create(&labels([("provider", provider.name())]))
            .observe(took.as_secs_f64());
    }

    /// An access token for `provider` fetched or signed (`ok`), or not.
    pub fn token_refresh(&self, provider: Provider, ok: bool) {
        let result = if ok { "ok" } else { "error" };
        self.token_refreshes
            .get_or_create(&labels([("provider", provider.name()), ("result", result)]))
            .inc();
    }

    /// One outbound webhook request made.
    pub fn webhook_attempt(&self, outcome: AttemptOutcome) {
        self.webhook_attempts
            .get_or_create(&labels([("outcome", outcome.name())]))
            .inc();
    }

    /// The receipt service recorded a delivery's move to `status`.
    pub fn receipt(&self, status: DeliveryStatus) {
        self.receipts
            .get_or_create(&labels([("status", status.name())]))
            .inc();
    }

    /// A JetStream consumer's backlog as the broker reports it.
    pub fn consumer(&self, stream: &str, consumer: &str, pending: u64, acks: u64) {
        let labels = [
            ("stream", stream.to_owned()),
            ("consumer", consumer.to_owned()),
        ];
        let gauge = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        self.consumer_pending
            .get_or_create(&labels)
            .set(gauge(pending));
        self.consumer_ack_pending
            .get_or_create(&labels)
            .set(gauge(acks));
    }

    /// Accepted messages the outbox has not published yet.
    pub fn outbox_backlog(&self, messages: u64) {
        self.outbox_backlog
            .set(i64::try_from(messages).unwrap_or(i64::MAX));
    }

    /// How long the store operation `operation` took.
    pub fn store_operation(&self, operation: &'static str, took: Duration) {
        self.store_operations
            .get_or_create(&labels([("operation", operation)]))
            .observe(took.as_secs_f64());
    }
}

/// An outcome's label value.
fn outcome_name(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Submitted => "submitted",
        Outcome::Failed => "failed",
        Outcome::TokenDead => "token_dead",
        Outcome::Expired => "expired",
        Outcome::Delivered => "delivered",
        Outcome::Read => "read",
        Outcome::Cancelled => "cancelled",
        Outcome::Retrying => "retrying",
        Outcome::Unspecified => "unspecified",
    }
}

/// Times `operation` (a future) into [`Metrics::store_operation`].
pub async fn timed<T>(operation: &'static str, work: impl Future<Output = T>) -> T {
    let started = std::time::Instant::now();
    let out = work.await;
    metrics().store_operation(operation, started.elapsed());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_encode_with_prometheus_names_and_bounded_labels() {
        let m = &Metrics::new();
        m.delivery(Provider::Fcm, Outcome::Submitted, "ten_a");
        m.provider_request(Provider::Fcm, Duration::from_millis(30));
        m.token_refresh(Provider::Apns, true);
        m.consumer("SEND", "sender-fcm", 5, 2);
        m.store_operation("claim_deliveries", Duration::from_millis(2));
        let text = m.encode();
        assert!(
            text.contains("herald_deliveries_total{provider=\"fcm\",outcome=\"submitted\"} 1"),
            "{text}"
        );
        assert!(text.contains("# TYPE herald_provider_request_duration_seconds histogram"));
        assert!(
            text.contains(
                "herald_provider_request_duration_seconds_bucket{le=\"0.05\",provider=\"fcm\"} 1"
            ) || text.contains(
                "herald_provider_request_duration_seconds_bucket{provider=\"fcm\",le=\"0.05\"} 1"
            ),
            "{text}"
        );
        assert!(text.contains(
            "herald_jetstream_consumer_pending_messages{stream=\"SEND\",consumer=\"sender-fcm\"} 5"
        ));
        assert!(
            text.contains(
                "herald_provider_token_refreshes_total{provider=\"apns\",result=\"ok\"} 1"
            )
        );
        assert!(text.ends_with("# EOF\n"));
        // The tenant is a label only once asked for.
        assert!(!text.contains("ten_a"));
        label_tenants(true);
        m.delivery(Provider::Fcm, Outcome::Failed, "ten_a");
        label_tenants(false);
        assert!(m.encode().contains(
            "herald_deliveries_total{provider=\"fcm\",outcome=\"failed\",tenant=\"ten_a\"} 1"
        ));
    }

    /// Every `herald_…` name in `text`.
    fn metric_names(text: &str) -> Vec<&str> {
        let mut names = Vec::new();
        let mut rest = text;
        while let Some(at) = rest.find("herald_") {
            let tail = &rest[at..];
            let end = tail
                .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
                .unwrap_or(tail.len());
            names.push(&tail[..end]);
            rest = &tail[end..];
        }
        names
    }

    #[test]
    fn the_dashboard_and_the_alerts_use_only_metrics_herald_serves() {
        let m = &Metrics::new();
        // Every family with a sample, so that each is written out.
        m.accepted("t", 1);
        m.delivery(Provider::Apns, Outcome::Submitted, "t");
        m.retry(Provider::Apns);
        m.provider_request(Provider::Apns, Duration::from_millis(1));
        m.token_refresh(Provider::Apns, true);
        m.webhook_attempt(AttemptOutcome::Succeeded);
        m.receipt(DeliveryStatus::Submitted);
        m.consumer("S", "c", 0, 0);
        m.outbox_backlog(0);
        m.store_operation("o", Duration::from_millis(1));
        let text = m.encode();
        let families: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .filter_map(|l| l.split(' ').next())
            .collect();
        assert_eq!(families.len(), 11, "{families:?}");
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy");
        for file in [
            "grafana/herald.json",
            "prometheus/alerts.yml",
            "prometheus/alerts-test.yml",
        ] {
            let text = std::fs::read_to_string(root.join(file)).unwrap();
            let used = metric_names(&text);
            assert!(!used.is_empty(), "{file} uses no Herald metric");
            for name in used {
                let family = ["_total", "_bucket", "_count", "_sum"]
                    .iter()
                    .find_map(|suffix| name.strip_suffix(suffix))
                    .unwrap_or(name);
                assert!(
                    families.contains(&family),
                    "{file} uses {name}, which Herald does not serve"
                );
            }
        }
    }
}
