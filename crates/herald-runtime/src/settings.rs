//! Herald's settings: one struct for every process, in layers — built-in defaults, then an
//! optional TOML file (`HERALD_CONFIG`), then `HERALD_*` environment variables — checked once at
//! start. Every key is listed once, in [`KEYS`], which gives each environment variable its type
//! and renders the reference in `docs/configuration.md`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Format, Toml};
use figment::value::{Map, Value};
use figment::{Figment, Metadata, Profile};
use herald_core::crypto::MasterKey;
use herald_core::names::Named as _;
use herald_proto::v1::Provider;
use herald_providers::Endpoints;
use herald_providers::http::HttpConfig;
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;

use crate::ConfigError;

/// The environment variable that names a TOML settings file.
pub const CONFIG_FILE_ENV: &str = "HERALD_CONFIG";

/// How an environment variable's text is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Taken as it is (a URL, an address, a name).
    Text,
    /// A whole number.
    Number,
    /// Taken as it is, and never printed.
    Secret,
    /// `true` or `false`.
    Flag,
}

/// One setting.
#[derive(Clone, Copy, Debug)]
pub struct Key {
    /// Its path in the TOML file (`sender.concurrency` is `concurrency` under `[sender]`).
    pub path: &'static str,
    /// Its environment variable.
    pub env: &'static str,
    /// Other environment variables read for it when `env` is not set.
    pub aliases: &'static [&'static str],
    pub kind: Kind,
    /// Its default, as the environment would spell it; `None` for "unset".
    pub default: Option<&'static str>,
    /// Which processes read it.
    pub used_by: &'static str,
    pub doc: &'static str,
}

const fn key(
    path: &'static str,
    env: &'static str,
    kind: Kind,
    default: Option<&'static str>,
    used_by: &'static str,
    doc: &'static str,
) -> Key {
    Key {
        path,
        env,
        aliases: &[],
        kind,
        default,
        used_by,
        doc,
    }
}

