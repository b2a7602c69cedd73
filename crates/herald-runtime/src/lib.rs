//! What every Herald process shares at run time: its [`Settings`], structured logging, the
//! shutdown signal with its grace period, gRPC serving plumbing (health, listeners), and the
//! admin endpoint (`/metrics`, `/drain`).
#![forbid(unsafe_code)]

pub mod admin;
pub mod settings;

use std::net::SocketAddr;
use std::path::PathBuf;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

pub use settings::{LogFormat, Secret, Settings};

/// A setting error: the process exits with this message (and status 64, like linkerd).
#[derive(Debug)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// Tunes the process's memory before it does any work; every Herald binary calls it first.
///
/// Transparent huge pages are turned off for the process (`prctl(PR_SET_THP_DISABLE)`, which
/// children inherit): mimalloc asks the kernel for huge pages for its arenas, and with the
/// services' churn of short-lived buffers the kernel spent a large share of the CPU zeroing
/// 2 MiB pages (MIMALLOC_ALLOW_THP=0 alone was worth +21–30 % throughput in the benchmark).
/// A kernel without the call (not Linux) keeps its default.
pub fn tune_memory() {
    #[cfg(target_os = "linux")]
    if let Err(err) = rustix::thread::disable_transparent_huge_pages(true) {
        eprintln!("herald: could not turn off transparent huge pages: {err}");
    }
}

/// Starts structured logging: `RUST_LOG` filters (default `default`), `format` chooses text or
/// one JSON object per line for log collectors. Calling it twice is harmless.
pub fn init_logging(format: LogFormat, default: &str) {
    init_tracing(format, default, None);
}

/// [`init_logging`], and with `export` the spans exported as OpenTelemetry traces (call it
/// inside a Tokio runtime: the exporter runs on it).
pub fn init_tracing(
    format: LogFormat,
    default: &str,
    export: Option<&herald_telemetry::trace::Export>,
) {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let lines = tracing_subscriber::fmt::layer().with_target(true);
    let lines = match format {
        LogFormat::Json => lines.json().boxed(),
        LogFormat::Text => lines.compact().boxed(),
    };
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(lines)
        .with(traces(export))
        .try_init();
}

/// The layer that exports spans, if `export` asks for one and it can be built.
fn traces<S>(
    export: Option<&herald_telemetry::trace::Export>,
) -> Option<impl tracing_subscriber::Layer<S> + use<S>>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    herald_telemetry::trace::layer(export?)
        .map_err(|err| eprintln!("herald: traces are not exported: {err}"))
        .ok()
}

/// Logging for tests: captured per test by the test harness, shown for failing tests; with
/// `export`, spans are exported as traces too (inside a Tokio runtime).
pub fn init_test_logging_with(export: Option<&herald_telemetry::trace::Export>) {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(tracing_subscriber::fmt::layer().with_test_writer())
        .with(traces(export))
        .try_init();
}

/// Logging for tests: captured per test by the test harness, shown for failing tests.
pub fn init_test_logging() {
    init_test_logging_with(None);
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

/// The nats-server executable that `herald up` and the tests start: `HERALD_NATS_SERVER`, else
/// `nats-server` on the `PATH`, else where Debian installs it.
pub fn nats_server_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("HERALD_NATS_SERVER") {
        return PathBuf::from(path);
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("nats-server"))
            .find(|candidate| candidate.is_file())
    });
    on_path.unwrap_or_else(|| PathBuf::from("/usr/sbin/nats-server"))
}

/// Binds a listener for an address setting.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, ConfigError> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| ConfigError(format!("cannot listen on {addr}: {e}")))
}

/// The body of a process's `main`: settings, logging, the shutdown signal, and a grace period.
/// `body` gets the settings and the shutdown token and runs the service; once the signal came,
/// it has the settings' grace period to finish its in-flight work before the process exits
/// anyway. A configuration error exits with status 64.
pub fn service_main<F, Fut>(service: &'static str, body: F) -> std::process::ExitCode
where
    F: FnOnce(Settings, CancellationToken) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    service_main_with(service, Settings::load(), body)
}

/// [`service_main`] with settings the caller loaded (e.g. from a `--config` flag).
pub fn service_main_with<F, Fut>(
    service: &'static str,
    settings: Result<Settings, ConfigError>,
    body: F,
) -> std::process::ExitCode
where
    F: FnOnce(Settings, CancellationToken) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    tune_memory();
    let settings = match settings {
        Ok(settings) => settings,
        Err(err) => {
            init_logging(LogFormat::Text, "info");
            tracing::error!(service, "bad configuration: {err}");
            return std::process::ExitCode::from(64);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("herald {service}: cannot start the runtime: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(async move {
        init_tracing(
            settings.log_format,
            "info",
            settings
                .telemetry
                .export(&if service == "herald" {
                    service.to_owned()
                } else {
                    format!("herald-{service}")
                })
                .as_ref(),
        );
        herald_telemetry::metrics::label_tenants(settings.telemetry.tenant_label);
        let signal = shutdown_on_signal();
        // Cancelled by the signal, or by `POST /drain`: the services stop taking work.
        let stop = signal.child_token();
        let admin = admin::Admin::new(stop.clone());
        let listener = match bind(settings.telemetry.metrics_addr).await {
            Ok(listener) => listener,
            Err(err) => {
                tracing::error!(service, "bad configuration: {err}");
                return std::process::ExitCode::from(64);
            }
        };
        tokio::spawn(admin::serve(listener, admin.clone()));
        let grace = settings.shutdown_grace();
        let work = body(settings, stop.clone());
        tokio::pin!(work);
        let result = tokio::select! {
            result = &mut work => result,
            () = async {
                stop.cancelled().await;
                tokio::time::sleep(grace).await;
            } => Err(anyhow::anyhow!("in-flight work did not finish within {grace:?}")),
        };
        let drained = result.is_ok() && stop.is_cancelled() && !signal.is_cancelled();
        admin.finished(result.as_ref().map(|_| ()).map_err(|e| format!("{e:#}")));
        match result {
            Ok(()) => {
                if drained {
                    // `herald drain` asked: its answer goes out, and the orchestrator (a
                    // rolling update's preStop hook, or an operator) stops the process.
                    tracing::info!(service, "drained; waiting for SIGTERM");
                    signal.cancelled().await;
                }
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
    });
    // The spans not exported yet go out while the runtime still runs the exporter.
    herald_telemetry::trace::shutdown();
    code
}

/// Stops a child process the way an orchestrator does: SIGTERM, then waits up to `grace` for
/// it to exit (and says so if it does not).
pub fn terminate(
    child: &mut std::process::Child,
    grace: std::time::Duration,
) -> anyhow::Result<std::process::ExitStatus> {
    let pid = child.id().to_string();
    anyhow::ensure!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()?
            .success(),
        "kill -TERM {pid} failed"
    );
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        anyhow::ensure!(
            started.elapsed() < grace,
            "process {pid} did not stop within {grace:?} of SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
