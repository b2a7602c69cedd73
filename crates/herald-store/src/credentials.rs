//! Provider credentials per tenant: a secret sealed under the master key plus metadata the API
//! may show, and a cache of them opened.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use herald_core::crypto::{MasterKey, credential_context};
use herald_core::ids::TenantId;
use herald_core::names::Named as _;
use herald_core::time::now_ms;
use herald_proto::v1::Provider;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Result, Store, StoreError, decode};

/// What the API may show of a credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialRecord {
    pub provider: Provider,
    pub label: String,
    pub identifier: String,
    pub principal: String,
    pub updated_at: i64,
}

/// A credential's secret, still sealed, with the instant it was last set (a cache key).
#[derive(Clone, Debug)]
pub struct SealedCredential {
    pub sealed: Vec<u8>,
    pub updated_at: i64,
}

impl CredentialRecord {
    fn from_row(row: &AnyRow) -> Result<Self> {
        Ok(Self {
            provider: decode(row, "provider")?,
            label: row.try_get("label")?,
            identifier: row.try_get("identifier")?,
            principal: row.try_get("principal")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

impl Store {
    /// Creates or replaces the tenant's credential for `record.provider`.
    #[tracing::instrument(skip(self, record, sealed), fields(provider = record.provider.name()))]
    pub async fn put_credential(
        &self,
        tenant: &TenantId,
        record: &CredentialRecord,
        sealed: &[u8],
    ) -> Result<CredentialRecord> {
        let updated_at = now_ms();
        sqlx::query(
            "INSERT INTO credentials (tenant_id, provider, label, identifier, principal, sealed, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (tenant_id, provider) DO UPDATE SET label = excluded.label, \
                 identifier = excluded.identifier, principal = excluded.principal, \
                 sealed = excluded.sealed, updated_at = excluded.updated_at",
        )
        .bind(tenant.as_str())
        .bind(record.provider.name())
        .bind(&record.label)
        .bind(&record.identifier)
        .bind(&record.principal)
        .bind(sealed)
        .bind(updated_at)
        .execute(&self.pool)
        .await?;
        Ok(CredentialRecord {
            updated_at,
            ..record.clone()
        })
    }

    /// The tenant's credentials in provider order, after the provider `after`, at most `limit`.
    pub async fn list_credentials(
        &self,
        tenant: &TenantId,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<CredentialRecord>> {
        let rows = sqlx::query(
            "SELECT provider, label, identifier, principal, updated_at FROM credentials \
             WHERE tenant_id = $1 AND provider > $2 ORDER BY provider LIMIT $3",
        )
        .bind(tenant.as_str())
        .bind(after.unwrap_or(""))
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(CredentialRecord::from_row).collect()
    }

    pub async fn sealed_credential(
        &self,
        tenant: &TenantId,
        provider: Provider,
    ) -> Result<Option<SealedCredential>> {
        let row = sqlx::query(
            "SELECT sealed, updated_at FROM credentials WHERE tenant_id = $1 AND provider = $2",
        )
        .bind(tenant.as_str())
        .bind(provider.name())
        .fetch_optional(&self.reader)
        .await?;
        row.map(|r| {
            Ok(SealedCredential {
                sealed: r.try_get("sealed")?,
                updated_at: r.try_get("updated_at")?,
            })
        })
        .transpose()
    }

    /// The `updated_at` of a credential, to tell a cached copy is still current.
    pub async fn credential_version(
        &self,
        tenant: &TenantId,
        provider: Provider,
    ) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT updated_at FROM credentials WHERE tenant_id = $1 AND provider = $2",
        )
        .bind(tenant.as_str())
        .bind(provider.name())
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.map(|r| r.try_get("updated_at")).transpose()?)
    }

    pub async fn delete_credential(&self, tenant: &TenantId, provider: Provider) -> Result<bool> {
        let done = sqlx::query("DELETE FROM credentials WHERE tenant_id = $1 AND provider = $2")
            .bind(tenant.as_str())
            .bind(provider.name())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}

/// How long a cached credential is used before checking it was not replaced.
const RECHECK: Duration = Duration::from_secs(10);

/// Why no opened credential could be had.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError<E> {
    #[error("no {} credential is configured for this tenant", .0.name())]
    Missing(Provider),
    #[error("the {} credential cannot be opened: {}", .0.name(), .1)]
    Sealed(Provider, herald_core::Error),
    #[error("store: {0}")]
    Store(StoreError),
    /// The caller's `open` refused the plaintext.
    #[error("{0}")]
    Open(E),
}

struct Cached<C> {
    version: i64,
    checked_at: Instant,
    value: Arc<C>,
}

/// Tenants' credentials, unsealed with the master key and opened into what uses them (a provider
/// client with its connections and token cache), cached per tenant and provider, and opened
/// anew when the credential is replaced. One process shares one opened credential, so a
/// provider sees one connection pool and one token per credential.
pub struct CredentialCache<C> {
    store: Store,
    master_key: Arc<MasterKey>,
    entries: RwLock<HashMap<(TenantId, Provider), Cached<C>>>,
    /// Held while a credential is checked or opened, so concurrent first uses share one.
    opening: tokio::sync::Mutex<()>,
}

impl<C> std::fmt::Debug for CredentialCache<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialCache").finish_non_exhaustive()
    }
}

