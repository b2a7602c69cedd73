//! The APNs client of one credential: a small pool of long-lived HTTP/2 connections
//! ([`HttpClient`], filled in order; each multiplexes many streams up to the server's
//! SETTINGS_MAX_CONCURRENT_STREAMS) and the credential's provider token or client certificate.

use super::payload::ApnsRequest;
use herald_proto::v1::ApnsCredential;
use herald_proto::v1::apns_credential::Auth;

use super::auth::{ProviderToken, client_certificate};
use super::errors::classify;
use crate::http::{HttpClient, HttpConfig, client_with_identity, read_answer, unanswered};
use crate::token::{Classified, send_with_refresh};
use crate::{CredentialError, SendOutcome};

#[derive(Debug)]
enum Authentication {
    Token(Box<ProviderToken>),
    Certificate { subject: String },
}

#[derive(Debug)]
pub struct ApnsClient {
    http: HttpClient,
    /// `…/3/device/`, parsed once: each request appends its device token.
    device_url: reqwest::Url,
    bundle_id: String,
    sandbox: bool,
    auth: Authentication,
}

impl ApnsClient {
    /// A client for `credential`, sending to `production_url` or `sandbox_url` as the credential
    /// says (Apple's hosts, or a mock's).
    pub fn new(
        config: &HttpConfig,
        production_url: &str,
        sandbox_url: &str,
        credential: &ApnsCredential,
    ) -> Result<Self, CredentialError> {
        let bundle_id = credential.bundle_id.trim();
        if bundle_id.is_empty() || bundle_id.contains(char::is_whitespace) {
            return Err(CredentialError::invalid(
                "apns.bundle_id",
                "the app's bundle id is required",
            ));
        }
        let (auth, identity) = match &credential.auth {
            Some(Auth::Token(token)) => (
                Authentication::Token(Box::new(ProviderToken::new(
                    &token.private_key_pem,
                    &token.key_id,
                    &token.team_id,
                )?)),
                None,
            ),
            Some(Auth::Certificate(certificate)) => {
                let certificate = client_certificate(certificate)?;
                (
                    Authentication::Certificate {
                        subject: certificate.subject,
                    },
                    Some(certificate.pem),
                )
            }
            None => {
                return Err(CredentialError::invalid(
                    "apns.auth",
                    "set token or certificate",
                ));
            }
        };
        let http = client_with_identity(config, identity.as_deref()).map_err(|e| {
            CredentialError::invalid("apns.certificate", format!("not usable for TLS: {e}"))
        })?;
        let base_url = if credential.sandbox {
            sandbox_url
        } else {
            production_url
        };
        let device_url = format!("{}/3/device/", base_url.trim_end_matches('/'))
            .parse()
            .map_err(|e| {
                CredentialError::invalid("apns", format!("the APNs URL is not usable: {e}"))
            })?;
        Ok(Self {
            http,
            device_url,
            bundle_id: bundle_id.to_owned(),
            sandbox: credential.sandbox,
            auth,
        })
    }

    pub fn bundle_id(&self) -> &str {
        &self.bundle_id
    }

    /// Whether the credential sends to the APNs sandbox.
    pub fn is_sandbox(&self) -> bool {
        self.sandbox
    }

    /// Who the client authenticates as.
    pub fn principal(&self) -> String {
        let environment = if self.sandbox {
            "sandbox"
        } else {
            "production"
        };
        match &self.auth {
            Authentication::Token(token) => format!(
                "key {} of team {} ({environment})",
                token.key_id(),
                token.team_id()
            ),
            Authentication::Certificate { subject } => format!("{subject} ({environment})"),
        }
    }

    /// Sends `request` to `device_token`; `device_sandbox` is how the device registered, to
    /// explain a BadDeviceToken caused by a sandbox/production mix-up.
    #[tracing::instrument(skip_all, fields(topic = %request.topic))]
    pub async fn send(
        &self,
        request: &ApnsRequest,
        device_token: &str,
        device_sandbox: bool,
    ) -> SendOutcome {
        let mismatch = match (device_sandbox, self.sandbox) {
            (true, false) => Some(
                "the device registered as a sandbox (development) build, but this credential sends to production APNs",
            ),
            (false, true) => Some(
                "the device registered as a production build, but this credential sends to the APNs sandbox",
            ),
            _ => None,
        };
        match &self.auth {
            Authentication::Token(tokens) => {
                send_with_refresh("APNs", tokens.as_ref(), |jwt| async move {
                    self.post(request, device_token, Some(&jwt), mismatch).await
                })
                .await
            }
            Authentication::Certificate { .. } => {
                match self.post(request, device_token, None, mismatch).await {
                    Classified::Outcome(outcome) => outcome,
                    Classified::AccessTokenRejected { reason } => SendOutcome::Failed {
                        reason: format!("{reason} answered to certificate authentication"),
                    },
                }
            }
        }
    }

