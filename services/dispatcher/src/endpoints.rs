//! The tenants' enabled endpoints, opened (secrets and authorization unsealed, URL parsed), and
//! their notify URL secrets, read per tenant and kept for [`FRESH_FOR`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use herald_core::crypto::MasterKey;
use herald_core::ids::{TenantId, WebhookId};
use herald_store::{Store, StoreError, StoredWebhook, WebhookRecord};
use herald_webhooks::keys::NOTIFY_SECRETS;
use herald_webhooks::{Auth, Endpoint, RetryPolicy, Secret, Secrets};

/// How long a tenant's endpoints are used before they are read again.
pub const FRESH_FOR: Duration = Duration::from_secs(2);

/// An enabled endpoint, ready to post to.
#[derive(Debug)]
pub(crate) struct Opened {
    pub record: WebhookRecord,
    pub endpoint: Endpoint,
    pub policy: RetryPolicy,
    /// The authorization as stored, for replacing it in place.
    pub sealed_auth: Vec<u8>,
}

type Tenants = HashMap<TenantId, (Instant, Arc<Vec<Arc<Opened>>>)>;

/// The secrets that sign a tenant's notify URL posts (`None`: it has none), by tenant.
type NotifySecrets = HashMap<TenantId, (Instant, Option<Vec<Secret>>)>;

/// The cache of opened endpoints. Cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct Endpoints {
    store: Store,
    key: Arc<MasterKey>,
    tenants: Arc<Mutex<Tenants>>,
    notify: Arc<Mutex<NotifySecrets>>,
    /// Moves on with every [`Endpoints::forget`], so a read that a change overtook is not kept.
    generation: Arc<AtomicU64>,
}

impl Endpoints {
    pub fn new(store: Store, key: Arc<MasterKey>) -> Self {
        Self {
            store,
            key,
            tenants: Arc::default(),
            notify: Arc::default(),
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

    /// The secrets that sign the tenant's notify URL posts now, newest first (`None`: it has
    /// none, or they do not open, which is logged).
    pub async fn notify_secrets(
        &self,
        tenant: &TenantId,
    ) -> Result<Option<Vec<Secret>>, StoreError> {
        if let Some((read_at, secrets)) = self.notify.lock().expect("notify secrets").get(tenant)
            && read_at.elapsed() < FRESH_FOR
        {
            return Ok(secrets.clone());
        }
        let generation = self.generation.load(Ordering::Acquire);
        let sealed = self.store.notify_secrets(tenant).await?;
        let secrets = sealed.and_then(|sealed| {
            match Secrets::open(&self.key, tenant.as_str(), NOTIFY_SECRETS, &sealed) {
                Ok(secrets) => Some(secrets.active(herald_core::time::now_ms())),
                Err(err) => {
                    tracing::error!(%tenant, %err, "the tenant's notify URL secrets cannot be used");
                    None
                }
            }
        });
        let mut notify = self.notify.lock().expect("notify secrets");
        if self.generation.load(Ordering::Acquire) == generation {
            notify.insert(tenant.clone(), (Instant::now(), secrets.clone()));
        }
        Ok(secrets)
    }

    /// Forgets a tenant's endpoints and notify secrets (one changed, or was just disabled here).
    pub fn forget(&self, tenant: &TenantId) {
        let mut tenants = self.tenants.lock().expect("endpoints");
        let mut notify = self.notify.lock().expect("notify secrets");
        self.generation.fetch_add(1, Ordering::AcqRel);
        tenants.remove(tenant);
        notify.remove(tenant);
    }

    /// Forgets a tenant's endpoints whenever ingest announces they changed, until `shutdown`.
    pub async fn forget_changed(
        self,
        bus: herald_bus::Bus,
        shutdown: tokio_util::sync::CancellationToken,
    ) -> anyhow::Result<()> {
        bus.announcements(herald_bus::subjects::WEBHOOKS_CHANGED, shutdown, |tenant| {
            self.forget(&TenantId::from_trusted(tenant.to_owned()));
        })
        .await?;
        Ok(())
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
            sealed_auth: sealed.auth,
        })
    }
}
