//! One client per tenant credential, whatever its provider: opened from the credential's
//! decrypted bytes, it sends a task with that provider's payload mapping and can test the
//! connection with a validate-only send.

use herald_core::time::now_ms;

use crate::payload::Target;
use crate::{apns, fcm, hms, webpush};
use herald_proto::bus::v1::{SendTask, TargetDevice};
use herald_proto::v1::{
    ApnsCredential, FcmCredential, HmsCredential, Notification, Provider, WebPushCredential,
};
use prost::Message as _;
use serde_json::json;

use crate::apns::{ApnsClient, PROBE_TOKEN};
use crate::fcm::FcmClient;
use crate::hms::HmsClient;
use crate::http::{HttpClient, HttpConfig};
use crate::webpush::WebPushClient;
use crate::{CredentialError, SendOutcome};

/// Where the providers are (their own hosts, or mocks) and how to reach them.
#[derive(Clone, Debug)]
pub struct Endpoints {
    pub apns_production_url: String,
    pub apns_sandbox_url: String,
    pub fcm_base_url: String,
    pub hms_base_url: String,
    pub hms_token_url: String,
    pub http: HttpConfig,
}

impl Default for Endpoints {
    fn default() -> Self {
        Self {
            apns_production_url: crate::apns::PRODUCTION_URL.into(),
            apns_sandbox_url: crate::apns::SANDBOX_URL.into(),
            fcm_base_url: crate::fcm::DEFAULT_BASE_URL.into(),
            hms_base_url: crate::hms::DEFAULT_BASE_URL.into(),
            hms_token_url: crate::hms::DEFAULT_TOKEN_URL.into(),
            http: HttpConfig::default(),
        }
    }
}

/// The topic a connection test addresses: a validate-only send needs a target, and a topic
/// proves auth and project without a real device.
const TEST_TOPIC: &str = "herald-connection-test";

#[derive(Debug)]
pub enum ProviderClient {
    Apns(Box<ApnsClient>),
    Fcm(Box<FcmClient>),
    Hms(Box<HmsClient>),
    WebPush(Box<WebPushClient>),
}

impl ProviderClient {
    /// Opens a credential of `provider` from its stored (decrypted) protobuf bytes.
    pub fn open(
        provider: Provider,
        plaintext: &[u8],
        endpoints: &Endpoints,
        http: &HttpClient,
    ) -> Result<Self, CredentialError> {
        let unreadable = |e: prost::DecodeError| {
            CredentialError::invalid("credential", format!("unreadable: {e}"))
        };
        match provider {
            Provider::Apns => {
                let credential = ApnsCredential::decode(plaintext).map_err(unreadable)?;
                Ok(Self::Apns(Box::new(ApnsClient::new(
                    &endpoints.http,
                    &endpoints.apns_production_url,
                    &endpoints.apns_sandbox_url,
                    &credential,
                )?)))
            }
            Provider::Fcm => {
                let credential = FcmCredential::decode(plaintext).map_err(unreadable)?;
                Ok(Self::Fcm(Box::new(FcmClient::new(
                    http.clone(),
                    &endpoints.fcm_base_url,
                    &credential,
                )?)))
            }
            Provider::Hms => {
                let credential = HmsCredential::decode(plaintext).map_err(unreadable)?;
                Ok(Self::Hms(Box::new(HmsClient::new(
                    http.clone(),
                    &endpoints.hms_base_url,
                    &endpoints.hms_token_url,
                    &credential,
                )?)))
            }
            Provider::Webpush => {
                let credential = WebPushCredential::decode(plaintext).map_err(unreadable)?;
                Ok(Self::WebPush(Box::new(WebPushClient::new(
                    http.clone(),
                    &credential,
                )?)))
            }
            other => Err(CredentialError::invalid(
                "credential",
                format!("no client for {}", other.as_str_name()),
            )),
        }
    }

    /// What the API shows of the credential: (identifier, principal), e.g. the APNs bundle id
    /// and key, the FCM project and service account, or the HMS app id.
    pub fn identity(&self) -> (String, String) {
        match self {
            Self::Apns(client) => (client.bundle_id().to_owned(), client.principal()),
            Self::Fcm(client) => (
                client.project_id().to_owned(),
                client.client_email().to_owned(),
            ),
            Self::Hms(client) => (client.app_id().to_owned(), String::new()),
            Self::WebPush(client) => (client.public_key().to_owned(), client.subject().to_owned()),
        }
    }

