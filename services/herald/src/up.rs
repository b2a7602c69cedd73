//! `herald up`: the embedded default. Ingest, router, receipt and the APNs, FCM, HMS and Web Push senders in one
//! process over SQLite in the data directory and NATS at `NATS_URL`; when nothing answers there
//! and `nats-server` is installed, it starts one with JetStream and its store in the data
//! directory. `--with-mocks` starts local mock APNs, FCM, HMS and Web Push services and points the senders at
//! them, so a first notification can be followed end to end without provider accounts.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use herald_bus::Bus;
use herald_core::crypto::{MasterKey, generate_api_key};
use herald_proto::v1::Provider;
use herald_store::Store;
use herald_telemetry::CommonSettings;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

#[derive(clap::Args, Debug)]
pub struct UpArgs {
    /// Where the gRPC API listens.
    #[arg(long, env = "HERALD_GRPC_ADDR", default_value = "127.0.0.1:50051")]
    grpc_addr: String,
    /// Start a local mock FCM and send Android pushes to it instead of Google.
    #[arg(long)]
    with_mocks: bool,
    /// The mock FCM's port (fixed, so the service account written for it stays valid).
    #[arg(long, env = "HERALD_MOCK_FCM_PORT", default_value_t = 50443)]
    mock_fcm_port: u16,
    /// The mock HMS's port.
    #[arg(long, env = "HERALD_MOCK_HMS_PORT", default_value_t = 50444)]
    mock_hms_port: u16,
    /// The mock APNs's port.
    #[arg(long, env = "HERALD_MOCK_APNS_PORT", default_value_t = 50445)]
    mock_apns_port: u16,
    /// The mock Web Push service's port.
    #[arg(long, env = "HERALD_MOCK_PUSH_PORT", default_value_t = 50446)]
    mock_push_port: u16,
}

/// A secret from the environment, or from a file in the data directory (created on first use).
fn secret(env: &str, file: &Path, generate: impl FnOnce() -> String) -> anyhow::Result<String> {
    if let Ok(value) = std::env::var(env)
        && !value.is_empty()
    {
        return Ok(value);
    }
    if file.exists() {
        return Ok(std::fs::read_to_string(file)?.trim().to_owned());
    }
    let value = generate();
    write_private(file, &value)?;
    Ok(value)
}

fn write_private(file: &Path, contents: &str) -> anyhow::Result<()> {
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
    data_dir: PathBuf,
    settings: CommonSettings,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let master_key = secret(
        "HERALD_MASTER_KEY",
        &data_dir.join("master.key"),
        MasterKey::generate_base64,
    )?;
    let master_key = Arc::new(MasterKey::from_base64(&master_key)?);
    let admin_key = secret(
        "HERALD_ADMIN_KEY",
        &data_dir.join("admin.key"),
        generate_api_key,
    )?;
    let database_url = match std::env::var("HERALD_DATABASE_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => format!("sqlite://{}?mode=rwc", data_dir.join("herald.db").display()),
    };

    let _nats = ensure_nats(&settings.nats_url, &data_dir).await?;
    let store = Store::connect(&database_url).await.context("database")?;
    let bus = Bus::connect(&settings.nats_url).await?;

    let mut endpoints = herald_telemetry::endpoints_from_env()?;
    let _mocks = if args.with_mocks {
        let ca = herald_testkit::tls::TestCa::new()?;
        let fcm = herald_testkit::fcm::MockFcm::start_on(&ca, args.mock_fcm_port, true).await?;
        let hms = herald_testkit::hms::MockHms::start_on(&ca, args.mock_hms_port, true).await?;
        let apns = herald_testkit::apns::MockApns::start_on(&ca, args.mock_apns_port, true).await?;
        let push =
            herald_testkit::webpush::MockPushService::start_on(&ca, args.mock_push_port, true)
                .await?;
        let apns_key_file = data_dir.join("mock-apns-key.p8");
        write_private(&apns_key_file, apns.team_key_pem())?;
        endpoints.apns_production_url = apns.base_url();
        endpoints.apns_sandbox_url = apns.base_url();
        let account_file = data_dir.join("mock-fcm-service-account.json");
        write_private(&account_file, &fcm.service_account_json())?;
        endpoints.fcm_base_url = fcm.base_url();
        endpoints.hms_base_url = hms.base_url();
        endpoints.hms_token_url = hms.token_url();
        endpoints.http.extra_ca_pem = Some(ca.cert_pem.clone());
        tracing::info!(
            fcm = %fcm.base_url(),
            fcm_service_account = %account_file.display(),
            hms = %hms.base_url(),
            hms_app_id = herald_testkit::hms::APP_ID,
            hms_app_secret = herald_testkit::hms::APP_SECRET,
            apns = %apns.base_url(),
            apns_key = %apns_key_file.display(),
            apns_key_id = herald_testkit::apns::KEY_ID,
            apns_team_id = herald_testkit::apns::TEAM_ID,
            apns_bundle_id = herald_testkit::apns::BUNDLE_ID,
            push_service = %push.base_url(),
            "mock providers running"
        );
        Some((ca, fcm, hms, apns, push))
    } else {
        None
    };

    let listener = herald_telemetry::bind(&args.grpc_addr).await?;
    let stack = Stack {
        store: store.clone(),
        bus,
        master_key,
        admin_key,
        endpoints,
    };
    let mut services = stack.spawn(listener, &shutdown);
    tracing::info!(
        api = %args.grpc_addr,
        admin_key_file = %data_dir.join("admin.key").display(),
        database = %database_url,
        nats = %settings.nats_url,
        "herald is up"
    );

    let result = supervise(&mut services, &shutdown).await;
    store.close().await;
    result
}

