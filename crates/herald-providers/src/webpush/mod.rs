//! Web Push (RFC 8030) with message encryption (RFC 8291) and VAPID (RFC 8292), to any push
//! service a browser subscribed with.
//!
//! The cryptography uses RustCrypto's `p256`, `hkdf` and `aes-gcm` where a key is given (the
//! RFC 8291 test vector, and the receiving side the test kit plays), which `ring` does not
//! offer; a sender's one-time key goes through `ring`'s ephemeral ECDH.

mod client;
pub mod ece;
mod errors;
pub mod limits;
pub mod payload;
pub mod vapid;

pub use client::WebPushClient;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Base64url without padding, as Web Push spells keys.
pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url, with or without padding.
pub fn from_b64url(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(text.trim().trim_end_matches('='))
        .ok()
}