/// Every setting, in the order the reference lists them.
pub const KEYS: &[Key] = &[
    key(
        "database_url",
        "HERALD_DATABASE_URL",
        Kind::Secret,
        None,
        "all",
        "`sqlite:…` or `postgres://…` (it may hold a password, so it is never printed); unset: SQLite in the data directory (`<data_dir>/herald.db`)",
    ),
    Key {
        aliases: &["NATS_URL"],
        ..key(
            "nats_url",
            "HERALD_NATS_URL",
            Kind::Text,
            Some("nats://127.0.0.1:4222"),
            "all",
            "NATS with JetStream (`NATS_URL` is read when this is unset)",
        )
    },
    key(
        "data_dir",
        "HERALD_DATA_DIR",
        Kind::Text,
        Some("herald-data"),
        "`herald up`",
        "where `herald up` keeps its state: the SQLite database, the NATS store it starts, generated keys",
    ),
    key(
        "grpc_addr",
        "HERALD_GRPC_ADDR",
        Kind::Text,
        Some("127.0.0.1:50051"),
        "ingest, `herald up`",
        "where the gRPC API listens (`0.0.0.0:50051` to accept other hosts, as the container image does)",
    ),
    key(
        "health_addr",
        "HERALD_HEALTH_ADDR",
        Kind::Text,
        Some("127.0.0.1:50052"),
        "router, sender, receipt",
        "where gRPC health is served",
    ),
    key(
        "shutdown_grace_secs",
        "HERALD_SHUTDOWN_GRACE_SECS",
        Kind::Number,
        Some("30"),
        "all",
        "how long in-flight work may take after SIGTERM",
    ),
    key(
        "log_format",
        "HERALD_LOG_FORMAT",
        Kind::Text,
        Some("text"),
        "all",
        "`text`, or `json` for one JSON object per line (`RUST_LOG` filters, default `info`)",
    ),
    key(
        "master_key",
        "HERALD_MASTER_KEY",
        Kind::Secret,
        None,
        "ingest, sender",
        "base64 of 32 random bytes (`openssl rand -base64 32`); seals provider credentials. Required; `herald up` generates one into the data directory",
    ),
    key(
        "admin_key",
        "HERALD_ADMIN_KEY",
        Kind::Secret,
        None,
        "ingest",
        "the operator's key for tenants and API keys; unset: no admin calls. `herald up` generates one into the data directory",
    ),
    key(
        "sender.provider",
        "HERALD_SENDER_PROVIDER",
        Kind::Text,
        Some("fcm"),
        "sender",
        "which provider a `herald-sender` process serves: `apns`, `fcm`, `hms` or `webpush`",
    ),
    key(
        "sender.concurrency",
        "HERALD_SENDER_CONCURRENCY",
        Kind::Number,
        Some("256"),
        "sender, `herald up`",
        "provider requests in flight at once per sender and lane: every send, the bulk lane (large audiences) and the urgent lane (transactional messages) have as many each",
    ),
    key(
        "sender.fcm_per_minute",
        "HERALD_SENDER_FCM_PER_MINUTE",
        Kind::Number,
        Some("600000"),
        "sender",
        "FCM's default quota (600,000 messages a minute per project), applied to each tenant's FCM pushes unless the tenant sets an FCM rate limit of its own; 0: none",
    ),
    key(
        "router.batch",
        "HERALD_ROUTER_BATCH",
        Kind::Number,
        Some("64"),
        "router, `herald up`",
        "most accepted batches (each up to 256 messages) routed in one transaction",
    ),
    key(
        "router.fanout_page",
        "HERALD_ROUTER_FANOUT_PAGE",
        Kind::Number,
        Some("1024"),
        "router, `herald up`",
        "devices a fan-out (a send to a topic) reads, records and publishes per page; up to 4 pages are in flight",
    ),
    key(
        "router.fanouts",
        "HERALD_ROUTER_FANOUTS",
        Kind::Number,
        Some("4"),
        "router, `herald up`",
        "fan-outs one router works on at once (others wait their turn)",
    ),
    key(
        "receipt.batch",
        "HERALD_RECEIPT_BATCH",
        Kind::Number,
        Some("16"),
        "receipt, `herald up`",
        "most receipt batches (each up to 256 receipts) written in one transaction",
    ),
    key(
        "providers.apns_url",
        "HERALD_APNS_URL",
        Kind::Text,
        Some(herald_providers::apns::PRODUCTION_URL),
        "ingest, sender",
        "APNs production host",
    ),
    key(
        "providers.apns_sandbox_url",
        "HERALD_APNS_SANDBOX_URL",
        Kind::Text,
        Some(herald_providers::apns::SANDBOX_URL),
        "ingest, sender",
        "APNs sandbox host (development builds)",
    ),
    key(
        "providers.fcm_base_url",
        "HERALD_FCM_BASE_URL",
        Kind::Text,
        Some(herald_providers::fcm::DEFAULT_BASE_URL),
        "ingest, sender",
        "FCM HTTP v1 endpoint",
    ),
    key(
        "providers.hms_base_url",
        "HERALD_HMS_BASE_URL",
        Kind::Text,
        Some(herald_providers::hms::DEFAULT_BASE_URL),
        "ingest, sender",
        "HMS Push Kit endpoint",
    ),
    key(
        "providers.hms_token_url",
        "HERALD_HMS_TOKEN_URL",
        Kind::Text,
        Some(herald_providers::hms::DEFAULT_TOKEN_URL),
        "ingest, sender",
        "HMS OAuth token endpoint",
    ),
    key(
        "providers.extra_ca_file",
        "HERALD_EXTRA_CA_FILE",
        Kind::Text,
        None,
        "ingest, sender",
        "a PEM file of CA certificates trusted besides the system's roots (for a proxy, mock providers or webhook receivers)",
    ),
    key(
        "providers.timeout_secs",
        "HERALD_PROVIDER_TIMEOUT_SECS",
        Kind::Number,
        Some("30"),
        "ingest, sender",
        "per-request timeout to a provider (at most 60)",
    ),
    key(
        "webhooks.allow_http",
        "HERALD_WEBHOOKS_ALLOW_HTTP",
        Kind::Flag,
        Some("false"),
        "ingest, webhook",
        "let webhook endpoints be plain http URLs (for local testing; https otherwise)",
    ),
    key(
        "webhooks.allow_networks",
        "HERALD_WEBHOOKS_ALLOW_NETWORKS",
        Kind::Text,
        Some(""),
        "ingest, webhook",
        "comma-separated networks (CIDR) or addresses webhooks may reach although they are private, loopback, link-local, CGNAT or metadata addresses (empty: none)",
    ),
    key(
        "webhooks.concurrency",
        "HERALD_WEBHOOKS_CONCURRENCY",
        Kind::Number,
        Some("64"),
        "webhook, `herald up`",
        "webhook posts one dispatcher makes at once",
    ),
    key(
        "webhooks.disable_after_secs",
        "HERALD_WEBHOOKS_DISABLE_AFTER_SECS",
        Kind::Number,
        Some("432000"),
        "webhook, `herald up`",
        "an endpoint whose every attempt has failed for this long (5 days) is disabled",
    ),
    key(
        "events.retention_hours",
        "HERALD_EVENTS_RETENTION_HOURS",
        Kind::Number,
        Some("168"),
        "ingest",
        "how long a published event's record (what each trigger made of it) is kept (7 days)",
    ),
    key(
        "telemetry.metrics_addr",
        "HERALD_METRICS_ADDR",
        Kind::Text,
        Some("127.0.0.1:9464"),
        "all",
        "where `GET /metrics` (Prometheus) and `POST /drain` (`herald drain`) are served; `herald up` serves every service's metrics there",
    ),
    key(
        "telemetry.tenant_label",
        "HERALD_METRICS_TENANT_LABEL",
        Kind::Flag,
        Some("false"),
        "all",
        "whether accepted notifications and deliveries are counted per tenant (a `tenant` label: only for a bounded number of tenants)",
    ),
    Key {
        aliases: &["OTEL_EXPORTER_OTLP_ENDPOINT"],
        ..key(
            "telemetry.otlp_endpoint",
            "HERALD_OTLP_ENDPOINT",
            Kind::Text,
            None,
            "all",
            "the OpenTelemetry collector's OTLP/gRPC endpoint (`http://otel-collector:4317`) traces are exported to; unset: none are",
        )
    },
    key(
        "telemetry.trace_sample_percent",
        "HERALD_TRACE_SAMPLE_PERCENT",
        Kind::Number,
        Some("10"),
        "all",
        "the share of new traces recorded, in percent (a trace a caller started, sampled, is always followed)",
    ),
];

