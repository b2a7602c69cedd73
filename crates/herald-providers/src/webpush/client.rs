//! The Web Push client of one tenant's VAPID keys: encrypts each message for its subscription
//! and signs one VAPID JWT per push-service origin, reused until near its expiry.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use super::payload::WebPushRequest;
use super::vapid::{self, VapidKey};
use super::{ece, from_b64url};
use herald_proto::v1::WebPushCredential;

use super::errors::classify;
use crate::http::{HttpClient, read_answer, unanswered};
use crate::{CredentialError, SendOutcome};

/// A JWT lives this long; it is replaced when less than a [`JWT_RENEW_BEFORE`] is left.
const JWT_LIFETIME_SECS: u64 = 12 * 3600;
const JWT_RENEW_BEFORE: u64 = 3600;

pub struct WebPushClient {
    http: HttpClient,
    vapid: VapidKey,
    subject: String,
    /// origin → (JWT, exp)
    jwts: Mutex<HashMap<String, (String, u64)>>,
}

impl std::fmt::Debug for WebPushClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebPushClient")
            .field("public_key", &self.vapid.public_key)
            .finish_non_exhaustive()
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

impl WebPushClient {
    pub fn new(http: HttpClient, credential: &WebPushCredential) -> Result<Self, CredentialError> {
        let vapid =
            VapidKey::from_pair(&credential.vapid_private_key, &credential.vapid_public_key)
                .map_err(|e| {
                    let field = match e {
                        vapid::VapidError::KeyMismatch => "webpush.vapid_public_key",
                        _ => "webpush.vapid_private_key",
                    };
                    CredentialError::invalid(field, e.to_string())
                })?;
        vapid::check_subject(&credential.subject)
            .map_err(|e| CredentialError::invalid("webpush.subject", e.to_string()))?;
        Ok(Self {
            http,
            vapid,
            subject: credential.subject.clone(),
            jwts: Mutex::default(),
        })
    }

    /// The public key pages pass as `applicationServerKey`.
    pub fn public_key(&self) -> &str {
        &self.vapid.public_key
    }

    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The VAPID JWT for `origin`, signed anew only near the cached one's expiry.
    fn jwt(&self, origin: &str) -> String {
        let now = unix_now();
        let mut jwts = self.jwts.lock().expect("jwt cache");
        if let Some((jwt, exp)) = jwts.get(origin)
            && exp.saturating_sub(now) > JWT_RENEW_BEFORE
        {
            return jwt.clone();
        }
        let exp = now + JWT_LIFETIME_SECS;
        let jwt = self.vapid.jwt(origin, exp, &self.subject);
        jwts.insert(origin.to_owned(), (jwt.clone(), exp));
        jwt
    }

