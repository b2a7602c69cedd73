//! Tenants and API keys.

use herald_core::crypto::{display_prefix, generate_api_key, hash_api_key};
use herald_core::ids::{KeyId, TenantId};
use herald_core::{Error, Result};
use herald_proto::v1::admin_server::Admin;
use herald_proto::v1::*;
use tonic::{Request, Response, Status};

use crate::Api;
use crate::auth::Caller;
use crate::convert::{api_key, tenant_of};
use crate::pages::Page;

/// A tenant's display name (the request's `field`): 1 to 200 characters.
fn display_name<'a>(field: &str, raw: &'a str) -> Result<&'a str> {
    let name = raw.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(Error::invalid(field, "1 to 200 characters"));
    }
    Ok(name)
}

impl Api {
    /// The tenant a key call acts on: any existing tenant for the admin key, only its own for a
    /// tenant key.
    async fn key_tenant(&self, caller: Caller, requested: &str) -> Result<TenantId> {
        match caller {
            Caller::Admin => {
                if requested.is_empty() {
                    return Err(Error::invalid("tenant_id", "required with the admin key"));
                }
                let tenant = TenantId::parse("tenant_id", requested)?;
                if !self.store.tenant_exists(&tenant).await? {
                    return Err(Error::NotFound(format!("tenant {tenant}")));
                }
                Ok(tenant)
            }
            Caller::Tenant(own) if requested.is_empty() || requested == own.as_str() => Ok(own),
            Caller::Tenant(_) => Err(Error::PermissionDenied(
                "a tenant key acts only on its own tenant".into(),
            )),
            Caller::App(_) => Err(crate::auth::app_key_refused()),
        }
    }
}

#[tonic::async_trait]
impl Admin for Api {
    #[tracing::instrument(skip_all)]
    async fn create_tenant(
        &self,
        request: Request<CreateTenantRequest>,
    ) -> Result<Response<Tenant>, Status> {
        if self.caller(request.metadata()).await? != Caller::Admin {
            return Err(
                Error::PermissionDenied("creating tenants needs the admin key".into()).into(),
            );
        }
        let name = display_name("display_name", &request.get_ref().display_name)?;
        let tenant = self.store.create_tenant(name).await.map_err(Error::from)?;
        tracing::info!(tenant_id = %tenant.id, "tenant created");
        Ok(Response::new(tenant_of(tenant)))
    }

