//! The FCM HTTP v1 client of one credential: one HTTP/2 connection pool and one token cache,
//! reused for every send of the tenant.

use bytes::Bytes;
use herald_proto::v1::FcmCredential;

use super::auth::{ServiceAccount, TokenSource};
use super::errors::classify;
use crate::http::{HttpClient, post_json};
use crate::token::{Classified, send_with_refresh};
use crate::{CredentialError, SendOutcome};

#[derive(Debug)]
pub struct FcmClient {
    http: HttpClient,
    send_url: reqwest::Url,
    project_id: String,
    client_email: String,
    tokens: TokenSource,
}

impl FcmClient {
    /// A client for `credential`, sending to `base_url` (FCM's, or a mock's).
    pub fn new(
        http: HttpClient,
        base_url: &str,
        credential: &FcmCredential,
    ) -> Result<Self, CredentialError> {
        let account = ServiceAccount::parse(&credential.service_account_json)?;
        let project_id = if credential.project_id.is_empty() {
            account.project_id.clone()
        } else {
            credential.project_id.clone()
        };
        if project_id.is_empty() {
            return Err(CredentialError::invalid(
                "fcm.project_id",
                "required (the service account JSON has none)",
            ));
        }
        let send_url = format!(
            "{}/v1/projects/{project_id}/messages:send",
            base_url.trim_end_matches('/')
        )
        .parse()
        .map_err(|e| CredentialError::invalid("fcm.project_id", format!("makes no URL: {e}")))?;
        Ok(Self {
            send_url,
            project_id,
            client_email: account.client_email.clone(),
            tokens: TokenSource::new(account, http.clone())?,
            http,
        })
    }

    pub fn project_id(&self) -> &str {
        &self.project_id
    }

    /// The service account the client authenticates as.
    pub fn client_email(&self) -> &str {
        &self.client_email
    }

    /// Sends one `messages:send` body. A 401 without an FcmError (a stale access token) is
    /// answered by refreshing the token and trying once more.
    #[tracing::instrument(skip_all, fields(project = %self.project_id))]
    pub async fn send(&self, body: &Bytes) -> SendOutcome {
        send_with_refresh("FCM", &self.tokens, |token| async move {
            self.post(&token, body).await
        })
        .await
    }

    async fn post(&self, token: &str, body: &Bytes) -> Classified {
        match post_json(&self.http, &self.send_url, token, body).await {
            Ok(a) => classify(a.status, a.retry_after, &a.body),
            Err(outcome) => Classified::Outcome(outcome),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_testkit::fcm::{Answer, MockFcm};
    use herald_testkit::tls::TestCa;

    use crate::http::{HttpConfig, client};

    async fn setup() -> (TestCa, MockFcm) {
        let ca = TestCa::new().unwrap();
        let mock = MockFcm::start(&ca).await.unwrap();
        (ca, mock)
    }

    fn fcm_client(ca_pem: Option<String>, mock: &MockFcm, account_json: String) -> FcmClient {
        let http = client(&HttpConfig {
            extra_ca_pem: ca_pem,
            ..Default::default()
        })
        .unwrap();
        let credential = FcmCredential {
            service_account_json: account_json,
            project_id: String::new(),
        };
        FcmClient::new(http, &mock.base_url(), &credential).unwrap()
    }

    fn body(token: &str) -> Bytes {
        serde_json::json!({"validate_only": false, "message": {"token": token, "notification": {"title": "t"}}})
            .to_string()
            .into()
    }

    #[tokio::test]
    async fn concurrent_sends_share_one_access_token_over_http2() {
        let (ca, mock) = setup().await;
        let fcm = fcm_client(
            Some(ca.cert_pem.clone()),
            &mock,
            mock.service_account_json(),
        );
        let bodies: Vec<Bytes> = (0..20).map(|i| body(&format!("tok{i}"))).collect();
        let outcomes = futures::future::join_all(bodies.iter().map(|b| fcm.send(b))).await;
        assert!(
            outcomes
                .iter()
                .all(|o| matches!(o, SendOutcome::Submitted { .. })),
            "{outcomes:?}"
        );
        assert_eq!(mock.token_requests(), 1);
        let received = mock.received();
        assert_eq!(received.len(), 20);
        assert!(
            received
                .iter()
                .all(|p| p.http_version == reqwest::Version::HTTP_2)
        );
        assert!(received[0].authorization.starts_with("Bearer ya29.mock-1-"));
    }

    #[tokio::test]
    async fn a_stale_access_token_is_refreshed_once() {
        let (ca, mock) = setup().await;
        let fcm = fcm_client(
            Some(ca.cert_pem.clone()),
            &mock,
            mock.service_account_json(),
        );
        mock.script("tok", [Answer::expired_access_token()]);
        assert!(matches!(
            fcm.send(&body("tok")).await,
            SendOutcome::Submitted { .. }
        ));
        assert_eq!(mock.token_requests(), 2);
        assert_eq!(mock.attempts("tok"), 2);
    }

    #[tokio::test]
    async fn an_assertion_the_token_endpoint_refuses_fails_the_send() {
        let (ca, mock) = setup().await;
        let mut account: serde_json::Value =
            serde_json::from_str(&mock.service_account_json()).unwrap();
        account["client_email"] =
            serde_json::Value::String("someone-else@example.iam.gserviceaccount.com".into());
        let fcm = fcm_client(Some(ca.cert_pem.clone()), &mock, account.to_string());
        let SendOutcome::Failed { reason } = fcm.send(&body("tok")).await else {
            panic!("expected a failure")
        };
        assert!(
            reason.contains("iss is not the service account"),
            "{reason}"
        );
        assert_eq!(mock.received().len(), 0);
    }

    #[tokio::test]
    async fn an_untrusted_server_certificate_is_a_retry_not_a_send() {
        let (_ca, mock) = setup().await;
        let fcm = fcm_client(None, &mock, mock.service_account_json());
        let SendOutcome::Retry { reason, .. } = fcm.send(&body("tok")).await else {
            panic!("expected a retry")
        };
        assert!(
            reason.contains("TLS handshake with localhost failed")
                && reason.contains("certificate"),
            "{reason}"
        );
        assert_eq!(mock.received().len(), 0);
    }
}
