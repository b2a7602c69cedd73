//! The admin endpoint every process serves (`telemetry.metrics_addr`): `GET /metrics` for
//! Prometheus, and `POST /drain`, which makes the process stop taking work and answers once
//! its in-flight work is done (what `herald drain` and a rolling update's preStop hook call).
//! `/drain` answers only callers on the same host (loopback): the metrics port is reachable by
//! whatever scrapes it, and stopping a process is the operator's alone.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{ConnectInfo, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// How a process's work ended: `None` while it runs.
type Finished = Option<Result<(), String>>;

/// What the admin endpoint controls and watches: the token the services stop on, and how
/// their work ended.
#[derive(Clone, Debug)]
pub struct Admin {
    stop: CancellationToken,
    finished: Arc<watch::Sender<Finished>>,
    draining_since: Arc<Mutex<Option<Instant>>>,
}

impl Admin {
    /// An admin endpoint whose `/drain` cancels `stop`.
    pub fn new(stop: CancellationToken) -> Self {
        Self {
            stop,
            finished: Arc::new(watch::Sender::new(None)),
            draining_since: Arc::default(),
        }
    }

    /// The services' work has ended, well or not: a waiting `/drain` answers.
    pub fn finished(&self, result: Result<(), String>) {
        self.finished.send_replace(Some(result));
    }
}

/// Serves the admin endpoint on `listener` for as long as the process runs.
pub async fn serve(listener: TcpListener, admin: Admin) {
    let app = axum::Router::new()
        .route("/metrics", get(metrics))
        .route("/drain", post(drain))
        .with_state(admin);
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    if let Err(err) = axum::serve(listener, app).await {
        tracing::error!(%err, "the admin endpoint stopped");
    }
}

async fn metrics() -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            herald_telemetry::metrics::CONTENT_TYPE,
        )],
        herald_telemetry::metrics::encode(),
    )
}

/// Stops the services taking work and answers once what they had in hand is done: 200 with
/// how long that took, or 500 with why it did not finish cleanly. A second call waits too.
async fn drain(
    State(admin): State<Admin>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> impl IntoResponse {
    if !peer.ip().is_loopback() {
        return (
            StatusCode::FORBIDDEN,
            axum::Json(
                json!({ "drained": false, "error": "drain from the process's own host (loopback) only" }),
            ),
        );
    }
    let since = *admin
        .draining_since
        .lock()
        .expect("never poisoned")
        .get_or_insert_with(Instant::now);
    if !admin.stop.is_cancelled() {
        tracing::info!("drain requested: no new work is taken");
        admin.stop.cancel();
    }
    let mut finished = admin.finished.subscribe();
    let ended = finished
        .wait_for(Option::is_some)
        .await
        .map(|ended| ended.clone())
        .ok()
        .flatten();
    let seconds = since.elapsed().as_secs_f64();
    match ended {
        Some(Ok(())) => (
            StatusCode::OK,
            axum::Json(json!({ "drained": true, "seconds": seconds })),
        ),
        Some(Err(error)) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            axum::Json(json!({ "drained": false, "seconds": seconds, "error": error })),
        ),
        None => (
            StatusCode::INTERNAL_SERVER_ERROR,
            axum::Json(
                json!({ "drained": false, "seconds": seconds, "error": "the process is ending" }),
            ),
        ),
    }
}
