//! The webhook dispatcher: posts delivery events to the tenants' outbound webhook endpoints and
//! to the notify URLs of the messages that have one.
//! It scales like a sender (replicas share its consumers) and keeps no state of its own.
//!
//! Two loops. The fan-out reads the events stream (`HERALD_EVENTS`, a durable consumer) and
//! publishes one job per event and matching endpoint on `herald.webhook.<tenant>`, then acks
//! the events. The dispatch posts each job, records the attempt, and settles it by the
//! endpoint's retry policy: a retry is a negative acknowledgement with the policy's delay, so
//! retries wait on the bus and a dispatcher that dies loses none. An endpoint that answers 410,
//! or whose attempts have all failed for `webhooks.disable_after_secs`, is disabled with the
//! reason.
//!
//! Endpoints are read per tenant and kept for [`endpoints::FRESH_FOR`]; ingest announces every
//! change of a tenant's endpoints (core NATS), and the dispatchers read that tenant's again, so
//! a change takes effect at once (within [`FRESH_FOR`] if the announcement was lost).
#![forbid(unsafe_code)]

mod attempts;
mod dispatch;
mod endpoints;
mod fanout;

use std::sync::Arc;
use std::time::Duration;

use herald_bus::{Bus, EVENT_STREAM, WEBHOOK_STREAM, subjects};
use herald_core::crypto::MasterKey;
use herald_store::Store;
use herald_webhooks::Poster;
use tokio_util::sync::CancellationToken;

pub use endpoints::FRESH_FOR;

/// The durable consumers; dispatcher replicas share them.
pub const FANOUT_CONSUMER: &str = "webhook-fanout";
pub const DISPATCH_CONSUMER: &str = "webhook-dispatch";

/// Event batches the fan-out takes at once.
const FANOUT_BATCH: usize = 64;

/// Jobs unacknowledged at once, waiting retries included (a retry stays pending while it
/// waits): enough for a minute of a busy tenant's events while an endpoint is down.
const MAX_PENDING_JOBS: usize = 500_000;

/// Dispatcher settings.
#[derive(Clone, Debug)]
pub struct Config {
    pub concurrency: usize,
    pub disable_after: Duration,
    pub master_key: Arc<MasterKey>,
    pub poster: Poster,
    pub allow_http: bool,
}

impl Config {
    pub fn from_settings(
        settings: &herald_runtime::Settings,
    ) -> Result<Self, herald_runtime::ConfigError> {
        Ok(Self {
            concurrency: settings.webhooks.concurrency,
            disable_after: settings.webhooks.disable_after(),
            master_key: Arc::new(settings.master_key()?),
            poster: settings.webhook_poster()?,
            allow_http: settings.webhooks.allow_http,
        })
    }
}

/// Fans events out and posts them until `shutdown`; the work in hand is finished first.
pub async fn run(
    config: Config,
    store: Store,
    bus: Bus,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let endpoints = endpoints::Endpoints::new(store.clone(), config.master_key.clone());
    let events = bus
        .work_consumer(
            EVENT_STREAM,
            FANOUT_CONSUMER,
            subjects::EVENT_ALL,
            FANOUT_BATCH * 4,
        )
        .await?;
    let jobs = bus
        .work_consumer(
            WEBHOOK_STREAM,
            DISPATCH_CONSUMER,
            subjects::WEBHOOK_ALL,
            MAX_PENDING_JOBS,
        )
        .await?;
    let forgetting = tokio::spawn(
        endpoints
            .clone()
            .forget_changed(bus.clone(), shutdown.clone()),
    );
    tracing::info!("dispatcher consuming");
    let fanning = {
        let (bus, endpoints, shutdown) = (bus.clone(), endpoints.clone(), shutdown.clone());
        async move {
            herald_bus::consume_batches(
                &bus,
                events,
                FANOUT_CONSUMER,
                FANOUT_BATCH,
                shutdown,
                |batch| {
                    let (bus, endpoints) = (bus.clone(), endpoints.clone());
                    async move { fanout::fan_out(&endpoints, &bus, &batch).await }
                },
            )
            .await
        }
    };
    let (attempts, recording) = attempts::Attempts::start(store.clone());
    let dispatcher = dispatch::Dispatcher {
        bus: bus.clone(),
        store,
        attempts,
        endpoints,
        poster: config.poster,
        disable_after: config.disable_after,
        allow_http: config.allow_http,
        master_key: config.master_key.clone(),
    };
    let dispatching = herald_bus::consume(
        &bus,
        jobs,
        DISPATCH_CONSUMER,
        config.concurrency,
        shutdown,
        move |message| {
            let dispatcher = dispatcher.clone();
            async move { dispatcher.handle(&message).await }
        },
    );
    let (fanned, dispatched) = tokio::join!(fanning, dispatching);
    fanned?;
    dispatched?;
    forgetting.await??;
    // Every handler is gone: the writer stores what they left and stops.
    recording.await?;
    tracing::info!("dispatcher stopped");
    Ok(())
}
