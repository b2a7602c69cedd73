//! `herald-sender`: one provider's sender (`HERALD_SENDER_PROVIDER`); run N replicas to share
//! its consumer.

use std::sync::Arc;

fn main() -> std::process::ExitCode {
    herald_telemetry::service_main("sender", |settings, shutdown| async move {
        let master_key = herald_telemetry::master_key_from_env()?;
        let config = herald_sender::Config::from_env(Arc::new(master_key))?;
        let listener = herald_telemetry::bind(&settings.health_addr).await?;
        let _health =
            herald_telemetry::serve_health(listener, "herald.sender", shutdown.clone()).await;
        let store = herald_store::Store::connect(&settings.database_url).await?;
        let bus = herald_bus::Bus::connect(&settings.nats_url).await?;
        herald_sender::run(config, store, bus, shutdown).await
    })
}
