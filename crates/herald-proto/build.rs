//! Compiles `proto/` with protox (pure Rust), so no system `protoc` is needed.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let files = [
        "herald/v1/common.proto",
        "herald/v1/notifications.proto",
        "herald/v1/devices.proto",
        "herald/v1/topics.proto",
        "herald/v1/webhooks.proto",
        "herald/v1/credentials.proto",
        "herald/v1/admin.proto",
        "herald/v1/events.proto",
        "herald/bus/v1/bus.proto",
    ];
    let fds = protox::compile(files, [&root])?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(fds)?;
    println!("cargo:rerun-if-changed={}", root.display());
    Ok(())
}
