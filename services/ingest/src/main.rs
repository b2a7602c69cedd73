//! `herald-ingest`: the public gRPC API.

fn main() -> std::process::ExitCode {
    herald_telemetry::service_main("ingest", |settings, shutdown| async move {
        let config = herald_ingest::Config::from_env()?;
        let listener = herald_telemetry::bind(&herald_telemetry::env_or(
            "HERALD_GRPC_ADDR",
            "0.0.0.0:50051",
        ))
        .await?;
        let store = herald_store::Store::connect(&settings.database_url).await?;
        let bus = herald_bus::Bus::connect(&settings.nats_url).await?;
        herald_ingest::run(config, store, bus, listener, shutdown).await
    })
}
