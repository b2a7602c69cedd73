//! What APNs refuses: a payload over 4096 bytes (5120 for VoIP), and a device token that is not
//! hex (Apple's tokens are 32 bytes today and may grow).

use herald_proto::v1::{Notification, Provider};

use super::payload::{is_voip, payload_size};
use crate::refusal::Refusal;

/// APNs's limit on a payload; VoIP pushes may carry more.
pub const MAX_PAYLOAD_BYTES: usize = 4096;
pub const MAX_VOIP_PAYLOAD_BYTES: usize = 5120;

/// The size limit that applies to `n`.
pub fn max_payload_bytes(n: &Notification) -> usize {
    if is_voip(n) {
        MAX_VOIP_PAYLOAD_BYTES
    } else {
        MAX_PAYLOAD_BYTES
    }
}

/// Whether APNs would take `n`.
pub fn check(n: &Notification) -> Result<(), Refusal> {
    Refusal::over_size(Provider::Apns, payload_size(n), max_payload_bytes(n))
}

/// Whether `token` is an APNs device token: an even number of hex digits.
pub fn check_device_token(token: &str) -> Result<(), &'static str> {
    if token.len().is_multiple_of(2) && token.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err("an APNs device token is an even number of hex digits")
    }
}
