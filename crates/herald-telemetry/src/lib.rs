//! What every Herald service shares at run time: structured logs, the shutdown signal, the
//! gRPC health endpoint and reading settings from the environment.
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::str::FromStr;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

/// Every Herald process allocates with mimalloc: the services allocate and free many small
/// buffers per delivery (protobuf, HTTP/2 frames, SQL rows) across threads, where glibc's
/// allocator spent about a seventh of the CPU in the benchmark.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Starts structured logging: `RUST_LOG` filters (default `info`), `HERALD_LOG_FORMAT=json`
/// writes one JSON object per line for log collectors. Calling it twice is harmless.
pub fn init_logging() {
    init_logging_at("info");
}

/// Like [`init_logging`], with `default` as the filter when `RUST_LOG` is not set.
pub fn init_logging_at(default: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let json = std::env::var("HERALD_LOG_FORMAT").is_ok_and(|v| v == "json");
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(true);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.compact().try_init()
    };
}

/// A token cancelled on SIGTERM or Ctrl-C: every server and consumer loop of the process
/// watches it, stops taking work, and finishes what is in flight.
pub fn shutdown_on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("install the SIGTERM handler");
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutdown requested");
        cancel.cancel();
    });
    token
}

/// Serves the standard gRPC health service on `listener` until `shutdown`, reporting the
/// process (and `service`) as serving while it runs.
pub async fn serve_health(
    listener: TcpListener,
    service: &'static str,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<Result<(), tonic::transport::Error>> {
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status(service, tonic_health::ServingStatus::Serving)
        .await;
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(health)
            .serve_with_incoming_shutdown(incoming(listener), shutdown.cancelled_owned()),
    )
}

/// The connections a gRPC server accepts on `listener`, with Nagle's algorithm off: a gRPC
/// answer is a few small writes, and with Nagle on, the last one waited for the client's
/// delayed ACK (about 40 ms on Linux) before leaving, so every call took at least that long.
pub fn incoming(listener: TcpListener) -> tonic::transport::server::TcpIncoming {
    tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true))
}

/// A setting error: the process exits with this message (and status 64, like linkerd).
#[derive(Debug)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// The setting `name` from the environment, or `default`.
pub fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// The setting `name` parsed as `T`, or `default`.
pub fn env_parse<T: FromStr>(name: &str, default: T) -> Result<T, ConfigError> {
    match std::env::var(name) {
        Ok(raw) if !raw.is_empty() => raw
            .parse()
            .map_err(|_| ConfigError(format!("{name}={raw:?} is not valid"))),
        _ => Ok(default),
    }
}

/// The setting `name`, which must be present.
pub fn env_required(name: &str) -> Result<String, ConfigError> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ConfigError(format!("{name} must be set")))
}

/// Binds a listener for a `host:port` setting.
pub async fn bind(addr: &str) -> Result<TcpListener, ConfigError> {
    let parsed: SocketAddr = addr
        .parse()
        .map_err(|_| ConfigError(format!("{addr:?} is not a host:port address")))?;
    TcpListener::bind(parsed)
        .await
        .map_err(|e| ConfigError(format!("cannot listen on {addr}: {e}")))
}

/// Logging for tests: captured per test by the test harness, shown for failing tests.
pub fn init_test_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}

/// Settings every service reads (documented in README.md, "Configuration").
#[derive(Clone, Debug)]
pub struct CommonSettings {
    /// `HERALD_DATABASE_URL`: `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// `HERALD_NATS_URL` (or `NATS_URL`).
    pub nats_url: String,
    /// `HERALD_HEALTH_ADDR`: where router, sender and receipt serve gRPC health.
    pub health_addr: String,
    /// `HERALD_SHUTDOWN_GRACE_SECS`: how long in-flight work may take after SIGTERM.
    pub shutdown_grace: std::time::Duration,
}

