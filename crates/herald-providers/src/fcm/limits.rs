//! What FCM refuses: a message whose payload (without its target) passes 4096 bytes.

use herald_proto::v1::{Notification, Provider};

use super::payload::payload_size;
use crate::refusal::Refusal;

/// FCM's limit on a message's payload.
pub const MAX_PAYLOAD_BYTES: usize = 4096;

/// Whether FCM would take `n`.
pub fn check(n: &Notification) -> Result<(), Refusal> {
    Refusal::over_size(Provider::Fcm, payload_size(n), MAX_PAYLOAD_BYTES)
}
