//! `herald up`: the embedded default. Ingest, router, receipt and the APNs, FCM, HMS and Web
//! Push senders in one process ([`herald::Stack`]), over SQLite in the data directory and NATS at
//! the settings' URL; when nothing answers there and `nats-server` is installed, it starts one
//! with JetStream and its store in the data directory. With the `mocks` feature,
//! `--with-mocks` starts local mock providers and points the senders at them, so a first
//! notification can be followed end to end without provider accounts.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, bail};
use herald_core::crypto::{MasterKey, generate_api_key};
use herald_runtime::{Secret, Settings};
use tokio_util::sync::CancellationToken;

#[derive(clap::Args, Debug)]
pub struct UpArgs {
    /// Where the gRPC API listens (overrides the `grpc_addr` setting).
    #[arg(long)]
    grpc_addr: Option<SocketAddr>,
    /// Start local mock providers and send every push to them instead of Apple, Google,
    /// Huawei and the browsers' push services.
    #[cfg(feature = "mocks")]
    #[arg(long)]
    with_mocks: bool,
    #[cfg(feature = "mocks")]
    #[command(flatten)]
    mock_ports: MockPortArgs,
}

/// The mocks' ports: fixed, so the files written for them stay valid across restarts.
#[cfg(feature = "mocks")]
#[derive(clap::Args, Debug)]
struct MockPortArgs {
    #[arg(long, env = "HERALD_MOCK_FCM_PORT", default_value_t = 50443)]
    mock_fcm_port: u16,
    #[arg(long, env = "HERALD_MOCK_HMS_PORT", default_value_t = 50444)]
    mock_hms_port: u16,
    #[arg(long, env = "HERALD_MOCK_APNS_PORT", default_value_t = 50445)]
    mock_apns_port: u16,
    #[arg(long, env = "HERALD_MOCK_PUSH_PORT", default_value_t = 50446)]
    mock_push_port: u16,
    #[arg(long, env = "HERALD_MOCK_WEBHOOK_PORT", default_value_t = 50447)]
    mock_webhook_port: u16,
}

/// A secret from the settings, or from a file in the data directory (created on first use).
fn secret(
    set: Option<Secret>,
    file: &Path,
    generate: impl FnOnce() -> String,
) -> anyhow::Result<Secret> {
    if let Some(secret) = set {
        return Ok(secret);
    }
    if file.exists() {
        return Ok(Secret::new(std::fs::read_to_string(file)?.trim()));
    }
    let value = generate();
    write_private(file, &value)?;
    Ok(Secret::new(value))
}

/// Writes a file only its owner can read.
pub(crate) fn write_private(file: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(file)?;
    f.write_all(contents.as_bytes())?;
    Ok(())
}

pub async fn run(
    args: UpArgs,
    mut settings: Settings,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let data_dir = settings.data_dir.clone();
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    settings.master_key = Some(secret(
        settings.master_key.take(),
        &data_dir.join("master.key"),
        MasterKey::generate_base64,
    )?);
    settings.admin_key = Some(secret(
        settings.admin_key.take(),
        &data_dir.join("admin.key"),
        generate_api_key,
    )?);
    if let Some(addr) = args.grpc_addr {
        settings.grpc_addr = addr;
    }

    let nats_server = ensure_nats(&settings.nats_url, &data_dir).await?;
    #[cfg(feature = "mocks")]
    let _mocks = if args.with_mocks {
        Some(start_mocks(&args.mock_ports, &mut settings).await?)
    } else {
        None
    };

    let listener = herald_runtime::bind(settings.grpc_addr).await?;
    let api = settings.grpc_addr;
    let nats = settings.nats_url.clone();
    let running = herald::Stack::new(settings)
        .start(listener, &shutdown)
        .await?;
    tracing::info!(
        %api,
        admin_key_file = %data_dir.join("admin.key").display(),
        %nats,
        "herald is up"
    );
    let stopped = running.wait(&shutdown).await;
    if let Some(nats_server) = nats_server {
        nats_server.stop().await;
    }
    stopped
}