/// A secret setting: never shown by `Debug` or in a printed configuration.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Secret(SecretString);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(SecretString::from(value.into()))
    }

    /// The secret itself, for the one place that uses it.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Every setting of every Herald process (see [`KEYS`] for what each means).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Unset: SQLite in the data directory; see [`Settings::database_url`].
    pub database_url: Option<Secret>,
    pub nats_url: String,
    pub data_dir: PathBuf,
    pub grpc_addr: SocketAddr,
    pub health_addr: SocketAddr,
    pub shutdown_grace_secs: u64,
    pub log_format: LogFormat,
    pub master_key: Option<Secret>,
    pub admin_key: Option<Secret>,
    pub sender: SenderSettings,
    pub router: RouterSettings,
    pub receipt: ReceiptSettings,
    pub providers: ProviderSettings,
    pub webhooks: WebhookSettings,
    pub events: EventSettings,
    pub telemetry: TelemetrySettings,
}

/// What a process reports about itself, and where.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetrySettings {
    pub metrics_addr: SocketAddr,
    pub tenant_label: bool,
    pub otlp_endpoint: Option<String>,
    pub trace_sample_percent: u64,
}

impl TelemetrySettings {
    /// Where and how much to trace, when traces are exported.
    pub fn export(&self, service: &str) -> Option<herald_telemetry::trace::Export> {
        self.otlp_endpoint
            .as_ref()
            .map(|endpoint| herald_telemetry::trace::Export {
                endpoint: endpoint.clone(),
                service: service.to_owned(),
                sample_ratio: self.trace_sample_percent.min(100) as f64 / 100.0,
            })
    }
}

/// Published events: how long their records are kept.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventSettings {
    pub retention_hours: u64,
}

impl EventSettings {
    /// How long an event's record is kept.
    pub fn retention(&self) -> Duration {
        Duration::from_secs(self.retention_hours.saturating_mul(3600))
    }
}

/// Outbound webhooks: what endpoints may be, and how the dispatcher works.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    pub allow_http: bool,
    #[serde(deserialize_with = "comma_list")]
    pub allow_networks: Vec<String>,
    pub concurrency: usize,
    pub disable_after_secs: u64,
}

impl WebhookSettings {
    /// How long an endpoint may keep failing before it is disabled.
    pub fn disable_after(&self) -> Duration {
        Duration::from_secs(self.disable_after_secs)
    }
}

