//! The customer profiles API: create, update (by field mask), get, delete and list profiles,
//! and link or unlink the app's user ids.

use herald_core::time::now_ms;
use herald_core::timing::QuietHours;
use herald_core::{Error, customers, validate};
use herald_proto::v1::customers_server::Customers;
use herald_proto::v1::*;
use herald_store::CustomerRecord;
use tonic::{Request, Response, Status};

use crate::Api;
use crate::pages::Page;

fn customer(record: CustomerRecord) -> Customer {
    Customer {
        customer_id: record.id,
        name: record.name,
        locale: record.locale,
        time_zone: record.time_zone,
        attributes: record.attributes,
        user_ids: record.user_ids,
        identities: record
            .identities
            .into_iter()
            .map(|(channel, id)| ChannelIdentity { channel, id })
            .collect(),
        preferences: Some(CustomerPreferences {
            push_opt_out: record.push_opt_out,
            opted_out_topics: record.opted_out_topics,
            quiet_hours: record.quiet_hours.as_ref().map(QuietHours::to_api),
        }),
        created_at_ms: record.created_at,
        updated_at_ms: record.updated_at,
    }
}

/// The fields an update may name.
const UPDATABLE: [&str; 9] = [
    "name",
    "locale",
    "time_zone",
    "attributes",
    "identities",
    "preferences",
    "preferences.push_opt_out",
    "preferences.opted_out_topics",
    "preferences.quiet_hours",
];

