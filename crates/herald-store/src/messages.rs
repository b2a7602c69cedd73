//! Accepted messages and their outbox state: stored by ingest before they are published, marked
//! once JetStream acknowledged the publish, and republished by the relay until then.

use std::collections::{HashMap, HashSet};

use herald_core::ids::{MessageId, TenantId};
use herald_core::names::Named as _;
use herald_core::time::now_ms;
use herald_proto::v1::MessageState;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Backend, Result, Store, decode, int, json, text};

/// A message as ingest stores it before publishing.
#[derive(Clone, Debug)]
pub struct NewMessage {
    pub id: MessageId,
    pub tenant_id: TenantId,
    pub idempotency_key: Option<String>,
    /// With an idempotency key: a digest of the request, which a repeat of the key must match.
    pub request_digest: Option<String>,
    /// The encoded `herald.bus.v1.MessageAccepted`.
    pub body: Vec<u8>,
    pub correlation_id: String,
    pub callback_data: String,
    pub notify_url: String,
    pub created_at: i64,
    pub expires_at: i64,
    /// When it is due, for a scheduled message (stored `scheduled`, left to the relay's
    /// release); `None` to publish at once.
    pub send_at: Option<i64>,
}

/// What storing a message did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InsertedMessage {
    Inserted,
    /// The idempotency key was used before, by this message.
    Duplicate {
        id: MessageId,
        /// The digest of the request that made it (none for messages from before digests).
        request_digest: Option<String>,
    },
}

#[derive(Clone, Debug)]
pub struct MessageRecord {
    pub id: MessageId,
    pub tenant_id: TenantId,
    pub body: Vec<u8>,
    pub callback_data: String,
    pub notify_url: String,
    pub state: MessageState,
    pub reason: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub published_at: Option<i64>,
    pub send_at: Option<i64>,
}

/// A message whose publish was not acknowledged (ingest crashed or the bus was down), or a
/// scheduled one released.
#[derive(Clone, Debug)]
pub struct UnpublishedMessage {
    pub id: MessageId,
    pub tenant_id: TenantId,
    pub body: Vec<u8>,
    /// When it was due, for a scheduled message (each of its waves publishes anew).
    pub send_at: Option<i64>,
}

impl UnpublishedMessage {
    fn from_row(row: &AnyRow) -> Result<Self> {
        Ok(Self {
            id: MessageId::from_trusted(row.try_get("id")?),
            tenant_id: TenantId::from_trusted(row.try_get("tenant_id")?),
            body: row.try_get("body")?,
            send_at: row.try_get("send_at")?,
        })
    }
}

/// Schedules a message's next wave at `$1` (tenant `$2`, message `$3`): the relay releases it
/// then. A recalled message stays cancelled.
pub(crate) const SCHEDULE_WAVE: &str = "UPDATE messages \
    SET state = 'scheduled', send_at = $1, published_at = NULL \
    WHERE tenant_id = $2 AND id = $3 AND state <> 'cancelled'";

const MESSAGE_COLUMNS: &str = "id, tenant_id, body, callback_data, notify_url, state, reason, \
    created_at, expires_at, published_at, send_at";

impl MessageRecord {
    fn from_row(row: &AnyRow) -> Result<Self> {
        Ok(Self {
            id: MessageId::from_trusted(row.try_get("id")?),
            tenant_id: TenantId::from_trusted(row.try_get("tenant_id")?),
            body: row.try_get("body")?,
            callback_data: row.try_get("callback_data")?,
            notify_url: row.try_get("notify_url")?,
            state: decode(row, "state")?,
            reason: row.try_get("reason")?,
            created_at: row.try_get("created_at")?,
            expires_at: row.try_get("expires_at")?,
            published_at: row.try_get("published_at")?,
            send_at: row.try_get("send_at")?,
        })
    }
}

/// What a message's reports carry back to its sender: its correlation id and callback data,
/// and where they go besides the tenant's webhooks (its notify URL, or empty).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReportContext {
    pub correlation_id: String,
    pub callback_data: String,
    pub notify_url: String,
}