/// A comma-separated list, its entries trimmed, the empty ones left out.
fn comma_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(String::deserialize(d)?
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect())
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SenderSettings {
    #[serde(deserialize_with = "provider")]
    pub provider: Provider,
    pub concurrency: usize,
    pub fcm_per_minute: u32,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouterSettings {
    pub batch: usize,
    pub fanout_page: usize,
    pub fanouts: usize,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptSettings {
    pub batch: usize,
}

/// Where the providers are (their own hosts, or mocks) and how to reach them.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderSettings {
    pub apns_url: String,
    pub apns_sandbox_url: String,
    pub fcm_base_url: String,
    pub hms_base_url: String,
    pub hms_token_url: String,
    pub extra_ca_file: Option<PathBuf>,
    pub timeout_secs: u64,
}

fn provider<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Provider, D::Error> {
    let name = String::deserialize(d)?;
    Provider::from_name(&name).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "{name:?} is not a provider (expected apns, fcm, hms or webpush)"
        ))
    })
}

impl Settings {
    /// The settings of this process: defaults, the file `HERALD_CONFIG` names, the environment.
    pub fn load() -> Result<Self, ConfigError> {
        let file = std::env::var_os(CONFIG_FILE_ENV).map(PathBuf::from);
        Self::from_layers(file.as_deref(), |name| std::env::var(name).ok())
    }