    /// Sends one task to its device.
    pub async fn send(&self, task: &SendTask) -> SendOutcome {
        static NONE: std::sync::LazyLock<(TargetDevice, Notification)> =
            std::sync::LazyLock::new(Default::default);
        let device = task.device.as_ref().unwrap_or(&NONE.0);
        let notification = task.notification.as_ref().unwrap_or(&NONE.1);
        let target = Target {
            token: &device.push_token,
            message_id: &task.message_id,
            delivery_id: &task.delivery_id,
            accepted_at_ms: task.accepted_at_ms,
            now_ms: now_ms(),
        };
        match self {
            Self::Apns(client) => {
                let request = apns::payload::request(notification, target, client.bundle_id());
                client
                    .send(&request, &device.push_token, device.sandbox)
                    .await
            }
            Self::Fcm(client) => {
                let body = fcm::payload::request_body(notification, target, false);
                client.send(&body.into()).await
            }
            Self::Hms(client) => {
                let body =
                    hms::payload::request_body(notification, target, client.app_settings(), false);
                client.send(&body.into(), &device.push_token).await
            }
            Self::WebPush(client) => {
                let request = webpush::payload::request(notification, target);
                client
                    .send(
                        &request,
                        &device.push_token,
                        &device.web_p256dh,
                        &device.web_auth,
                    )
                    .await
            }
        }
    }

    /// Proves the credential works without delivering anything: FCM and HMS obtain a token and
    /// make a validate-only send; APNs, which has no validate-only send, gets a push for a
    /// device token no device has and must answer BadDeviceToken, which it does only once
    /// authentication passed. Web Push has no provider account to test: opening the client
    /// already proved the VAPID keys form a pair. Answers what was proven, or what went wrong.
    pub async fn test_connection(&self) -> Result<String, String> {
        let (provider, outcome) = match self {
            Self::WebPush(client) => {
                return Ok(format!(
                    "the VAPID key pair is valid (public key {}, subject {}); push services check it with each push",
                    client.public_key(),
                    client.subject()
                ));
            }
            Self::Apns(client) => {
                let probe = Notification {
                    title: "Herald connection test".into(),
                    ..Default::default()
                };
                let target = Target {
                    token: PROBE_TOKEN,
                    message_id: "",
                    delivery_id: "",
                    accepted_at_ms: now_ms(),
                    now_ms: now_ms(),
                };
                let request = apns::payload::request(&probe, target, client.bundle_id());
                let outcome = client
                    .send(&request, PROBE_TOKEN, client.is_sandbox())
                    .await;
                if matches!(&outcome, SendOutcome::TokenDead { reason } if reason == "BadDeviceToken")
                {
                    return Ok(format!(
                        "APNs accepted {} for {} (a probe to a device token no device has answered BadDeviceToken)",
                        client.principal(),
                        client.bundle_id()
                    ));
                }
                ("APNs".to_owned(), outcome)
            }
            Self::Fcm(client) => {
                let body = json!({"validate_only": true, "message": {"topic": TEST_TOPIC, "notification": {"title": "Herald connection test"}}});
                (
                    format!("FCM project {}", client.project_id()),
                    client.send(&body.to_string().into()).await,
                )
            }
            Self::Hms(client) => {
                let body = json!({
                    "validate_only": true,
                    "message": {"topic": TEST_TOPIC, "data": "{}", "android": {"notification": {
                        "title": "Herald connection test",
                        "body": "A validate-only message: no device receives it.",
                        "click_action": {"type": 3}
                    }}}
                });
                (
                    "HMS".to_owned(),
                    client.send(&body.to_string().into(), "").await,
                )
            }
        };
        match outcome {
            SendOutcome::Submitted { .. } => Ok(format!(
                "obtained an access token and {provider} accepted a validate-only message"
            )),
            SendOutcome::Failed { reason } | SendOutcome::TokenDead { reason } => Err(reason),
            SendOutcome::Retry { reason, .. } => {
                Err(format!("{provider} is unavailable: {reason}"))
            }
        }
    }
}
