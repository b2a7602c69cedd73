//! Listing messages (newest first, `ListMessages`) and scheduled messages (sent with `send_at_ms`): listed soonest first, moved, cancelled before
//! they start. They wait in the store; the outbox relay releases each when it is due.
//!
//! Recall (`CancelMessage` of a message that started): the message becomes cancelled, its
//! queued deliveries get a claim no sender takes and receipts that record them cancelled, and
//! the answer says per delivery what was possible.

use herald_core::ids::{MessageId, TenantId};
use herald_core::status::message_state_of_counts;
use herald_core::time::now_ms;
use herald_core::{Error, Result, validate};
use herald_proto::bus::v1::MessageAccepted;
use herald_proto::v1::{
    CancelMessageResponse, DeliveryStatus, ListMessagesRequest, ListMessagesResponse,
    ListScheduledMessagesRequest, ListScheduledMessagesResponse, Message, MessageState,
    RecallAction, RecalledDelivery, RescheduleMessageRequest,
};
use herald_store::{DeliveryRecord, MessageRecord};
use prost::Message as _;
use std::collections::HashMap;

use crate::Api;
use crate::convert::message;
use crate::pages::Page;

/// A stored message as the API shows it.
pub(crate) fn shown(record: MessageRecord) -> Result<Message> {
    let accepted = MessageAccepted::decode(record.body.as_slice()).map_err(Error::internal)?;
    Ok(message(record, accepted))
}

/// Why a message that is not scheduled cannot be moved or cancelled as one.
fn not_scheduled(id: &MessageId, state: MessageState) -> Error {
    Error::FailedPrecondition(format!(
        "message {id} is not scheduled: it is {}",
        state.as_str_name()
    ))
}

