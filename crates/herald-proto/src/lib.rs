//! Generated protobuf and gRPC code: the public API (`herald.v1`) and the bus messages
//! (`herald.bus.v1`).
#![allow(clippy::all, missing_docs)]

/// The public gRPC API.
pub mod v1 {
    tonic::include_proto!("herald.v1");
}

/// The encoded descriptors of every file above (and what they import), for gRPC server
/// reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/herald_descriptor.bin"));

/// Messages on the NATS JetStream bus.
pub mod bus {
    pub mod v1 {
        tonic::include_proto!("herald.bus.v1");
    }
}

/// Client-side helpers.
pub mod client {
    use tonic::metadata::MetadataValue;
    use tonic::service::Interceptor;

    /// Adds `authorization: Bearer <key>` to every call.
    #[derive(Clone, Debug)]
    pub struct BearerAuth(MetadataValue<tonic::metadata::Ascii>);

    impl BearerAuth {
        /// Fails when the key holds characters a header cannot carry.
        pub fn new(key: &str) -> Result<Self, tonic::metadata::errors::InvalidMetadataValue> {
            Ok(Self(format!("Bearer {key}").parse()?))
        }
    }

    impl Interceptor for BearerAuth {
        fn call(
            &mut self,
            mut request: tonic::Request<()>,
        ) -> Result<tonic::Request<()>, tonic::Status> {
            request
                .metadata_mut()
                .insert("authorization", self.0.clone());
            Ok(request)
        }
    }

    /// A channel whose calls carry the API key.
    pub type AuthedChannel =
        tonic::service::interceptor::InterceptedService<tonic::transport::Channel, BearerAuth>;
}