/// Copies the fields `path` names from `change` into `record`.
fn apply(record: &mut CustomerRecord, change: &Customer, path: &str) -> Result<(), Error> {
    let preferences = change.preferences.clone().unwrap_or_default();
    // Checked by `customers::profile` before any field is applied.
    let quiet = QuietHours::read("preferences.quiet_hours", preferences.quiet_hours.as_ref())?;
    let mut topics = preferences.opted_out_topics;
    topics.sort();
    topics.dedup();
    match path {
        "name" => record.name.clone_from(&change.name),
        "locale" => record.locale.clone_from(&change.locale),
        "time_zone" => record.time_zone.clone_from(&change.time_zone),
        "attributes" => record.attributes.clone_from(&change.attributes),
        "identities" => {
            record.identities = change
                .identities
                .iter()
                .map(|i| (i.channel.clone(), i.id.clone()))
                .collect();
        }
        "preferences" => {
            record.push_opt_out = preferences.push_opt_out;
            record.opted_out_topics = topics;
            record.quiet_hours = quiet;
        }
        "preferences.quiet_hours" => record.quiet_hours = quiet,
        "preferences.push_opt_out" => record.push_opt_out = preferences.push_opt_out,
        "preferences.opted_out_topics" => record.opted_out_topics = topics,
        other => {
            return Err(Error::invalid(
                "update_mask",
                format!(
                    "{other:?} is not a field that can be updated ({})",
                    UPDATABLE.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

impl Api {
    /// Links (or unlinks) a user to a customer and answers the customer.
    async fn change_link(
        &self,
        tenant: &herald_core::ids::TenantId,
        id: &str,
        user: &str,
        link: bool,
    ) -> Result<Customer, Error> {
        customers::id("customer_id", id)?;
        validate::user_id("user_id", user)?;
        if !self.store.set_link(tenant, id, user, link).await? {
            return Err(Error::NotFound(format!("customer {id:?}")));
        }
        self.customer_now(tenant, id).await
    }

    /// The customer, answered after a change.
    async fn customer_now(
        &self,
        tenant: &herald_core::ids::TenantId,
        id: &str,
    ) -> Result<Customer, Error> {
        self.store
            .get_customer(tenant, id)
            .await?
            .map(customer)
            .ok_or_else(|| Error::NotFound(format!("customer {id:?}")))
    }
}

#[tonic::async_trait]
impl Customers for Api {
    #[tracing::instrument(skip_all)]
    async fn create_customer(
        &self,
        request: Request<CreateCustomerRequest>,
    ) -> Result<Response<Customer>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let new = request
            .into_inner()
            .customer
            .ok_or_else(|| Error::invalid("customer", "required"))?;
        customers::id("customer.customer_id", &new.customer_id)?;
        customers::profile("customer.", &new)?;
        if new.user_ids.len() > customers::MAX_USER_IDS {
            return Err(Error::invalid(
                "customer.user_ids",
                format!("at most {} at creation", customers::MAX_USER_IDS),
            )
            .into());
        }
        for (at, user) in new.user_ids.iter().enumerate() {
            validate::user_id(&format!("customer.user_ids[{at}]"), user)?;
        }
        let now = now_ms();
        let mut record = CustomerRecord {
            id: new.customer_id.clone(),
            user_ids: new.user_ids.clone(),
            created_at: now,
            updated_at: now,
            ..CustomerRecord::default()
        };
        for path in UPDATABLE {
            apply(&mut record, &new, path)?;
        }
        if !self
            .store
            .create_customer(&tenant, &record)
            .await
            .map_err(Error::from)?
        {
            return Err(Status::already_exists(format!(
                "customer {:?} already exists",
                record.id
            )));
        }
        tracing::info!(tenant_id = %tenant, "customer created");
        Ok(Response::new(self.customer_now(&tenant, &record.id).await?))
    }

    #[tracing::instrument(skip_all)]
    async fn update_customer(
        &self,
        request: Request<UpdateCustomerRequest>,
    ) -> Result<Response<Customer>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let req = request.into_inner();
        let change = req
            .customer
            .ok_or_else(|| Error::invalid("customer", "required"))?;
        customers::id("customer.customer_id", &change.customer_id)?;
        customers::profile("customer.", &change)?;
        let mut record = self
            .store
            .get_customer(&tenant, &change.customer_id)
            .await
            .map_err(Error::from)?
            .ok_or_else(|| Error::NotFound(format!("customer {:?}", change.customer_id)))?;
        let paths: Vec<String> = match req.update_mask {
            Some(mask) if !mask.paths.is_empty() => mask.paths,
            _ => [
                "name",
                "locale",
                "time_zone",
                "attributes",
                "identities",
                "preferences",
            ]
            .map(String::from)
            .to_vec(),
        };
        for path in &paths {
            apply(&mut record, &change, path)?;
        }
        record.updated_at = now_ms();
        if !self
            .store
            .update_customer(&tenant, &record)
            .await
            .map_err(Error::from)?
        {
            return Err(Error::NotFound(format!("customer {:?}", record.id)).into());
        }
        tracing::info!(tenant_id = %tenant, ?paths, "customer changed");
        Ok(Response::new(self.customer_now(&tenant, &record.id).await?))
    }

    async fn get_customer(
        &self,
        request: Request<GetCustomerRequest>,
    ) -> Result<Response<Customer>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let id = &request.get_ref().customer_id;
        customers::id("customer_id", id)?;
        Ok(Response::new(self.customer_now(&tenant, id).await?))
    }

    #[tracing::instrument(skip_all)]
    async fn delete_customer(
        &self,
        request: Request<DeleteCustomerRequest>,
    ) -> Result<Response<DeleteCustomerResponse>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let id = &request.get_ref().customer_id;
        customers::id("customer_id", id)?;
        if !self
            .store
            .delete_customer(&tenant, id)
            .await
            .map_err(Error::from)?
        {
            return Err(Error::NotFound(format!("customer {id:?}")).into());
        }
        tracing::info!(tenant_id = %tenant, "customer deleted");
        Ok(Response::new(DeleteCustomerResponse {}))
    }

    async fn list_customers(
        &self,
        request: Request<ListCustomersRequest>,
    ) -> Result<Response<ListCustomersResponse>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let req = request.get_ref();
        let page = Page::read(
            &self.config.master_key,
            format!("customers/{tenant}"),
            req.page_size,
            &req.page_token,
        )?;
        let records = self
            .store
            .list_customers(&tenant, page.after.as_deref(), page.limit)
            .await
            .map_err(Error::from)?;
        Ok(Response::new(ListCustomersResponse {
            next_page_token: page.next_token(&records, |c| c.id.clone()),
            customers: records.into_iter().map(customer).collect(),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn link_user(
        &self,
        request: Request<LinkUserRequest>,
    ) -> Result<Response<Customer>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let req = request.get_ref();
        let linked = self
            .change_link(&tenant, &req.customer_id, &req.user_id, true)
            .await?;
        Ok(Response::new(linked))
    }

    #[tracing::instrument(skip_all)]
    async fn unlink_user(
        &self,
        request: Request<UnlinkUserRequest>,
    ) -> Result<Response<Customer>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let req = request.get_ref();
        let unlinked = self
            .change_link(&tenant, &req.customer_id, &req.user_id, false)
            .await?;
        Ok(Response::new(unlinked))
    }
}
