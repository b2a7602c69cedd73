//! The tenants' enabled endpoints, opened (secrets and authorization unsealed, URL parsed),
//! read per tenant and kept for [`FRESH_FOR`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use herald_core::crypto::MasterKey;
use herald_core::ids::{TenantId, WebhookId};
use herald_store::{Store, StoreError, StoredWebhook, WebhookRecord};
use herald_webhooks::{Auth, Endpoint, RetryPolicy, Secrets};

/// How long a tenant's endpoints are used before they are read again.
pub const FRESH_FOR: Duration = Duration::from_secs(2);

/// An enabled endpoint, ready to post to.
#[derive(Debug)]
pub(crate) struct Opened {
    pub record: WebhookRecord,
    pub endpoint: Endpoint,
    pub policy: RetryPolicy,
}

type Tenants = HashMap<TenantId, (Instant, Arc<Vec<Arc<Opened>>>)>;

/// The cache of opened endpoints. Cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct Endpoints {
    store: Store,
    key: Arc<MasterKey>,
    tenants: Arc<Mutex<Tenants>>,
    /// Moves on with every [`Endpoints::forget`], so a read that a change overtook is not kept.
    generation: Arc<AtomicU64>,
}

impl Endpoints {
    pub fn new(store: Store, key: Arc<MasterKey>) -> Self {
        Self {
            store,
            key,
            tenants: Arc::default(),
            generation: Arc::default(),
        }
    }

    /// The tenant's enabled endpoints (those that do not open are left out, and logged).
    pub async fn of_tenant(&self, tenant: &TenantId) -> Result<Arc<Vec<Arc<Opened>>>, StoreError> {
        if let Some((read_at, opened)) = self.tenants.lock().expect("endpoints").get(tenant)
            && read_at.elapsed() < FRESH_FOR
        {
            return Ok(opened.clone());
        }
        let generation = self.generation.load(Ordering::Acquire);
        let stored = self.store.enabled_webhooks(tenant).await?;
        let now = herald_core::time::now_ms();
        let opened: Vec<Arc<Opened>> = stored
            .into_iter()
            .filter_map(|webhook| match self.open(tenant, webhook, now) {
                Ok(opened) => Some(Arc::new(opened)),
                Err((id, why)) => {
                    tracing::error!(%tenant, webhook = %id, %why, "a webhook endpoint cannot be used");
                    None
                }
            })
            .collect();
        let opened = Arc::new(opened);
        let mut tenants = self.tenants.lock().expect("endpoints");
        if self.generation.load(Ordering::Acquire) == generation {
            tenants.insert(tenant.clone(), (Instant::now(), opened.clone()));
        }
        Ok(opened)
    }

    /// One enabled endpoint of the tenant (`None`: disabled, deleted, or it does not open).
    pub async fn find(
        &self,
        tenant: &TenantId,
        id: &WebhookId,
    ) -> Result<Option<Arc<Opened>>, StoreError> {
        Ok(self
            .of_tenant(tenant)
            .await?
            .iter()
            .find(|o| o.record.id == *id)
            .cloned())
    }

    /// Forgets a tenant's endpoints (one changed, or was just disabled here).
    pub fn forget(&self, tenant: &TenantId) {
        let mut tenants = self.tenants.lock().expect("endpoints");
        self.generation.fetch_add(1, Ordering::AcqRel);
        tenants.remove(tenant);
    }

    /// Forgets a tenant's endpoints whenever ingest announces they changed, until `shutdown`.
    pub async fn forget_changed(
        self,
        bus: herald_bus::Bus,
        shutdown: tokio_util::sync::CancellationToken,
    ) -> anyhow::Result<()> {
        use futures::StreamExt as _;
        let mut changed = bus.listen(herald_bus::subjects::WEBHOOKS_CHANGED).await?;
        loop {
            let announced = tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                announced = changed.next() => announced,
            };
            let Some(announced) = announced else {
                return Ok(());
            };
            match std::str::from_utf8(&announced.payload) {
                Ok(tenant) => self.forget(&TenantId::from_trusted(tenant.to_owned())),
                Err(_) => tracing::warn!("an announced webhook change does not name a tenant"),
            }
        }
    }

    fn open(
        &self,
        tenant: &TenantId,
        webhook: StoredWebhook,
        now_ms: i64,
    ) -> Result<Opened, (WebhookId, String)> {
        let StoredWebhook { record, sealed } = webhook;
        let failed = |why: String| (record.id.clone(), why);
        let (t, w) = (tenant.as_str(), record.id.as_str());
        let secrets =
            Secrets::open(&self.key, t, w, &sealed.secrets).map_err(|e| failed(e.to_string()))?;
        let auth = Auth::open(&self.key, t, w, &sealed.auth).map_err(|e| failed(e.to_string()))?;
        let url = url::Url::parse(&record.url).map_err(|e| failed(format!("its URL: {e}")))?;
        let policy = RetryPolicy::from_parts(&record.retry_delays, record.timeout_secs)
            .map_err(|e| failed(e.to_owned()))?;
        let endpoint = Endpoint {
            url,
            scheme: record.scheme,
            secrets: secrets.active(now_ms),
            auth,
            timeout: policy.timeout,
        };
        Ok(Opened {
            record,
            endpoint,
            policy,
        })
    }
}