impl Api {
    async fn stored_message(&self, tenant: &TenantId, id: &MessageId) -> Result<MessageRecord> {
        self.store
            .get_message(tenant, id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("message {id}")))
    }

    pub(crate) async fn list_scheduled(
        &self,
        tenant: &TenantId,
        req: &ListScheduledMessagesRequest,
    ) -> Result<ListScheduledMessagesResponse> {
        let page = Page::read(
            &self.config.master_key,
            format!("scheduled/{tenant}"),
            req.page_size,
            &req.page_token,
        )?;
        // The sort key is the due time and the id: `<send_at>/<id>`.
        let after = page.after.as_deref().and_then(|key| {
            let (at, id) = key.split_once('/')?;
            Some((at.parse::<i64>().ok()?, id))
        });
        let records = self
            .store
            .scheduled_messages(tenant, after, page.limit)
            .await?;
        let next_page_token = page.next_token(&records, |r| {
            format!("{}/{}", r.send_at.unwrap_or_default(), r.id)
        });
        Ok(ListScheduledMessagesResponse {
            messages: records.into_iter().map(shown).collect::<Result<_>>()?,
            next_page_token,
        })
    }

    /// The tenant's messages, newest first (`ListMessages`).
    pub(crate) async fn list_recent(
        &self,
        tenant: &TenantId,
        req: &ListMessagesRequest,
    ) -> Result<ListMessagesResponse> {
        let page = Page::read(
            &self.config.master_key,
            format!("messages/{tenant}"),
            req.page_size,
            &req.page_token,
        )?;
        // The sort key is the creation time and the id: `<created_at>/<id>`.
        let before = page.after.as_deref().and_then(|key| {
            let (at, id) = key.split_once('/')?;
            Some((at.parse::<i64>().ok()?, id))
        });
        let records = self
            .store
            .recent_messages(tenant, before, page.limit)
            .await?;
        let next_page_token = page.next_token(&records, |r| format!("{}/{}", r.created_at, r.id));
        // A routed message answers what its deliveries came to, as GetMessage does: the page's
        // routed messages' counters, read together.
        let routed: Vec<&MessageId> = records
            .iter()
            .filter(|r| r.state == MessageState::Routed)
            .map(|r| &r.id)
            .collect();
        let counts = self.store.messages_stats(tenant, &routed).await?;
        let mut messages = Vec::with_capacity(records.len());
        for record in records {
            let state = match counts.get(record.id.as_str()) {
                Some(counts) => message_state_of_counts(record.state, counts),
                None => record.state,
            };
            let mut message = shown(record)?;
            message.state = state as i32;
            messages.push(message);
        }
        Ok(ListMessagesResponse {
            messages,
            next_page_token,
        })
    }

    /// Moves a scheduled message; its time to live keeps its length from the new instant.
    pub(crate) async fn reschedule(
        &self,
        tenant: &TenantId,
        req: &RescheduleMessageRequest,
    ) -> Result<Message> {
        let id = MessageId::parse("message_id", &req.message_id)?;
        let now = now_ms();
        let at = validate::send_at("send_at_ms", req.send_at_ms, now)?.unwrap_or(now);
        let record = self.stored_message(tenant, &id).await?;
        let Some(was) = record
            .send_at
            .filter(|_| record.state == MessageState::Scheduled)
        else {
            return Err(not_scheduled(&id, record.state));
        };
        let mut accepted =
            MessageAccepted::decode(record.body.as_slice()).map_err(Error::internal)?;
        accepted.expires_at_ms += at - was;
        let moved = self
            .store
            .reschedule_message(
                tenant,
                &id,
                was,
                at,
                &accepted.encode_to_vec(),
                accepted.expires_at_ms,
            )
            .await?;
        let record = self.stored_message(tenant, &id).await?;
        if !moved {
            return Err(not_scheduled(&id, record.state));
        }
        shown(record)
    }

    /// Cancels a message: a scheduled one never starts; one that started is recalled, and with
    /// `remove_delivered` the pushes it delivered are asked to be taken down.
    pub(crate) async fn cancel(
        &self,
        tenant: &TenantId,
        id: &MessageId,
        remove_delivered: bool,
    ) -> Result<CancelMessageResponse> {
        let record = self.stored_message(tenant, id).await?;
        // A scheduled message never starts; one routed in waves (each device at its local
        // time) may have deliveries of earlier waves, which are recalled below.
        let cancelled_before_due = record.state == MessageState::Scheduled
            && self.store.cancel_scheduled(tenant, id).await?;
        if !cancelled_before_due {
            // Released meanwhile, or started long ago: recalled.
            match self.store.recall_message(tenant, id).await? {
                None => return Err(Error::NotFound(format!("message {id}"))),
                Some(state @ (MessageState::Failed | MessageState::Scheduled)) => {
                    return Err(Error::FailedPrecondition(format!(
                        "message {id} cannot be recalled: it is {}",
                        state.as_str_name()
                    )));
                }
                Some(_) => {}
            }
        }
        // Senders holding one of its deliveries (also of an earlier wave of a message cancelled
        // between waves) do not hand it to the provider from now on; one that misses this
        // still sends only what it claimed before the recall.
        let payload = format!("{tenant} {id}");
        if let Err(err) = self
            .bus
            .announce(herald_bus::subjects::MESSAGE_RECALLED, payload.into())
            .await
        {
            tracing::warn!(%err, "could not announce a recall to the senders");
        }
        // Read before the recall changes them: what had been sent or had ended by then.
        let counts = self.store.message_delivery_counts(tenant, id).await?;
        let recall = self.recall_deliveries(tenant, id).await?;
        let record = self.stored_message(tenant, id).await?;
        let count = |statuses: &[DeliveryStatus]| -> u64 {
            counts
                .iter()
                .filter(|(status, _)| statuses.contains(status))
                .map(|(_, n)| u64::try_from(*n).unwrap_or(0))
                .sum()
        };
        use DeliveryStatus::*;
        let in_flight = recall.values().filter(|live| **live).count() as u64;
        let cancelled = recall.len() as u64 - in_flight;
        let already_sent = count(&[Submitted, Delivered, Read]);
        let removal = if remove_delivered && already_sent > 0 {
            let original =
                MessageAccepted::decode(record.body.as_slice()).map_err(Error::internal)?;
            let prepared = Api::removal(tenant, &original);
            let answer = self.accept(tenant, vec![prepared]).await?.pop();
            answer.expect("one answer per message")?.message_id
        } else {
            String::new()
        };
        let listed = self
            .store
            .deliveries_of_message_page(tenant, id, "", LISTED)
            .await?;
        let removing = !removal.is_empty();
        Ok(CancelMessageResponse {
            message: Some(shown(record)?),
            deliveries: listed
                .into_iter()
                .map(|d| recalled(d, &recall, removing))
                .collect(),
            cancelled,
            in_flight,
            already_sent,
            already_final: count(&[Failed, Expired, Cancelled]),
            removal_message_id: removal,
        })
    }

    /// Takes every queued delivery of a recalled message, page by page, and publishes the
    /// receipts that cancel those no sender holds; answers each one taken, and whether it was
    /// in flight.
    async fn recall_deliveries(
        &self,
        tenant: &TenantId,
        id: &MessageId,
    ) -> Result<HashMap<String, bool>> {
        // A claim this recent may still be at work: its sender may have held it for a send
        // slot, then tried its provider more than once (a token refreshed). Older ones belong
        // to a sender that died; their task comes back, finds the recalled claim and is
        // recorded cancelled by the sender that takes it.
        let window = IN_FLIGHT_WINDOW;
        let lease = i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
        let mut taken = HashMap::new();
        let mut after = String::new();
        loop {
            let now = now_ms();
            let page = self
                .store
                .recall_deliveries(tenant, id, &after, RECALL_PAGE, now, lease)
                .await?;
            let Some(last) = page.last() else {
                return Ok(taken);
            };
            after = last.id.to_string();
            let receipts: Vec<_> = page
                .iter()
                .filter(|d| !d.in_flight)
                .map(|d| {
                    herald_core::status::recalled_receipt(
                        tenant.as_str(),
                        id.as_str(),
                        d.id.as_str(),
                        d.device_id.as_str(),
                        d.provider as i32,
                        now,
                    )
                })
                .collect();
            herald_bus::all_published(
                self.bus
                    .publish_all(herald_bus::receipt_batches(receipts))
                    .await,
            )?;
            taken.extend(page.into_iter().map(|d| (d.id.into_string(), d.in_flight)));
        }
    }
}