impl<C> CredentialCache<C> {
    pub fn new(store: Store, master_key: Arc<MasterKey>) -> Self {
        Self {
            store,
            master_key,
            entries: RwLock::default(),
            opening: tokio::sync::Mutex::default(),
        }
    }

    /// The tenant's credential for `provider`, opened with `open` (from its plaintext) unless a
    /// current one is cached.
    pub async fn get<E>(
        &self,
        tenant: &TenantId,
        provider: Provider,
        open: impl FnOnce(&[u8]) -> Result<C, E>,
    ) -> Result<Arc<C>, CredentialError<E>> {
        let key = (tenant.clone(), provider);
        if let Some(value) = self.fresh(&key) {
            return Ok(value);
        }
        let _opening = self.opening.lock().await;
        if let Some(value) = self.fresh(&key) {
            return Ok(value);
        }
        let version = self.store.credential_version(tenant, provider).await;
        let Some(version) = version.map_err(CredentialError::Store)? else {
            self.entries.write().expect("credential cache").remove(&key);
            return Err(CredentialError::Missing(provider));
        };
        if let Some(cached) = self
            .entries
            .write()
            .expect("credential cache")
            .get_mut(&key)
            .filter(|c| c.version == version)
        {
            cached.checked_at = Instant::now();
            return Ok(cached.value.clone());
        }
        let sealed = self
            .store
            .sealed_credential(tenant, provider)
            .await
            .map_err(CredentialError::Store)?
            .ok_or(CredentialError::Missing(provider))?;
        let plaintext = self
            .master_key
            .open(
                &credential_context(tenant.as_str(), provider.name()),
                &sealed.sealed,
            )
            .map_err(|e| CredentialError::Sealed(provider, e))?;
        let value = Arc::new(open(&plaintext).map_err(CredentialError::Open)?);
        let cached = Cached {
            version: sealed.updated_at,
            checked_at: Instant::now(),
            value: value.clone(),
        };
        self.entries
            .write()
            .expect("credential cache")
            .insert(key, cached);
        Ok(value)
    }

    fn fresh(&self, key: &(TenantId, Provider)) -> Option<Arc<C>> {
        let entries = self.entries.read().expect("credential cache");
        let cached = entries.get(key)?;
        (cached.checked_at.elapsed() < RECHECK).then(|| cached.value.clone())
    }
}

impl Store {
    /// Seals `plaintext` under `master_key`, bound to the tenant and provider, and stores it
    /// with the metadata of `record`.
    pub async fn seal_credential(
        &self,
        tenant: &TenantId,
        record: &CredentialRecord,
        plaintext: &[u8],
        master_key: &MasterKey,
    ) -> Result<CredentialRecord> {
        let sealed = master_key.seal(
            &credential_context(tenant.as_str(), record.provider.name()),
            plaintext,
        );
        self.put_credential(tenant, record, &sealed).await
    }
}
