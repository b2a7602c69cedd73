//! The device registry API.

use herald_core::ids::{DeviceId, TenantId};
use herald_core::{Error, validate};
use herald_proto::v1::devices_server::Devices;
use herald_proto::v1::*;
use herald_store::{DeviceFilter, DeviceProfile};
use tonic::{Request, Response, Status};

use crate::Api;
use crate::convert::device;
use crate::pages::Page;

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

/// What a device's provider insists on: a token it can address (a hex APNs token), a web
/// subscription's key material. `token_field` and `web_field` name the request's fields.
pub(crate) fn provider_checks(
    platform: Platform,
    token: &str,
    web: Option<&WebSubscription>,
    token_field: &str,
    web_field: &str,
) -> Result<(), Error> {
    if let Some(sub) = web.filter(|_| platform == Platform::Web) {
        return herald_providers::webpush::limits::check_subscription_keys(&sub.p256dh, &sub.auth)
            .map_err(|(key, reason)| Error::invalid(format!("{web_field}.{key}"), reason));
    }
    herald_providers::limits::check_push_token(platform, token)
        .map_err(|reason| Error::invalid(token_field, reason))
}

/// A registration, checked as RegisterDevice checks it, as the device to store.
pub(crate) fn profile(
    req: &RegisterDeviceRequest,
    allow_http: bool,
) -> Result<DeviceProfile, Error> {
    validate::register_device(req, allow_http)?;
    provider_checks(
        req.platform(),
        &req.push_token,
        req.web_subscription.as_ref(),
        "push_token",
        "web_subscription",
    )?;
    // A web subscription's endpoint is its push token.
    let (token, p256dh, auth) = match &req.web_subscription {
        Some(sub) if req.platform() == Platform::Web => {
            (sub.endpoint.clone(), sub.p256dh.clone(), sub.auth.clone())
        }
        _ => (req.push_token.clone(), String::new(), String::new()),
    };
    let browser = Some(req.browser()).filter(|b| *b != Browser::Unspecified);
    Ok(DeviceProfile {
        user_id: non_empty(&req.user_id),
        customer_id: non_empty(&req.customer_id),
        platform: req.platform(),
        push_token: token,
        browser,
        web_p256dh: p256dh,
        web_auth: auth,
        sandbox: req.sandbox,
        app_version: req.app_version.clone(),
        locale: req.locale.clone(),
        time_zone: req.time_zone.clone(),
    })
}

impl Api {
    /// Whether the tenant accepts http:// Web Push endpoints.
    pub(crate) async fn allows_http_web_push(&self, tenant: &TenantId) -> Result<bool, Error> {
        let settings = self.store.tenant_settings(tenant).await?;
        Ok(settings.unwrap_or_default().allow_http_web_push)
    }
}

impl Api {
    /// Registers a device (or updates the one with its token), as RegisterDevice does; for an
    /// app client key (`app`), a web subscription must be at a browser's push service.
    pub(crate) async fn register(
        &self,
        tenant: &TenantId,
        req: &RegisterDeviceRequest,
        app: bool,
    ) -> Result<RegisterDeviceResponse, Error> {
        if let (true, Platform::Web, Some(sub)) =
            (app, req.platform(), req.web_subscription.as_ref())
        {
            validate::known_push_service("web_subscription", sub)?;
        }
        let allow_http =
            req.platform() == Platform::Web && self.allows_http_web_push(tenant).await?;
        let new = profile(req, allow_http)?;
        let (record, created) = self.store.register_device(tenant, &new).await?;
        tracing::info!(tenant_id = %tenant, device_id = %record.id, created, "device registered");
        Ok(RegisterDeviceResponse {
            device: Some(device(record)),
            created,
        })
    }
}

#[tonic::async_trait]
impl Devices for Api {
    #[tracing::instrument(skip_all)]
    async fn register_device(
        &self,
        request: Request<RegisterDeviceRequest>,
    ) -> Result<Response<RegisterDeviceResponse>, Status> {
        let (tenant, app) = self.device_tenant(request.metadata()).await?;
        Ok(Response::new(
            self.register(&tenant, request.get_ref(), app).await?,
        ))
    }

    #[tracing::instrument(skip_all)]
    async fn unregister_device(
        &self,
        request: Request<UnregisterDeviceRequest>,
    ) -> Result<Response<UnregisterDeviceResponse>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let id = DeviceId::parse("device_id", &request.get_ref().device_id)?;
        if !self
            .store
            .unregister_device(&tenant, &id)
            .await
            .map_err(Error::from)?
        {
            return Err(Error::NotFound(format!("device {id}")).into());
        }
        Ok(Response::new(UnregisterDeviceResponse {}))
    }

    async fn get_device(
        &self,
        request: Request<GetDeviceRequest>,
    ) -> Result<Response<Device>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let id = DeviceId::parse("device_id", &request.get_ref().device_id)?;
        let record = self
            .store
            .get_device(&tenant, &id)
            .await
            .map_err(Error::from)?
            .ok_or_else(|| Error::NotFound(format!("device {id}")))?;
        Ok(Response::new(device(record)))
    }

    async fn list_devices(
        &self,
        request: Request<ListDevicesRequest>,
    ) -> Result<Response<ListDevicesResponse>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let req = request.get_ref();
        let unknown = |field: &str| Error::invalid(field, "not a known value");
        let platform = Platform::try_from(req.platform).map_err(|_| unknown("platform"))?;
        let browser = Browser::try_from(req.browser).map_err(|_| unknown("browser"))?;
        let state = DeviceState::try_from(req.state).map_err(|_| unknown("state"))?;
        let filter = DeviceFilter {
            user_id: non_empty(&req.user_id),
            platform: Some(platform).filter(|p| *p != Platform::Unspecified),
            browser: Some(browser).filter(|b| *b != Browser::Unspecified),
            state: Some(state).filter(|s| *s != DeviceState::Unspecified),
        };
        // A page token pages this filter's list only.
        let page = Page::read(
            &self.config.master_key,
            format!(
                "devices/{tenant}/{}/{}/{}/{}",
                req.user_id, req.platform, req.browser, req.state
            ),
            req.page_size,
            &req.page_token,
        )?;
        let after = page.after.clone().map(DeviceId::from_trusted);
        let records = self
            .store
            .list_devices(&tenant, &filter, after.as_ref(), page.limit)
            .await
            .map_err(Error::from)?;
        Ok(Response::new(ListDevicesResponse {
            next_page_token: page.next_token(&records, |d| d.id.to_string()),
            devices: records.into_iter().map(device).collect(),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn import_devices(
        &self,
        request: Request<tonic::Streaming<ImportDevicesRequest>>,
    ) -> Result<Response<ImportDevicesResponse>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let imported = self.import(&tenant, request.into_inner()).await?;
        Ok(Response::new(imported))
    }
}