    async fn post(
        &self,
        request: &ApnsRequest,
        device_token: &str,
        jwt: Option<&str>,
        mismatch: Option<&str>,
    ) -> Classified {
        let mut url = self.device_url.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().push(device_token);
        }
        let build = |client: &reqwest::Client| {
            let mut builder = client
                .post(url.clone())
                .header("apns-push-type", &request.push_type)
                .header("apns-topic", &request.topic)
                .header("apns-priority", request.priority.to_string())
                .header("apns-expiration", request.expiration.to_string())
                .header("apns-id", &request.apns_id)
                .header("content-type", "application/json")
                .body(request.payload.clone());
            if let Some(collapse_id) = &request.collapse_id {
                builder = builder.header("apns-collapse-id", collapse_id);
            }
            if let Some(jwt) = jwt {
                builder = builder.header("authorization", format!("bearer {jwt}"));
            }
            builder
        };
        match self.http.send(build).await {
            Ok(response) => {
                let answer = read_answer(response, "apns-id").await;
                classify(
                    answer.status,
                    answer.retry_after,
                    &answer.id,
                    &answer.body,
                    mismatch,
                )
            }
            Err(err) => Classified::Outcome(unanswered(&err)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apns::payload::request;
    use crate::payload::Target;
    use herald_proto::v1::apns_certificate_auth::Source;
    use herald_proto::v1::{ApnsCertificateAuth, ApnsTokenAuth, Notification};
    use herald_testkit::apns::{Answer, BUNDLE_ID, KEY_ID, MockApns, TEAM_ID};
    use herald_testkit::tls::TestCa;

    fn token_credential(mock: &MockApns, key_id: &str) -> ApnsCredential {
        ApnsCredential {
            auth: Some(Auth::Token(ApnsTokenAuth {
                private_key_pem: mock.team_key_pem().to_owned(),
                key_id: key_id.into(),
                team_id: TEAM_ID.into(),
            })),
            bundle_id: BUNDLE_ID.into(),
            sandbox: false,
        }
    }

    fn client(ca: &TestCa, mock: &MockApns, credential: &ApnsCredential) -> ApnsClient {
        let config = HttpConfig {
            extra_ca_pem: Some(ca.cert_pem.clone()),
            ..Default::default()
        };
        ApnsClient::new(&config, &mock.base_url(), &mock.base_url(), credential).unwrap()
    }

    fn device(i: usize) -> String {
        format!("{i:064x}")
    }

    fn alert(token: &str) -> ApnsRequest {
        let n = Notification {
            title: "Hi".into(),
            ..Default::default()
        };
        request(
            &n,
            Target {
                token,
                message_id: "msg_1",
                delivery_id: "dlv_0123456789abcdef0123456789abcdef",
                accepted_at_ms: 0,
                now_ms: 0,
            },
            BUNDLE_ID,
        )
    }

    /// Sends an alert to each of `count` devices at once; every one must be submitted.
    async fn send_all_at_once(apns: &ApnsClient, count: usize) {
        let tokens: Vec<String> = (1..=count).map(device).collect();
        let requests: Vec<ApnsRequest> = tokens.iter().map(|t| alert(t)).collect();
        let outcomes = futures::future::join_all(
            requests
                .iter()
                .zip(&tokens)
                .map(|(r, t)| apns.send(r, t, false)),
        )
        .await;
        assert!(
            outcomes
                .iter()
                .all(|o| matches!(o, SendOutcome::Submitted { .. })),
            "{outcomes:?}"
        );
    }

    #[tokio::test]
    async fn one_provider_token_serves_concurrent_sends_multiplexed_on_http2() {
        let ca = TestCa::new().unwrap();
        let mock = MockApns::start(&ca).await.unwrap();
        let apns = client(&ca, &mock, &token_credential(&mock, KEY_ID));
        mock.answer_by_default(Answer::delayed(std::time::Duration::from_millis(100)));
        send_all_at_once(&apns, 30).await;
        assert_eq!(mock.provider_tokens_seen(), 1, "one JWT for every send");
        assert!(
            mock.max_streams_in_flight() > 1,
            "streams were multiplexed: {}",
            mock.max_streams_in_flight()
        );
        let received = mock.received();
        assert!(
            received
                .iter()
                .all(|p| p.http_version == reqwest::Version::HTTP_2)
        );
        let connections: std::collections::HashSet<_> = received.iter().map(|p| p.peer).collect();
        assert_eq!(
            connections.len(),
            1,
            "fewer requests than a connection takes before spilling share one connection"
        );
    }

    #[tokio::test]
    async fn a_connection_with_its_share_in_flight_spills_to_the_next() {
        let ca = TestCa::new().unwrap();
        let mock = MockApns::start(&ca).await.unwrap();
        let apns = client(&ca, &mock, &token_credential(&mock, KEY_ID));
        mock.answer_by_default(Answer::delayed(std::time::Duration::from_millis(200)));
        send_all_at_once(&apns, crate::http::STREAMS_BEFORE_SPILL + 10).await;
        let received = mock.received();
        assert_eq!(received.len(), crate::http::STREAMS_BEFORE_SPILL + 10);
        let connections: std::collections::HashSet<_> = received.iter().map(|p| p.peer).collect();
        assert_eq!(
            connections.len(),
            2,
            "the first connection's share, then the next"
        );
    }

    #[tokio::test]
    async fn a_cold_pool_opens_no_more_connections_than_its_size() {
        let ca = TestCa::new().unwrap();
        let mock = MockApns::start(&ca).await.unwrap();
        mock.answer_by_default(Answer::delayed(std::time::Duration::from_millis(50)));
        let apns = client(&ca, &mock, &token_credential(&mock, KEY_ID));
        send_all_at_once(&apns, 50).await;
        assert!(
            mock.connections() <= crate::http::CONNECTIONS,
            "50 concurrent sends on a cold pool opened {} connections",
            mock.connections()
        );
    }

    #[tokio::test]
    async fn an_expired_provider_token_is_replaced_and_the_send_retried() {
        let ca = TestCa::new().unwrap();
        let mock = MockApns::start(&ca).await.unwrap();
        let apns = client(&ca, &mock, &token_credential(&mock, KEY_ID));
        let token = device(7);
        assert!(matches!(
            apns.send(&alert(&token), &token, false).await,
            SendOutcome::Submitted { .. }
        ));
        mock.script(&token, [Answer::expired_access_token()]);
        // A second JWT needs a different iat: wait past the second boundary.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        assert!(matches!(
            apns.send(&alert(&token), &token, false).await,
            SendOutcome::Submitted { .. }
        ));
        assert_eq!(mock.provider_tokens_seen(), 2);
    }