    /// The settings from the defaults, an optional TOML `file`, and environment variables read
    /// through `env`; checked before they are answered.
    pub fn from_layers(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let mut problems = Vec::new();
        let mut figment = Figment::new();
        for key in KEYS {
            if let Some(default) = key.default {
                // A default is checked by the tests; it always reads.
                if let Ok(value) = value_of(key, default) {
                    figment = figment.merge(Layer::new(key, value, "default".into()));
                }
            }
        }
        if let Some(file) = file {
            if !file.is_file() {
                return Err(ConfigError(format!(
                    "{CONFIG_FILE_ENV}: {} is not a readable file",
                    file.display()
                )));
            }
            figment = figment.merge(Toml::file(file));
        }
        for key in KEYS {
            let found = std::iter::once(key.env)
                .chain(key.aliases.iter().copied())
                .find_map(|name| env(name).filter(|v| !v.is_empty()).map(|v| (name, v)));
            let Some((name, raw)) = found else { continue };
            match value_of(key, &raw) {
                Ok(value) => {
                    figment = figment.merge(Layer::new(key, value, format!("{name} (environment)")))
                }
                Err(why) => problems.push(format!("{name}: {why}")),
            }
        }
        if !problems.is_empty() {
            return Err(ConfigError(problems.join("; ")));
        }
        let settings: Settings = figment.extract().map_err(|err| {
            ConfigError(
                err.into_iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
        settings.check()?;
        Ok(settings)
    }

    /// The checks serde cannot make: URLs, ranges, the master key, the extra CA file.
    fn check(&self) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        if let Some(url) = &self.database_url
            && !is_database_url(url.expose())
        {
            problems.push(
                "HERALD_DATABASE_URL: expected sqlite:… or postgres://… (the value is not shown)"
                    .to_owned(),
            );
        }
        for (env, url) in [
            ("HERALD_APNS_URL", &self.providers.apns_url),
            ("HERALD_APNS_SANDBOX_URL", &self.providers.apns_sandbox_url),
            ("HERALD_FCM_BASE_URL", &self.providers.fcm_base_url),
            ("HERALD_HMS_BASE_URL", &self.providers.hms_base_url),
            ("HERALD_HMS_TOKEN_URL", &self.providers.hms_token_url),
        ] {
            if !url.starts_with("https://") && !url.starts_with("http://") {
                problems.push(format!("{env}={url:?}: expected an http(s) URL"));
            }
        }
        for (env, value) in [
            ("HERALD_SENDER_CONCURRENCY", self.sender.concurrency),
            ("HERALD_ROUTER_BATCH", self.router.batch),
            ("HERALD_ROUTER_FANOUT_PAGE", self.router.fanout_page),
            ("HERALD_ROUTER_FANOUTS", self.router.fanouts),
            ("HERALD_RECEIPT_BATCH", self.receipt.batch),
            ("HERALD_WEBHOOKS_CONCURRENCY", self.webhooks.concurrency),
            (
                "HERALD_WEBHOOKS_DISABLE_AFTER_SECS",
                usize::try_from(self.webhooks.disable_after_secs).unwrap_or(usize::MAX),
            ),
            (
                "HERALD_EVENTS_RETENTION_HOURS",
                usize::try_from(self.events.retention_hours).unwrap_or(usize::MAX),
            ),
            (
                "HERALD_PROVIDER_TIMEOUT_SECS",
                usize::try_from(self.providers.timeout_secs).unwrap_or(usize::MAX),
            ),
        ] {
            if value == 0 {
                problems.push(format!("{env}: must be at least 1"));
            }
        }
        if self.providers.timeout_secs > herald_providers::http::MAX_TIMEOUT.as_secs() {
            problems.push(format!(
                "HERALD_PROVIDER_TIMEOUT_SECS: at most {}",
                herald_providers::http::MAX_TIMEOUT.as_secs()
            ));
        }
        if !(self.sender.fcm_per_minute == 0
            || herald_core::caps::RATE_PER_MINUTE.contains(&self.sender.fcm_per_minute))
        {
            problems.push(format!(
                "HERALD_SENDER_FCM_PER_MINUTE: 0 (none), or {} to {}",
                herald_core::caps::RATE_PER_MINUTE.start(),
                herald_core::caps::RATE_PER_MINUTE.end()
            ));
        }
        if self.telemetry.trace_sample_percent > 100 {
            problems.push("HERALD_TRACE_SAMPLE_PERCENT: at most 100".to_owned());
        }
        if let Some(endpoint) = &self.telemetry.otlp_endpoint
            && !endpoint.starts_with("http://")
            && !endpoint.starts_with("https://")
        {
            problems.push(format!(
                "HERALD_OTLP_ENDPOINT={endpoint:?}: expected an http(s) URL"
            ));
        }
        if let Some(key) = &self.master_key
            && let Err(err) = MasterKey::from_base64(key.expose())
        {
            problems.push(format!("HERALD_MASTER_KEY: {err}"));
        }
        if let Err(err) = self.providers.extra_ca_pem() {
            problems.push(err.0);
        }
        if let Err(err) = herald_webhooks::Guard::new(&self.webhooks.allow_networks) {
            problems.push(format!("HERALD_WEBHOOKS_ALLOW_NETWORKS: {err}"));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError(problems.join("; ")))
        }
    }

    /// The database to use: `database_url`, or SQLite in the data directory.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.expose().to_owned(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("herald.db").display()
            ),
        }
    }

    /// The master key, which ingest and the senders cannot run without.
    pub fn master_key(&self) -> Result<MasterKey, ConfigError> {
        let key = self
            .master_key
            .as_ref()
            .ok_or_else(|| ConfigError("HERALD_MASTER_KEY must be set".into()))?;
        MasterKey::from_base64(key.expose())
            .map_err(|e| ConfigError(format!("HERALD_MASTER_KEY: {e}")))
    }

    /// How long in-flight work may take after SIGTERM.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }

    /// Each key with its value as the environment would spell it (`None`: unset); secrets are
    /// shown as `[redacted]` unless `reveal`.
    pub fn values(&self, reveal: bool) -> Vec<(&'static Key, Option<String>)> {
        let secret = |s: &Option<Secret>| {
            s.as_ref().map(|s| {
                if reveal {
                    s.expose().to_owned()
                } else {
                    "[redacted]".to_owned()
                }
            })
        };
        let p = &self.providers;
        KEYS.iter()
            .map(|key| {
                let value = match key.path {
                    "database_url" => secret(&self.database_url),
                    "nats_url" => Some(self.nats_url.clone()),
                    "data_dir" => Some(self.data_dir.display().to_string()),
                    "grpc_addr" => Some(self.grpc_addr.to_string()),
                    "health_addr" => Some(self.health_addr.to_string()),
                    "shutdown_grace_secs" => Some(self.shutdown_grace_secs.to_string()),
                    "log_format" => Some(
                        match self.log_format {
                            LogFormat::Text => "text",
                            LogFormat::Json => "json",
                        }
                        .to_owned(),
                    ),
                    "master_key" => secret(&self.master_key),
                    "admin_key" => secret(&self.admin_key),
                    "sender.provider" => Some(self.sender.provider.name().to_owned()),
                    "sender.concurrency" => Some(self.sender.concurrency.to_string()),
                    "sender.fcm_per_minute" => Some(self.sender.fcm_per_minute.to_string()),
                    "router.batch" => Some(self.router.batch.to_string()),
                    "router.fanout_page" => Some(self.router.fanout_page.to_string()),
                    "router.fanouts" => Some(self.router.fanouts.to_string()),
                    "receipt.batch" => Some(self.receipt.batch.to_string()),
                    "providers.apns_url" => Some(p.apns_url.clone()),
                    "providers.apns_sandbox_url" => Some(p.apns_sandbox_url.clone()),
                    "providers.fcm_base_url" => Some(p.fcm_base_url.clone()),
                    "providers.hms_base_url" => Some(p.hms_base_url.clone()),
                    "providers.hms_token_url" => Some(p.hms_token_url.clone()),
                    "providers.extra_ca_file" => {
                        p.extra_ca_file.as_ref().map(|f| f.display().to_string())
                    }
                    "providers.timeout_secs" => Some(p.timeout_secs.to_string()),
                    "webhooks.allow_http" => Some(self.webhooks.allow_http.to_string()),
                    "webhooks.allow_networks" => Some(self.webhooks.allow_networks.join(",")),
                    "webhooks.concurrency" => Some(self.webhooks.concurrency.to_string()),
                    "webhooks.disable_after_secs" => {
                        Some(self.webhooks.disable_after_secs.to_string())
                    }
                    "events.retention_hours" => Some(self.events.retention_hours.to_string()),
                    "telemetry.metrics_addr" => Some(self.telemetry.metrics_addr.to_string()),
                    "telemetry.tenant_label" => Some(self.telemetry.tenant_label.to_string()),
                    "telemetry.otlp_endpoint" => self.telemetry.otlp_endpoint.clone(),
                    "telemetry.trace_sample_percent" => {
                        Some(self.telemetry.trace_sample_percent.to_string())
                    }
                    other => unreachable!("settings key {other} has no field"),
                };
                (key, value)
            })
            .collect()
    }

    /// The settings as environment variables (secrets included), for a child process that must
    /// run with exactly these settings.
    pub fn to_env(&self) -> Vec<(&'static str, String)> {
        self.values(true)
            .into_iter()
            .filter_map(|(key, value)| value.map(|v| (key.env, v)))
            .collect()
    }

    /// The effective settings as a TOML file would hold them, secrets redacted.
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        let mut section = "";
        for (key, value) in self.values(false) {
            let (table, name) = key.path.rsplit_once('.').unwrap_or(("", key.path));
            if table != section {
                out.push_str(&format!("\n[{table}]\n"));
                section = table;
            }
            match value {
                Some(v) if matches!(key.kind, Kind::Number | Kind::Flag) => {
                    out.push_str(&format!("{name} = {v}\n"))
                }
                Some(v) => out.push_str(&format!("{name} = {v:?}\n")),
                None => out.push_str(&format!("# {name} is unset\n")),
            }
        }
        out
    }
}

