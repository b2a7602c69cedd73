//! What HMS refuses: a message body (without its tokens) over 4096 bytes. A time to live past
//! HMS's 15 days is not refused: it is sent as 15 days.

use herald_proto::v1::{Notification, Provider};

use super::payload::payload_size;
use crate::limits::Refusal;

/// HMS's limit on a message body, tokens excluded.
pub const MAX_PAYLOAD_BYTES: usize = 4096;
/// HMS caches a message for at most 15 days; a longer TTL is sent as this.
pub const MAX_TTL_SECONDS: u32 = 1_296_000;

/// Whether HMS would take `n`.
pub fn check(n: &Notification) -> Result<(), Refusal> {
    Refusal::over_size(Provider::Hms, payload_size(n), MAX_PAYLOAD_BYTES)
}
