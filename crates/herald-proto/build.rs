//! Compiles `proto/` with protox (pure Rust), so no system `protoc` is needed, and keeps the
//! encoded descriptors for gRPC server reflection.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let files = [
        "herald/v1/common.proto",
        "herald/v1/notifications.proto",
        "herald/v1/devices.proto",
        "herald/v1/topics.proto",
        "herald/v1/customers.proto",
        "herald/v1/webhooks.proto",
        "herald/v1/credentials.proto",
        "herald/v1/admin.proto",
        "herald/v1/events.proto",
        "herald/bus/v1/bus.proto",
    ];
    let fds = protox::compile(files, [&root])?;
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    let descriptors = prost::Message::encode_to_vec(&fds);
    std::fs::write(out.join("herald_descriptor.bin"), &descriptors)?;
    // The proto3 JSON mapping of the public API (with the .proto field names), for the REST
    // surface. Left out: the messages that hold google.protobuf or google.rpc types, which have
    // no JSON mapping here (the REST surface does not take or answer them).
    pbjson_build::Builder::new()
        .register_descriptors(&descriptors)?
        .preserve_proto_field_names()
        .btree_map([".herald.v1"])
        .exclude([
            ".herald.v1.SendBatchResult",
            ".herald.v1.SendBatchResponse",
            ".herald.v1.UpdateTenantRequest",
            ".herald.v1.UpdateCustomerRequest",
            ".herald.v1.UpdateWebhookRequest",
        ])
        .build(&[".herald.v1"])?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        // Maps encode in key order, so a request's encoding (and digest) is deterministic.
        .btree_map(".")
        // google.rpc.Status is tonic-types' (the type tonic's rich errors use).
        .extern_path(".google.rpc", "::tonic_types::pb")
        // Prost's codec, except that a frame that does not decode is the caller's error.
        .codec_path("crate::codec::Codec")
        .compile_fds(fds)?;
    println!("cargo:rerun-if-changed={}", root.display());
    Ok(())
}