impl CommonSettings {
    pub fn from_env() -> Result<Self, ConfigError> {
        let nats_default = env_or("NATS_URL", "nats://127.0.0.1:4222");
        Ok(Self {
            database_url: env_or(
                "HERALD_DATABASE_URL",
                "sqlite://herald-data/herald.db?mode=rwc",
            ),
            nats_url: env_or("HERALD_NATS_URL", &nats_default),
            health_addr: env_or("HERALD_HEALTH_ADDR", "0.0.0.0:50052"),
            shutdown_grace: std::time::Duration::from_secs(env_parse(
                "HERALD_SHUTDOWN_GRACE_SECS",
                30,
            )?),
        })
    }
}

/// The body of a service binary's `main`: logging, the shutdown signal, and a grace period.
/// `body` gets the shutdown token and runs the service; once the signal came, it has
/// `grace` to finish its in-flight work before the process exits anyway. A configuration error
/// exits with status 64.
pub fn service_main<F, Fut>(service: &'static str, body: F) -> std::process::ExitCode
where
    F: FnOnce(CommonSettings, CancellationToken) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    init_logging();
    let settings = match CommonSettings::from_env() {
        Ok(settings) => settings,
        Err(err) => {
            tracing::error!(%err, "bad configuration");
            return std::process::ExitCode::from(64);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            tracing::error!(%err, "cannot start the runtime");
            return std::process::ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let shutdown = shutdown_on_signal();
        let grace = settings.shutdown_grace;
        let work = body(settings, shutdown.clone());
        tokio::pin!(work);
        let result = tokio::select! {
            result = &mut work => result,
            () = async {
                shutdown.cancelled().await;
                tokio::time::sleep(grace).await;
            } => Err(anyhow::anyhow!("in-flight work did not finish within {grace:?}")),
        };
        match result {
            Ok(()) => {
                tracing::info!(service, "stopped");
                std::process::ExitCode::SUCCESS
            }
            Err(err) if err.downcast_ref::<ConfigError>().is_some() => {
                tracing::error!(service, "bad configuration: {err:#}");
                std::process::ExitCode::from(64)
            }
            Err(err) => {
                tracing::error!(service, "{err:#}");
                std::process::ExitCode::FAILURE
            }
        }
    })
}

/// Where the providers are, from `HERALD_APNS_URL`, `HERALD_APNS_SANDBOX_URL`,
/// `HERALD_FCM_BASE_URL`, `HERALD_HMS_BASE_URL`,
/// `HERALD_HMS_TOKEN_URL`, `HERALD_EXTRA_CA_FILE` (a PEM CA to trust besides the public roots)
/// and `HERALD_PROVIDER_TIMEOUT_SECS`; each defaults to the provider's own.
pub fn endpoints_from_env() -> Result<herald_providers::Endpoints, ConfigError> {
    let defaults = herald_providers::Endpoints::default();
    let extra_ca_pem = match std::env::var("HERALD_EXTRA_CA_FILE") {
        Ok(path) if !path.is_empty() => Some(
            std::fs::read_to_string(&path)
                .map_err(|e| ConfigError(format!("HERALD_EXTRA_CA_FILE={path:?}: {e}")))?,
        ),
        _ => None,
    };
    Ok(herald_providers::Endpoints {
        apns_production_url: env_or("HERALD_APNS_URL", &defaults.apns_production_url),
        apns_sandbox_url: env_or("HERALD_APNS_SANDBOX_URL", &defaults.apns_sandbox_url),
        fcm_base_url: env_or("HERALD_FCM_BASE_URL", &defaults.fcm_base_url),
        hms_base_url: env_or("HERALD_HMS_BASE_URL", &defaults.hms_base_url),
        hms_token_url: env_or("HERALD_HMS_TOKEN_URL", &defaults.hms_token_url),
        http: herald_providers::http::HttpConfig {
            extra_ca_pem,
            timeout: std::time::Duration::from_secs(env_parse("HERALD_PROVIDER_TIMEOUT_SECS", 30)?),
        },
    })
}

/// The master key that seals provider credentials, from `HERALD_MASTER_KEY` (base64 of 32
/// random bytes; `openssl rand -base64 32` makes one).
pub fn master_key_from_env() -> Result<herald_core::crypto::MasterKey, ConfigError> {
    let raw = env_required("HERALD_MASTER_KEY")?;
    herald_core::crypto::MasterKey::from_base64(&raw)
        .map_err(|e| ConfigError(format!("HERALD_MASTER_KEY: {e}")))
}