/// Deliveries a recall takes at a time.
const RECALL_PAGE: u32 = 5_000;
/// How long after its claim a recall counts a delivery as in flight (settled by its sender).
const IN_FLIGHT_WINDOW: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// Deliveries a recall's answer lists.
const LISTED: u32 = 1_000;

/// What a recall did for one delivery; `taken` holds those it took (true: in flight);
/// `removing`: a removal goes to the devices already sent to.
fn recalled(
    delivery: DeliveryRecord,
    taken: &HashMap<String, bool>,
    removing: bool,
) -> RecalledDelivery {
    use DeliveryStatus::*;
    let action = match (taken.get(delivery.id.as_str()), delivery.status) {
        (Some(true), _) => RecallAction::InFlight,
        (Some(false), _) => RecallAction::Cancelled,
        (None, Submitted | Delivered | Read) if removing => RecallAction::RemovalRequested,
        (None, Submitted | Delivered | Read) => RecallAction::AlreadySent,
        (None, Failed | Expired | Cancelled) => RecallAction::AlreadyFinal,
        // Queued and not taken: made after the recall's pass, which cannot happen once the
        // message is cancelled; shown as in flight rather than claimed cancelled.
        (None, Queued | Unspecified) => RecallAction::InFlight,
    };
    let status = match action {
        RecallAction::Cancelled => Cancelled,
        _ => delivery.status,
    };
    RecalledDelivery {
        delivery_id: delivery.id.into_string(),
        device_id: delivery.device_id.into_string(),
        provider: delivery.provider as i32,
        action: action as i32,
        status: status as i32,
    }
}
