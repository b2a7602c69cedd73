//! `herald-router`: accepted messages → one send task per device.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    herald_runtime::service_main("router", |settings, shutdown| async move {
        let config = herald_router::Config::from_settings(&settings);
        let listener = herald_runtime::bind(settings.health_addr).await?;
        let _health =
            herald_runtime::serve_health(listener, "herald.router", shutdown.clone()).await;
        let store = herald_store::Store::connect(&settings.database_url()).await?;
        let bus = herald_bus::Bus::connect(&settings.nats_url).await?;
        herald_router::run(config, store, bus, shutdown).await
    })
}
