//! Provider credentials: checked by opening a client with them, sealed at rest under the master
//! key, never returned; TestConnection proves one works.

use std::sync::Arc;

use herald_core::ids::DeviceId;
use herald_core::names::Named as _;
use herald_core::{Error, Result};
use herald_proto::v1::credentials_server::Credentials;
use herald_proto::v1::set_credential_request::Credential;
use herald_proto::v1::*;
use herald_providers::ProviderClient;
use herald_providers::webpush::vapid::{VapidKey, check_subject};
use herald_store::{CredentialError, CredentialRecord};
use prost::Message as _;
use tonic::{Request, Response, Status};

use crate::Api;
use crate::convert::credential;
use crate::pages::Page;

/// How long a test notification waits for its provider's answer.
const TEST_WAIT_SECS: u32 = 30;

impl Api {
    /// Opens a client with a credential's bytes: the check that it is usable.
    fn open(&self, provider: Provider, plaintext: &[u8]) -> Result<ProviderClient> {
        Ok(ProviderClient::open(
            provider,
            plaintext,
            &self.config.endpoints,
            &self.http,
        )?)
    }

    /// The tenant's credential for `provider`, opened: the one this process already holds
    /// (with its connections and provider token) while it is current.
    async fn stored_client(
        &self,
        tenant: &herald_core::ids::TenantId,
        provider: Provider,
    ) -> Result<Arc<ProviderClient>> {
        let open = |plaintext: &[u8]| self.open(provider, plaintext);
        self.clients
            .get(tenant, provider, open)
            .await
            .map_err(|err| match err {
                CredentialError::Missing(provider) => {
                    Error::NotFound(format!("{} credential", provider.name()))
                }
                CredentialError::Open(err) => err,
                CredentialError::Store(err) => err.into(),
                sealed @ CredentialError::Sealed(..) => Error::internal(sealed),
            })
    }
}

