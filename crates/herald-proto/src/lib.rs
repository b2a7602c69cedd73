//! Generated protobuf and gRPC code: the public API (`herald.v1`) and the bus messages
//! (`herald.bus.v1`).
#![allow(clippy::all, missing_docs)]

/// The public gRPC API.
pub mod v1 {
    tonic::include_proto!("herald.v1");
    include!(concat!(env!("OUT_DIR"), "/herald.v1.serde.rs"));
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

/// The gRPC codec of every service and client: prost's, except that a request that does not
/// decode answers `INVALID_ARGUMENT` (with a `google.rpc.BadRequest` field violation) rather
/// than `INTERNAL`: the bytes came from the caller, and the server has no fault to look for.
pub mod codec {
    use tonic::Status;
    use tonic::codec::{BufferSettings, DecodeBuf};
    use tonic_prost::{ProstCodec, ProstDecoder, ProstEncoder};
    use tonic_types::{ErrorDetails, StatusExt as _};

    #[derive(Debug, Clone)]
    pub struct Codec<T, U>(ProstCodec<T, U>);

    impl<T, U> Default for Codec<T, U> {
        fn default() -> Self {
            Self(ProstCodec::default())
        }
    }

    impl<T, U> tonic::codec::Codec for Codec<T, U>
    where
        T: prost::Message + Send + 'static,
        U: prost::Message + Default + Send + 'static,
    {
        type Encode = T;
        type Decode = U;
        type Encoder = ProstEncoder<T>;
        type Decoder = Decoder<U>;

        fn encoder(&mut self) -> Self::Encoder {
            self.0.encoder()
        }

        fn decoder(&mut self) -> Self::Decoder {
            Decoder(self.0.decoder())
        }
    }

    #[derive(Debug, Clone)]
    pub struct Decoder<U>(ProstDecoder<U>);

    impl<U: prost::Message + Default> tonic::codec::Decoder for Decoder<U> {
        type Item = U;
        type Error = Status;

        fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
            self.0.decode(buf).map_err(|status| {
                let description = format!("the message does not decode: {}", status.message());
                Status::with_error_details(
                    tonic::Code::InvalidArgument,
                    description.clone(),
                    ErrorDetails::with_bad_request_violation("request", description),
                )
            })
        }

        fn buffer_settings(&self) -> BufferSettings {
            tonic::codec::Decoder::buffer_settings(&self.0)
        }
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