    #[tokio::test]
    async fn certificate_auth_works_from_a_p12_and_from_pem() {
        let ca = TestCa::new().unwrap();
        let mock = MockApns::start(&ca).await.unwrap();
        let identity = mock.client_certificate(&ca).unwrap();
        let sources = [
            ApnsCertificateAuth {
                source: Some(Source::P12(identity.p12.clone())),
                password: identity.p12_password.clone(),
                private_key_pem: String::new(),
            },
            ApnsCertificateAuth {
                source: Some(Source::CertificatePem(identity.certificate_pem.clone())),
                password: String::new(),
                private_key_pem: identity.private_key_pem.clone(),
            },
        ];
        for (i, auth) in sources.into_iter().enumerate() {
            let credential = ApnsCredential {
                auth: Some(Auth::Certificate(auth)),
                bundle_id: BUNDLE_ID.into(),
                sandbox: false,
            };
            let apns = client(&ca, &mock, &credential);
            let token = device(100 + i);
            assert!(
                matches!(
                    apns.send(&alert(&token), &token, false).await,
                    SendOutcome::Submitted { .. }
                ),
                "source {i}"
            );
        }
        assert!(
            mock.received().iter().all(|p| p.authorization.is_empty()),
            "no provider token with a certificate"
        );
        let wrong = ApnsCertificateAuth {
            source: Some(Source::P12(identity.p12)),
            password: "wrong".into(),
            private_key_pem: String::new(),
        };
        let credential = ApnsCredential {
            auth: Some(Auth::Certificate(wrong)),
            bundle_id: BUNDLE_ID.into(),
            sandbox: false,
        };
        let config = HttpConfig::default();
        let err = ApnsClient::new(&config, "https://x", "https://y", &credential).unwrap_err();
        assert!(err.to_string().starts_with("apns.certificate.p12"), "{err}");
    }

    #[tokio::test]
    async fn a_sandbox_device_on_a_production_credential_is_explained() {
        let ca = TestCa::new().unwrap();
        let mock = MockApns::start(&ca).await.unwrap();
        let apns = client(&ca, &mock, &token_credential(&mock, KEY_ID));
        let token = device(9);
        mock.script(&token, [Answer::error("BadDeviceToken")]);
        let SendOutcome::TokenDead { reason } = apns.send(&alert(&token), &token, true).await
        else {
            panic!()
        };
        assert!(
            reason.contains("sandbox (development) build") && reason.contains("production"),
            "{reason}"
        );
    }

    #[tokio::test]
    async fn a_key_of_another_team_fails_with_apples_reason() {
        let ca = TestCa::new().unwrap();
        let mock = MockApns::start(&ca).await.unwrap();
        let apns = client(&ca, &mock, &token_credential(&mock, "OTHERKEY01"));
        let token = device(3);
        let outcome = apns.send(&alert(&token), &token, false).await;
        assert_eq!(
            outcome,
            SendOutcome::Failed {
                reason: "UnrelatedKeyIdInToken".into()
            }
        );
    }
}
