//! `herald-dispatcher`: posts delivery events to the tenants' webhook endpoints.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    herald_runtime::service_main("dispatcher", |settings, shutdown| async move {
        let config = herald_dispatcher::Config::from_settings(&settings)?;
        let listener = herald_runtime::bind(settings.health_addr).await?;
        let _health =
            herald_runtime::serve_health(listener, "herald.dispatcher", shutdown.clone()).await;
        let store = herald_store::Store::connect(&settings.database_url()).await?;
        let bus = herald_bus::Bus::connect(&settings.nats_url).await?;
        herald_dispatcher::run(config, store, bus, shutdown).await
    })
}
