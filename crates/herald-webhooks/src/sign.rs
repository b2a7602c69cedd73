//! Signatures: Standard Webhooks v1 (`webhook-signature: v1,<base64 HMAC-SHA256 of
//! "{id}.{timestamp}.{body}">`, one per active secret, space-separated, so a receiver keeps
//! verifying through a rotation) and the seeds' `x-hub-signature` (hex HMAC-SHA256 or
//! HMAC-SHA512 of the body, RFC 2104, keyed with the secret as shown: `whsec_…`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use herald_proto::v1::SignatureScheme;
use ring::hmac;

/// The prefix Standard Webhooks gives a secret.
const PREFIX: &str = "whsec_";

/// A signing secret: `whsec_` and the base64 of its key bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl Secret {
    /// A new random secret of 32 bytes.
    pub fn generate() -> Self {
        let key = herald_core::crypto::random_bytes::<32>();
        Self(format!("{PREFIX}{}", STANDARD.encode(key)))
    }

    /// A secret as [`Secret::shown`] wrote it.
    pub fn parse(text: &str) -> Option<Self> {
        let key = STANDARD.decode(text.strip_prefix(PREFIX)?).ok()?;
        (!key.is_empty()).then(|| Self(text.to_owned()))
    }

    /// The text the tenant is shown once and keeps.
    pub fn shown(&self) -> &str {
        &self.0
    }

    fn key_bytes(&self) -> Vec<u8> {
        STANDARD
            .decode(&self.0[PREFIX.len()..])
            .expect("checked when made")
    }
}

/// The `webhook-signature` value: a `v1,` signature per secret, the newest first.
pub fn standard(secrets: &[&Secret], id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets
        .iter()
        .map(|secret| {
            let key = hmac::Key::new(hmac::HMAC_SHA256, &secret.key_bytes());
            let mut context = hmac::Context::with_key(&key);
            context.update(id.as_bytes());
            context.update(b".");
            context.update(timestamp.to_string().as_bytes());
            context.update(b".");
            context.update(body);
            format!("v1,{}", STANDARD.encode(context.sign().as_ref()))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `x-hub-signature` value of `scheme`, if it has one: the hex HMAC of the body.
pub fn hub(scheme: SignatureScheme, secret: &Secret, body: &[u8]) -> Option<String> {
    let algorithm = match scheme {
        SignatureScheme::HubSha256 => hmac::HMAC_SHA256,
        SignatureScheme::HubSha512 => hmac::HMAC_SHA512,
        SignatureScheme::StandardWebhooks | SignatureScheme::Unspecified => return None,
    };
    let key = hmac::Key::new(algorithm, secret.shown().as_bytes());
    Some(herald_core::crypto::hex(hmac::sign(&key, body).as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(id: &str, timestamp: i64, signature: &str) -> http::HeaderMap {
        let mut headers = http::HeaderMap::new();
        headers.insert("webhook-id", id.parse().unwrap());
        headers.insert("webhook-timestamp", timestamp.to_string().parse().unwrap());
        headers.insert("webhook-signature", signature.parse().unwrap());
        headers
    }

    #[test]
    fn the_reference_implementation_verifies_our_signatures() {
        let secret = Secret::generate();
        let now = herald_core::time::now_ms() / 1000;
        let body = br#"{"type":"delivery.delivered","timestamp":"2026-11-30T10:00:00Z","data":{}}"#;
        let signature = standard(&[&secret], "evt_1", now, body);
        let verifier = standardwebhooks::Webhook::new(secret.shown()).unwrap();
        verifier
            .verify(body, &headers("evt_1", now, &signature))
            .unwrap();
        // A changed body, id or timestamp fails.
        assert!(
            verifier
                .verify(b"{}", &headers("evt_1", now, &signature))
                .is_err()
        );
        assert!(
            verifier
                .verify(body, &headers("evt_2", now, &signature))
                .is_err()
        );
        // And ours matches theirs, byte for byte.
        assert_eq!(
            verifier.sign("evt_1", now, body).unwrap(),
            signature.as_str()
        );
    }

    #[test]
    fn during_a_rotation_either_secret_verifies() {
        let (old, new) = (Secret::generate(), Secret::generate());
        let now = herald_core::time::now_ms() / 1000;
        let signature = standard(&[&new, &old], "evt_9", now, b"body");
        assert_eq!(signature.split(' ').count(), 2);
        for secret in [&old, &new] {
            standardwebhooks::Webhook::new(secret.shown())
                .unwrap()
                .verify(b"body", &headers("evt_9", now, &signature))
                .unwrap();
        }
        let stranger = Secret::generate();
        assert!(
            standardwebhooks::Webhook::new(stranger.shown())
                .unwrap()
                .verify(b"body", &headers("evt_9", now, &signature))
                .is_err()
        );
    }

    #[test]
    fn hub_signatures_are_rfc_2104_hmacs_of_the_body() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let secret = Secret("Jefe".into());
        let data = b"what do ya want for nothing?";
        assert_eq!(
            hub(SignatureScheme::HubSha256, &secret, data).unwrap(),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hub(SignatureScheme::HubSha512, &secret, data).unwrap(),
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
        );
        assert_eq!(hub(SignatureScheme::StandardWebhooks, &secret, data), None);
    }

    #[test]
    fn secrets_read_back_and_refuse_other_text() {
        let secret = Secret::generate();
        assert_eq!(Secret::parse(secret.shown()), Some(secret.clone()));
        assert_eq!(secret.key_bytes().len(), 32);
        assert_eq!(Secret::parse("whsec_"), None);
        assert_eq!(Secret::parse("sk_abc"), None);
        assert_eq!(format!("{secret:?}"), "Secret(…)");
    }
}
