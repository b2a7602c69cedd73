//! Sending notifications and reading back their deliveries.

use herald_core::ids::{DeliveryId, MessageId, TenantId};
use herald_core::status::message_state;
use herald_core::time::now_ms;
use herald_core::{Error, Result};
use herald_proto::bus::v1::{DeliveryReceipt, Interaction, MessageAccepted, Outcome};
use herald_proto::v1::notifications_server::Notifications;
use herald_proto::v1::*;
use prost::Message as _;
use tonic::{Request, Response, Status};

use crate::Api;
use crate::convert::message;
use herald_store::DeliveryRecord;

impl Api {
    /// Records what a device did with one of the tenant's deliveries, as ReportDeliveryEvent
    /// does: the receipt goes to the receipt service on the bus.
    pub(crate) async fn report(
        &self,
        tenant: &TenantId,
        req: &ReportDeliveryEventRequest,
    ) -> Result<()> {
        let id = DeliveryId::parse("delivery_id", &req.delivery_id)?;
        let outcome = match req.kind() {
            DeviceEventKind::Delivered => Outcome::Delivered,
            // A tap or a button press means the user saw it.
            DeviceEventKind::Read | DeviceEventKind::Clicked | DeviceEventKind::Button => {
                Outcome::Read
            }
            DeviceEventKind::Unspecified => return Err(Error::invalid("kind", "required")),
        };
        match (req.kind(), req.button.as_str()) {
            (DeviceEventKind::Button, "") => {
                return Err(Error::invalid("button", "required for BUTTON"));
            }
            (DeviceEventKind::Button, button)
                if button.chars().count() > 128 || button.chars().any(char::is_control) =>
            {
                return Err(Error::invalid(
                    "button",
                    "at most 128 characters, without control characters",
                ));
            }
            (DeviceEventKind::Button, _) | (_, "") => {}
            _ => return Err(Error::invalid("button", "only for BUTTON")),
        }
        let record = self
            .store
            .get_delivery(tenant, &id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("delivery {id}")))?;
        let receipt = DeliveryReceipt {
            tenant_id: tenant.to_string(),
            message_id: record.message_id.to_string(),
            delivery_id: id.to_string(),
            device_id: record.device_id.to_string(),
            provider: record.provider as i32,
            outcome: outcome as i32,
            reason: String::new(),
            provider_message_id: String::new(),
            attempts: 0,
            at_ms: report_time(req.at_ms, record.created_at, now_ms()),
            interaction: None,
        };
        // A tap is also an interaction of its own (with the button, if one was tapped).
        let receipt = DeliveryReceipt {
            interaction: matches!(
                req.kind(),
                DeviceEventKind::Clicked | DeviceEventKind::Button
            )
            .then(|| Interaction {
                kind: req.kind,
                button: req.button.clone(),
                at_ms: receipt.at_ms,
            }),
            ..receipt
        };
        herald_bus::all_published(
            self.bus
                .publish_all(herald_bus::receipt_batches(vec![receipt]))
                .await,
        )?;
        Ok(())
    }
}

/// When a device says it did something with a delivery: its own time (`at_ms`), but never
/// before the delivery existed nor after now (a device's clock is its own, and an app client
/// key is public: a report must not land on another day's counts or before an endpoint
/// existed), or now when it gives none.
fn report_time(at_ms: i64, created_at: i64, now: i64) -> i64 {
    if at_ms > 0 {
        at_ms.clamp(created_at.min(now), now)
    } else {
        now
    }
}

/// The most notifications one SendBatch may carry.
const MAX_BATCH: usize = 500;

