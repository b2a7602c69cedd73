//! `herald-sender`: one provider's sender (`HERALD_SENDER_PROVIDER`); run N replicas to share
//! its consumer.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    herald_runtime::service_main("sender", |settings, shutdown| async move {
        let config = herald_sender::Config::from_settings(&settings, settings.sender.provider)?;
        let listener = herald_runtime::bind(settings.health_addr).await?;
        let _health =
            herald_runtime::serve_health(listener, "herald.sender", shutdown.clone()).await;
        let store = herald_store::Store::connect(&settings.database_url()).await?;
        let bus = herald_bus::Bus::connect(&settings.nats_url).await?;
        herald_sender::run(config, store, bus, shutdown).await
    })
}
