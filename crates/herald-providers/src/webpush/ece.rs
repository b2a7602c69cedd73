//! RFC 8291 message encryption: one aes128gcm record (RFC 8188) keyed from an ECDH agreement
//! between a fresh sender key and the subscription's `p256dh`, mixed with its `auth` secret.

use aes_gcm::aead::Aead;
use aes_gcm::{Aes128Gcm, KeyInit, Nonce};
use hkdf::Hkdf;
use p256::{PublicKey, SecretKey};
use sha2::Sha256;

/// The record size Herald announces; one record carries the whole message.
pub const RECORD_SIZE: u32 = 4096;
/// The most plaintext that keeps the body within 4096 bytes (RFC 8291 §4).
pub const MAX_PLAINTEXT: usize = 3993;
const HEADER_LEN: usize = 16 + 4 + 1 + 65;

/// Why a message could not be encrypted or decrypted.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum EceError {
    #[error("p256dh is not an uncompressed P-256 public key")]
    BadPublicKey,
    #[error("auth must be 16 bytes")]
    BadAuth,
    #[error("the plaintext is over {MAX_PLAINTEXT} bytes")]
    TooLong,
    #[error("the body is not a valid aes128gcm message")]
    BadBody,
}

struct Keys {
    cek: [u8; 16],
    nonce: [u8; 12],
}

/// RFC 8291 §3.4: the content key and nonce from the ECDH secret, both public keys, the auth
/// secret and the salt.
fn derive(
    ecdh_secret: &[u8],
    ua_public: &[u8],
    as_public: &[u8],
    auth: &[u8],
    salt: &[u8],
) -> Keys {
    let mut key_info = Vec::with_capacity(14 + 65 + 65);
    key_info.extend_from_slice(b"WebPush: info\0");
    key_info.extend_from_slice(ua_public);
    key_info.extend_from_slice(as_public);
    let mut ikm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(auth), ecdh_secret)
        .expand(&key_info, &mut ikm)
        .expect("32 bytes is a valid HKDF-SHA-256 length");
    let prk = Hkdf::<Sha256>::new(Some(salt), &ikm);
    let mut keys = Keys {
        cek: [0; 16],
        nonce: [0; 12],
    };
    prk.expand(b"Content-Encoding: aes128gcm\0", &mut keys.cek)
        .expect("16 bytes is valid");
    prk.expand(b"Content-Encoding: nonce\0", &mut keys.nonce)
        .expect("12 bytes is valid");
    keys
}

fn public_key(bytes: &[u8]) -> Result<PublicKey, EceError> {
    if bytes.len() != 65 || bytes[0] != 4 {
        return Err(EceError::BadPublicKey);
    }
    PublicKey::from_sec1_bytes(bytes).map_err(|_| EceError::BadPublicKey)
}

/// Checks a subscription's keys: `p256dh` an uncompressed P-256 point, `auth` 16 bytes.
pub fn check_subscription_keys(p256dh: &[u8], auth: &[u8]) -> Result<(), EceError> {
    public_key(p256dh)?;
    if auth.len() != 16 {
        return Err(EceError::BadAuth);
    }
    Ok(())
}

