//! Bus messages as any bytes the broker could hand a service: decoding answers (never panics),
//! what decodes encodes back to the same message, and the router's reading of an accepted
//! message's destination answers too.
#![no_main]

use herald_proto::bus::v1::{AcceptedBatch, ReceiptBatch, SendBatch};
use libfuzzer_sys::fuzz_target;
use prost::Message;

fn round_trip<M: Message + Default + PartialEq + std::fmt::Debug>(data: &[u8]) -> Option<M> {
    let message = M::decode(data).ok()?;
    let again = M::decode(message.encode_to_vec().as_slice()).expect("what decoded re-encodes");
    assert_eq!(again, message);
    Some(message)
}

fuzz_target!(|data: &[u8]| {
    if let Some(batch) = round_trip::<AcceptedBatch>(data) {
        for accepted in &batch.messages {
            let _ = herald_core::validate::audience(accepted.destination.as_ref());
        }
    }
    let _ = round_trip::<SendBatch>(data);
    let _ = round_trip::<ReceiptBatch>(data);
});
