//! The tenants' provider clients: one per tenant credential (its HTTP/2 connections and token
//! cache), opened on first use and replaced when the credential changes.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use herald_core::crypto::{MasterKey, credential_context};
use herald_core::ids::TenantId;
use herald_core::platform::provider_name;
use herald_proto::v1::Provider;
use herald_providers::http::HttpClient;
use herald_providers::{Endpoints, ProviderClient, SendOutcome};
use herald_store::Store;

/// How long a cached client is used before checking the credential was not replaced.
const RECHECK: Duration = Duration::from_secs(10);

struct Cached {
    version: i64,
    checked_at: Instant,
    client: Arc<ProviderClient>,
}

/// One provider's clients, by tenant.
pub struct TenantClients {
    provider: Provider,
    store: Store,
    master_key: Arc<MasterKey>,
    endpoints: Endpoints,
    http: HttpClient,
    clients: RwLock<HashMap<TenantId, Cached>>,
    /// Held while a client is checked or opened, so concurrent first sends share one client
    /// (one connection pool, one provider token) instead of each opening their own.
    opening: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for TenantClients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantClients")
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

impl TenantClients {
    pub fn new(
        provider: Provider,
        store: Store,
        master_key: Arc<MasterKey>,
        endpoints: Endpoints,
        http: HttpClient,
    ) -> Self {
        Self {
            provider,
            store,
            master_key,
            endpoints,
            http,
            clients: RwLock::default(),
            opening: tokio::sync::Mutex::default(),
        }
    }

    /// The tenant's client, or the outcome that ends the send without one.
    pub async fn get(&self, tenant: &TenantId) -> Result<Arc<ProviderClient>, SendOutcome> {
        if let Some(client) = self.fresh(tenant) {
            return Ok(client);
        }
        let _opening = self.opening.lock().await;
        if let Some(client) = self.fresh(tenant) {
            return Ok(client);
        }
        let name = provider_name(self.provider);
        let retry = |err: herald_store::StoreError| SendOutcome::Retry {
            reason: format!("store: {err}"),
            after: None,
        };
        let failed = |reason: String| SendOutcome::Failed { reason };
        let Some(version) = self
            .store
            .credential_version(tenant, name)
            .await
            .map_err(retry)?
        else {
            self.clients.write().expect("client cache").remove(tenant);
            return Err(failed(format!(
                "no {name} credential is configured for this tenant"
            )));
        };
        if let Some(cached) = self
            .clients
            .write()
            .expect("client cache")
            .get_mut(tenant)
            .filter(|c| c.version == version)
        {
            cached.checked_at = Instant::now();
            return Ok(cached.client.clone());
        }
        let sealed = self
            .store
            .sealed_credential(tenant, name)
            .await
            .map_err(retry)?
            .ok_or_else(|| failed(format!("the {name} credential was deleted")))?;
        let plaintext = self
            .master_key
            .open(&credential_context(tenant.as_str(), name), &sealed.sealed)
            .map_err(|e| failed(format!("the {name} credential cannot be opened: {e}")))?;
        let client = ProviderClient::open(self.provider, &plaintext, &self.endpoints, &self.http)
            .map_err(|e| failed(e.to_string()))?;
        let client = Arc::new(client);
        let cached = Cached {
            version: sealed.updated_at,
            checked_at: Instant::now(),
            client: client.clone(),
        };
        self.clients
            .write()
            .expect("client cache")
            .insert(tenant.clone(), cached);
        Ok(client)
    }

    fn fresh(&self, tenant: &TenantId) -> Option<Arc<ProviderClient>> {
        let clients = self.clients.read().expect("client cache");
        let cached = clients.get(tenant)?;
        (cached.checked_at.elapsed() < RECHECK).then(|| cached.client.clone())
    }
}