/// Seals one record with the keys derived from an ECDH secret, and frames it with the header.
fn seal(
    plaintext: &[u8],
    ecdh_secret: &[u8],
    ua_public: &[u8],
    as_public: &[u8],
    auth: &[u8],
    salt: &[u8; 16],
) -> Result<Vec<u8>, EceError> {
    let keys = derive(ecdh_secret, ua_public, as_public, auth, salt);
    // One record: the plaintext, then the 0x02 delimiter of a last record (no padding).
    let mut record = plaintext.to_vec();
    record.push(2);
    let cipher = Aes128Gcm::new_from_slice(&keys.cek).expect("a 16-byte key");
    let sealed = cipher
        .encrypt(
            &Nonce::try_from(&keys.nonce[..]).expect("a 12-byte nonce"),
            record.as_slice(),
        )
        .map_err(|_| EceError::TooLong)?;
    let mut body = Vec::with_capacity(HEADER_LEN + sealed.len());
    body.extend_from_slice(salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(65);
    body.extend_from_slice(as_public);
    body.extend_from_slice(&sealed);
    Ok(body)
}

/// Encrypts `plaintext` for the subscription (`p256dh`, `auth`) with a fresh key and salt.
///
/// The sender's key is used once, so `ring`'s ephemeral ECDH (assembly-optimised P-256) does
/// the agreement; RustCrypto's portable P-256 serves where a key is given (decryption, and the
/// RFC's fixed vector in the tests), which `ring` cannot do.
pub fn encrypt(plaintext: &[u8], ua_public: &[u8], auth: &[u8]) -> Result<Vec<u8>, EceError> {
    use ring::agreement::{ECDH_P256, EphemeralPrivateKey, UnparsedPublicKey, agree_ephemeral};
    if plaintext.len() > MAX_PLAINTEXT {
        return Err(EceError::TooLong);
    }
    check_subscription_keys(ua_public, auth)?;
    let rng = ring::rand::SystemRandom::new();
    let sender =
        EphemeralPrivateKey::generate(&ECDH_P256, &rng).map_err(|_| EceError::BadPublicKey)?;
    let as_public = sender
        .compute_public_key()
        .map_err(|_| EceError::BadPublicKey)?;
    let salt = herald_core::crypto::random_bytes::<16>();
    agree_ephemeral(
        sender,
        &UnparsedPublicKey::new(&ECDH_P256, ua_public),
        |secret| {
            seal(
                plaintext,
                secret,
                ua_public,
                as_public.as_ref(),
                auth,
                &salt,
            )
        },
    )
    .map_err(|_| EceError::BadPublicKey)?
}

/// A fresh P-256 private key from the system's random source.
pub fn random_secret_key() -> SecretKey {
    loop {
        // A 32-byte value is a valid scalar unless it is 0 or ≥ n, which almost never happens.
        if let Ok(key) = SecretKey::from_slice(&herald_core::crypto::random_bytes::<32>()) {
            return key;
        }
    }
}

/// Decrypts a message as the subscription's browser would (single record).
pub fn decrypt(body: &[u8], ua_secret: &SecretKey, auth: &[u8]) -> Result<Vec<u8>, EceError> {
    if body.len() < HEADER_LEN + 17 || body[20] != 65 {
        return Err(EceError::BadBody);
    }
    let salt = &body[..16];
    let as_public = &body[21..HEADER_LEN];
    let as_key = public_key(as_public)?;
    let ua_public = ua_secret.public_key().to_sec1_bytes();
    let shared = p256::ecdh::diffie_hellman(ua_secret.to_nonzero_scalar(), as_key.as_affine());
    let keys = derive(shared.raw_secret_bytes(), &ua_public, as_public, auth, salt);
    let cipher = Aes128Gcm::new_from_slice(&keys.cek).expect("a 16-byte key");
    let mut record = cipher
        .decrypt(
            &Nonce::try_from(&keys.nonce[..]).expect("a 12-byte nonce"),
            &body[HEADER_LEN..],
        )
        .map_err(|_| EceError::BadBody)?;
    // Strip padding back to the delimiter; a single (last) record ends with 0x02.
    while record.last() == Some(&0) {
        record.pop();
    }
    if record.pop() != Some(2) {
        return Err(EceError::BadBody);
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webpush::{b64url, from_b64url};

    /// RFC 8291 Appendix A.
    const PLAINTEXT: &str = "When I grow up, I want to be a watermelon";
    const AS_PRIVATE: &str = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw";
    const UA_PRIVATE: &str = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94";
    const UA_PUBLIC: &str =
        "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
    const AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";
    const SALT: &str = "DGv6ra1nlYgDCS1FRnbzlw";
    const BODY: &str = "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN";

    fn key(b64: &str) -> SecretKey {
        SecretKey::from_slice(&from_b64url(b64).unwrap()).unwrap()
    }

    /// Encrypts with a given sender key and salt, as the RFC's vector fixes both.
    fn encrypt_with(
        plaintext: &[u8],
        ua_public: &[u8],
        auth: &[u8],
        sender: &SecretKey,
        salt: &[u8; 16],
    ) -> Result<Vec<u8>, EceError> {
        let ua_key = public_key(ua_public)?;
        let as_public = sender.public_key().to_sec1_bytes();
        let shared = p256::ecdh::diffie_hellman(sender.to_nonzero_scalar(), ua_key.as_affine());
        seal(
            plaintext,
            shared.raw_secret_bytes(),
            ua_public,
            &as_public,
            auth,
            salt,
        )
    }

    #[test]
    fn encryption_matches_rfc_8291_appendix_a() {
        let salt: [u8; 16] = from_b64url(SALT).unwrap().try_into().unwrap();
        let body = encrypt_with(
            PLAINTEXT.as_bytes(),
            &from_b64url(UA_PUBLIC).unwrap(),
            &from_b64url(AUTH).unwrap(),
            &key(AS_PRIVATE),
            &salt,
        )
        .unwrap();
        assert_eq!(b64url(&body), BODY);
    }

    #[test]
    fn decryption_recovers_the_rfc_plaintext() {
        let plain = decrypt(
            &from_b64url(BODY).unwrap(),
            &key(UA_PRIVATE),
            &from_b64url(AUTH).unwrap(),
        )
        .unwrap();
        assert_eq!(plain, PLAINTEXT.as_bytes());
    }

    #[test]
    fn a_fresh_encryption_round_trips_and_tampering_is_caught() {
        let ua = random_secret_key();
        let auth = herald_core::crypto::random_bytes::<16>();
        let mut body = encrypt(
            b"{\"title\":\"hi\"}",
            &ua.public_key().to_sec1_bytes(),
            &auth,
        )
        .unwrap();
        assert_eq!(decrypt(&body, &ua, &auth).unwrap(), b"{\"title\":\"hi\"}");
        let last = body.len() - 1;
        body[last] ^= 1;
        assert_eq!(decrypt(&body, &ua, &auth), Err(EceError::BadBody));
    }

    #[test]
    fn limits_and_key_checks() {
        let ua = random_secret_key().public_key().to_sec1_bytes();
        assert_eq!(
            encrypt(&[b'x'; MAX_PLAINTEXT + 1], &ua, &[0; 16]),
            Err(EceError::TooLong)
        );
        let body = encrypt(&[b'x'; MAX_PLAINTEXT], &ua, &[0; 16]).unwrap();
        assert_eq!(body.len(), 4096);
        assert_eq!(
            check_subscription_keys(&ua[..33], &[0; 16]),
            Err(EceError::BadPublicKey)
        );
        assert_eq!(
            check_subscription_keys(&ua, &[0; 15]),
            Err(EceError::BadAuth)
        );
    }
}
