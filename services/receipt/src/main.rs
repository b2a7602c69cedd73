//! `herald-receipt`: the writer of delivery status.

fn main() -> std::process::ExitCode {
    herald_telemetry::service_main("receipt", |settings, shutdown| async move {
        let config = herald_receipt::Config {
            max_batch: herald_telemetry::env_parse(
                "HERALD_RECEIPT_BATCH",
                herald_receipt::Config::default().max_batch,
            )?,
        };
        let listener = herald_telemetry::bind(&settings.health_addr).await?;
        let _health =
            herald_telemetry::serve_health(listener, "herald.receipt", shutdown.clone()).await;
        let store = herald_store::Store::connect(&settings.database_url).await?;
        let bus = herald_bus::Bus::connect(&settings.nats_url).await?;
        herald_receipt::run(config, store, bus, shutdown).await
    })
}
