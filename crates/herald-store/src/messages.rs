//! Accepted messages (with their outbox state) and their per-device deliveries.

use std::collections::HashSet;

use herald_core::ids::{DeliveryId, DeviceId, MessageId, TenantId};
use herald_core::status::{allowed_predecessors, status_name};
use herald_core::time::now_ms;
use herald_proto::v1::DeliveryStatus;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Result, Store};

/// A message as ingest stores it before publishing.
#[derive(Clone, Debug)]
pub struct NewMessage {
    pub id: MessageId,
    pub tenant_id: TenantId,
    pub idempotency_key: Option<String>,
    /// The encoded `herald.bus.v1.MessageAccepted`.
    pub body: Vec<u8>,
    pub callback_data: String,
    pub notify_url: String,
    pub created_at: i64,
    pub expires_at: i64,
}

/// What storing a message did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InsertedMessage {
    Inserted,
    /// The idempotency key was used before, by this message.
    Duplicate {
        id: MessageId,
        published: bool,
        body: Vec<u8>,
    },
}

#[derive(Clone, Debug)]
pub struct MessageRecord {
    pub id: MessageId,
    pub tenant_id: TenantId,
    pub body: Vec<u8>,
    pub callback_data: String,
    pub notify_url: String,
    /// `accepted`, `routed` or `failed`.
    pub state: String,
    pub reason: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub published_at: Option<i64>,
}

/// A message whose publish was not acknowledged (ingest crashed or the bus was down).
#[derive(Clone, Debug)]
pub struct UnpublishedMessage {
    pub id: MessageId,
    pub tenant_id: TenantId,
    pub body: Vec<u8>,
}

/// A message the router resolved to devices.
#[derive(Clone, Debug)]
pub struct RoutedMessage {
    pub tenant_id: TenantId,
    pub message_id: MessageId,
    pub deliveries: Vec<NewDelivery>,
}

/// A message the router could not route, and why.
#[derive(Clone, Debug)]
pub struct FailedMessage {
    pub tenant_id: TenantId,
    pub message_id: MessageId,
    pub reason: String,
}

