//! Fan-outs: messages to large audiences (topics, segments), routed page by page. The store
//! reads an audience in keyset pages (never all of it at once), and keeps each message's durable
//! checkpoint and lease, so a router that stops or dies mid-way is followed from the last page
//! whose send batches JetStream acknowledged.

use std::collections::HashSet;

use herald_core::ids::{DeliveryId, MessageId, TenantId};
use herald_core::segments::Expr;
use herald_core::time::now_ms;
use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::deliveries::insert_deliveries;
use crate::devices::COLUMNS as DEVICE_COLUMNS;
use crate::{DeviceRecord, NewDelivery, Result, Store, json, text};

/// Where a fan-out is in its audience: the source (an audience may read several in turn) and
/// the last device done in it. The start is the default.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Position {
    pub source: u32,
    pub cursor: Cursor,
}

/// A key in a source's order: the sort key of a device (its id, or its user) and the device id.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cursor {
    pub key: String,
    pub device: String,
}

/// One of the queries an audience is read by, in keyset order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source<'a> {
    /// The active devices subscribed to the topic themselves, by device id.
    TopicDevices(&'a str),
    /// The active devices of the users subscribed to the topic, by (user, device id), leaving
    /// out those subscribed themselves (read by [`Source::TopicDevices`]).
    TopicUsers(&'a str),
    /// The tenant's active devices a segment expression holds for, by device id; `now` is the
    /// instant its relative conditions (`last_active within 7d`) count from.
    Segment { expr: &'a Expr, now: i64 },
    /// The active devices a delivery of the message reached (submitted, delivered or read), or
    /// may have reached (in flight when it was recalled), by delivery id (device order).
    Recipients(&'a MessageId),
}

/// A fan-out a router holds.
#[derive(Clone, Debug)]
pub struct FanoutJob {
    pub tenant_id: TenantId,
    pub message_id: MessageId,
    /// The accepted message (`herald.bus.v1.MessageAccepted`), as stored by ingest.
    pub body: Vec<u8>,
    /// The checkpoint: every device before it has its deliveries recorded and published.
    pub position: Position,
    /// Deliveries recorded up to the checkpoint.
    pub routed: i64,
    /// What the audience was when the fan-out started (a segment's expression); empty until
    /// [`Store::pin_fanout`].
    pub pinned: String,
    /// Its message's trace context (W3C `traceparent`), if traced.
    pub traceparent: Option<String>,
    /// When it started (Unix ms): a throttled fan-out paces itself from here, whoever holds it.
    pub started_at: i64,
}

/// How a fan-out ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FanoutEnd {
    /// Every page was routed: the message is `routed`.
    Routed,
    /// Nothing could be routed: the message is `failed` with this reason.
    Failed(String),
    /// The message was recalled: it stays `cancelled`.
    Cancelled,
}

/// What recording a fan-out page did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PageRecorded {
    /// The deliveries it created (those that existed are kept as they are).
    Created(HashSet<DeliveryId>),
    /// The holder no longer holds the fan-out: nothing was written.
    Lost,
    /// The message was recalled: nothing was written, and the fan-out should end.
    Cancelled,
}

impl Store {
    /// Starts fan-outs for messages still `accepted` (a message handled again after its fan-out
    /// ended starts none), marking them `routing`, each with its message's trace context (W3C
    /// `traceparent`), if traced. No router holds them yet.
    pub async fn start_fanouts(
        &self,
        messages: &[(TenantId, MessageId, Option<String>)],
    ) -> Result<()> {
        if messages.is_empty() {
            return Ok(());
        }
        let rows: Vec<_> = messages
            .iter()
            .map(|(t, m, trace)| (t.as_str(), m.as_str(), trace.as_deref()))
            .collect();
        let b = self.backend;
        let mut tx = self.pool.begin().await?;
        let sql = format!(
            "INSERT INTO fanouts (tenant_id, message_id, created_at, traceparent) \
             SELECT m.tenant_id, m.id, $1, {} FROM {} JOIN messages m \
                 ON m.tenant_id = {} AND m.id = {} \
             WHERE m.state = 'accepted' ON CONFLICT (tenant_id, message_id) DO NOTHING",
            text(2),
            b.json_rows(2),
            text(0),
            text(1),
        );
        sqlx::query(&sql)
            .bind(now_ms())
            .bind(json(&rows))
            .execute(&mut *tx)
            .await?;
        let sql = format!(
            "WITH v AS (SELECT {} AS tenant_id, {} AS id FROM {}) \
             UPDATE messages SET state = 'routing' FROM v \
             WHERE messages.tenant_id = v.tenant_id AND messages.id = v.id \
                 AND messages.state = 'accepted'",
            text(0),
            text(1),
            b.json_rows(1),
        );
        sqlx::query(&sql)
            .bind(json(&rows))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes up to `limit` fan-outs no router holds (never held, released, or whose holder's
    /// lease ran out by `now`), oldest first, for `holder` until `lease_until`.
    pub async fn claim_fanouts(
        &self,
        holder: &str,
        now: i64,
        lease_until: i64,
        limit: u32,
    ) -> Result<Vec<FanoutJob>> {
        herald_telemetry::timed("claim_fanouts", async move {
            let candidates = sqlx::query(
                "SELECT tenant_id, message_id FROM fanouts WHERE lease_until < $1 \
                 ORDER BY created_at LIMIT $2",
            )
            .bind(now)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("tenant_id")?, r.try_get("message_id")?)))
            .collect::<Result<Vec<(String, String)>>>()?;
            let mut jobs = Vec::new();
            for (tenant, message) in candidates {
                // Conditional on the lease, so of two routers racing for it one wins.
                let taken = sqlx::query(
                    "UPDATE fanouts SET holder = $1, lease_until = $2 \
                     WHERE tenant_id = $3 AND message_id = $4 AND lease_until < $5",
                )
                .bind(holder)
                .bind(lease_until)
                .bind(&tenant)
                .bind(&message)
                .bind(now)
                .execute(&self.pool)
                .await?
                .rows_affected();
                if taken == 0 {
                    continue;
                }
                let row = sqlx::query(
                    "SELECT f.source, f.cursor_key, f.cursor_device, f.routed, f.pinned, \
                         f.traceparent, f.created_at, m.body \
                     FROM fanouts f JOIN messages m ON m.tenant_id = f.tenant_id AND m.id = f.message_id \
                     WHERE f.tenant_id = $1 AND f.message_id = $2",
                )
                .bind(&tenant)
                .bind(&message)
                .fetch_one(&self.pool)
                .await?;
                jobs.push(FanoutJob {
                    tenant_id: TenantId::from_trusted(tenant),
                    message_id: MessageId::from_trusted(message),
                    body: row.try_get("body")?,
                    position: position(&row)?,
                    routed: row.try_get("routed")?,
                    pinned: row.try_get("pinned")?,
                    traceparent: row.try_get("traceparent")?,
                    started_at: row.try_get("created_at")?,
                });
            }
            Ok(jobs)
        }).await
    }

    /// Up to `limit` active devices of `source` after `after`, in its order, each with its cursor.
    pub async fn audience_page(
        &self,
        tenant: &TenantId,
        source: Source<'_>,
        after: &Cursor,
        limit: u32,
    ) -> Result<Vec<(Cursor, DeviceRecord)>> {
        herald_telemetry::timed("audience_page", async move {
            let (sql, args) = self.audience_query(tenant, source, after, limit)?;
            let rows = sqlx::query_with(&sql, args).fetch_all(&self.reader).await?;
            rows.iter()
                .map(|row| {
                    let device = DeviceRecord::from_row(row)?;
                    let cursor = Cursor {
                        key: row.try_get("sort_key")?,
                        device: device.id.to_string(),
                    };
                    Ok((cursor, device))
                })
                .collect()
        })
        .await
    }

    /// How many active devices the sources hold now (a fan-out reads the same, page by page).
    pub async fn audience_size(&self, tenant: &TenantId, sources: &[Source<'_>]) -> Result<u64> {
        let mut size = 0;
        let start = Cursor::default();
        for source in sources {
            let (sql, args) = self.audience_query(tenant, *source, &start, u32::MAX)?;
            let sql = format!("SELECT COUNT(*) AS n FROM ({sql}) a");
            let row = sqlx::query_with(&sql, args).fetch_one(&self.reader).await?;
            size += u64::try_from(row.try_get::<i64, _>("n")?).unwrap_or(0);
        }
        Ok(size)
    }

    /// The query of up to `limit` active devices of `source` after `after`, in its order.
    fn audience_query<'q>(
        &self,
        tenant: &'q TenantId,
        source: Source<'q>,
        after: &'q Cursor,
        limit: u32,
    ) -> Result<(String, sqlx::any::AnyArguments<'q>)> {
        {
            let columns: Vec<String> = DEVICE_COLUMNS
                .split(", ")
                .map(|c| format!("d.{}", c.trim()))
                .collect();
            let columns = columns.join(", ");
            // Devices whose customer opted out of push, or of this topic, are left out.
            let opted_out = crate::customers::opted_out(Some("$2"));
            let (sql, args) = match source {
                Source::TopicDevices(topic) => (
                    format!(
                        "SELECT {columns}, s.subscriber AS sort_key FROM topic_subscriptions s \
                         JOIN devices d ON d.id = s.subscriber \
                         WHERE s.tenant_id = $1 AND s.topic = $2 AND s.kind = 'device' \
                             AND s.subscriber > $3 \
                             AND d.tenant_id = s.tenant_id AND d.state = 'active' \
                             AND NOT {opted_out} \
                         ORDER BY s.subscriber LIMIT $4"
                    ),
                    args([tenant.as_str(), topic, &after.key], limit)?,
                ),
                Source::TopicUsers(topic) => (
                    format!(
                        // Subscriptions outside, in their key order, each user's devices inside
                        // in id order (the index holds it): no sort. `CROSS JOIN` keeps SQLite to
                        // that order, and `|| ''` keeps it from turning the user's range into a
                        // range scan of every device after it.
                        "SELECT {columns}, s.subscriber AS sort_key \
                         FROM topic_subscriptions s CROSS JOIN devices d \
                         WHERE s.tenant_id = $1 AND s.topic = $2 AND s.kind = 'user' \
                             AND s.subscriber >= $3 AND (s.subscriber > $3 OR d.id > $4) \
                             AND d.tenant_id = s.tenant_id AND d.user_id = s.subscriber || '' \
                             AND d.state = 'active' \
                             AND NOT EXISTS (SELECT 1 FROM topic_subscriptions x \
                                 WHERE x.tenant_id = s.tenant_id AND x.topic = s.topic \
                                     AND x.kind = 'device' AND x.subscriber = d.id) \
                             AND NOT {opted_out} \
                         ORDER BY s.subscriber, d.id LIMIT $5"
                    ),
                    args([tenant.as_str(), topic, &after.key, &after.device], limit)?,
                ),
                Source::Recipients(message) => (
                    format!(
                        "SELECT {columns}, x.id AS sort_key FROM deliveries x \
                         JOIN devices d ON d.id = x.device_id \
                         WHERE x.tenant_id = $1 AND x.message_id = $2 AND x.id > $3 \
                             AND (x.status IN ('submitted', 'delivered', 'read') \
                                 OR (x.status = 'queued' AND x.claimed_attempt = $5 \
                                     AND x.claimed_at > 0)) \
                             AND d.tenant_id = x.tenant_id AND d.state = 'active' \
                         ORDER BY x.id LIMIT $4"
                    ),
                    {
                        use sqlx::Arguments as _;
                        let mut args =
                            args([tenant.as_str(), message.as_str(), &after.key], limit)?;
                        args.add(crate::RECALLED_ATTEMPT)
                            .map_err(sqlx::Error::Encode)?;
                        args
                    },
                ),
                Source::Segment { expr, now } => {
                    let segment = crate::segments::render(self.backend, expr, 4, now);
                    let opted_out = crate::customers::opted_out(None);
                    let sql = format!(
                        "SELECT {columns}, d.id AS sort_key FROM devices d \
                         WHERE d.tenant_id = $1 AND d.id > $2 AND d.state = 'active' \
                             AND {} AND NOT {opted_out} \
                         ORDER BY d.id LIMIT $3",
                        segment.sql
                    );
                    let mut args = args([tenant.as_str(), &after.key], limit)?;
                    for param in &segment.params {
                        use sqlx::Arguments as _;
                        args.add(param.clone()).map_err(sqlx::Error::Encode)?;
                    }
                    (sql, args)
                }
            };
            Ok((sql, args))
        }
    }

    /// Records a page of a fan-out `holder` holds, in one transaction: its queued deliveries
    /// (existing ones are kept as they are), the lease renewed until `lease_until`, and the
    /// checkpoint (it may be the one already stored) with the deliveries routed up to it.
    pub async fn record_fanout_page(
        &self,
        job: &FanoutJob,
        holder: &str,
        lease_until: i64,
        deliveries: &[NewDelivery],
        checkpoint: (&Position, i64),
        next_wave: Option<i64>,
    ) -> Result<PageRecorded> {
        herald_telemetry::timed("record_fanout_page", async move {
            let mut tx = self.pool.begin().await?;
            // The message's row lock first, as `record_routing` takes it: a recall waits for
            // this page, or this page finds the message recalled.
            let live = sqlx::query(
                "UPDATE messages SET state = state \
                 WHERE tenant_id = $1 AND id = $2 AND state <> 'cancelled'",
            )
            .bind(job.tenant_id.as_str())
            .bind(job.message_id.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if live == 0 {
                return Ok(PageRecorded::Cancelled);
            }
            let (position, routed) = checkpoint;
            let held =
                set_checkpoint(&mut tx, job, holder, holder, lease_until, position, routed).await?;
            if held == 0 {
                return Ok(PageRecorded::Lost);
            }
            let rows: Vec<_> = deliveries
                .iter()
                .map(|d| {
                    (
                        d.id.as_str(),
                        job.tenant_id.as_str(),
                        job.message_id.as_str(),
                        d.device_id.as_str(),
                        d.provider,
                    )
                })
                .collect();
            let created = insert_deliveries(self.backend, &mut tx, &rows).await?;
            if let Some(at) = next_wave {
                sqlx::query(
                    "UPDATE fanouts SET next_wave = CASE WHEN next_wave IS NULL OR next_wave > $1 \
                         THEN $1 ELSE next_wave END \
                     WHERE tenant_id = $2 AND message_id = $3",
                )
                .bind(at)
                .bind(job.tenant_id.as_str())
                .bind(job.message_id.as_str())
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(PageRecorded::Created(created))
        })
        .await
    }

    /// Records what a fan-out's audience is (a segment's expression) for every later holder;
    /// `false` when `holder` no longer holds it.
    pub async fn pin_fanout(&self, job: &FanoutJob, holder: &str, pinned: &str) -> Result<bool> {
        let done = sqlx::query(
                "UPDATE fanouts SET pinned = $1 WHERE tenant_id = $2 AND message_id = $3 AND holder = $4",
            )
            .bind(pinned)
            .bind(job.tenant_id.as_str())
            .bind(job.message_id.as_str())
            .bind(holder)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// How far a fan-out is: the deliveries routed up to its checkpoint; `None` once it ended
    /// (or before it started).
    pub async fn fanout_progress(
        &self,
        tenant: &TenantId,
        message: &MessageId,
    ) -> Result<Option<i64>> {
        let row =
            sqlx::query("SELECT routed FROM fanouts WHERE tenant_id = $1 AND message_id = $2")
                .bind(tenant.as_str())
                .bind(message.as_str())
                .fetch_optional(&self.reader)
                .await?;
        row.map(|r| Ok(r.try_get("routed")?)).transpose()
    }

    /// Lets go of a fan-out at a checkpoint: another router takes it from `until` (Unix ms; 0:
    /// at once, as when a router stops; later: a throttled fan-out waiting for its pace).
    pub async fn release_fanout(
        &self,
        job: &FanoutJob,
        holder: &str,
        (position, routed): (&Position, i64),
        until: i64,
    ) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        set_checkpoint(&mut conn, job, holder, "", until, position, routed).await?;
        Ok(())
    }

    /// The soonest instant a device its pages held back is due, if they held any.
    pub async fn fanout_next_wave(&self, job: &FanoutJob) -> Result<Option<i64>> {
        let row =
            sqlx::query("SELECT next_wave FROM fanouts WHERE tenant_id = $1 AND message_id = $2")
                .bind(job.tenant_id.as_str())
                .bind(job.message_id.as_str())
                .fetch_optional(&self.reader)
                .await?;
        Ok(match row {
            Some(row) => row.try_get("next_wave")?,
            None => None,
        })
    }

    /// Ends a fan-out `holder` holds: the checkpoint goes, and the message is routed (or
    /// scheduled again, for the devices its pages held back) or failed. Answers whether
    /// `holder` still held it.
    pub async fn finish_fanout(
        &self,
        job: &FanoutJob,
        holder: &str,
        end: FanoutEnd,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let Some(row) = sqlx::query(
            "DELETE FROM fanouts WHERE tenant_id = $1 AND message_id = $2 AND holder = $3 \
             RETURNING next_wave",
        )
        .bind(job.tenant_id.as_str())
        .bind(job.message_id.as_str())
        .bind(holder)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(false);
        };
        let next_wave: Option<i64> = row.try_get("next_wave")?;
        if let (FanoutEnd::Routed, Some(at)) = (&end, next_wave) {
            sqlx::query(crate::messages::SCHEDULE_WAVE)
                .bind(at)
                .bind(job.tenant_id.as_str())
                .bind(job.message_id.as_str())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(true);
        }
        let (state, reason) = match &end {
            FanoutEnd::Routed => ("routed", ""),
            FanoutEnd::Failed(reason) => ("failed", reason.as_str()),
            FanoutEnd::Cancelled => ("cancelled", "recalled"),
        };
        sqlx::query(
            "UPDATE messages SET state = $1, reason = $2 \
             WHERE tenant_id = $3 AND id = $4 AND state <> 'cancelled'",
        )
        .bind(state)
        .bind(reason)
        .bind(job.tenant_id.as_str())
        .bind(job.message_id.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}

/// Writes a fan-out's checkpoint and lease where `holder` holds it, handing it to `next_holder`
/// (itself to renew; empty, with lease 0, to let go); answers the rows changed (0: `holder` no
/// longer holds it).
async fn set_checkpoint(
    conn: &mut sqlx::AnyConnection,
    job: &FanoutJob,
    holder: &str,
    next_holder: &str,
    lease_until: i64,
    position: &Position,
    routed: i64,
) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE fanouts SET holder = $1, lease_until = $2, source = $3, cursor_key = $4, \
                 cursor_device = $5, routed = $6 \
             WHERE tenant_id = $7 AND message_id = $8 AND holder = $9",
    )
    .bind(next_holder)
    .bind(lease_until)
    .bind(i64::from(position.source))
    .bind(&position.cursor.key)
    .bind(&position.cursor.device)
    .bind(routed)
    .bind(job.tenant_id.as_str())
    .bind(job.message_id.as_str())
    .bind(holder)
    .execute(conn)
    .await?
    .rows_affected())
}

/// Text arguments followed by a limit.
fn args<const N: usize>(texts: [&str; N], limit: u32) -> Result<sqlx::any::AnyArguments<'_>> {
    use sqlx::Arguments as _;
    let mut args = sqlx::any::AnyArguments::default();
    for text in texts {
        args.add(text).map_err(sqlx::Error::Encode)?;
    }
    args.add(i64::from(limit)).map_err(sqlx::Error::Encode)?;
    Ok(args)
}

/// The checkpoint columns of a `fanouts` row.
fn position(row: &AnyRow) -> Result<Position> {
    Ok(Position {
        source: u32::try_from(row.try_get::<i64, _>("source")?).unwrap_or_default(),
        cursor: Cursor {
            key: row.try_get("cursor_key")?,
            device: row.try_get("cursor_device")?,
        },
    })
}
