//! APNs authentication: a provider token (ES256 JWT from the team's .p8 key) signed once and
//! reused, or a TLS client certificate (.p12 or PEM) presented on every connection.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use herald_proto::v1::ApnsCertificateAuth;
use herald_proto::v1::apns_certificate_auth::Source;
use p12_keystore::{KeyStore, Pkcs12ImportPolicy};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use rustls_pki_types::PrivatePkcs8KeyDer;
use rustls_pki_types::pem::PemObject as _;
use serde_json::json;

use crate::CredentialError;
use crate::token::{AccessTokens, TokenError};

/// How long one provider token is used: Apple refuses refreshes more often than every 20
/// minutes and tokens older than 60.
const TOKEN_REUSE: Duration = Duration::from_secs(50 * 60);

/// A team's provider token, signed once per [`TOKEN_REUSE`], never per request.
pub struct ProviderToken {
    key: EcdsaKeyPair,
    key_id: String,
    team_id: String,
    cached: Mutex<Option<(String, Instant)>>,
}

impl std::fmt::Debug for ProviderToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderToken")
            .field("key_id", &self.key_id)
            .field("team_id", &self.team_id)
            .finish_non_exhaustive()
    }
}

fn apple_id(field: &'static str, value: &str) -> Result<String, CredentialError> {
    if value.len() == 10 && value.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(value.to_owned())
    } else {
        Err(CredentialError::invalid(
            field,
            "10 letters or digits, as Apple shows it",
        ))
    }
}

impl ProviderToken {
    pub fn new(
        private_key_pem: &str,
        key_id: &str,
        team_id: &str,
    ) -> Result<Self, CredentialError> {
        let field = "apns.token.private_key_pem";
        let der = PrivatePkcs8KeyDer::from_pem_slice(private_key_pem.as_bytes())
            .map_err(|_| CredentialError::invalid(field, "not a PKCS#8 PEM key (the .p8 file)"))?;
        let key = EcdsaKeyPair::from_pkcs8(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            der.secret_pkcs8_der(),
            &SystemRandom::new(),
        )
        .map_err(|e| CredentialError::invalid(field, format!("not a P-256 key: {e}")))?;
        Ok(Self {
            key,
            key_id: apple_id("apns.token.key_id", key_id)?,
            team_id: apple_id("apns.token.team_id", team_id)?,
            cached: Mutex::new(None),
        })
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    pub fn team_id(&self) -> &str {
        &self.team_id
    }

    fn sign(&self) -> Result<String, TokenError> {
        let iat = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let header = json!({"alg": "ES256", "kid": self.key_id});
        crate::jwt::sign_es256(
            &self.key,
            &header,
            &json!({"iss": self.team_id, "iat": iat}),
        )
        .map_err(|_| TokenError::Rejected("could not sign the provider token".into()))
    }
}

impl AccessTokens for ProviderToken {
    async fn token(&self) -> Result<String, TokenError> {
        let mut cached = self.cached.lock().expect("provider token");
        if let Some((token, signed_at)) = cached.as_ref()
            && signed_at.elapsed() < TOKEN_REUSE
        {
            return Ok(token.clone());
        }
        let signed = self.sign();
        herald_telemetry::metrics().token_refresh(herald_proto::v1::Provider::Apns, signed.is_ok());
        let token = signed?;
        tracing::debug!(key_id = %self.key_id, "signed a new APNs provider token");
        *cached = Some((token.clone(), Instant::now()));
        Ok(token)
    }

    async fn invalidate(&self, stale: &str) {
        let mut cached = self.cached.lock().expect("provider token");
        if cached.as_ref().is_some_and(|(token, _)| token == stale) {
            *cached = None;
        }
    }
}

/// A client certificate as PEM (chain and key, for reqwest's identity) and its subject.
pub struct ClientCertificate {
    pub pem: Vec<u8>,
    pub subject: String,
}

/// Reads a certificate credential: a .p12 (with its password) or a PEM certificate and key.
pub fn client_certificate(
    auth: &ApnsCertificateAuth,
) -> Result<ClientCertificate, CredentialError> {
    match &auth.source {
        Some(Source::P12(p12)) => {
            let store = KeyStore::from_pkcs12(p12, &auth.password, Pkcs12ImportPolicy::Relaxed)
                .map_err(|e| {
                    CredentialError::invalid(
                        "apns.certificate.p12",
                        format!("cannot open it with this password: {e}"),
                    )
                })?;
            let (_, chain) = store.private_key_chain().ok_or_else(|| {
                CredentialError::invalid(
                    "apns.certificate.p12",
                    "holds no private key with a certificate",
                )
            })?;
            let certificate = chain.certs().first().ok_or_else(|| {
                CredentialError::invalid("apns.certificate.p12", "holds no certificate")
            })?;
            let mut pem = herald_core::crypto::pem("PRIVATE KEY", chain.key().as_der());
            for cert in chain.certs() {
                pem.push_str(&herald_core::crypto::pem("CERTIFICATE", cert.as_der()));
            }
            Ok(ClientCertificate {
                pem: pem.into_bytes(),
                subject: certificate.subject().to_owned(),
            })
        }
        Some(Source::CertificatePem(cert)) => {
            if auth.private_key_pem.is_empty() {
                return Err(CredentialError::invalid(
                    "apns.certificate.private_key_pem",
                    "required with certificate_pem",
                ));
            }
            let pem = format!("{}\n{}", auth.private_key_pem.trim(), cert.trim());
            reqwest::Identity::from_pem(pem.as_bytes()).map_err(|e| {
                CredentialError::invalid(
                    "apns.certificate.certificate_pem",
                    format!("not a usable certificate and key: {e}"),
                )
            })?;
            Ok(ClientCertificate {
                pem: pem.into_bytes(),
                subject: "client certificate (PEM)".into(),
            })
        }
        None => Err(CredentialError::invalid(
            "apns.certificate",
            "set p12 or certificate_pem",
        )),
    }
}
