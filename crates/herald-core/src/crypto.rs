//! Secrets at rest and API keys.
//!
//! Provider credentials are sealed with AES-256-GCM under the operator's master key; the
//! associated data binds a sealed blob to its tenant and purpose, so a row copied to another
//! tenant does not open. API keys are random, shown once, and stored as their SHA-256 (a fast
//! hash is right here: the keys carry 256 bits of entropy, so there is nothing to brute-force).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

use crate::Error;

/// The recognisable prefix of every Herald API key.
pub const API_KEY_PREFIX: &str = "hrld_";

/// The operator's key that seals secrets at rest.
pub struct MasterKey(LessSafeKey);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    /// Parses a base64-encoded 32-byte key (the `HERALD_MASTER_KEY` setting).
    pub fn from_base64(encoded: &str) -> Result<Self, Error> {
        let bytes = STANDARD
            .decode(encoded.trim())
            .map_err(|_| Error::invalid("master_key", "not valid base64"))?;
        let key = UnboundKey::new(&AES_256_GCM, &bytes).map_err(|_| {
            Error::invalid("master_key", "must be 32 bytes (base64 of 32 random bytes)")
        })?;
        Ok(Self(LessSafeKey::new(key)))
    }

    /// A fresh random key, base64-encoded (for `herald up`'s first start).
    pub fn generate_base64() -> String {
        STANDARD.encode(random_bytes::<32>())
    }

    /// Seals `plaintext`; the output is nonce ‖ ciphertext ‖ tag.
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> Vec<u8> {
        let nonce_bytes = random_bytes::<NONCE_LEN>();
        let mut buf = plaintext.to_vec();
        self.0
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::from(context.as_bytes()),
                &mut buf,
            )
            .expect("AES-GCM sealing cannot fail for in-memory sizes");
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&buf);
        out
    }

    /// Opens what [`MasterKey::seal`] produced under the same `context`.
    pub fn open(&self, context: &str, sealed: &[u8]) -> Result<Vec<u8>, Error> {
        if sealed.len() < NONCE_LEN {
            return Err(Error::internal("sealed secret is truncated"));
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(Error::internal)?;
        let mut buf = ciphertext.to_vec();
        let plain = self
            .0
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut buf)
            .map_err(|_| Error::internal("sealed secret does not open with this master key"))?;
        Ok(plain.to_vec())
    }
}

/// A new API key: `hrld_` + 43 base64url characters (256 random bits).
pub fn generate_api_key() -> String {
    format!(
        "{API_KEY_PREFIX}{}",
        URL_SAFE_NO_PAD.encode(random_bytes::<32>())
    )
}

/// What is stored for an API key: the hex SHA-256 of the whole key.
pub fn hash_api_key(key: &str) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, key.as_bytes()).as_ref())
}

/// The part of a key shown in listings so an operator can recognise it.
pub fn display_prefix(key: &str) -> String {
    key.chars().take(API_KEY_PREFIX.len() + 6).collect()
}

/// Compares two secrets in constant time.
pub fn secrets_equal(a: &str, b: &str) -> bool {
    let (ha, hb) = (hash_api_key(a), hash_api_key(b));
    ha.bytes()
        .zip(hb.bytes())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// A PEM block: `der` in base64, 64 characters a line, between `label` markers.
pub fn pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `N` bytes from the operating system's random source.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    SystemRandom::new()
        .fill(&mut out)
        .expect("the system random source failed");
    out
}

/// The associated data a tenant's provider credential is sealed under.
pub fn credential_context(tenant: &str, provider: &str) -> String {
    format!("credential/{tenant}/{provider}")
}

/// The associated data an outbound webhook's secrets and authorization are sealed under.
pub fn webhook_context(tenant: &str, webhook: &str, what: &str) -> String {
    format!("webhook/{tenant}/{webhook}/{what}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> MasterKey {
        MasterKey::from_base64(&MasterKey::generate_base64()).unwrap()
    }

    #[test]
    fn sealed_secrets_open_only_in_their_context() {
        let k = key();
        let sealed = k.seal("tnt_a/fcm", b"private key");
        assert!(!sealed.windows(11).any(|w| w == b"private key"));
        assert_eq!(k.open("tnt_a/fcm", &sealed).unwrap(), b"private key");
        assert!(k.open("tnt_b/fcm", &sealed).is_err());
        assert!(key().open("tnt_a/fcm", &sealed).is_err());
    }

    #[test]
    fn master_key_must_be_32_bytes() {
        let err = MasterKey::from_base64("c2hvcnQ=").unwrap_err();
        assert!(err.to_string().starts_with("master_key:"));
    }

    #[test]
    fn api_keys_are_prefixed_random_and_hashed() {
        let a = generate_api_key();
        let b = generate_api_key();
        assert!(a.starts_with(API_KEY_PREFIX));
        assert_ne!(a, b);
        assert_eq!(hash_api_key(&a).len(), 64);
        assert!(!hash_api_key(&a).contains(&a[5..]));
        assert!(secrets_equal(&a, &a.clone()));
        assert!(!secrets_equal(&a, &b));
    }
}