impl ProviderSettings {
    /// The extra CA certificates to trust, read from `extra_ca_file`.
    fn extra_ca_pem(&self) -> Result<Option<String>, ConfigError> {
        let Some(file) = &self.extra_ca_file else {
            return Ok(None);
        };
        let pem = std::fs::read_to_string(file)
            .map_err(|e| ConfigError(format!("HERALD_EXTRA_CA_FILE={}: {e}", file.display())))?;
        if !pem.contains("-----BEGIN CERTIFICATE-----") {
            return Err(ConfigError(format!(
                "HERALD_EXTRA_CA_FILE={}: holds no PEM certificate",
                file.display()
            )));
        }
        Ok(Some(pem))
    }

    /// The provider endpoints these settings describe.
    pub fn endpoints(&self) -> Result<Endpoints, ConfigError> {
        Ok(Endpoints {
            apns_production_url: self.apns_url.clone(),
            apns_sandbox_url: self.apns_sandbox_url.clone(),
            fcm_base_url: self.fcm_base_url.clone(),
            hms_base_url: self.hms_base_url.clone(),
            hms_token_url: self.hms_token_url.clone(),
            http: HttpConfig {
                extra_ca_pem: self.extra_ca_pem()?,
                timeout: Duration::from_secs(self.timeout_secs),
            },
        })
    }
}