    /// Encrypts `request` for the subscription and posts it to its endpoint.
    #[tracing::instrument(skip_all)]
    pub async fn send(
        &self,
        request: &WebPushRequest,
        endpoint: &str,
        p256dh: &str,
        auth: &str,
    ) -> SendOutcome {
        let (Some(p256dh), Some(auth)) = (from_b64url(p256dh), from_b64url(auth)) else {
            return SendOutcome::TokenDead {
                reason: "the subscription's keys are not base64url".into(),
            };
        };
        let body = match ece::encrypt(request.plaintext.as_bytes(), &p256dh, &auth) {
            Ok(body) => body,
            Err(err @ ece::EceError::TooLong) => {
                return SendOutcome::Failed {
                    reason: err.to_string(),
                };
            }
            Err(err) => {
                return SendOutcome::TokenDead {
                    reason: format!("unusable subscription: {err}"),
                };
            }
        };
        let Some(origin) = vapid::audience(endpoint) else {
            return SendOutcome::TokenDead {
                reason: "the subscription endpoint is not a URL".into(),
            };
        };
        let authorization = self.vapid.authorization(&self.jwt(&origin));
        let build = |client: &reqwest::Client| {
            let mut builder = client
                .post(endpoint)
                .header("ttl", request.ttl.to_string())
                .header("urgency", request.urgency)
                .header("content-encoding", "aes128gcm")
                .header("content-type", "application/octet-stream")
                .header("authorization", authorization)
                .body(body);
            if let Some(topic) = &request.topic {
                builder = builder.header("topic", topic);
            }
            builder
        };
        match self.http.send(build).await {
            Ok(response) => {
                let answer = read_answer(response, "location").await;
                classify(answer.status, answer.retry_after, &answer.id, &answer.body)
            }
            Err(err) => unanswered(&err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_testkit::tls::TestCa;
    use herald_testkit::webpush::{Answer, MockPushService};

    use crate::http::{HttpConfig, client};

    fn web_client(ca: &TestCa) -> WebPushClient {
        let (key, private) = VapidKey::generate();
        let credential = WebPushCredential {
            vapid_private_key: private,
            vapid_public_key: key.public_key.clone(),
            subject: "mailto:ops@herald.test".into(),
        };
        let http = client(&HttpConfig {
            extra_ca_pem: Some(ca.cert_pem.clone()),
            ..Default::default()
        })
        .unwrap();
        WebPushClient::new(http, &credential).unwrap()
    }

    fn request(text: &str) -> WebPushRequest {
        WebPushRequest {
            plaintext: format!("{{\"title\":\"{text}\"}}"),
            ttl: 60,
            urgency: "normal",
            topic: Some("t1".into()),
        }
    }

    #[tokio::test]
    async fn the_push_service_decrypts_what_was_sent_and_one_jwt_serves_the_origin() {
        let ca = TestCa::new().unwrap();
        let service = MockPushService::start(&ca).await.unwrap();
        let web = web_client(&ca);
        for i in 0..10 {
            let sub = service.subscribe(web.public_key());
            let outcome = web
                .send(
                    &request(&format!("hello {i}")),
                    &sub.endpoint,
                    &sub.p256dh,
                    &sub.auth,
                )
                .await;
            assert!(
                matches!(outcome, SendOutcome::Submitted { ref provider_message_id } if provider_message_id.contains("/message/")),
                "{outcome:?}"
            );
        }
        let received = service.received();
        assert_eq!(received.len(), 10);
        assert_eq!(received[3].body["title"], "hello 3");
        assert_eq!(
            (
                received[0].headers["ttl"].as_str(),
                received[0].headers["topic"].as_str()
            ),
            ("60", "t1")
        );
        assert_eq!(service.vapid_tokens_seen(), 1, "one JWT per origin");
    }

    #[tokio::test]
    async fn gone_subscriptions_and_foreign_keys_are_told_apart() {
        let ca = TestCa::new().unwrap();
        let service = MockPushService::start(&ca).await.unwrap();
        let web = web_client(&ca);
        let sub = service.subscribe(web.public_key());
        service.script(MockPushService::id_of(&sub), [Answer::error("410")]);
        let gone = web
            .send(&request("x"), &sub.endpoint, &sub.p256dh, &sub.auth)
            .await;
        assert!(matches!(gone, SendOutcome::TokenDead { .. }), "{gone:?}");
        // A subscription made with another application server key refuses this one.
        let other = web_client(&ca);
        let foreign = service.subscribe(other.public_key());
        let refused = web
            .send(
                &request("x"),
                &foreign.endpoint,
                &foreign.p256dh,
                &foreign.auth,
            )
            .await;
        assert!(
            matches!(refused, SendOutcome::Failed { ref reason } if reason.contains("403")),
            "{refused:?}"
        );
    }

    #[test]
    fn keys_and_subject_are_checked() {
        let http = client(&HttpConfig::default()).unwrap();
        let (key, private) = VapidKey::generate();
        let (other, _) = VapidKey::generate();
        let mismatched = WebPushCredential {
            vapid_private_key: private.clone(),
            vapid_public_key: other.public_key,
            subject: "mailto:a@b.c".into(),
        };
        assert!(
            WebPushClient::new(http.clone(), &mismatched)
                .unwrap_err()
                .to_string()
                .starts_with("webpush.vapid_public_key")
        );
        let no_subject = WebPushCredential {
            vapid_private_key: private,
            vapid_public_key: key.public_key,
            subject: "ops".into(),
        };
        assert!(
            WebPushClient::new(http, &no_subject)
                .unwrap_err()
                .to_string()
                .starts_with("webpush.subject")
        );
    }
}
