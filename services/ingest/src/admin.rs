//! Tenants and API keys.

use herald_core::crypto::{display_prefix, generate_api_key, hash_api_key};
use herald_core::ids::{KeyId, TenantId};
use herald_core::{Error, Result};
use herald_proto::v1::admin_server::Admin;
use herald_proto::v1::*;
use tonic::{Request, Response, Status};

use crate::Api;
use crate::auth::Caller;
use crate::convert::api_key;

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
        let name = request.get_ref().name.trim();
        if name.is_empty() || name.len() > 200 {
            return Err(Error::invalid("name", "1 to 200 characters").into());
        }
        let tenant = self.store.create_tenant(name).await.map_err(Error::from)?;
        tracing::info!(tenant_id = %tenant.id, "tenant created");
        Ok(Response::new(Tenant {
            tenant_id: tenant.id.into_string(),
            name: tenant.name,
            created_at_ms: tenant.created_at,
            settings: Some(TenantSettings::default()),
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
        let req = request.get_ref();
        let tenant = TenantId::parse("tenant_id", &req.tenant_id)?;
        let settings = req.settings.unwrap_or_default();
        let stored = herald_store::TenantSettings {
            allow_http_web_push: settings.allow_http_web_push,
        };
        if !self
            .store
            .set_tenant_settings(&tenant, stored)
            .await
            .map_err(Error::from)?
        {
            return Err(Error::NotFound(format!("tenant {tenant}")).into());
        }
        tracing::info!(tenant_id = %tenant, allow_http_web_push = settings.allow_http_web_push, "tenant settings changed");
        Ok(Response::new(Tenant {
            tenant_id: tenant.into_string(),
            settings: Some(settings),
            ..Default::default()
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn create_api_key(
        &self,
        request: Request<CreateApiKeyRequest>,
    ) -> Result<Response<CreateApiKeyResponse>, Status> {
        let caller = self.caller(request.metadata()).await?;
        let req = request.get_ref();
        let tenant = self.key_tenant(caller, &req.tenant_id).await?;
        if req.name.len() > 200 {
            return Err(Error::invalid("name", "at most 200 characters").into());
        }
        let key = generate_api_key();
        let record = self
            .store
            .insert_api_key(
                &tenant,
                &req.name,
                &display_prefix(&key),
                &hash_api_key(&key),
            )
            .await
            .map_err(Error::from)?;
        tracing::info!(tenant_id = %tenant, key_id = %record.id, "API key created");
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
        let tenant = self
            .key_tenant(caller, &request.get_ref().tenant_id)
            .await?;
        let keys = self
            .store
            .list_api_keys(&tenant)
            .await
            .map_err(Error::from)?;
        Ok(Response::new(ListApiKeysResponse {
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
        tracing::info!(tenant_id = %tenant, key_id = %key, "API key revoked");
        Ok(Response::new(RevokeApiKeyResponse {}))
    }
}