#[tonic::async_trait]
impl Credentials for Api {
    #[tracing::instrument(skip_all)]
    async fn set_credential(
        &self,
        request: Request<SetCredentialRequest>,
    ) -> Result<Response<CredentialInfo>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let req = request.get_ref();
        let (provider, plaintext) = match &req.credential {
            Some(Credential::Fcm(c)) => (Provider::Fcm, c.encode_to_vec()),
            Some(Credential::Hms(c)) => (Provider::Hms, c.encode_to_vec()),
            Some(Credential::Apns(c)) => (Provider::Apns, c.encode_to_vec()),
            Some(Credential::Webpush(c)) => (Provider::Webpush, c.encode_to_vec()),
            None => {
                return Err(Error::invalid(
                    "credential",
                    "required: one of fcm, apns, webpush, hms",
                )
                .into());
            }
        };
        let (identifier, principal) = self.open(provider, &plaintext)?.identity();
        let record = CredentialRecord {
            provider,
            label: req.label.clone(),
            identifier,
            principal,
            updated_at: 0,
        };
        let saved = self
            .store
            .seal_credential(&tenant, &record, &plaintext, &self.config.master_key)
            .await
            .map_err(Error::from)?;
        tracing::info!(tenant_id = %tenant, provider = provider.name(), "credential set");
        Ok(Response::new(credential(saved)))
    }

    async fn list_credentials(
        &self,
        request: Request<ListCredentialsRequest>,
    ) -> Result<Response<ListCredentialsResponse>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let req = request.get_ref();
        let page = Page::read(
            &self.config.master_key,
            format!("credentials/{tenant}"),
            req.page_size,
            &req.page_token,
        )?;
        let records = self
            .store
            .list_credentials(&tenant, page.after.as_deref(), page.limit)
            .await
            .map_err(Error::from)?;
        Ok(Response::new(ListCredentialsResponse {
            next_page_token: page.next_token(&records, |c| c.provider.name().to_owned()),
            credentials: records.into_iter().map(credential).collect(),
        }))
    }

    async fn delete_credential(
        &self,
        request: Request<DeleteCredentialRequest>,
    ) -> Result<Response<DeleteCredentialResponse>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let provider = request.get_ref().provider();
        if provider == Provider::Unspecified {
            return Err(Error::invalid("provider", "required").into());
        }
        if !self
            .store
            .delete_credential(&tenant, provider)
            .await
            .map_err(Error::from)?
        {
            return Err(Error::NotFound(format!("{} credential", provider.name())).into());
        }
        Ok(Response::new(DeleteCredentialResponse {}))
    }

    /// Obtains a token and makes a validate-only send with the stored credential.
    #[tracing::instrument(skip_all)]
    async fn test_connection(
        &self,
        request: Request<TestConnectionRequest>,
    ) -> Result<Response<TestConnectionResponse>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let provider = request.get_ref().provider();
        if provider == Provider::Unspecified {
            return Err(Error::invalid("provider", "apns, fcm, hms or webpush").into());
        }
        let client = self.stored_client(&tenant, provider).await?;
        let (ok, detail) = match client.test_connection().await {
            Ok(detail) => (true, detail),
            Err(detail) => (false, detail),
        };
        tracing::info!(tenant_id = %tenant, provider = provider.name(), ok, "connection tested");
        Ok(Response::new(TestConnectionResponse { ok, detail }))
    }

    #[tracing::instrument(skip_all)]
    async fn send_test_notification(
        &self,
        request: Request<SendTestNotificationRequest>,
    ) -> Result<Response<SendTestNotificationResponse>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let deadline = crate::wait::client_deadline(request.metadata());
        let req = request.into_inner();
        let provider = req.provider();
        if provider == Provider::Unspecified {
            return Err(Error::invalid("provider", "apns, fcm, hms or webpush").into());
        }
        if req.title.trim().is_empty() {
            return Err(Error::invalid("title", "required").into());
        }
        let id = DeviceId::parse("device_id", &req.device_id)?;
        let device = self
            .store
            .get_device(&tenant, &id)
            .await
            .map_err(Error::from)?
            .ok_or_else(|| Error::NotFound(format!("device {id}")))?;
        if device.state != DeviceState::Active {
            return Err(Error::FailedPrecondition(format!(
                "device {id} is {} ({}): register it again",
                device.state.name(),
                device.state_reason
            ))
            .into());
        }
        let platform = device.profile.platform;
        if herald_core::platform::provider_for(platform) != Some(provider) {
            return Err(Error::FailedPrecondition(format!(
                "device {id} is a {} device: {} does not serve it",
                platform.name(),
                provider.name()
            ))
            .into());
        }
        if self
            .store
            .credential_version(&tenant, provider)
            .await
            .map_err(Error::from)?
            .is_none()
        {
            return Err(Error::FailedPrecondition(format!(
                "the tenant has no {} credential",
                provider.name()
            ))
            .into());
        }
        let waited = crate::wait::send_and_wait(
            self,
            tenant,
            SendAndWaitRequest {
                request: Some(SendRequest {
                    destination: Some(Destination {
                        kind: Some(destination::Kind::DeviceId(id.to_string())),
                    }),
                    notification: Some(Notification {
                        title: req.title,
                        body: req.body,
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                wait_for: WaitFor::Submit as i32,
                until: Some(send_and_wait_request::Until::TimeoutSeconds(TEST_WAIT_SECS)),
            },
            deadline,
        )
        .await?;
        Ok(Response::new(SendTestNotificationResponse {
            message_id: waited.message_id,
            outcome: waited.outcome,
            reason: waited.reason,
            delivery: waited.deliveries.into_iter().next(),
        }))
    }

    /// Generates the tenant's VAPID key pair, like the seeds' `generate-vapid-keys`. It refuses
    /// to replace an existing pair: subscriptions made with the old public key would stop working.
    #[tracing::instrument(skip_all)]
    async fn generate_vapid_keys(
        &self,
        request: Request<GenerateVapidKeysRequest>,
    ) -> Result<Response<VapidPublicKey>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let subject = request.get_ref().subject.trim().to_owned();
        check_subject(&subject).map_err(|e| Error::invalid("subject", e.to_string()))?;
        if self
            .store
            .credential_version(&tenant, Provider::Webpush)
            .await
            .map_err(Error::from)?
            .is_some()
        {
            return Err(Error::FailedPrecondition(
                "the tenant has VAPID keys already; delete the webpush credential first \
                 (subscriptions made with the old public key will stop working)"
                    .into(),
            )
            .into());
        }
        let (key, private) = VapidKey::generate();
        let credential = WebPushCredential {
            vapid_private_key: private,
            vapid_public_key: key.public_key.clone(),
            subject: subject.clone(),
        };
        let plaintext = credential.encode_to_vec();
        let record = CredentialRecord {
            provider: Provider::Webpush,
            label: "generated".into(),
            identifier: key.public_key.clone(),
            principal: subject,
            updated_at: 0,
        };
        self.store
            .seal_credential(&tenant, &record, &plaintext, &self.config.master_key)
            .await
            .map_err(Error::from)?;
        tracing::info!(tenant_id = %tenant, "VAPID keys generated");
        Ok(Response::new(VapidPublicKey {
            public_key: key.public_key,
        }))
    }
}
