//! `herald-ingest`: the public gRPC API.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    herald_runtime::service_main("ingest", |settings, shutdown| async move {
        let config = herald_ingest::Config::from_settings(&settings)?;
        let listener = herald_runtime::bind(settings.grpc_addr).await?;
        let store = herald_store::Store::connect(&settings.database_url()).await?;
        let bus = herald_bus::Bus::connect(&settings.nats_url).await?;
        herald_ingest::run(config, store, bus, listener, shutdown).await
    })
}