impl Store {
    /// The report context of each of these messages that exists, by message id.
    pub async fn report_contexts(
        &self,
        ids: &[&MessageId],
    ) -> Result<HashMap<MessageId, ReportContext>> {
        herald_telemetry::timed("report_contexts", async move {
            if ids.is_empty() {
                return Ok(HashMap::new());
            }
            let rows: Vec<(&str,)> = ids.iter().map(|id| (id.as_str(),)).collect();
            let sql = format!(
                "WITH v AS (SELECT {} AS id FROM {}) \
                 SELECT messages.id, messages.correlation_id, messages.callback_data, messages.notify_url \
                 FROM v JOIN messages ON messages.id = v.id",
                text(0),
                self.backend.json_rows(1),
            );
            sqlx::query(&sql)
                .bind(json(&rows))
                .fetch_all(&self.reader)
                .await?
                .iter()
                .map(|row| {
                    Ok((
                        MessageId::from_trusted(row.try_get("id")?),
                        ReportContext {
                            correlation_id: row.try_get("correlation_id")?,
                            callback_data: row.try_get("callback_data")?,
                            notify_url: row.try_get("notify_url")?,
                        },
                    ))
                })
                .collect()
        }).await
    }

    /// Stores an accepted message, or finds the earlier one with the same idempotency key.
    pub async fn insert_message(&self, msg: &NewMessage) -> Result<InsertedMessage> {
        let mut inserted = self.insert_messages(std::slice::from_ref(msg)).await?;
        Ok(inserted.pop().expect("one result per message"))
    }

