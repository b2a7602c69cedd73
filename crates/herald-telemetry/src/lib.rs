//! What every Herald service shares at run time: structured logs, the shutdown signal, the
//! gRPC health endpoint and reading settings from the environment.
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::str::FromStr;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

pub use tonic_health::server::HealthReporter;

/// Starts structured logging: `RUST_LOG` filters (default `info`), `HERALD_LOG_FORMAT=json`
/// writes one JSON object per line for log collectors. Calling it twice is harmless.
pub fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
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

/// Serves the standard gRPC health service on `listener` until `shutdown`. The returned
/// reporter sets the status of `service` (a service starts as serving).
pub async fn serve_health(
    listener: TcpListener,
    service: &'static str,
    shutdown: CancellationToken,
) -> (
    HealthReporter,
    tokio::task::JoinHandle<Result<(), tonic::transport::Error>>,
) {
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status(service, tonic_health::ServingStatus::Serving)
        .await;
    reporter
        .set_service_status("", tonic_health::ServingStatus::Serving)
        .await;
    let task = tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(health)
            .serve_with_incoming_shutdown(
                tokio_stream::wrappers::TcpListenerStream::new(listener),
                shutdown.cancelled_owned(),
            ),
    );
    (reporter, task)
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