impl Settings {
    /// The client that posts to webhook endpoints: the guard with the operator's allowed
    /// networks, trusting the system's roots and `providers.extra_ca_file`.
    pub fn webhook_poster(&self) -> Result<herald_webhooks::Poster, ConfigError> {
        let guard = herald_webhooks::Guard::new(&self.webhooks.allow_networks)
            .map_err(|e| ConfigError(format!("HERALD_WEBHOOKS_ALLOW_NETWORKS: {e}")))?;
        herald_webhooks::Poster::new(guard, self.providers.extra_ca_pem()?.as_deref())
            .map_err(|e| ConfigError(format!("the webhook HTTP client: {e}")))
    }
}

fn is_database_url(url: &str) -> bool {
    url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// A key's text as a settings value of its kind.
fn value_of(key: &Key, raw: &str) -> Result<Value, String> {
    match key.kind {
        Kind::Text | Kind::Secret => Ok(Value::from(raw.to_owned())),
        Kind::Number => raw
            .trim()
            .parse::<u64>()
            .map(Value::from)
            .map_err(|_| format!("{raw:?} is not a whole number")),
        Kind::Flag => match raw.trim() {
            "true" | "1" => Ok(Value::from(true)),
            "false" | "0" => Ok(Value::from(false)),
            _ => Err(format!("{raw:?} is not true or false")),
        },
    }
}

/// One key's value from one layer, named after where it came from in error messages.
struct Layer {
    key: &'static Key,
    value: Value,
    source: String,
}

impl Layer {
    fn new(key: &'static Key, value: Value, source: String) -> Self {
        Self { key, value, source }
    }
}

impl figment::Provider for Layer {
    fn metadata(&self) -> Metadata {
        let env = self.key.env;
        Metadata::named(self.source.clone()).interpolater(move |_, _| env.to_owned())
    }

    fn data(&self) -> Result<Map<Profile, figment::value::Dict>, figment::Error> {
        let nested = figment::util::nest(self.key.path, self.value.clone());
        Ok(Profile::Default.collect(nested.into_dict().unwrap_or_default()))
    }
}

/// The configuration reference (`docs/configuration.md`), rendered from [`KEYS`].
pub fn reference() -> String {
    let mut out = String::from(
        "# Configuration\n\n\
         <!-- Rendered from `KEYS` in crates/herald-runtime/src/settings.rs by `herald config reference`; \
         a test checks this file matches. -->\n\n\
         Every Herald process (`herald up`, `herald-ingest`, `herald-router`, `herald-sender`, \
         `herald-receipt`, `herald-dispatcher`) reads the same settings, in layers: built-in defaults, then a TOML file \
         named by `HERALD_CONFIG` (or `herald --config FILE`), then environment variables. A later \
         layer overrides an earlier one. The settings are checked once, at start: a bad one stops \
         the process with a message naming it, and exit status 64.\n\n\
         In the TOML file a key is written as its path: `database_url = \"postgres://…\"` at the \
         top, `concurrency = 512` under `[sender]`. `herald config show` prints the effective \
         settings of the current environment as such a file, with secrets redacted.\n\n\
         | Key (TOML) | Environment | Default | Used by | Meaning |\n\
         |---|---|---|---|---|\n",
    );
    for key in KEYS {
        let mut env = format!("`{}`", key.env);
        for alias in key.aliases {
            env.push_str(&format!(" (or `{alias}`)"));
        }
        let default = key
            .default
            .map_or_else(|| "—".to_owned(), |d| format!("`{d}`"));
        out.push_str(&format!(
            "| `{}` | {env} | {default} | {} | {} |\n",
            key.path, key.used_by, key.doc
        ));
    }
    out.push_str(
        "\nSecrets (`database_url`, `master_key`, `admin_key`) never appear in logs or in \
         `herald config show`.\n\n\
         Not settings of the services: `RUST_LOG` (the log filter, default `info`); the \
         command-line client's `HERALD_ENDPOINT` (default `http://127.0.0.1:50051`) and \
         `HERALD_API_KEY`; `herald up --with-mocks`'s mock ports (`HERALD_MOCK_FCM_PORT`, \
         `HERALD_MOCK_HMS_PORT`, `HERALD_MOCK_APNS_PORT`, `HERALD_MOCK_PUSH_PORT`); \
         `HERALD_NATS_SERVER`, the nats-server executable `herald up` and the tests start \
         (default: `nats-server` on the `PATH`); and `HERALD_TEST_POSTGRES_URL`, the \
         PostgreSQL server the tests use.\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn from_env(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_layers(None, |name| vars.get(name).cloned())
    }

    #[test]
    fn every_default_reads_and_every_key_has_a_field() {
        for key in KEYS {
            if let Some(default) = key.default {
                value_of(key, default).unwrap();
            }
        }
        let settings = from_env(&[]).unwrap();
        assert_eq!(settings.sender.concurrency, 256);
        assert_eq!(settings.sender.provider, Provider::Fcm);
        assert_eq!(
            settings.database_url(),
            "sqlite://herald-data/herald.db?mode=rwc"
        );
        // `values` has an arm for every key (it would panic otherwise), and every key a
        // variable of its own.
        let values = settings.values(false);
        assert_eq!(values.len(), KEYS.len());
        let mut envs: Vec<&str> = KEYS.iter().map(|k| k.env).collect();
        envs.sort_unstable();
        envs.dedup();
        assert_eq!(envs.len(), KEYS.len());
    }

    #[test]
    fn the_environment_overrides_the_file_which_overrides_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("herald.toml");
        std::fs::write(
            &file,
            "nats_url = \"nats://file:4222\"\n[sender]\nconcurrency = 512\nprovider = \"apns\"\n",
        )
        .unwrap();
        let vars: HashMap<&str, &str> = [
            ("HERALD_SENDER_CONCURRENCY", "64"),
            ("NATS_URL", "nats://alias:4222"),
        ]
        .into();
        let settings =
            Settings::from_layers(Some(&file), |name| vars.get(name).map(|v| v.to_string()))
                .unwrap();
        assert_eq!(settings.sender.concurrency, 64, "environment over file");
        assert_eq!(
            settings.sender.provider,
            Provider::Apns,
            "file over default"
        );
        assert_eq!(
            settings.nats_url, "nats://alias:4222",
            "an alias is read too"
        );
        let both = [
            ("HERALD_NATS_URL", "nats://own:4222"),
            ("NATS_URL", "nats://alias:4222"),
        ];
        assert_eq!(from_env(&both).unwrap().nats_url, "nats://own:4222");
    }

    #[test]
    fn a_numeric_admin_key_stays_text_and_secrets_are_not_shown() {
        let settings = from_env(&[("HERALD_ADMIN_KEY", "12345")]).unwrap();
        assert_eq!(settings.admin_key.as_ref().unwrap().expose(), "12345");
        assert!(!format!("{settings:?}").contains("12345"));
        assert!(!settings.to_toml().contains("12345"));
        assert!(
            settings
                .to_env()
                .contains(&("HERALD_ADMIN_KEY", "12345".to_owned()))
        );
    }

    #[test]
    fn bad_settings_are_refused_naming_each_one() {
        let err = from_env(&[
            ("HERALD_SENDER_CONCURRENCY", "many"),
            ("HERALD_ROUTER_BATCH", "-1"),
        ])
        .unwrap_err();
        assert!(err.0.contains("HERALD_SENDER_CONCURRENCY"), "{err}");
        assert!(err.0.contains("HERALD_ROUTER_BATCH"), "{err}");
        for (name, value) in [
            ("HERALD_SENDER_PROVIDER", "pigeon"),
            ("HERALD_GRPC_ADDR", "localhost"),
            ("HERALD_MASTER_KEY", "c2hvcnQ="),
            ("HERALD_DATABASE_URL", "mysql://secret@db"),
            ("HERALD_FCM_BASE_URL", "fcm.googleapis.com"),
            ("HERALD_EXTRA_CA_FILE", "/nonexistent/ca.pem"),
            ("HERALD_RECEIPT_BATCH", "0"),
            ("HERALD_LOG_FORMAT", "xml"),
        ] {
            let err = from_env(&[(name, value)]).unwrap_err();
            assert!(err.0.contains(name), "{name}: {err}");
        }
        let err = from_env(&[("HERALD_DATABASE_URL", "mysql://secret@db")]).unwrap_err();
        assert!(!err.0.contains("secret"), "{err}");
    }

    #[test]
    fn an_unknown_key_in_the_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("herald.toml");
        std::fs::write(&file, "[sender]\nconcurency = 8\n").unwrap();
        let err = Settings::from_layers(Some(&file), |_| None).unwrap_err();
        assert!(err.0.contains("concurency"), "{err}");
    }

    #[test]
    fn the_reference_in_docs_matches_the_keys() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/configuration.md");
        let written = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            written == reference(),
            "docs/configuration.md is out of date: run `herald config reference > docs/configuration.md`"
        );
    }
}
