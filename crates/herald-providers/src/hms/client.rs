//! The HMS client of one app credential: one HTTP/2 connection pool and one token cache, reused
//! for every send of the tenant.

use bytes::Bytes;
use herald_proto::v1::HmsCredential;

use super::auth::AppTokens;
use super::errors::classify;
use super::payload::{AppSettings, MAX_BADGE_CLASS_LEN};
use crate::http::{HttpClient, post_json};
use crate::token::{Classified, send_with_refresh};
use crate::{CredentialError, SendOutcome};

#[derive(Debug)]
pub struct HmsClient {
    http: HttpClient,
    app_id: String,
    badge_class: Option<String>,
    send_url: reqwest::Url,
    tokens: AppTokens,
}

impl HmsClient {
    /// A client for `credential`, sending to `base_url` and fetching tokens at `token_url`
    /// (Huawei's, or a mock's).
    pub fn new(
        http: HttpClient,
        base_url: &str,
        token_url: &str,
        credential: &HmsCredential,
    ) -> Result<Self, CredentialError> {
        if credential.app_id.is_empty() || !credential.app_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CredentialError::invalid(
                "hms.app_id",
                "the numeric app id is required",
            ));
        }
        if credential.app_secret.is_empty() {
            return Err(CredentialError::invalid("hms.app_secret", "required"));
        }
        if credential.badge_class.trim().len() > MAX_BADGE_CLASS_LEN {
            return Err(CredentialError::invalid(
                "hms.badge_class",
                format!("at most {MAX_BADGE_CLASS_LEN} characters"),
            ));
        }
        let send_url = format!(
            "{}/v1/{}/messages:send",
            base_url.trim_end_matches('/'),
            credential.app_id
        )
        .parse()
        .map_err(|e| CredentialError::invalid("hms.app_id", format!("makes no URL: {e}")))?;
        Ok(Self {
            app_id: credential.app_id.clone(),
            badge_class: Some(credential.badge_class.trim().to_owned()).filter(|c| !c.is_empty()),
            send_url,
            tokens: AppTokens::new(
                credential.app_id.clone(),
                credential.app_secret.clone(),
                token_url.to_owned(),
                http.clone(),
            ),
            http,
        })
    }

    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    /// The app's settings that shape its pushes.
    pub fn app_settings(&self) -> AppSettings<'_> {
        AppSettings {
            badge_class: self.badge_class.as_deref(),
        }
    }

    /// Sends one `messages:send` body addressed to `token`; an expired access token (80200003)
    /// is refreshed once.
    #[tracing::instrument(skip_all)]
    pub async fn send(&self, body: &Bytes, token: &str) -> SendOutcome {
        send_with_refresh("HMS", &self.tokens, |access| async move {
            self.post(&access, body, token).await
        })
        .await
    }

    async fn post(&self, access_token: &str, body: &Bytes, token: &str) -> Classified {
        match post_json(&self.http, &self.send_url, access_token, body).await {
            Ok(a) => classify(a.status, a.retry_after, &a.body, token),
            Err(outcome) => Classified::Outcome(outcome),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_testkit::hms::{APP_ID, APP_SECRET, Answer, MockHms};
    use herald_testkit::tls::TestCa;

    use crate::http::{HttpConfig, client};

    async fn setup(secret: &str) -> (MockHms, HmsClient) {
        let ca = TestCa::new().unwrap();
        let mock = MockHms::start(&ca).await.unwrap();
        let http = client(&HttpConfig {
            extra_ca_pem: Some(ca.cert_pem.clone()),
            ..Default::default()
        })
        .unwrap();
        let credential = HmsCredential {
            app_id: APP_ID.into(),
            app_secret: secret.into(),
            ..Default::default()
        };
        let hms = HmsClient::new(http, &mock.base_url(), &mock.token_url(), &credential).unwrap();
        (mock, hms)
    }

    fn body(token: &str) -> Bytes {
        serde_json::json!({"validate_only": false, "message": {"data": "{}", "token": [token]}})
            .to_string()
            .into()
    }

    #[tokio::test]
    async fn concurrent_sends_share_one_access_token_over_http2() {
        let (mock, hms) = setup(APP_SECRET).await;
        let tokens: Vec<String> = (0..10).map(|i| format!("hms-{i}")).collect();
        let bodies: Vec<Bytes> = tokens.iter().map(|t| body(t)).collect();
        let sends = bodies.iter().zip(&tokens).map(|(b, t)| hms.send(b, t));
        let outcomes = futures::future::join_all(sends).await;
        assert!(
            outcomes
                .iter()
                .all(|o| matches!(o, SendOutcome::Submitted { .. })),
            "{outcomes:?}"
        );
        assert_eq!(mock.token_requests(), 1);
        assert!(
            mock.received()
                .iter()
                .all(|p| p.http_version == reqwest::Version::HTTP_2)
        );
    }

    #[tokio::test]
    async fn a_refused_access_token_is_dropped_and_a_new_one_used() {
        // The mock answers a token it no longer accepts as Push Kit does: 401, 80200001.
        let (mock, hms) = setup(APP_SECRET).await;
        mock.script("hms-1", [Answer::expired_access_token()]);
        assert!(matches!(
            hms.send(&body("hms-1"), "hms-1").await,
            SendOutcome::Submitted { .. }
        ));
        assert_eq!((mock.token_requests(), mock.attempts("hms-1")), (2, 2));
    }

    #[tokio::test]
    async fn a_wrong_app_secret_fails_without_sending() {
        let (mock, hms) = setup("not-the-secret").await;
        let SendOutcome::Failed { reason } = hms.send(&body("hms-1"), "hms-1").await else {
            panic!("expected a failure")
        };
        assert!(reason.contains("invalid client"), "{reason}");
        assert_eq!(mock.attempts("hms-1"), 0);
    }

    #[test]
    fn the_app_id_is_numeric_and_the_secret_required() {
        let http = client(&HttpConfig::default()).unwrap();
        let bad = HmsCredential {
            app_id: "abc".into(),
            app_secret: "s".into(),
            ..Default::default()
        };
        assert!(HmsClient::new(http.clone(), "https://x", "https://y", &bad).is_err());
        let no_secret = HmsCredential {
            app_id: "1".into(),
            app_secret: String::new(),
            ..Default::default()
        };
        assert!(HmsClient::new(http, "https://x", "https://y", &no_secret).is_err());
    }
}