#[derive(Clone, Debug)]
pub struct NewDelivery {
    pub id: DeliveryId,
    pub device_id: DeviceId,
    pub provider: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryRecord {
    pub id: DeliveryId,
    pub tenant_id: TenantId,
    pub message_id: MessageId,
    pub device_id: DeviceId,
    pub provider: String,
    pub status: String,
    pub reason: String,
    pub provider_message_id: String,
    pub attempts: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One receipt to record.
#[derive(Clone, Debug)]
pub struct ReceiptUpdate {
    pub tenant_id: TenantId,
    pub delivery_id: DeliveryId,
    pub device_id: DeviceId,
    pub status: DeliveryStatus,
    pub reason: String,
    pub provider_message_id: String,
    pub attempts: u32,
    pub at_ms: i64,
    /// The provider said the token is dead: the device becomes inactive (a web subscription:
    /// expired) with `reason`.
    pub token_dead: bool,
}

const MESSAGE_COLUMNS: &str = "id, tenant_id, body, callback_data, notify_url, state, reason, \
    created_at, expires_at, published_at";
const DELIVERY_COLUMNS: &str = "id, tenant_id, message_id, device_id, provider, status, reason, \
    provider_message_id, attempts, created_at, updated_at";

impl MessageRecord {
    fn from_row(row: &AnyRow) -> Result<Self> {
        Ok(Self {
            id: MessageId::from_trusted(row.try_get("id")?),
            tenant_id: TenantId::from_trusted(row.try_get("tenant_id")?),
            body: row.try_get("body")?,
            callback_data: row.try_get("callback_data")?,
            notify_url: row.try_get("notify_url")?,
            state: row.try_get("state")?,
            reason: row.try_get("reason")?,
            created_at: row.try_get("created_at")?,
            expires_at: row.try_get("expires_at")?,
            published_at: row.try_get("published_at")?,
        })
    }
}

impl DeliveryRecord {
    fn from_row(row: &AnyRow) -> Result<Self> {
        Ok(Self {
            id: DeliveryId::from_trusted(row.try_get("id")?),
            tenant_id: TenantId::from_trusted(row.try_get("tenant_id")?),
            message_id: MessageId::from_trusted(row.try_get("message_id")?),
            device_id: DeviceId::from_trusted(row.try_get("device_id")?),
            provider: row.try_get("provider")?,
            status: row.try_get("status")?,
            reason: row.try_get("reason")?,
            provider_message_id: row.try_get("provider_message_id")?,
            attempts: row.try_get("attempts")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

/// Rows per multi-row INSERT (9 binds each keeps well under both backends' bind limits).
const INSERT_CHUNK: usize = 200;

impl Store {
    /// Stores an accepted message, or finds the earlier one with the same idempotency key.
    pub async fn insert_message(&self, msg: &NewMessage) -> Result<InsertedMessage> {
        let mut inserted = self.insert_messages(std::slice::from_ref(msg)).await?;
        Ok(inserted.pop().expect("one result per message"))
    }

    /// Stores accepted messages in one transaction (a multi-row insert per chunk); for each,
    /// answers whether it was new or repeated an earlier message's idempotency key.
    #[tracing::instrument(skip_all, fields(count = messages.len()))]
    pub async fn insert_messages(&self, messages: &[NewMessage]) -> Result<Vec<InsertedMessage>> {
        let mut created = std::collections::HashSet::with_capacity(messages.len());
        let mut tx = self.pool.begin().await?;
        for chunk in messages.chunks(MESSAGE_CHUNK) {
            let sql = format!(
                "INSERT INTO messages (id, tenant_id, idempotency_key, body, callback_data, notify_url, \
                     created_at, expires_at, state) VALUES {} \
                 ON CONFLICT (tenant_id, idempotency_key) DO NOTHING RETURNING id",
                value_rows_with(chunk.len(), 8, 1, "'accepted'")
            );
            let mut query = sqlx::query(&sql);
            for msg in chunk {
                query = query
                    .bind(msg.id.as_str())
                    .bind(msg.tenant_id.as_str())
                    .bind(msg.idempotency_key.as_deref())
                    .bind(&msg.body)
                    .bind(&msg.callback_data)
                    .bind(&msg.notify_url)
                    .bind(msg.created_at)
                    .bind(msg.expires_at);
            }
            for row in query.fetch_all(&mut *tx).await? {
                created.insert(row.try_get::<String, _>("id")?);
            }
        }
        // Only a message with an idempotency key can have been left out: find the earlier one.
        let mut results = Vec::with_capacity(messages.len());
        for msg in messages {
            if created.contains(msg.id.as_str()) {
                results.push(InsertedMessage::Inserted);
                continue;
            }
            let row = sqlx::query(
                "SELECT id, body, published_at FROM messages WHERE tenant_id = $1 AND idempotency_key = $2",
            )
            .bind(msg.tenant_id.as_str())
            .bind(msg.idempotency_key.as_deref())
            .fetch_one(&mut *tx)
            .await?;
            results.push(InsertedMessage::Duplicate {
                id: MessageId::from_trusted(row.try_get("id")?),
                published: row.try_get::<Option<i64>, _>("published_at")?.is_some(),
                body: row.try_get("body")?,
            });
        }
        tx.commit().await?;
        Ok(results)
    }

    /// Records that JetStream acknowledged these messages' publishes.
    pub async fn mark_published(&self, tenant: &TenantId, ids: &[MessageId]) -> Result<()> {
        let now = now_ms();
        for chunk in ids.chunks(INSERT_CHUNK) {
            let list: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 3)).collect();
            let sql = format!(
                "UPDATE messages SET published_at = $1 WHERE tenant_id = $2 AND id IN ({})",
                list.join(", ")
            );
            let mut query = sqlx::query(&sql).bind(now).bind(tenant.as_str());
            for id in chunk {
                query = query.bind(id.as_str());
            }
            query.execute(&self.pool).await?;
        }
        Ok(())
    }

    /// Messages accepted before `created_before` whose publish was never acknowledged.
    pub async fn unpublished_messages(
        &self,
        created_before: i64,
        limit: u32,
    ) -> Result<Vec<UnpublishedMessage>> {
        let rows = sqlx::query(
            "SELECT id, tenant_id, body FROM messages \
             WHERE published_at IS NULL AND created_at < $1 ORDER BY created_at LIMIT $2",
        )
        .bind(created_before)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(UnpublishedMessage {
                    id: MessageId::from_trusted(row.try_get("id")?),
                    tenant_id: TenantId::from_trusted(row.try_get("tenant_id")?),
                    body: row.try_get("body")?,
                })
            })
            .collect()
    }

    pub async fn get_message(
        &self,
        tenant: &TenantId,
        id: &MessageId,
    ) -> Result<Option<MessageRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_optional(&self.reader)
        .await?;
        row.as_ref().map(MessageRecord::from_row).transpose()
    }

    /// Records what the router decided for a batch of messages, in one transaction: the queued
    /// deliveries of the routed ones (deliveries that exist already are kept as they are, so a
    /// message handled again does not reset progress), and each message's state (`routed`, or
    /// `failed` with the reason). Answers the delivery ids it created.
    #[tracing::instrument(skip_all, fields(routed = routed.len(), failed = failed.len()))]
    pub async fn record_routing(
        &self,
        routed: &[RoutedMessage],
        failed: &[FailedMessage],
    ) -> Result<HashSet<DeliveryId>> {
        let now = now_ms();
        let mut created = HashSet::new();
        let rows: Vec<(&RoutedMessage, &NewDelivery)> = routed
            .iter()
            .flat_map(|m| m.deliveries.iter().map(move |d| (m, d)))
            .collect();
        let mut tx = self.pool.begin().await?;
        for chunk in rows.chunks(INSERT_CHUNK) {
            let sql = format!(
                // `WHERE true`: SQLite cannot tell an upsert's ON CONFLICT from a join's ON without it.
                "WITH v(id, tenant_id, message_id, device_id, provider) AS (VALUES {}) \
                 INSERT INTO deliveries (id, tenant_id, message_id, device_id, provider, status, created_at, updated_at) \
                 SELECT v.id, v.tenant_id, v.message_id, v.device_id, v.provider, 'queued', $1, $1 FROM v \
                 WHERE true ON CONFLICT (id) DO NOTHING RETURNING id",
                value_rows(chunk.len(), 5, 2)
            );
            let mut query = sqlx::query(&sql).bind(now);
            for (m, d) in chunk {
                query = query
                    .bind(d.id.as_str())
                    .bind(m.tenant_id.as_str())
                    .bind(m.message_id.as_str())
                    .bind(d.device_id.as_str())
                    .bind(&d.provider);
            }
            for row in query.fetch_all(&mut *tx).await? {
                created.insert(DeliveryId::from_trusted(row.try_get("id")?));
            }
        }
        for chunk in routed.chunks(INSERT_CHUNK) {
            let sql = format!(
                "WITH v(tenant_id, id) AS (VALUES {}) \
                 UPDATE messages SET state = 'routed', reason = '' \
                 FROM v WHERE messages.tenant_id = v.tenant_id AND messages.id = v.id",
                value_rows(chunk.len(), 2, 1)
            );
            let mut query = sqlx::query(&sql);
            for m in chunk {
                query = query.bind(m.tenant_id.as_str()).bind(m.message_id.as_str());
            }
            query.execute(&mut *tx).await?;
        }
        for chunk in failed.chunks(INSERT_CHUNK) {
            let sql = format!(
                "WITH v(tenant_id, id, reason) AS (VALUES {}) \
                 UPDATE messages SET state = 'failed', reason = v.reason \
                 FROM v WHERE messages.tenant_id = v.tenant_id AND messages.id = v.id",
                value_rows(chunk.len(), 3, 1)
            );
            let mut query = sqlx::query(&sql);
            for m in chunk {
                query = query
                    .bind(m.tenant_id.as_str())
                    .bind(m.message_id.as_str())
                    .bind(&m.reason);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(created)
    }

    /// Ids of the message's deliveries still waiting for their sender.
    pub async fn queued_deliveries(
        &self,
        tenant: &TenantId,
        message: &MessageId,
    ) -> Result<Vec<DeliveryId>> {
        let rows = sqlx::query(
            "SELECT id FROM deliveries WHERE tenant_id = $1 AND message_id = $2 AND status = 'queued'",
        )
        .bind(tenant.as_str())
        .bind(message.as_str())
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| Ok(DeliveryId::from_trusted(r.try_get("id")?)))
            .collect()
    }

    pub async fn deliveries_of_message(
        &self,
        tenant: &TenantId,
        message: &MessageId,
    ) -> Result<Vec<DeliveryRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries \
             WHERE tenant_id = $1 AND message_id = $2 ORDER BY id"
        ))
        .bind(tenant.as_str())
        .bind(message.as_str())
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(DeliveryRecord::from_row).collect()
    }

    /// How many of the tenant's deliveries are in each status.
    pub async fn delivery_counts(&self, tenant: &TenantId) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT status, COUNT(*) AS n FROM deliveries WHERE tenant_id = $1 GROUP BY status ORDER BY status",
        )
        .bind(tenant.as_str())
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("status")?, r.try_get("n")?)))
            .collect()
    }

    pub async fn get_delivery(
        &self,
        tenant: &TenantId,
        id: &DeliveryId,
    ) -> Result<Option<DeliveryRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_optional(&self.reader)
        .await?;
        row.as_ref().map(DeliveryRecord::from_row).transpose()
    }

    /// Records a batch of receipts in one transaction: one statement per (status, tenant) group
    /// rather than per receipt. A receipt that would move a delivery backwards (a late or
    /// repeated one) changes nothing. Answers how many deliveries changed.
    #[tracing::instrument(skip(self, updates), fields(count = updates.len()))]
    pub async fn apply_receipts(&self, updates: &[ReceiptUpdate]) -> Result<u64> {
        use DeliveryStatus::*;
        let mut changed = 0;
        let mut tx = self.pool.begin().await?;
        // Up the ladder, so a batch holding "submitted" and "read" for one delivery ends at read.
        for status in [Submitted, Delivered, Read, Failed, Expired] {
            // The ladder's rule as "from>to" pairs; see below why it is written against v.
            let transitions: Vec<String> = allowed_predecessors(status)
                .into_iter()
                .map(|from| format!("'{from}>{}'", status_name(status)))
                .collect();
            for (tenant, group) in by_tenant(updates.iter().filter(|u| u.status == status)) {
                for chunk in group.chunks(RECEIPT_CHUNK) {
                    // Every condition on deliveries refers to v, so the only way in is its key.
                    // Written as plain filters (tenant_id = $1, status IN …) PostgreSQL judged
                    // them by statistics from when the table was small, expected one row, and
                    // scanned all of the tenant's deliveries for each of the 150 receipts.
                    let sql = format!(
                        "WITH v(id, status, reason, pmid, attempts, at, tenant) AS (VALUES {}) \
                         UPDATE deliveries SET status = v.status, \
                             reason = CASE WHEN v.reason = '' THEN deliveries.reason ELSE v.reason END, \
                             provider_message_id = CASE WHEN v.pmid = '' THEN deliveries.provider_message_id ELSE v.pmid END, \
                             attempts = CASE WHEN deliveries.attempts > v.attempts THEN deliveries.attempts ELSE v.attempts END, \
                             updated_at = v.at \
                         FROM v WHERE deliveries.id = v.id AND deliveries.tenant_id = v.tenant \
                             AND deliveries.status || '>' || v.status IN ({})",
                        value_rows_with(chunk.len(), 6, 2, "$1"),
                        transitions.join(", ")
                    );
                    let mut query = sqlx::query(&sql).bind(tenant);
                    for u in chunk {
                        query = query
                            .bind(u.delivery_id.as_str())
                            .bind(status_name(u.status))
                            .bind(&u.reason)
                            .bind(&u.provider_message_id)
                            .bind(i64::from(u.attempts))
                            .bind(u.at_ms);
                    }
                    changed += query.execute(&mut *tx).await?.rows_affected();
                }
            }
        }
        for (tenant, group) in by_tenant(updates.iter().filter(|u| u.token_dead)) {
            for chunk in group.chunks(RECEIPT_CHUNK) {
                // A web subscription the push service forgot is expired; other tokens are dead.
                let sql = format!(
                    "WITH v(id, reason, at) AS (VALUES {}) \
                     UPDATE devices SET state = CASE WHEN devices.platform = 'web' THEN 'expired' ELSE 'inactive' END, \
                         state_reason = v.reason, updated_at = v.at \
                     FROM v WHERE devices.tenant_id = $1 AND devices.id = v.id AND devices.state = 'active'",
                    value_rows(chunk.len(), 3, 2)
                );
                let mut query = sqlx::query(&sql).bind(tenant);
                for u in chunk {
                    query = query
                        .bind(u.device_id.as_str())
                        .bind(&u.reason)
                        .bind(u.at_ms);
                }
                query.execute(&mut *tx).await?;
            }
        }
        for (tenant, group) in by_tenant(
            updates
                .iter()
                .filter(|u| u.status == Submitted && !u.token_dead),
        ) {
            let at = group.iter().map(|u| u.at_ms).max().unwrap_or_default();
            for chunk in group.chunks(RECEIPT_CHUNK) {
                let ids: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 3)).collect();
                let sql = format!(
                    "UPDATE devices SET last_active_at = $1 WHERE tenant_id = $2 AND id IN ({})",
                    ids.join(", ")
                );
                let mut query = sqlx::query(&sql).bind(at).bind(tenant);
                for u in chunk {
                    query = query.bind(u.device_id.as_str());
                }
                query.execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
        Ok(changed)
    }
}

