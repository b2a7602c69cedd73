//! The one way Herald's services are started together — by `herald up`, the benchmark's
//! in-process mode and the end-to-end tests — from one [`Settings`], so that they cannot drift
//! apart.

use herald_bus::Bus;
use herald_proto::v1::Provider;
use herald_runtime::Settings;
use herald_store::Store;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Which services to start, and with what settings.
#[derive(Debug)]
pub struct Stack {
    settings: Settings,
    /// One entry per sender instance.
    senders: Vec<Provider>,
}

impl Stack {
    /// Ingest, router, receipt, the webhook dispatcher and one sender per provider.
    pub fn new(settings: Settings) -> Self {
        Self {
            settings,
            senders: vec![
                Provider::Apns,
                Provider::Fcm,
                Provider::Hms,
                Provider::Webpush,
            ],
        }
    }

    /// Runs `count` instances of `provider`'s sender (they share its consumer) instead of one.
    pub fn sender_replicas(mut self, provider: Provider, count: usize) -> Self {
        self.senders.retain(|p| *p != provider);
        self.senders.extend(std::iter::repeat_n(provider, count));
        self
    }

    /// Connects to the store and the bus, and spawns every service; ingest serves `listener`.
    /// Each service stops, after finishing its work in hand, once `shutdown` is cancelled.
    pub async fn start(
        self,
        listener: TcpListener,
        shutdown: &CancellationToken,
    ) -> anyhow::Result<Running> {
        let Self { settings, senders } = self;
        // Every configuration problem surfaces before anything starts.
        let ingest = herald_ingest::Config::from_settings(&settings)?;
        let dispatcher = herald_dispatcher::Config::from_settings(&settings)?;
        let senders = senders
            .into_iter()
            .map(|provider| herald_sender::Config::from_settings(&settings, provider))
            .collect::<Result<Vec<_>, _>>()?;
        let store = Store::connect(&settings.database_url()).await?;
        let bus = Bus::connect(&settings.nats_url).await?;
        let mut services = JoinSet::new();
        services.spawn(herald_ingest::run(
            ingest,
            store.clone(),
            bus.clone(),
            listener,
            shutdown.clone(),
        ));
        services.spawn(herald_router::run(
            herald_router::Config::from_settings(&settings),
            store.clone(),
            bus.clone(),
            shutdown.clone(),
        ));
        services.spawn(herald_receipt::run(
            herald_receipt::Config::from_settings(&settings),
            store.clone(),
            bus.clone(),
            shutdown.clone(),
        ));
        services.spawn(herald_dispatcher::run(
            dispatcher,
            store.clone(),
            bus.clone(),
            shutdown.clone(),
        ));
        for sender in senders {
            services.spawn(herald_sender::run(
                sender,
                store.clone(),
                bus.clone(),
                shutdown.clone(),
            ));
        }
        Ok(Running { services, store })
    }
}

/// Started services.
#[derive(Debug)]
pub struct Running {
    services: JoinSet<anyhow::Result<()>>,
    store: Store,
}

impl Running {
    /// Waits for every service to stop; one failing takes the others down with it (a
    /// half-running stack would accept messages it cannot deliver). Answers the first failure.
    pub async fn wait(mut self, shutdown: &CancellationToken) -> anyhow::Result<()> {
        let mut first_error = None;
        while let Some(result) = self.services.join_next().await {
            if let Err(err) = result.map_err(anyhow::Error::from).and_then(|r| r) {
                tracing::error!("a service failed: {err:#}");
                shutdown.cancel();
                first_error.get_or_insert(err);
            }
        }
        self.store.close().await;
        first_error.map_or(Ok(()), Err)
    }
}