/// Everything the services of one Herald share.
pub struct Stack {
    pub store: Store,
    pub bus: Bus,
    pub master_key: Arc<MasterKey>,
    pub admin_key: String,
    pub endpoints: herald_providers::Endpoints,
}

impl Stack {
    /// Spawns ingest (serving `listener`), router, receipt and a sender per provider.
    pub fn spawn(
        self,
        listener: tokio::net::TcpListener,
        shutdown: &CancellationToken,
    ) -> JoinSet<anyhow::Result<()>> {
        let Self {
            store,
            bus,
            master_key,
            admin_key,
            endpoints,
        } = self;
        let mut services = JoinSet::new();
        let ingest = herald_ingest::Config {
            admin_key: Some(admin_key),
            master_key: master_key.clone(),
            endpoints: endpoints.clone(),
        };
        services.spawn(herald_ingest::run(
            ingest,
            store.clone(),
            bus.clone(),
            listener,
            shutdown.clone(),
        ));
        services.spawn(herald_router::run(
            herald_router::Config::default(),
            store.clone(),
            bus.clone(),
            shutdown.clone(),
        ));
        services.spawn(herald_receipt::run(
            herald_receipt::Config::default(),
            store.clone(),
            bus.clone(),
            shutdown.clone(),
        ));
        for provider in [
            Provider::Apns,
            Provider::Fcm,
            Provider::Hms,
            Provider::Webpush,
        ] {
            let sender = herald_sender::Config {
                provider,
                concurrency: 256,
                endpoints: endpoints.clone(),
                master_key: master_key.clone(),
            };
            services.spawn(herald_sender::run(
                sender,
                store.clone(),
                bus.clone(),
                shutdown.clone(),
            ));
        }
        services
    }
}

/// Waits for every service to stop; one failing takes the others down with it (a half-running
/// stack would accept messages it cannot deliver). Answers the first failure.
pub async fn supervise(
    services: &mut JoinSet<anyhow::Result<()>>,
    shutdown: &CancellationToken,
) -> anyhow::Result<()> {
    let mut first_error = None;
    while let Some(result) = services.join_next().await {
        if let Err(err) = result.map_err(anyhow::Error::from).and_then(|r| r) {
            tracing::error!("a service failed: {err:#}");
            shutdown.cancel();
            first_error.get_or_insert(err);
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// A nats-server this process started; stopped when dropped (after the services drained).
struct OwnedNats(tokio::process::Child);

impl Drop for OwnedNats {
    fn drop(&mut self) {
        let _ = self.0.start_kill();
    }
}

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
    let binary = herald_testkit::nats::nats_server_binary();
    if !binary.is_file() {
        bail!(
            "no NATS server answers at {url} and nats-server is not installed (scripts/up installs it)"
        );
    }
    let store_dir = data_dir.join("nats");
    tracing::info!(binary = %binary.display(), %port, store = %store_dir.display(), "starting nats-server");
    let child = tokio::process::Command::new(&binary)
        .args(["-a", "127.0.0.1", "-p", port, "-js", "-sd"])
        .arg(&store_dir)
        .arg("-l")
        .arg(data_dir.join("nats-server.log"))
        // Its own process group: Ctrl-C must stop Herald first, so it can drain, then NATS.
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot start {}", binary.display()))?;
    for _ in 0..200 {
        if reachable(&address).await {
            return Ok(Some(OwnedNats(child)));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!(
        "nats-server did not start; see {}",
        data_dir.join("nats-server.log").display()
    )
}

async fn reachable(address: &str) -> bool {
    let connect = tokio::net::TcpStream::connect(address.replace("localhost", "127.0.0.1"));
    matches!(
        tokio::time::timeout(Duration::from_millis(500), connect).await,
        Ok(Ok(_))
    )
}
