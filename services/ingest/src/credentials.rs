//! Provider credentials: sealed at rest under the master key, never returned.

use herald_core::crypto::credential_context;
use herald_core::platform::provider_name;
use herald_core::{Error, Result};
use herald_proto::v1::credentials_server::Credentials;
use herald_proto::v1::set_credential_request::Credential;
use herald_proto::v1::*;
use herald_providers::fcm::ServiceAccount;
use herald_store::CredentialRecord;
use prost::Message as _;
use tonic::{Request, Response, Status};

use crate::Api;
use crate::convert::credential;

/// Checks an FCM credential and answers its metadata and the bytes to seal.
fn fcm(label: &str, fcm: &FcmCredential) -> Result<(CredentialRecord, Vec<u8>)> {
    let account = ServiceAccount::parse(&fcm.service_account_json)
        .map_err(|e| Error::invalid("fcm.service_account_json", e.to_string()))?;
    let project_id = if fcm.project_id.is_empty() {
        account.project_id.clone()
    } else {
        fcm.project_id.clone()
    };
    if project_id.is_empty() {
        return Err(Error::invalid(
            "fcm.project_id",
            "required (the service account JSON has none)",
        ));
    }
    let record = CredentialRecord {
        provider: provider_name(Provider::Fcm).into(),
        label: label.to_owned(),
        identifier: project_id.clone(),
        principal: account.client_email,
        updated_at: 0,
    };
    let sealed_form = FcmCredential {
        service_account_json: fcm.service_account_json.clone(),
        project_id,
    };
    Ok((record, sealed_form.encode_to_vec()))
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
        let (record, plaintext) = match &req.credential {
            Some(Credential::Fcm(c)) => fcm(&req.label, c)?,
            Some(Credential::Apns(_)) => {
                return Err(Error::Unimplemented("APNs credentials".into()).into());
            }
            Some(Credential::Webpush(_)) => {
                return Err(Error::Unimplemented("Web Push credentials".into()).into());
            }
            Some(Credential::Hms(_)) => {
                return Err(Error::Unimplemented("HMS credentials".into()).into());
            }
            None => {
                return Err(Error::invalid(
                    "credential",
                    "required: one of fcm, apns, webpush, hms",
                )
                .into());
            }
        };
        let sealed = self.config.master_key.seal(
            &credential_context(tenant.as_str(), &record.provider),
            &plaintext,
        );
        let saved = self
            .store
            .put_credential(&tenant, &record, &sealed)
            .await
            .map_err(Error::from)?;
        tracing::info!(tenant_id = %tenant, provider = %saved.provider, "credential set");
        Ok(Response::new(credential(saved)))
    }

    async fn list_credentials(
        &self,
        request: Request<ListCredentialsRequest>,
    ) -> Result<Response<ListCredentialsResponse>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let records = self
            .store
            .list_credentials(&tenant)
            .await
            .map_err(Error::from)?;
        Ok(Response::new(ListCredentialsResponse {
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
            .delete_credential(&tenant, provider_name(provider))
            .await
            .map_err(Error::from)?
        {
            return Err(Error::NotFound(format!("{} credential", provider_name(provider))).into());
        }
        Ok(Response::new(DeleteCredentialResponse {}))
    }

    async fn test_connection(
        &self,
        _request: Request<TestConnectionRequest>,
    ) -> Result<Response<TestConnectionResponse>, Status> {
        Err(Error::Unimplemented("TestConnection".into()).into())
    }

    async fn generate_vapid_keys(
        &self,
        _request: Request<GenerateVapidKeysRequest>,
    ) -> Result<Response<VapidPublicKey>, Status> {
        Err(Error::Unimplemented("GenerateVapidKeys".into()).into())
    }
}