/// Starts the mock providers, writes the credentials a newcomer needs for them into the data
/// directory, and points the settings at them.
#[cfg(feature = "mocks")]
async fn start_mocks(
    ports: &MockPortArgs,
    settings: &mut Settings,
) -> anyhow::Result<(
    herald_testkit::mocks::Mocks,
    herald_testkit::webhook::WebhookReceiver,
)> {
    use herald_testkit::mocks::{MockPorts, Mocks};
    let mocks = Mocks::start_on(
        MockPorts {
            fcm: ports.mock_fcm_port,
            hms: ports.mock_hms_port,
            apns: ports.mock_apns_port,
            push: ports.mock_push_port,
        },
        true,
    )
    .await?;
    mocks.apply(&mut settings.providers)?;
    let data_dir = &settings.data_dir;
    let apns_key_file = data_dir.join("mock-apns-key.p8");
    write_private(&apns_key_file, mocks.apns.team_key_pem())?;
    let account_file = data_dir.join("mock-fcm-service-account.json");
    write_private(&account_file, &mocks.fcm.service_account_json())?;
    // A browser's subscription at the mock push service, for `herald device register
    // --platform web --subscription …`: the mock decrypts and logs what it receives.
    let subscription_file = data_dir.join("mock-web-subscription.json");
    let subscription = mocks.push.subscribe_unbound();
    write_private(&subscription_file, &subscription.to_json().to_string())?;
    tracing::info!(
        fcm = %mocks.fcm.base_url(),
        fcm_service_account = %account_file.display(),
        hms = %mocks.hms.base_url(),
        hms_app_id = herald_testkit::hms::APP_ID,
        apns = %mocks.apns.base_url(),
        apns_key = %apns_key_file.display(),
        apns_key_id = herald_testkit::apns::KEY_ID,
        apns_team_id = herald_testkit::apns::TEAM_ID,
        apns_bundle_id = herald_testkit::apns::BUNDLE_ID,
        push_service = %mocks.push.base_url(),
        web_subscription = %subscription_file.display(),
        "mock providers running"
    );
    // A webhook receiver that logs what it gets; loopback is let through the SSRF guard so
    // endpoints on this machine can be tried (only with the mocks).
    let receiver = herald_testkit::webhook::WebhookReceiver::start_on(
        &mocks.ca,
        ports.mock_webhook_port,
        true,
    )
    .await?;
    for network in ["127.0.0.1/32", "::1/128"] {
        if !settings
            .webhooks
            .allow_networks
            .iter()
            .any(|n| n == network)
        {
            settings.webhooks.allow_networks.push(network.to_owned());
        }
    }
    tracing::info!(
        webhook_receiver = %receiver.url(),
        allow_networks = %settings.webhooks.allow_networks.join(","),
        "mock webhook receiver running (webhooks may reach loopback)"
    );
    Ok((mocks, receiver))
}

/// A nats-server this process started, through a guard process (`herald guard`) that stops it
/// when this process ends, however it ends: the guard waits on a pipe from this process, which
/// the kernel closes even when this process is killed with SIGKILL.
struct OwnedNats(tokio::process::Child);

impl OwnedNats {
    /// Closes the pipe and waits for the guard to stop nats-server gracefully.
    async fn stop(mut self) {
        drop(self.0.stdin.take());
        if tokio::time::timeout(GUARD_GRACE + Duration::from_secs(5), self.0.wait())
            .await
            .is_err()
        {
            tracing::warn!("nats-server did not stop in time");
        }
    }
}

/// How long the guard gives nats-server to stop after SIGTERM before it kills it.
const GUARD_GRACE: Duration = Duration::from_secs(15);

/// Makes sure NATS answers at `url`, starting a local nats-server when it does not.
async fn ensure_nats(url: &str, data_dir: &Path) -> anyhow::Result<Option<OwnedNats>> {
    let address = url
        .trim_start_matches("nats://")
        .split('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    if reachable(&address).await {
        return Ok(None);
    }
    let (host, port) = address.rsplit_once(':').unwrap_or((&address, "4222"));
    if !matches!(host, "127.0.0.1" | "localhost") {
        bail!("no NATS server answers at {url}");
    }
    let binary = herald_runtime::nats_server_binary();
    if !binary.is_file() {
        bail!(
            "no NATS server answers at {url} and nats-server is not installed (scripts/up installs it)"
        );
    }
    let store_dir = data_dir.join("nats");
    tracing::info!(binary = %binary.display(), %port, store = %store_dir.display(), "starting nats-server");
    let guard = tokio::process::Command::new(std::env::current_exe()?)
        .arg("guard")
        .arg("--")
        .arg(&binary)
        .args(["-a", "127.0.0.1", "-p", port, "-js", "-sd"])
        .arg(&store_dir)
        .arg("-l")
        .arg(data_dir.join("nats-server.log"))
        .arg("-P")
        .arg(data_dir.join("nats-server.pid"))
        .stdin(std::process::Stdio::piped())
        // Its own process group: Ctrl-C must stop Herald first, so it can drain, then NATS.
        .process_group(0)
        .kill_on_drop(false)
        .spawn()
        .with_context(|| format!("cannot start {}", binary.display()))?;
    let mut owned = OwnedNats(guard);
    for _ in 0..200 {
        if reachable(&address).await {
            return Ok(Some(owned));
        }
        if let Ok(Some(status)) = owned.0.try_wait() {
            bail!(
                "nats-server exited with {status}; see {}",
                data_dir.join("nats-server.log").display()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    owned.stop().await;
    bail!(
        "nats-server did not start; see {}",
        data_dir.join("nats-server.log").display()
    )
}

/// `herald guard -- <command>`: runs the command until its own stdin closes (the process that
/// started the guard ended), then stops it with SIGTERM, and SIGKILL after a grace period.
pub fn guard(command: &[std::ffi::OsString]) -> anyhow::Result<std::process::ExitStatus> {
    use std::io::Read as _;
    let (program, args) = command.split_first().context("guard: no command")?;
    let mut child = std::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {}", program.to_string_lossy()))?;
    let (closed, on_close) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin();
        let mut buf = [0u8; 64];
        while matches!(stdin.read(&mut buf), Ok(n) if n > 0) {}
        let _ = closed.send(());
    });
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if on_close.recv_timeout(Duration::from_millis(200)).is_ok() {
            return match herald_runtime::terminate(&mut child, GUARD_GRACE) {
                Ok(status) => Ok(status),
                Err(err) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    Err(err)
                }
            };
        }
    }
}

async fn reachable(address: &str) -> bool {
    let connect = tokio::net::TcpStream::connect(address.replace("localhost", "127.0.0.1"));
    matches!(
        tokio::time::timeout(Duration::from_millis(500), connect).await,
        Ok(Ok(_))
    )
}