/// Receipts per statement (6 binds each).
const RECEIPT_CHUNK: usize = 150;

/// Updates grouped by tenant, in a stable order.
fn by_tenant<'a>(
    updates: impl Iterator<Item = &'a ReceiptUpdate>,
) -> std::collections::BTreeMap<&'a str, Vec<&'a ReceiptUpdate>> {
    let mut groups: std::collections::BTreeMap<&str, Vec<&ReceiptUpdate>> =
        std::collections::BTreeMap::new();
    for u in updates {
        groups.entry(u.tenant_id.as_str()).or_default().push(u);
    }
    groups
}

/// Messages per insert (8 binds each).
const MESSAGE_CHUNK: usize = 100;

/// `($first, …), (…)`: `rows` groups of `width` placeholders numbered from `first`.
fn value_rows(rows: usize, width: usize, first: usize) -> String {
    value_rows_with(rows, width, first, "")
}

/// Like [`value_rows`], with `tail` (a literal) closing each group.
fn value_rows_with(rows: usize, width: usize, first: usize, tail: &str) -> String {
    (0..rows)
        .map(|r| {
            let mut cells: Vec<String> = (0..width)
                .map(|c| format!("${}", first + r * width + c))
                .collect();
            if !tail.is_empty() {
                cells.push(tail.to_owned());
            }
            format!("({})", cells.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}
