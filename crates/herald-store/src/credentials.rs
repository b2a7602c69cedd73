//! Provider credentials per tenant: a sealed secret plus metadata the API may show.

use herald_core::ids::TenantId;
use herald_core::time::now_ms;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Result, Store};

/// What the API may show of a credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialRecord {
    pub provider: String,
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
            provider: row.try_get("provider")?,
            label: row.try_get("label")?,
            identifier: row.try_get("identifier")?,
            principal: row.try_get("principal")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

impl Store {
    /// Creates or replaces the tenant's credential for `record.provider`.
    #[tracing::instrument(skip(self, record, sealed), fields(provider = %record.provider))]
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
        .bind(&record.provider)
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

    pub async fn list_credentials(&self, tenant: &TenantId) -> Result<Vec<CredentialRecord>> {
        let rows = sqlx::query(
            "SELECT provider, label, identifier, principal, updated_at FROM credentials \
             WHERE tenant_id = $1 ORDER BY provider",
        )
        .bind(tenant.as_str())
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(CredentialRecord::from_row).collect()
    }

    pub async fn sealed_credential(
        &self,
        tenant: &TenantId,
        provider: &str,
    ) -> Result<Option<SealedCredential>> {
        let row = sqlx::query(
            "SELECT sealed, updated_at FROM credentials WHERE tenant_id = $1 AND provider = $2",
        )
        .bind(tenant.as_str())
        .bind(provider)
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
        provider: &str,
    ) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT updated_at FROM credentials WHERE tenant_id = $1 AND provider = $2",
        )
        .bind(tenant.as_str())
        .bind(provider)
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.map(|r| r.try_get("updated_at")).transpose()?)
    }

    pub async fn delete_credential(&self, tenant: &TenantId, provider: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM credentials WHERE tenant_id = $1 AND provider = $2")
            .bind(tenant.as_str())
            .bind(provider)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
