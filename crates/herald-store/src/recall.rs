//! Recalling a message that has started: it becomes `cancelled` (the router makes no more
//! deliveries for it), and its queued deliveries get a claim no sender can take, so none of
//! them is handed to a provider from then on. The receipt service records them cancelled from
//! the receipts the caller (and a sender finding such a claim) publishes.

use herald_core::ids::{DeliveryId, DeviceId, MessageId, TenantId};
use herald_proto::v1::{DeliveryStatus, MessageState, Provider};
use sqlx::Row;

use crate::{Result, Store, decode};

/// The claimed attempt of a recalled delivery: above any attempt a sender makes (a `u32`).
pub const RECALLED_ATTEMPT: i64 = 1 << 32;

/// A queued delivery a recall took.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecalledDelivery {
    pub id: DeliveryId,
    pub device_id: DeviceId,
    pub provider: Provider,
    /// A sender was sending it when the recall came (its claim for that attempt was live): it
    /// may still reach its provider, and that sender settles it.
    pub in_flight: bool,
}

impl Store {
    /// Marks a started message `cancelled` (a message still `cancelled` stays so); answers its
    /// state before, or `None` if the tenant has no such message. A scheduled message or one
    /// that failed before routing is left as it is.
    pub async fn recall_message(
        &self,
        tenant: &TenantId,
        id: &MessageId,
    ) -> Result<Option<MessageState>> {
        let mut tx = self.pool.begin().await?;
        let Some(row) = sqlx::query("SELECT state FROM messages WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(id.as_str())
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(None);
        };
        let before: MessageState = decode(&row, "state")?;
        // The update takes the message's row lock: a router recording deliveries for it waits,
        // then finds it cancelled; one that recorded them first has committed them.
        sqlx::query(
            "UPDATE messages SET state = 'cancelled', reason = 'recalled' \
             WHERE tenant_id = $1 AND id = $2 AND state NOT IN ('scheduled', 'failed')",
        )
        .bind(tenant.as_str())
        .bind(id.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(before))
    }

    /// Takes the next `limit` queued deliveries of a recalled message after `after` (by id):
    /// each gets the recalled claim. One whose claim for its attempt was taken less than
    /// `lease_ms` before `now` is in flight; the others are the caller's to report cancelled
    /// (taking them again, as a repeated recall does, answers them again).
    pub async fn recall_deliveries(
        &self,
        tenant: &TenantId,
        message: &MessageId,
        after: &str,
        limit: u32,
        now: i64,
        lease_ms: i64,
    ) -> Result<Vec<RecalledDelivery>> {
        // A delivery not in flight keeps no claim time (0), so a later recall finds it so too.
        let rows = sqlx::query(
            "UPDATE deliveries SET claimed_attempt = $1, \
                 claimed_at = CASE WHEN COALESCE(claimed_at, 0) > $2 THEN claimed_at ELSE 0 END \
             WHERE id IN (SELECT id FROM deliveries WHERE tenant_id = $3 AND message_id = $4 \
                     AND status = 'queued' AND id > $5 ORDER BY id LIMIT $6) \
                 AND status = 'queued' \
             RETURNING id, device_id, provider, claimed_at",
        )
        .bind(RECALLED_ATTEMPT)
        .bind(now - lease_ms)
        .bind(tenant.as_str())
        .bind(message.as_str())
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let mut recalled = rows
            .iter()
            .map(|row| {
                Ok(RecalledDelivery {
                    id: DeliveryId::from_trusted(row.try_get("id")?),
                    device_id: DeviceId::from_trusted(row.try_get("device_id")?),
                    provider: decode(row, "provider")?,
                    in_flight: row.try_get::<i64, _>("claimed_at")? > 0,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        recalled.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(recalled)
    }

    /// How many of a message's deliveries are in each status.
    pub async fn message_delivery_counts(
        &self,
        tenant: &TenantId,
        message: &MessageId,
    ) -> Result<Vec<(DeliveryStatus, i64)>> {
        let rows = sqlx::query(
            "SELECT status, COUNT(*) AS n FROM deliveries WHERE tenant_id = $1 AND message_id = $2 \
             GROUP BY status ORDER BY status",
        )
        .bind(tenant.as_str())
        .bind(message.as_str())
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| Ok((decode(r, "status")?, r.try_get("n")?)))
            .collect()
    }
}
