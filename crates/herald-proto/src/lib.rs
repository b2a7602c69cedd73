//! Generated protobuf and gRPC code: the public API (`herald.v1`) and the bus messages
//! (`herald.bus.v1`).
#![allow(clippy::all, missing_docs)]

/// The public gRPC API.
pub mod v1 {
    tonic::include_proto!("herald.v1");
}

/// Messages on the NATS JetStream bus.
pub mod bus {
    pub mod v1 {
        tonic::include_proto!("herald.bus.v1");
    }
}
