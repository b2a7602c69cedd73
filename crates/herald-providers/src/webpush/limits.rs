//! What a push service (and RFC 8291) refuses: a message whose plaintext passes 3993 bytes, so
//! that the encrypted body stays within 4096; and a subscription whose keys are not a P-256
//! point and a 16-byte secret.

use herald_proto::v1::{Notification, Provider};

use super::ece::{self, EceError};
use super::from_b64url;
use super::payload::plaintext_size;
use crate::refusal::Refusal;

/// Whether a push service would take `n`.
pub fn check(n: &Notification) -> Result<(), Refusal> {
    Refusal::over_size(Provider::Webpush, plaintext_size(n), ece::MAX_PLAINTEXT)
}

/// Checks a subscription's `p256dh` and `auth` (base64url); answers the field at fault and why.
pub fn check_subscription_keys(
    p256dh: &str,
    auth: &str,
) -> Result<(), (&'static str, &'static str)> {
    let p256dh = from_b64url(p256dh).unwrap_or_default();
    let auth = from_b64url(auth).unwrap_or_default();
    match ece::check_subscription_keys(&p256dh, &auth) {
        Ok(()) => Ok(()),
        Err(EceError::BadAuth) => Err(("auth", "must be 16 bytes of base64url")),
        Err(_) => Err((
            "p256dh",
            "must be a 65-byte uncompressed P-256 public key in base64url",
        )),
    }
}
