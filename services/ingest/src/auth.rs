//! Authentication: `authorization: Bearer <key>` → the key's tenant, or the operator's admin key.

use herald_core::crypto::{hash_api_key, secrets_equal};
use herald_core::ids::TenantId;
use herald_core::{Error, Result};
use tonic::metadata::MetadataMap;

use crate::Api;

/// Who is calling.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Caller {
    Admin,
    Tenant(TenantId),
}

fn bearer(metadata: &MetadataMap) -> Result<&str> {
    metadata
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .ok_or_else(|| Error::Unauthenticated("missing authorization: Bearer <API key>".into()))
}

impl Api {
    /// The caller: the admin key, or a live tenant key.
    pub(crate) async fn caller(&self, metadata: &MetadataMap) -> Result<Caller> {
        let key = bearer(metadata)?;
        if self
            .config
            .admin_key
            .as_deref()
            .is_some_and(|admin| secrets_equal(admin, key))
        {
            return Ok(Caller::Admin);
        }
        match self.store.tenant_for_key_hash(&hash_api_key(key)).await? {
            Some(tenant) => Ok(Caller::Tenant(tenant)),
            None => Err(Error::Unauthenticated("invalid or revoked API key".into())),
        }
    }

    /// The tenant of a tenant key; the admin key has no tenant data of its own.
    pub(crate) async fn tenant(&self, metadata: &MetadataMap) -> Result<TenantId> {
        match self.caller(metadata).await? {
            Caller::Tenant(tenant) => Ok(tenant),
            Caller::Admin => Err(Error::PermissionDenied(
                "the admin key manages tenants and keys; use a tenant's API key".into(),
            )),
        }
    }
}
