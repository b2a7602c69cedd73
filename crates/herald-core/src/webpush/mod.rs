//! Web Push cryptography: message encryption (RFC 8291, aes128gcm content coding of RFC 8188)
//! and VAPID (RFC 8292). RustCrypto's `p256`, `hkdf` and `aes-gcm` rather than `ring`, because
//! the receiving side (the test kit's push service) and the RFC's test vector need ECDH with
//! given keys, which `ring` does not offer.

pub mod ece;
pub mod vapid;

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
