//! Scheduled messages (sent with `send_at_ms`): listed soonest first, moved, cancelled before
//! they start. They wait in the store; the outbox relay releases each when it is due.

use herald_core::ids::{MessageId, TenantId};
use herald_core::time::now_ms;
use herald_core::{Error, Result, validate};
use herald_proto::bus::v1::MessageAccepted;
use herald_proto::v1::{
    CancelMessageResponse, ListScheduledMessagesRequest, ListScheduledMessagesResponse, Message,
    MessageState, RescheduleMessageRequest,
};
use herald_store::MessageRecord;
use prost::Message as _;

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

    /// Cancels a message: a scheduled one never starts.
    pub(crate) async fn cancel(
        &self,
        tenant: &TenantId,
        id: &MessageId,
    ) -> Result<CancelMessageResponse> {
        let record = self.stored_message(tenant, id).await?;
        if record.state == MessageState::Scheduled
            && self.store.cancel_scheduled(tenant, id).await?
        {
            return Ok(CancelMessageResponse {
                message: Some(shown(self.stored_message(tenant, id).await?)?),
            });
        }
        let record = self.stored_message(tenant, id).await?;
        Err(not_scheduled(id, record.state))
    }
}
