//! The ingest service: Herald's public gRPC API. It authenticates every call (API key →
//! tenant), validates, stores accepted messages and publishes them to JetStream for the router.
//!
//! Accepted messages go through an outbox: a message is stored before it is published and
//! marked once JetStream acknowledged it; [`relay`] republishes any message whose publish was
//! never acknowledged (ingest crashed, or the bus was down), and JetStream's dedup window drops
//! a publish that did arrive after all.
#![forbid(unsafe_code)]

mod admin;
mod auth;
mod console;
mod convert;
mod credentials;
mod customers;
mod devices;
mod events;
mod import;
mod notifications;
mod openapi;
mod pages;
pub mod relay;
mod rest;
mod rest_api;
mod schedule;
mod sending;
mod server;
mod stats;
mod topics;
mod wait;
mod watch;
mod wazo;
mod webhooks;

use std::sync::Arc;

use herald_bus::Bus;
use herald_core::crypto::MasterKey;
use herald_providers::Endpoints;
use herald_providers::ProviderClient;
use herald_providers::http::HttpClient;
use herald_runtime::{ConfigError, Settings};
use herald_store::{CredentialCache, Store};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Ingest settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// The operator's key for tenant and key administration (`HERALD_ADMIN_KEY`).
    pub admin_key: Option<String>,
    /// Seals provider credentials at rest (`HERALD_MASTER_KEY`).
    pub master_key: Arc<MasterKey>,
    /// Where TestConnection reaches the providers.
    pub endpoints: Endpoints,
    /// What webhook endpoints may be, and the client that tests them.
    pub webhooks: WebhookConfig,
    /// How long published events' records are kept.
    pub event_retention: std::time::Duration,
}

/// Webhook endpoints: whether http is allowed, and the guarded client of their test calls.
#[derive(Clone, Debug)]
pub struct WebhookConfig {
    pub allow_http: bool,
    pub poster: herald_webhooks::Poster,
}

/// What every RPC handler needs.
#[derive(Clone, Debug)]
pub(crate) struct Api {
    store: Store,
    bus: Bus,
    config: Config,
    http: HttpClient,
    keys: Arc<auth::KeyCache>,
    /// Opened provider credentials, for connection tests.
    clients: Arc<CredentialCache<ProviderClient>>,
    marker: relay::Marker,
    /// Cancelled when the server shuts down: long calls (watches, waits) end then.
    shutdown: CancellationToken,
}

/// Serves the API on `listener` until `shutdown`, with the outbox relay alongside; in-flight
/// calls finish before it returns.
pub async fn run(
    config: Config,
    store: Store,
    bus: Bus,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let http = herald_providers::http::client(&config.endpoints.http)?;
    let (marker, marks) = relay::Marker::start(store.clone());
    let keys: Arc<auth::KeyCache> = Arc::default();
    let revocations = tokio::spawn(auth::forget_revoked(
        bus.clone(),
        keys.clone(),
        shutdown.clone(),
    ));
    let api = Api {
        clients: Arc::new(CredentialCache::new(
            store.clone(),
            config.master_key.clone(),
        )),
        store: store.clone(),
        bus: bus.clone(),
        config,
        http,
        keys,
        marker,
        shutdown: shutdown.clone(),
    };
    let routes = server::routes(api.clone()).await?;
    let pruner = tokio::spawn(prune_events(
        store.clone(),
        api.config.event_retention,
        shutdown.clone(),
    ));
    let relay = tokio::spawn(relay::run(store, bus, shutdown.clone()));
    tracing::info!(addr = %listener.local_addr()?, "ingest listening");
    // Keepalive pings find the clients that vanished, so their watches end.
    tonic::transport::Server::builder()
        .trace_fn(request_span)
        .accept_http1(true)
        .http2_keepalive_interval(Some(std::time::Duration::from_secs(30)))
        .http2_keepalive_timeout(Some(std::time::Duration::from_secs(10)))
        .add_routes(routes)
        .serve_with_incoming_shutdown(herald_runtime::incoming(listener), shutdown.cancelled())
        .await?;
    relay.await?;
    pruner.await?;
    revocations.await??;
    // The server dropped its handlers (and their markers): the last marks are written now. A
    // connection task still holding one must not hang the shutdown; the relay covers the rest.
    if tokio::time::timeout(std::time::Duration::from_secs(5), marks)
        .await
        .is_err()
    {
        tracing::warn!(
            "the published marks were not all written; the relay will republish those messages"
        );
    }
    tracing::info!("ingest stopped");
    Ok(())
}

/// Forgets events' records older than `retention`, once a minute (any replica may; the
/// statement is the same for all).
async fn prune_events(store: Store, retention: std::time::Duration, shutdown: CancellationToken) {
    let retention_ms = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
    loop {
        match store
            .prune_events(herald_core::time::now_ms().saturating_sub(retention_ms))
            .await
        {
            Ok(0) => {}
            Ok(pruned) => tracing::debug!(pruned, "old event records pruned"),
            Err(err) => tracing::warn!(%err, "pruning old event records failed; trying again"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
        }
    }
}

impl Config {
    /// The admin key (optional), the master key (required) and the provider endpoints.
    pub fn from_settings(settings: &Settings) -> Result<Self, ConfigError> {
        Ok(Self {
            admin_key: settings.admin_key.as_ref().map(|k| k.expose().to_owned()),
            master_key: Arc::new(settings.master_key()?),
            endpoints: settings.providers.endpoints()?,
            webhooks: WebhookConfig {
                allow_http: settings.webhooks.allow_http,
                poster: settings.webhook_poster()?,
            },
            event_retention: settings.events.retention(),
        })
    }
}

/// A request's span, in the trace its caller sent (W3C `traceparent`), if any.
fn request_span(request: &axum::http::Request<()>) -> tracing::Span {
    let path = request.uri().path();
    // Health probes every few seconds would be traces of their own.
    if path.starts_with("/grpc.health.") {
        return tracing::Span::none();
    }
    let span = tracing::info_span!(
        "request",
        otel.name = %path.trim_start_matches('/'),
        otel.kind = "server",
        rpc.method = %path
    );
    herald_telemetry::trace::adopt(&span, false, |name| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    });
    span
}