    #[tracing::instrument(skip_all)]
    async fn list_tenants(
        &self,
        request: Request<ListTenantsRequest>,
    ) -> Result<Response<ListTenantsResponse>, Status> {
        if self.caller(request.metadata()).await? != Caller::Admin {
            return Err(
                Error::PermissionDenied("listing tenants needs the admin key".into()).into(),
            );
        }
        let req = request.get_ref();
        let page = Page::read(
            &self.config.master_key,
            "tenants".into(),
            req.page_size,
            &req.page_token,
        )?;
        let tenants = self
            .store
            .list_tenants(page.after.as_deref(), page.limit)
            .await
            .map_err(Error::from)?;
        Ok(Response::new(ListTenantsResponse {
            next_page_token: page.next_token(&tenants, |t| t.id.to_string()),
            tenants: tenants.into_iter().map(tenant_of).collect(),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn update_tenant(
        &self,
        request: Request<UpdateTenantRequest>,
    ) -> Result<Response<Tenant>, Status> {
        if self.caller(request.metadata()).await? != Caller::Admin {
            return Err(Error::PermissionDenied(
                "changing tenant settings needs the admin key".into(),
            )
            .into());
        }
        let req = request.into_inner();
        let change = req
            .tenant
            .ok_or_else(|| Error::invalid("tenant", "required"))?;
        let id = TenantId::parse("tenant.tenant_id", &change.tenant_id)?;
        let mut tenant = self
            .store
            .get_tenant(&id)
            .await
            .map_err(Error::from)?
            .ok_or_else(|| Error::NotFound(format!("tenant {id}")))?;
        let settings = change.settings.unwrap_or_default();
        let zone = settings.default_time_zone.clone();
        if !zone.is_empty() {
            herald_core::timing::zone("tenant.settings.default_time_zone", &zone)?;
        }
        let quiet = herald_core::timing::QuietHours::read(
            "tenant.settings.quiet_hours",
            settings.quiet_hours.as_ref(),
        )?;
        let caps = herald_core::caps::Cap::read_all(
            "tenant.settings.frequency_caps",
            &settings.frequency_caps,
        )?;
        let limits = herald_core::caps::RateLimit::read_all(
            "tenant.settings.rate_limits",
            &settings.rate_limits,
        )?;
        let paths = match req.update_mask {
            Some(mask) => mask.paths,
            None => vec!["display_name".into(), "settings".into()],
        };
        for path in &paths {
            match path.as_str() {
                "display_name" => {
                    tenant.display_name =
                        display_name("tenant.display_name", &change.display_name)?.into();
                }
                "settings" => {
                    tenant.settings.allow_http_web_push = settings.allow_http_web_push;
                    tenant.settings.topic_messaging_disabled = settings.topic_messaging_disabled;
                    tenant.settings.segment_messaging_disabled =
                        settings.segment_messaging_disabled;
                    tenant.settings.default_time_zone.clone_from(&zone);
                    tenant.settings.quiet_hours.clone_from(&quiet);
                    tenant.settings.frequency_caps.clone_from(&caps);
                    tenant.settings.rate_limits.clone_from(&limits);
                }
                "settings.rate_limits" => tenant.settings.rate_limits.clone_from(&limits),
                "settings.frequency_caps" => tenant.settings.frequency_caps.clone_from(&caps),
                "settings.default_time_zone" => tenant.settings.default_time_zone.clone_from(&zone),
                "settings.quiet_hours" => tenant.settings.quiet_hours.clone_from(&quiet),
                "settings.allow_http_web_push" => {
                    tenant.settings.allow_http_web_push = settings.allow_http_web_push;
                }
                "settings.topic_messaging_disabled" => {
                    tenant.settings.topic_messaging_disabled = settings.topic_messaging_disabled;
                }
                "settings.segment_messaging_disabled" => {
                    tenant.settings.segment_messaging_disabled =
                        settings.segment_messaging_disabled;
                }
                other => {
                    return Err(Error::invalid(
                        "update_mask",
                        format!(
                            "{other:?} is not a field that can be updated (display_name, settings, settings.allow_http_web_push, settings.topic_messaging_disabled, settings.segment_messaging_disabled, settings.default_time_zone, settings.quiet_hours, settings.frequency_caps, settings.rate_limits)"
                        ),
                    )
                    .into());
                }
            }
        }
        if !self
            .store
            .update_tenant(&tenant)
            .await
            .map_err(Error::from)?
        {
            return Err(Error::NotFound(format!("tenant {id}")).into());
        }
        tracing::info!(tenant_id = %id, ?paths, settings = ?tenant.settings, "tenant changed");
        Ok(Response::new(tenant_of(tenant)))
    }

    #[tracing::instrument(skip_all)]
    async fn create_api_key(
        &self,
        request: Request<CreateApiKeyRequest>,
    ) -> Result<Response<CreateApiKeyResponse>, Status> {
        let caller = self.caller(request.metadata()).await?;
        let req = request.get_ref();
        let tenant = self.key_tenant(caller, &req.tenant_id).await?;
        if req.display_name.len() > 200 {
            return Err(Error::invalid("display_name", "at most 200 characters").into());
        }
        let scope = match ApiKeyScope::try_from(req.scope) {
            Ok(ApiKeyScope::Unspecified) => ApiKeyScope::Server,
            Ok(scope) => scope,
            Err(_) => return Err(Error::invalid("scope", "not a key scope").into()),
        };
        let key = generate_api_key();
        let record = self
            .store
            .insert_api_key(
                &tenant,
                &req.display_name,
                &display_prefix(&key),
                &hash_api_key(&key),
                scope,
            )
            .await
            .map_err(Error::from)?;
        tracing::info!(tenant_id = %tenant, key_id = %record.id, ?scope, "API key created");
        Ok(Response::new(CreateApiKeyResponse {
            api_key: Some(api_key(record)),
            key,
        }))
    }

    async fn list_api_keys(
        &self,
        request: Request<ListApiKeysRequest>,
    ) -> Result<Response<ListApiKeysResponse>, Status> {
        let caller = self.caller(request.metadata()).await?;
        let req = request.get_ref();
        let tenant = self.key_tenant(caller, &req.tenant_id).await?;
        let page = Page::read(
            &self.config.master_key,
            format!("api_keys/{tenant}"),
            req.page_size,
            &req.page_token,
        )?;
        let keys = self
            .store
            .list_api_keys(&tenant, page.after.as_deref(), page.limit)
            .await
            .map_err(Error::from)?;
        Ok(Response::new(ListApiKeysResponse {
            next_page_token: page.next_token(&keys, |k| k.id.to_string()),
            api_keys: keys.into_iter().map(api_key).collect(),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn revoke_api_key(
        &self,
        request: Request<RevokeApiKeyRequest>,
    ) -> Result<Response<RevokeApiKeyResponse>, Status> {
        let caller = self.caller(request.metadata()).await?;
        let req = request.get_ref();
        let tenant = self.key_tenant(caller, &req.tenant_id).await?;
        let key = KeyId::parse("key_id", &req.key_id)?;
        if !self
            .store
            .revoke_api_key(&tenant, &key)
            .await
            .map_err(Error::from)?
        {
            return Err(Error::NotFound(format!("API key {key}")).into());
        }
        self.keys.forget(&key);
        // Every other replica drops it too; one that misses this stops within the cache's TTL.
        if let Err(err) = self
            .bus
            .announce(
                herald_bus::subjects::API_KEY_REVOKED,
                key.to_string().into_bytes().into(),
            )
            .await
        {
            tracing::warn!(%err, "could not announce a key revocation to the other replicas");
        }
        tracing::info!(tenant_id = %tenant, key_id = %key, "API key revoked");
        Ok(Response::new(RevokeApiKeyResponse {}))
    }
}
