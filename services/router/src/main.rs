//! `herald-router`: accepted messages → one send task per device.

fn main() -> std::process::ExitCode {
    herald_telemetry::service_main("router", |settings, shutdown| async move {
        let config = herald_router::Config {
            max_batch: herald_telemetry::env_parse(
                "HERALD_ROUTER_BATCH",
                herald_router::Config::default().max_batch,
            )?,
        };
        let listener = herald_telemetry::bind(&settings.health_addr).await?;
        let _health =
            herald_telemetry::serve_health(listener, "herald.router", shutdown.clone()).await;
        let store = herald_store::Store::connect(&settings.database_url).await?;
        let bus = herald_bus::Bus::connect(&settings.nats_url).await?;
        herald_router::run(config, store, bus, shutdown).await
    })
}
