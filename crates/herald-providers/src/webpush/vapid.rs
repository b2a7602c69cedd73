//! VAPID (RFC 8292): the application server's P-256 key pair and the ES256 JWT it signs for a
//! push service's origin.

use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use serde_json::json;

use super::{b64url, from_b64url};

/// A JWT's `exp` may be at most this far ahead (RFC 8292 §2).
pub const MAX_LIFETIME_SECS: u64 = 24 * 3600;

/// A tenant's VAPID key pair.
pub struct VapidKey {
    signing: SigningKey,
    /// Base64url of the uncompressed public key: the page's `applicationServerKey`.
    pub public_key: String,
}

impl std::fmt::Debug for VapidKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VapidKey")
            .field("public_key", &self.public_key)
            .finish_non_exhaustive()
    }
}

/// Why VAPID keys are unusable.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum VapidError {
    #[error("the private key must be 32 bytes of base64url")]
    BadPrivateKey,
    #[error("the public key does not belong to the private key")]
    KeyMismatch,
    #[error("the subject must be a mailto: or https: URL")]
    BadSubject,
}

impl VapidKey {
    /// A new key pair; answers it and the private key as base64url.
    pub fn generate() -> (Self, String) {
        let secret = super::ece::random_secret_key();
        let private = b64url(&secret.to_bytes());
        (
            Self::from_private(&private).expect("a fresh key is valid"),
            private,
        )
    }

    /// The key pair of a base64url private key.
    pub fn from_private(private_b64: &str) -> Result<Self, VapidError> {
        let bytes = from_b64url(private_b64)
            .filter(|b| b.len() == 32)
            .ok_or(VapidError::BadPrivateKey)?;
        let signing = SigningKey::from_slice(&bytes).map_err(|_| VapidError::BadPrivateKey)?;
        let public_key = b64url(&signing.verifying_key().to_sec1_bytes());
        Ok(Self {
            signing,
            public_key,
        })
    }

    /// Like [`VapidKey::from_private`], also checking a given public key is its pair.
    pub fn from_pair(private_b64: &str, public_b64: &str) -> Result<Self, VapidError> {
        let key = Self::from_private(private_b64)?;
        if !public_b64.is_empty() && from_b64url(public_b64) != from_b64url(&key.public_key) {
            return Err(VapidError::KeyMismatch);
        }
        Ok(key)
    }

    /// An ES256 JWT for `audience` (a push service origin) expiring at `exp`, naming `subject`.
    pub fn jwt(&self, audience: &str, exp: u64, subject: &str) -> String {
        let header = b64url(json!({"typ": "JWT", "alg": "ES256"}).to_string().as_bytes());
        let claims = b64url(
            json!({"aud": audience, "exp": exp, "sub": subject})
                .to_string()
                .as_bytes(),
        );
        let input = format!("{header}.{claims}");
        let signature: Signature = self.signing.sign(input.as_bytes());
        format!("{input}.{}", b64url(&signature.to_bytes()))
    }

    /// The `Authorization` header value for a JWT.
    pub fn authorization(&self, jwt: &str) -> String {
        format!("vapid t={jwt}, k={}", self.public_key)
    }
}

/// Checks a VAPID subject: a `mailto:` address or an `https:` URL (RFC 8292 §2.1).
pub fn check_subject(subject: &str) -> Result<(), VapidError> {
    let ok = match url::Url::parse(subject) {
        Ok(url) if url.scheme() == "mailto" => url.path().contains('@'),
        Ok(url) => url.scheme() == "https" && url.host().is_some(),
        Err(_) => false,
    };
    if ok {
        Ok(())
    } else {
        Err(VapidError::BadSubject)
    }
}

/// The audience of an endpoint: its origin, scheme://host, with the port unless it is the
/// scheme's default.
pub fn audience(endpoint: &str) -> Option<String> {
    let url = url::Url::parse(endpoint).ok()?;
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::VerifyingKey;
    use p256::ecdsa::signature::Verifier as _;

    #[test]
    fn a_jwt_verifies_with_the_public_key_and_carries_the_claims() {
        let (key, private) = VapidKey::generate();
        assert_eq!(from_b64url(&private).unwrap().len(), 32);
        assert_eq!(from_b64url(&key.public_key).unwrap().len(), 65);
        let jwt = key.jwt(
            "https://push.example.net:8443",
            1_700_000_000,
            "mailto:ops@example.com",
        );
        let (input, signature) = jwt.rsplit_once('.').unwrap();
        let verifying =
            VerifyingKey::from_sec1_bytes(&from_b64url(&key.public_key).unwrap()).unwrap();
        let signature = Signature::from_slice(&from_b64url(signature).unwrap()).unwrap();
        verifying.verify(input.as_bytes(), &signature).unwrap();
        let claims: serde_json::Value =
            serde_json::from_slice(&from_b64url(input.split('.').nth(1).unwrap()).unwrap())
                .unwrap();
        assert_eq!(claims["aud"], "https://push.example.net:8443");
        assert_eq!(claims["sub"], "mailto:ops@example.com");
        assert!(key.authorization(&jwt).starts_with("vapid t=ey"));
    }

    #[test]
    fn pairs_and_subjects_are_checked() {
        let (key, private) = VapidKey::generate();
        assert!(VapidKey::from_pair(&private, &key.public_key).is_ok());
        let (other, _) = VapidKey::generate();
        assert_eq!(
            VapidKey::from_pair(&private, &other.public_key).unwrap_err(),
            VapidError::KeyMismatch
        );
        assert_eq!(
            VapidKey::from_private("c2hvcnQ").unwrap_err(),
            VapidError::BadPrivateKey
        );
        assert!(check_subject("mailto:ops@example.com").is_ok());
        assert!(check_subject("https://example.com/contact").is_ok());
        assert!(check_subject("http://example.com").is_err());
        assert!(check_subject("ops@example.com").is_err());
    }

    #[test]
    fn the_audience_is_the_origin_with_a_non_default_port() {
        assert_eq!(
            audience("https://fcm.googleapis.com/fcm/send/abc").as_deref(),
            Some("https://fcm.googleapis.com")
        );
        assert_eq!(
            audience("https://push.example:8443/p/1").as_deref(),
            Some("https://push.example:8443")
        );
        assert_eq!(
            audience("https://push.example:443/p/1").as_deref(),
            Some("https://push.example")
        );
        assert_eq!(audience("not a url"), None);
    }
}
