//! The FCM sender: one FCM client (connection pool and token cache) per tenant credential.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use herald_core::crypto::{MasterKey, credential_context};
use herald_core::ids::TenantId;
use herald_core::payload::Target;
use herald_core::payload::fcm::request_body;
use herald_proto::bus::v1::SendTask;
use herald_proto::v1::FcmCredential;
use herald_providers::SendOutcome;
use herald_providers::fcm::FcmClient;
use herald_store::Store;
use prost::Message as _;

use crate::ProviderSender;

/// How long a cached client is used before checking the credential was not replaced.
const RECHECK: Duration = Duration::from_secs(10);
const PROVIDER: &str = "fcm";

struct Cached {
    version: i64,
    checked_at: Instant,
    client: Arc<FcmClient>,
}

/// Sends FCM tasks with the tenant's own credential.
pub struct FcmSender {
    store: Store,
    master_key: Arc<MasterKey>,
    http: herald_providers::http::HttpClient,
    base_url: String,
    clients: RwLock<HashMap<TenantId, Cached>>,
}

impl std::fmt::Debug for FcmSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FcmSender")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl FcmSender {
    pub fn new(
        store: Store,
        master_key: Arc<MasterKey>,
        http: herald_providers::http::HttpClient,
        base_url: String,
    ) -> Self {
        Self {
            store,
            master_key,
            http,
            base_url,
            clients: RwLock::default(),
        }
    }

    /// The tenant's client, or the outcome that ends the send without one.
    async fn client(&self, tenant: &TenantId) -> Result<Arc<FcmClient>, SendOutcome> {
        if let Some(cached) = self.clients.read().expect("client cache").get(tenant)
            && cached.checked_at.elapsed() < RECHECK
        {
            return Ok(cached.client.clone());
        }
        let retry = |err: herald_store::StoreError| SendOutcome::Retry {
            reason: format!("store: {err}"),
            after: None,
        };
        let Some(version) = self
            .store
            .credential_version(tenant, PROVIDER)
            .await
            .map_err(retry)?
        else {
            self.clients.write().expect("client cache").remove(tenant);
            return Err(SendOutcome::Failed {
                reason: "no fcm credential is configured for this tenant".into(),
            });
        };
        {
            let mut clients = self.clients.write().expect("client cache");
            if let Some(cached) = clients.get_mut(tenant).filter(|c| c.version == version) {
                cached.checked_at = Instant::now();
                return Ok(cached.client.clone());
            }
        }
        let sealed = self
            .store
            .sealed_credential(tenant, PROVIDER)
            .await
            .map_err(retry)?
            .ok_or_else(|| SendOutcome::Failed {
                reason: "the fcm credential was deleted".into(),
            })?;
        let failed = |reason: String| SendOutcome::Failed { reason };
        let plaintext = self
            .master_key
            .open(
                &credential_context(tenant.as_str(), PROVIDER),
                &sealed.sealed,
            )
            .map_err(|e| failed(format!("the fcm credential cannot be opened: {e}")))?;
        let credential = FcmCredential::decode(plaintext.as_slice())
            .map_err(|e| failed(format!("the stored fcm credential is unreadable: {e}")))?;
        let client = Arc::new(
            FcmClient::new(self.http.clone(), &self.base_url, &credential)
                .map_err(|e| failed(e.to_string()))?,
        );
        self.clients.write().expect("client cache").insert(
            tenant.clone(),
            Cached {
                version: sealed.updated_at,
                checked_at: Instant::now(),
                client: client.clone(),
            },
        );
        Ok(client)
    }
}

impl ProviderSender for FcmSender {
    async fn send(&self, tenant: &TenantId, task: &SendTask) -> SendOutcome {
        let client = match self.client(tenant).await {
            Ok(client) => client,
            Err(outcome) => return outcome,
        };
        let token = task
            .device
            .as_ref()
            .map(|d| d.push_token.as_str())
            .unwrap_or_default();
        let notification = task.notification.clone().unwrap_or_default();
        let target = Target {
            token,
            message_id: &task.message_id,
            delivery_id: &task.delivery_id,
        };
        client
            .send(&request_body(&notification, target, false))
            .await
    }
}