    /// Stores accepted messages in one transaction (a multi-row insert per chunk); for each,
    /// answers whether it was new or repeated an earlier message's idempotency key.
    #[tracing::instrument(skip_all, fields(count = messages.len()))]
    pub async fn insert_messages(&self, messages: &[NewMessage]) -> Result<Vec<InsertedMessage>> {
        herald_telemetry::timed("insert_messages", async move {
            let b = self.backend;
            let sql = format!(
                // `WHERE true`: SQLite cannot tell an upsert's ON CONFLICT from a join's ON without it.
                "INSERT INTO messages (id, tenant_id, idempotency_key, body, callback_data, notify_url, \
                     created_at, expires_at, request_digest, correlation_id, send_at, state) \
                 SELECT {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {} FROM {} WHERE true \
                 ON CONFLICT (tenant_id, idempotency_key) DO NOTHING RETURNING id",
                text(0),
                text(1),
                text(2),
                b.unhex(&text(3)),
                text(4),
                text(5),
                int(6),
                int(7),
                text(8),
                text(9),
                int(10),
                text(11),
                b.json_rows(1),
            );
            let rows: Vec<_> = messages
                .iter()
                .map(|m| {
                    (
                        m.id.as_str(),
                        m.tenant_id.as_str(),
                        m.idempotency_key.as_deref(),
                        herald_core::crypto::hex(&m.body),
                        &m.callback_data,
                        &m.notify_url,
                        m.created_at,
                        m.expires_at,
                        m.request_digest.as_deref(),
                        &m.correlation_id,
                        m.send_at,
                        if m.send_at.is_some() {
                            MessageState::Scheduled.name()
                        } else {
                            MessageState::Accepted.name()
                        },
                    )
                })
                .collect();
            let mut tx = self.pool.begin().await?;
            let created: HashSet<String> = sqlx::query(&sql)
                .bind(json(&rows))
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|row| row.try_get("id"))
                .collect::<Result<_, _>>()?;
            // Only a message with an idempotency key can have been left out: find the earlier one.
            let mut results = Vec::with_capacity(messages.len());
            for msg in messages {
                if created.contains(msg.id.as_str()) {
                    results.push(InsertedMessage::Inserted);
                    continue;
                }
                let row = sqlx::query(
                    "SELECT id, request_digest FROM messages \
                     WHERE tenant_id = $1 AND idempotency_key = $2",
                )
                .bind(msg.tenant_id.as_str())
                .bind(msg.idempotency_key.as_deref())
                .fetch_one(&mut *tx)
                .await?;
                results.push(InsertedMessage::Duplicate {
                    id: MessageId::from_trusted(row.try_get("id")?),
                    request_digest: row.try_get("request_digest")?,
                });
            }
            tx.commit().await?;
            Ok(results)
        }).await
    }

    /// Records that JetStream acknowledged these messages' publishes. A message scheduled again
    /// meanwhile (its next wave) is left unpublished: the mark belongs to the wave before.
    pub async fn mark_published(&self, tenant: &TenantId, ids: &[MessageId]) -> Result<()> {
        herald_telemetry::timed("mark_published", async move {
            // One primary-key lookup per id (see `settled_deliveries` for why it is spelled out).
            let sql = match self.backend {
                Backend::Sqlite => {
                    "UPDATE messages SET published_at = $1 WHERE id IN (SELECT m.id FROM json_each($3) AS j \
                     CROSS JOIN messages AS m WHERE m.id = j.value AND m.tenant_id = $2) \
                     AND state <> 'scheduled'"
                }
                Backend::Postgres => {
                    "UPDATE messages SET published_at = $1 \
                     WHERE id = ANY(ARRAY(SELECT jsonb_array_elements_text($3::jsonb))) AND tenant_id = $2 \
                     AND state <> 'scheduled'"
                }
            };
            let ids: Vec<&str> = ids.iter().map(MessageId::as_str).collect();
            sqlx::query(sql)
                .bind(now_ms())
                .bind(tenant.as_str())
                .bind(json(&ids))
                .execute(&self.pool)
                .await?;
            Ok(())
        }).await
    }

    /// Messages accepted before `created_before` whose publish was never acknowledged, at most
    /// `limit`: the oldest of each tenant in turn, so one tenant's backlog (or one message the
    /// bus keeps refusing) never keeps another tenant's messages waiting.
    pub async fn unpublished_messages(
        &self,
        created_before: i64,
        limit: u32,
    ) -> Result<Vec<UnpublishedMessage>> {
        herald_telemetry::timed("unpublished_messages", async move {
            let rows = sqlx::query(
                "SELECT m.id, m.tenant_id, m.body, m.send_at FROM ( \
                     SELECT id, created_at, \
                         ROW_NUMBER() OVER (PARTITION BY tenant_id ORDER BY created_at) AS turn \
                     FROM messages WHERE published_at IS NULL AND created_at < $1 \
                         AND state <> 'scheduled' \
                     ORDER BY turn, created_at LIMIT $2) AS pick \
                 JOIN messages AS m ON m.id = pick.id ORDER BY pick.turn, pick.created_at",
            )
            .bind(created_before)
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await?;
            rows.iter().map(UnpublishedMessage::from_row).collect()
        })
        .await
    }

    /// How many messages accepted before `created_before` JetStream has not acknowledged yet:
    /// the outbox's backlog (the relay's work), not the sends still publishing.
    pub async fn outbox_backlog(&self, created_before: i64) -> Result<u64> {
        herald_telemetry::timed("outbox_backlog", async move {
            let row = sqlx::query(
                "SELECT COUNT(*) AS n FROM messages \
                 WHERE published_at IS NULL AND created_at < $1 AND state <> 'scheduled'",
            )
            .bind(created_before)
            .fetch_one(&self.reader)
            .await?;
            Ok(u64::try_from(row.try_get::<i64, _>("n")?).unwrap_or(0))
        })
        .await
    }

    /// Releases the scheduled messages due by `now` (at most `limit`, soonest first): each
    /// becomes an accepted message the outbox has not published, answered here for the relay to
    /// publish at once (and republished by it later if that fails). A message is released once,
    /// however many relays ask at the same time.
    pub async fn release_due_messages(
        &self,
        now: i64,
        limit: u32,
    ) -> Result<Vec<UnpublishedMessage>> {
        herald_telemetry::timed("release_due_messages", async move {
            let rows = sqlx::query(
                "UPDATE messages SET state = 'accepted', published_at = NULL WHERE id IN ( \
                     SELECT id FROM messages WHERE state = 'scheduled' AND send_at <= $1 \
                     ORDER BY send_at, id LIMIT $2) \
                 AND state = 'scheduled' RETURNING id, tenant_id, body, send_at",
            )
            .bind(now)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
            rows.iter().map(UnpublishedMessage::from_row).collect()
        })
        .await
    }

    /// Schedules a routed message's next wave: the devices it held back (their local time had
    /// not come, or quiet hours held them) are routed when the relay releases it at `at`. A
    /// recalled message stays cancelled.
    pub async fn schedule_waves(&self, waves: &[(&TenantId, &MessageId, i64)]) -> Result<()> {
        for (tenant, id, at) in waves {
            sqlx::query(SCHEDULE_WAVE)
                .bind(at)
                .bind(tenant.as_str())
                .bind(id.as_str())
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// When the soonest scheduled message is due, if there is one.
    pub async fn next_send_at(&self) -> Result<Option<i64>> {
        let row = sqlx::query("SELECT MIN(send_at) AS at FROM messages WHERE state = 'scheduled'")
            .fetch_one(&self.reader)
            .await?;
        Ok(row.try_get("at")?)
    }

    /// The tenant's scheduled messages, soonest first, after `after` (a due time and an id).
    pub async fn scheduled_messages(
        &self,
        tenant: &TenantId,
        after: Option<(i64, &str)>,
        limit: u32,
    ) -> Result<Vec<MessageRecord>> {
        let (at, id) = after.unwrap_or((i64::MIN, ""));
        let rows = sqlx::query(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages \
             WHERE tenant_id = $1 AND state = 'scheduled' \
               AND (send_at > $2 OR (send_at = $2 AND id > $3)) \
             ORDER BY send_at, id LIMIT $4"
        ))
        .bind(tenant.as_str())
        .bind(at)
        .bind(id)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(MessageRecord::from_row).collect()
    }

    /// The tenant's messages, newest first, before `before` (a creation time and an id).
    pub async fn recent_messages(
        &self,
        tenant: &TenantId,
        before: Option<(i64, &str)>,
        limit: u32,
    ) -> Result<Vec<MessageRecord>> {
        let rows = match before {
            None => {
                sqlx::query(&format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages WHERE tenant_id = $1 \
                     ORDER BY created_at DESC, id DESC LIMIT $2"
                ))
                .bind(tenant.as_str())
                .bind(i64::from(limit))
                .fetch_all(&self.reader)
                .await?
            }
            Some((at, id)) => {
                sqlx::query(&format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages WHERE tenant_id = $1 \
                       AND (created_at < $2 OR (created_at = $2 AND id < $3)) \
                     ORDER BY created_at DESC, id DESC LIMIT $4"
                ))
                .bind(tenant.as_str())
                .bind(at)
                .bind(id)
                .bind(i64::from(limit))
                .fetch_all(&self.reader)
                .await?
            }
        };
        rows.iter().map(MessageRecord::from_row).collect()
    }

    /// Moves a scheduled message due at `was` to `send_at`, with its new body and expiry;
    /// answers false if it is not scheduled at `was` (any more: released, cancelled, or
    /// scheduled again for a later wave).
    pub async fn reschedule_message(
        &self,
        tenant: &TenantId,
        id: &MessageId,
        was: i64,
        send_at: i64,
        body: &[u8],
        expires_at: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE messages SET send_at = $1, body = $2, expires_at = $3 \
             WHERE tenant_id = $4 AND id = $5 AND state = 'scheduled' AND send_at = $6",
        )
        .bind(send_at)
        .bind(body)
        .bind(expires_at)
        .bind(tenant.as_str())
        .bind(id.as_str())
        .bind(was)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Cancels a scheduled message before it starts (the outbox never publishes it); answers
    /// false if it is not scheduled (any more).
    pub async fn cancel_scheduled(&self, tenant: &TenantId, id: &MessageId) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE messages SET state = 'cancelled', published_at = $1, \
                 reason = 'cancelled before it was due' \
             WHERE tenant_id = $2 AND id = $3 AND state = 'scheduled'",
        )
        .bind(now_ms())
        .bind(tenant.as_str())
        .bind(id.as_str())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Counts a refusal of the message's publish; answers how many there have been.
    pub async fn refused_publish(&self, tenant: &TenantId, id: &MessageId) -> Result<i64> {
        let row = sqlx::query(
            "UPDATE messages SET publish_tries = publish_tries + 1 \
                 WHERE tenant_id = $1 AND id = $2 RETURNING publish_tries",
        )
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some(row) => row.try_get("publish_tries")?,
            None => 0,
        })
    }

    /// Gives up publishing a message (it went to the dead letters): it is no longer the
    /// relay's, and it answers `failed` with `reason`.
    pub async fn park_message(
        &self,
        tenant: &TenantId,
        id: &MessageId,
        reason: &str,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE messages SET published_at = $1, state = 'failed', reason = $2 \
                 WHERE tenant_id = $3 AND id = $4",
        )
        .bind(now_ms())
        .bind(reason)
        .bind(tenant.as_str())
        .bind(id.as_str())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// How many of the tenant's messages are in each stored state.
    pub async fn message_counts(&self, tenant: &TenantId) -> Result<Vec<(MessageState, i64)>> {
        let rows = sqlx::query(
                "SELECT state, COUNT(*) AS n FROM messages WHERE tenant_id = $1 GROUP BY state ORDER BY state",
            )
            .bind(tenant.as_str())
            .fetch_all(&self.reader)
            .await?;
        rows.iter()
            .map(|r| Ok((decode(r, "state")?, r.try_get("n")?)))
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
}
