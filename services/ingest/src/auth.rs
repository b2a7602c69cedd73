//! Authentication: `authorization: Bearer <key>` → the key's tenant and what the key may do (a
//! server key everything, an app client key two calls), or the operator's admin key.
//!
//! Live keys are cached for a few seconds so a busy client does not cost a database read per
//! call. A revocation drops the key from this process's cache at once and is announced on the
//! bus, so every other ingest replica drops it too; a replica that was cut off from the bus at
//! that moment stops accepting it within [`KEY_CACHE_TTL`].

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use herald_core::crypto::{hash_api_key, secrets_equal};
use herald_core::ids::{KeyId, TenantId};
use herald_core::{Error, Result};
use herald_proto::v1::ApiKeyScope;
use herald_store::LiveKey;
use tonic::metadata::MetadataMap;

use crate::Api;

/// How long a looked-up key is trusted without asking the database again.
pub(crate) const KEY_CACHE_TTL: Duration = Duration::from_secs(5);

/// Who is calling.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Caller {
    Admin,
    /// A server key of the tenant.
    Tenant(TenantId),
    /// An app client key of the tenant: it registers devices and reports delivery events only.
    App(TenantId),
}

impl Caller {
    fn of(key: &LiveKey) -> Self {
        match key.scope {
            ApiKeyScope::App => Self::App(key.tenant_id.clone()),
            ApiKeyScope::Server | ApiKeyScope::Unspecified => Self::Tenant(key.tenant_id.clone()),
        }
    }
}

/// Recently seen live keys, by the key's hash.
#[derive(Debug, Default)]
pub(crate) struct KeyCache {
    entries: RwLock<HashMap<String, (LiveKey, Instant)>>,
}

impl KeyCache {
    fn get(&self, hash: &str) -> Option<LiveKey> {
        let entries = self.entries.read().expect("key cache");
        entries
            .get(hash)
            .filter(|(_, at)| at.elapsed() < KEY_CACHE_TTL)
            .map(|(key, _)| key.clone())
    }

    fn put(&self, hash: String, key: LiveKey) {
        let mut entries = self.entries.write().expect("key cache");
        // Expired entries go when the cache grows, so it stays as small as the live key set.
        if entries.len() > 10_000 {
            entries.retain(|_, (_, at)| at.elapsed() < KEY_CACHE_TTL);
        }
        entries.insert(hash, (key, Instant::now()));
    }

    /// Forgets a revoked key.
    pub(crate) fn forget(&self, key: &KeyId) {
        self.entries
            .write()
            .expect("key cache")
            .retain(|_, (live, _)| live.id != *key);
    }
}

/// Drops each key whose revocation is announced on the bus from `keys`, until `shutdown`.
pub(crate) async fn forget_revoked(
    bus: herald_bus::Bus,
    keys: std::sync::Arc<KeyCache>,
    shutdown: tokio_util::sync::CancellationToken,
) -> anyhow::Result<()> {
    bus.announcements(herald_bus::subjects::API_KEY_REVOKED, shutdown, |id| {
        keys.forget(&KeyId::from_trusted(id.to_owned()));
    })
    .await?;
    Ok(())
}

/// The key of `authorization: Bearer <key>`; the scheme's case does not matter (RFC 9110 §11.1).
fn bearer(metadata: &MetadataMap) -> Result<&str> {
    metadata
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim_start().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, key)| key.trim())
        .filter(|key| !key.is_empty())
        .ok_or_else(|| {
            Error::Unauthenticated("the authorization header must be `Bearer <API key>`".into())
        })
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
        let hash = hash_api_key(key);
        if let Some(live) = self.keys.get(&hash) {
            return Ok(Caller::of(&live));
        }
        match self.store.live_key(&hash).await? {
            Some(live) => {
                let caller = Caller::of(&live);
                self.keys.put(hash, live);
                Ok(caller)
            }
            None => Err(Error::Unauthenticated("invalid or revoked API key".into())),
        }
    }

    /// The tenant of a server key; the admin key has no tenant data of its own, and an app
    /// client key may do only what [`Api::device_tenant`] allows.
    pub(crate) async fn tenant(&self, metadata: &MetadataMap) -> Result<TenantId> {
        match self.caller(metadata).await? {
            Caller::Tenant(tenant) => Ok(tenant),
            Caller::Admin => Err(admin_key_refused()),
            Caller::App(_) => Err(app_key_refused()),
        }
    }

    /// The tenant of a server key or an app client key, and whether it is an app's: for the
    /// calls an app makes (register its device, report what it did with a delivery).
    pub(crate) async fn device_tenant(&self, metadata: &MetadataMap) -> Result<(TenantId, bool)> {
        match self.caller(metadata).await? {
            Caller::Tenant(tenant) => Ok((tenant, false)),
            Caller::App(tenant) => Ok((tenant, true)),
            Caller::Admin => Err(admin_key_refused()),
        }
    }
}

/// What the admin key is told when it calls for a tenant's data.
fn admin_key_refused() -> Error {
    Error::PermissionDenied("the admin key manages tenants and keys; use a tenant's API key".into())
}

/// What an app client key is told when it calls anything else.
pub(crate) fn app_key_refused() -> Error {
    Error::PermissionDenied(
        "an app client key may only register devices and report delivery events; \
         use a server key"
            .into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_scheme_is_matched_whatever_its_case() {
        for header in [
            "Bearer hrld_k",
            "bearer hrld_k",
            "BEARER  hrld_k ",
            "bEaReR hrld_k",
        ] {
            let mut metadata = MetadataMap::new();
            metadata.insert("authorization", header.parse().unwrap());
            assert_eq!(bearer(&metadata).unwrap(), "hrld_k", "{header:?}");
        }
        for header in ["Basic hrld_k", "Bearer", "hrld_k", "Bearer "] {
            let mut metadata = MetadataMap::new();
            metadata.insert("authorization", header.parse().unwrap());
            assert!(bearer(&metadata).is_err(), "{header:?}");
        }
    }
}