#[tonic::async_trait]
impl Notifications for Api {
    async fn send(&self, request: Request<SendRequest>) -> Result<Response<SendResponse>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        Ok(Response::new(
            self.send_one(&tenant, request.into_inner()).await?,
        ))
    }

    async fn send_and_wait(
        &self,
        request: Request<SendAndWaitRequest>,
    ) -> Result<Response<SendAndWaitResponse>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let deadline = crate::wait::client_deadline(request.metadata());
        Ok(Response::new(
            crate::wait::send_and_wait(self, tenant, request.into_inner(), deadline).await?,
        ))
    }

    async fn send_batch(
        &self,
        request: Request<SendBatchRequest>,
    ) -> Result<Response<SendBatchResponse>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let requests = request.into_inner().requests;
        if requests.len() > MAX_BATCH {
            return Err(
                Error::invalid("requests", format!("at most {MAX_BATCH} per batch")).into(),
            );
        }
        // Validate each; store and publish the valid ones together; answer in request order.
        let prepared = self.prepare_all(&tenant, requests).await?;
        let valid = prepared
            .iter()
            .filter_map(|p| p.as_ref().ok().cloned())
            .collect();
        let mut accepted = self.accept(&tenant, valid).await?.into_iter();
        let results = prepared
            .into_iter()
            .enumerate()
            .map(|(i, p)| {
                let answer = p.and_then(|_| accepted.next().expect("one answer per valid message"));
                let result = match answer {
                    Ok(response) => send_batch_result::Result::Accepted(response),
                    Err(err) => send_batch_result::Result::Error(
                        err.within(&format!("requests[{i}]")).into_rpc_status(),
                    ),
                };
                SendBatchResult {
                    result: Some(result),
                }
            })
            .collect();
        Ok(Response::new(SendBatchResponse { results }))
    }

    async fn get_message(
        &self,
        request: Request<GetMessageRequest>,
    ) -> Result<Response<GetMessageResponse>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let id = MessageId::parse("message_id", &request.get_ref().message_id)?;
        let record = self
            .store
            .get_message(&tenant, &id)
            .await
            .map_err(Error::from)?
            .ok_or_else(|| Error::NotFound(format!("message {id}")))?;
        let accepted = MessageAccepted::decode(record.body.as_slice()).map_err(Error::internal)?;
        let deliveries = self
            .store
            .deliveries_of_message(&tenant, &id)
            .await
            .map_err(Error::from)?;
        let settled: Vec<(DeliveryStatus, &str)> = deliveries
            .iter()
            .map(|d| (d.status, d.reason.as_str()))
            .collect();
        let (state, reason) = message_state(record.state, &settled);
        let mut message = message(record, accepted);
        message.state = state as i32;
        if let Some(reason) = reason {
            message.reason = reason;
        }
        Ok(Response::new(GetMessageResponse {
            message: Some(message),
            deliveries: deliveries
                .into_iter()
                .map(DeliveryRecord::into_delivery)
                .collect(),
        }))
    }

    async fn get_message_stats(
        &self,
        request: Request<GetMessageStatsRequest>,
    ) -> Result<Response<DeliveryStats>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let stats =
            crate::stats::message_stats(&self.store, &tenant, &request.get_ref().message_id)
                .await?;
        Ok(Response::new(stats))
    }

    async fn get_delivery_stats(
        &self,
        request: Request<GetDeliveryStatsRequest>,
    ) -> Result<Response<GetDeliveryStatsResponse>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let stats = crate::stats::delivery_stats(&self.store, &tenant, request.get_ref()).await?;
        Ok(Response::new(stats))
    }

    async fn list_scheduled_messages(
        &self,
        request: Request<ListScheduledMessagesRequest>,
    ) -> Result<Response<ListScheduledMessagesResponse>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        Ok(Response::new(
            self.list_scheduled(&tenant, request.get_ref()).await?,
        ))
    }

    async fn list_messages(
        &self,
        request: Request<ListMessagesRequest>,
    ) -> Result<Response<ListMessagesResponse>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        Ok(Response::new(
            self.list_recent(&tenant, request.get_ref()).await?,
        ))
    }

    async fn reschedule_message(
        &self,
        request: Request<RescheduleMessageRequest>,
    ) -> Result<Response<Message>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        Ok(Response::new(
            self.reschedule(&tenant, request.get_ref()).await?,
        ))
    }

    async fn cancel_message(
        &self,
        request: Request<CancelMessageRequest>,
    ) -> Result<Response<CancelMessageResponse>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let req = request.into_inner();
        let id = MessageId::parse("message_id", &req.message_id)?;
        Ok(Response::new(
            self.cancel(&tenant, &id, req.remove_delivered).await?,
        ))
    }

    type WatchMessageStream = crate::watch::UpdateStream;

    async fn watch_message(
        &self,
        request: Request<WatchMessageRequest>,
    ) -> Result<Response<Self::WatchMessageStream>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let id = MessageId::parse("message_id", &request.get_ref().message_id)?;
        let updates = crate::watch::watch(
            self.store.clone(),
            &self.bus,
            tenant,
            id,
            self.shutdown.clone(),
        )
        .await?;
        Ok(Response::new(updates))
    }

    #[tracing::instrument(skip_all)]
    async fn report_delivery_event(
        &self,
        request: Request<ReportDeliveryEventRequest>,
    ) -> Result<Response<ReportDeliveryEventResponse>, Status> {
        let (tenant, _) = self.device_tenant(request.metadata()).await?;
        self.report(&tenant, request.get_ref()).await?;
        Ok(Response::new(ReportDeliveryEventResponse {}))
    }
}

#[cfg(test)]
mod tests {
    use super::report_time;

    #[test]
    fn a_report_time_stays_between_the_delivery_and_now() {
        let (created, now) = (1_000, 5_000);
        assert_eq!(report_time(0, created, now), now, "none given");
        assert_eq!(report_time(3_000, created, now), 3_000);
        assert_eq!(report_time(1, created, now), created, "before the delivery");
        assert_eq!(report_time(i64::MAX, created, now), now, "in the future");
    }
}
