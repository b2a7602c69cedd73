//! Deliveries, one per message and device: created queued by the router, then moved along the
//! status machine by receipts (the receipt service is their only writer).

use std::collections::{HashMap, HashSet};

use herald_core::ids::{DeliveryId, DeviceId, MessageId, TenantId};
use herald_core::names::Named as _;
use herald_core::stats::{Stage, reached};
use herald_core::status::allowed_predecessors;
use herald_core::time::now_ms;
use herald_proto::v1::{DeliveryStatus, Provider};
use sqlx::Row;
use sqlx::any::AnyRow;

use sqlx::{Any, Transaction};

use crate::stats::Tally;
use crate::{Backend, Result, Store, decode, int, json, text};

/// What claiming a batch's deliveries found; a delivery in neither set is settled, claimed
/// for a later attempt, or unknown: there is nothing to send.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Claims {
    /// Claimed now: the caller sends them.
    pub claimed: HashSet<String>,
    /// Claimed by another holder for this attempt: the instant (Unix ms) its lease runs out,
    /// after which the caller may look again.
    pub held: HashMap<String, i64>,
    /// Still queued, but their message was recalled: never to be sent; the caller reports
    /// them cancelled.
    pub recalled: HashSet<String>,
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
    pub provider: Provider,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryRecord {
    pub id: DeliveryId,
    pub tenant_id: TenantId,
    pub message_id: MessageId,
    pub device_id: DeviceId,
    pub provider: Provider,
    pub status: DeliveryStatus,
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
    /// The notification was clicked, or one of its buttons tapped.
    pub clicked: bool,
}

const DELIVERY_COLUMNS: &str = "id, tenant_id, message_id, device_id, provider, status, reason, \
    provider_message_id, attempts, created_at, updated_at";

/// [`DELIVERY_COLUMNS`] qualified by their table, for a statement that joins another.
fn returned_delivery_columns() -> String {
    DELIVERY_COLUMNS
        .split(", ")
        .map(|c| format!("deliveries.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl DeliveryRecord {
    /// The delivery as the API and the delivery events show it.
    pub fn into_delivery(self) -> herald_proto::v1::Delivery {
        herald_proto::v1::Delivery {
            delivery_id: self.id.into_string(),
            device_id: self.device_id.into_string(),
            provider: self.provider as i32,
            status: self.status as i32,
            reason: self.reason,
            provider_message_id: self.provider_message_id,
            attempts: u32::try_from(self.attempts).unwrap_or(u32::MAX),
            updated_at_ms: self.updated_at,
        }
    }

    fn from_row(row: &AnyRow) -> Result<Self> {
        Ok(Self {
            id: DeliveryId::from_trusted(row.try_get("id")?),
            tenant_id: TenantId::from_trusted(row.try_get("tenant_id")?),
            message_id: MessageId::from_trusted(row.try_get("message_id")?),
            device_id: DeviceId::from_trusted(row.try_get("device_id")?),
            provider: decode(row, "provider")?,
            status: decode(row, "status")?,
            reason: row.try_get("reason")?,
            provider_message_id: row.try_get("provider_message_id")?,
            attempts: row.try_get("attempts")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

/// A delivery row to insert: id, tenant, message, device, provider.
pub(crate) type DeliveryRow<'a> = (&'a str, &'a str, &'a str, &'a str, Provider);

/// Inserts queued deliveries, keeping any that exist as they are, and counts the new ones as
/// sent; answers the ids it created.
pub(crate) async fn insert_deliveries(
    b: Backend,
    tx: &mut Transaction<'_, Any>,
    rows: &[DeliveryRow<'_>],
) -> Result<HashSet<DeliveryId>> {
    let mut created = HashSet::new();
    if rows.is_empty() {
        return Ok(created);
    }
    let now = now_ms();
    let mut tally = Tally::default();
    let rows: Vec<_> = rows
        .iter()
        .map(|(id, tenant, message, device, provider)| {
            (id, tenant, message, device, provider.name())
        })
        .collect();
    let sql = format!(
        // `WHERE true`: SQLite cannot tell an upsert's ON CONFLICT from a join's ON without it.
        "INSERT INTO deliveries (id, tenant_id, message_id, device_id, provider, status, created_at, updated_at) \
         SELECT {}, {}, {}, {}, {}, 'queued', $1, $1 FROM {} \
         WHERE true ON CONFLICT (id) DO NOTHING RETURNING id, tenant_id, message_id, provider",
        text(0),
        text(1),
        text(2),
        text(3),
        text(4),
        b.json_rows(2),
    );
    for row in sqlx::query(&sql)
        .bind(now)
        .bind(json(&rows))
        .fetch_all(&mut **tx)
        .await?
    {
        tally.add(
            &TenantId::from_trusted(row.try_get("tenant_id")?),
            &MessageId::from_trusted(row.try_get("message_id")?),
            decode(&row, "provider")?,
            now,
            Stage::Sent,
            1,
        );
        created.insert(DeliveryId::from_trusted(row.try_get("id")?));
    }
    tally.write(b, tx).await?;
    Ok(created)
}

impl Store {
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
        herald_telemetry::timed("record_routing", async move {
            let b = self.backend;
            let deliveries: Vec<_> = routed
                .iter()
                .flat_map(|m| {
                    m.deliveries.iter().map(move |d| {
                        (
                            d.id.as_str(),
                            m.tenant_id.as_str(),
                            m.message_id.as_str(),
                            d.device_id.as_str(),
                            d.provider,
                        )
                    })
                })
                .collect();
            let routed: Vec<_> = routed
                .iter()
                .map(|m| (m.tenant_id.as_str(), m.message_id.as_str(), ""))
                .collect();
            let failed: Vec<_> = failed
                .iter()
                .map(|m| {
                    (
                        m.tenant_id.as_str(),
                        m.message_id.as_str(),
                        m.reason.as_str(),
                    )
                })
                .collect();
            let mut tx = self.pool.begin().await?;
            // The messages first: their row locks make a recall wait for this transaction (or
            // this one wait for the recall, and then find the message cancelled), and a
            // recalled message keeps its state and gets no deliveries.
            let mut live: HashSet<String> = HashSet::new();
            for (state, messages) in [("routed", routed), ("failed", failed)] {
                if messages.is_empty() {
                    continue;
                }
                let sql = format!(
                    "WITH v AS (SELECT {} AS tenant_id, {} AS id, {} AS reason FROM {}) \
                     UPDATE messages SET state = $1, reason = v.reason \
                     FROM v WHERE messages.tenant_id = v.tenant_id AND messages.id = v.id \
                         AND messages.state <> 'cancelled' \
                     RETURNING messages.id",
                    text(0),
                    text(1),
                    text(2),
                    b.json_rows(2),
                );
                for row in sqlx::query(&sql)
                    .bind(state)
                    .bind(json(&messages))
                    .fetch_all(&mut *tx)
                    .await?
                {
                    live.insert(row.try_get("id")?);
                }
            }
            let deliveries: Vec<_> = deliveries
                .into_iter()
                .filter(|(_, _, message, _, _)| live.contains(*message))
                .collect();
            let created = insert_deliveries(b, &mut tx, &deliveries).await?;
            tx.commit().await?;
            Ok(created)
        })
        .await
    }

    /// Which of the tenant's deliveries `ids` are still waiting for their sender.
    pub async fn still_queued(
        &self,
        tenant: &TenantId,
        ids: &[&DeliveryId],
    ) -> Result<HashSet<DeliveryId>> {
        herald_telemetry::timed("still_queued", self.present(tenant, ids, true)).await
    }

    /// Which of the tenant's deliveries `ids` exist, in any status.
    pub async fn existing_deliveries(
        &self,
        tenant: &TenantId,
        ids: &[&DeliveryId],
    ) -> Result<HashSet<DeliveryId>> {
        herald_telemetry::timed("existing_deliveries", self.present(tenant, ids, false)).await
    }

    /// Which of the tenant's deliveries `ids` exist (and are queued, if `queued`).
    async fn present(
        &self,
        tenant: &TenantId,
        ids: &[&DeliveryId],
        queued: bool,
    ) -> Result<HashSet<DeliveryId>> {
        {
            if ids.is_empty() {
                return Ok(HashSet::new());
            }
            let rows: Vec<_> = ids
                .iter()
                .map(|id| (id.as_str(), tenant.as_str()))
                .collect();
            // One primary-key lookup per id: every condition on deliveries goes through v.
            let sql = format!(
                "WITH v AS (SELECT {} AS id, {} AS tenant FROM {}) \
                 SELECT deliveries.id FROM v JOIN deliveries ON deliveries.id = v.id \
                 WHERE deliveries.tenant_id = v.tenant{}",
                text(0),
                text(1),
                self.backend.json_rows(1),
                if queued {
                    " AND deliveries.status = 'queued'"
                } else {
                    ""
                },
            );
            let found = sqlx::query(&sql)
                .bind(json(&rows))
                .fetch_all(&self.pool)
                .await?;
            found
                .iter()
                .map(|r| Ok(DeliveryId::from_trusted(r.try_get("id")?)))
                .collect()
        }
    }

    /// Claims deliveries for one try each — `(delivery id, attempt)` — at `now`: a delivery
    /// still queued is claimed when its claimed attempt is older (or none), or is this one but
    /// was claimed `lease_ms` ago or more (its holder stopped answering). A copy of a send task
    /// (the same attempt in a batch of another composition) thus finds a live holder's claim
    /// and is left to it, so no composition of batches sends a delivery twice per attempt.
    pub async fn claim_deliveries(
        &self,
        tenant: &TenantId,
        claims: &[(&str, u32)],
        now: i64,
        lease_ms: i64,
    ) -> Result<Claims> {
        herald_telemetry::timed("claim_deliveries", async move {
            // Every condition on deliveries refers to v (see `apply_receipts` for why), and the
            // tenant comes with each row: bound once as a parameter, SQLite's planner walked all of
            // the tenant's deliveries by its index and scanned the batch for each.
            let rows = |claims: &[(&str, u32)]| {
                json(
                    &claims
                        .iter()
                        .map(|(id, attempt)| (*id, *attempt, tenant.as_str()))
                        .collect::<Vec<_>>(),
                )
            };
            let sql = format!(
                "WITH v AS (SELECT {} AS id, {} AS attempt, {} AS tenant, 'queued' AS queued, \
                     $2 AS now, $3 AS expired FROM {}) \
                 UPDATE deliveries SET claimed_attempt = v.attempt, claimed_at = v.now FROM v \
                 WHERE deliveries.id = v.id AND deliveries.tenant_id = v.tenant \
                     AND deliveries.status = v.queued \
                     AND (deliveries.claimed_attempt IS NULL OR deliveries.claimed_attempt < v.attempt \
                         OR (deliveries.claimed_attempt = v.attempt \
                             AND COALESCE(deliveries.claimed_at, 0) <= v.expired)) \
                 RETURNING deliveries.id",
                text(0),
                int(1),
                text(2),
                self.backend.json_rows(1),
            );
            let claimed: HashSet<String> = sqlx::query(&sql)
                .bind(rows(claims))
                .bind(now)
                .bind(now - lease_ms)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| r.try_get("id"))
                .collect::<Result<_, _>>()?;
            let mut result = Claims {
                claimed,
                ..Claims::default()
            };
            let others: Vec<(&str, u32)> = claims
                .iter()
                .filter(|(id, _)| !result.claimed.contains(*id))
                .copied()
                .collect();
            if others.is_empty() {
                return Ok(result);
            }
            // Which of the others another holder has for this attempt, and until when, and
            // which were recalled.
            let sql = format!(
                "WITH v AS (SELECT {} AS id, {} AS attempt, {} AS tenant, 'queued' AS queued, \
                     $2 AS recalled FROM {}) \
                 SELECT deliveries.id, COALESCE(deliveries.claimed_at, 0) AS claimed_at, \
                     deliveries.claimed_attempt \
                 FROM v JOIN deliveries ON deliveries.id = v.id AND deliveries.tenant_id = v.tenant \
                     AND deliveries.status = v.queued \
                     AND (deliveries.claimed_attempt = v.attempt OR deliveries.claimed_attempt = v.recalled)",
                text(0),
                int(1),
                text(2),
                self.backend.json_rows(1),
            );
            for row in sqlx::query(&sql)
                .bind(rows(&others))
                .bind(crate::RECALLED_ATTEMPT)
                .fetch_all(&self.reader)
                .await?
            {
                let id: String = row.try_get("id")?;
                if row.try_get::<i64, _>("claimed_attempt")? == crate::RECALLED_ATTEMPT {
                    result.recalled.insert(id);
                } else {
                    let claimed_at: i64 = row.try_get("claimed_at")?;
                    result.held.insert(id, claimed_at + lease_ms);
                }
            }
            Ok(result)
        }).await
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

    /// A message's deliveries after `after` (by id), at most `limit`.
    pub async fn deliveries_of_message_page(
        &self,
        tenant: &TenantId,
        message: &MessageId,
        after: &str,
        limit: u32,
    ) -> Result<Vec<DeliveryRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries \
             WHERE tenant_id = $1 AND message_id = $2 AND id > $3 ORDER BY id LIMIT $4"
        ))
        .bind(tenant.as_str())
        .bind(message.as_str())
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(DeliveryRecord::from_row).collect()
    }

    /// How many of the tenant's deliveries are in each status.
    pub async fn delivery_counts(&self, tenant: &TenantId) -> Result<Vec<(DeliveryStatus, i64)>> {
        let rows = sqlx::query(
            "SELECT status, COUNT(*) AS n FROM deliveries WHERE tenant_id = $1 GROUP BY status ORDER BY status",
        )
        .bind(tenant.as_str())
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| Ok((decode(r, "status")?, r.try_get("n")?)))
            .collect()
    }

    /// Up to `limit` of the tenant's deliveries in `status`, oldest first.
    pub async fn deliveries_in_status(
        &self,
        tenant: &TenantId,
        status: DeliveryStatus,
        limit: u32,
    ) -> Result<Vec<DeliveryRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE tenant_id = $1 AND status = $2 \
             ORDER BY created_at LIMIT $3"
        ))
        .bind(tenant.as_str())
        .bind(status.name())
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(DeliveryRecord::from_row).collect()
    }

    /// How many deliveries created at or before `created_at` (Unix ms) wait for their sender,
    /// across tenants: the backlog a crash left behind, while it lasts.
    pub async fn queued_since_before(&self, created_at: i64) -> Result<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM deliveries WHERE status = 'queued' AND created_at <= $1",
        )
        .bind(created_at)
        .fetch_one(&self.reader)
        .await?;
        Ok(row.try_get("n")?)
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

    /// Records a batch of receipts in one transaction: one statement per status rather than per
    /// receipt. A receipt that would move a delivery backwards (a late one) changes nothing; one
    /// that repeats a delivery's status changes nothing either but is answered again. Answers
    /// each delivery a receipt moved forward or repeated, as it is now, in the order recorded —
    /// what the receipt service turns into events, so receipts recorded again after a crash
    /// emit their events again.
    #[tracing::instrument(skip(self, updates), fields(count = updates.len()))]
    pub async fn apply_receipts(&self, updates: &[ReceiptUpdate]) -> Result<Vec<DeliveryRecord>> {
        herald_telemetry::timed("apply_receipts", async move {
            use DeliveryStatus::*;
            let b = self.backend;
            let mut recorded = Vec::new();
            let mut tally = Tally::default();
            // Marks the deliveries this call moves, so the rows it answers tell a move from a repeat.
            let token = i64::from_ne_bytes(uuid::Uuid::new_v4().as_u64_pair().0.to_ne_bytes()) | 1;
            let mut tx = self.pool.begin().await?;
            // Up the ladder, so a batch holding "submitted" and "read" for one delivery ends at read.
            for status in [Submitted, Delivered, Read, Failed, Expired, Cancelled] {
                let rows: Vec<_> = updates
                    .iter()
                    .filter(|u| u.status == status)
                    .map(|u| {
                        (
                            u.delivery_id.as_str(),
                            u.tenant_id.as_str(),
                            &u.reason,
                            &u.provider_message_id,
                            u.attempts,
                            u.at_ms,
                        )
                    })
                    .collect();
                if rows.is_empty() {
                    continue;
                }
                // The ladder's rule as "from>to" pairs, and the repeat of a status; see below why it
                // is written against v.
                let transitions: Vec<String> = allowed_predecessors(status)
                    .into_iter()
                    .chain([status.name()])
                    .map(|from| format!("'{from}>{}'", status.name()))
                    .collect();
                // Every condition on deliveries refers to v, so the only way in is its key.
                // Written as plain filters (tenant_id = $1, status IN …) PostgreSQL judged them by
                // statistics from when the table was small, expected one row, and scanned all of
                // the tenant's deliveries for each receipt.
                let sql = format!(
                    "WITH v AS (SELECT {} AS id, {} AS tenant, {} AS reason, {} AS pmid, {} AS attempts, \
                         {} AS at, $1 AS status FROM {}) \
                     UPDATE deliveries SET status = v.status, \
                         reason = CASE WHEN (v.reason = '' AND deliveries.status <> 'queued') OR deliveries.status = v.status THEN deliveries.reason ELSE v.reason END, \
                         provider_message_id = CASE WHEN v.pmid = '' OR deliveries.status = v.status THEN deliveries.provider_message_id ELSE v.pmid END, \
                         attempts = CASE WHEN deliveries.attempts > v.attempts THEN deliveries.attempts ELSE v.attempts END, \
                         updated_at = CASE WHEN deliveries.status = v.status THEN deliveries.updated_at ELSE v.at END, \
                         moved_by = CASE WHEN deliveries.status = v.status THEN deliveries.moved_by ELSE $3 END, \
                         moved_from = CASE WHEN deliveries.status = v.status THEN deliveries.moved_from ELSE deliveries.status END \
                     FROM v WHERE deliveries.id = v.id AND deliveries.tenant_id = v.tenant \
                         AND deliveries.status || '>' || v.status IN ({}) \
                     RETURNING {}, deliveries.moved_by, deliveries.moved_from",
                    text(0),
                    text(1),
                    text(2),
                    text(3),
                    int(4),
                    int(5),
                    b.json_rows(2),
                    transitions.join(", "),
                    returned_delivery_columns(),
                );
                for row in sqlx::query(&sql)
                    .bind(status.name())
                    .bind(json(&rows))
                    .bind(token)
                    .fetch_all(&mut *tx)
                    .await?
                {
                    let record = DeliveryRecord::from_row(&row)?;
                    if row.try_get::<i64, _>("moved_by")? == token {
                        let from: DeliveryStatus = decode(&row, "moved_from")?;
                        for stage in reached(from, record.status) {
                            tally.add(
                                &record.tenant_id,
                                &record.message_id,
                                record.provider,
                                record.updated_at,
                                stage,
                                1,
                            );
                        }
                    }
                    recorded.push(record);
                }
            }
            recorded.extend(self.note_retries(&mut tx, updates).await?);
            self.count_clicks(&mut tx, updates, &mut tally).await?;
            self.retire_devices(&mut tx, updates).await?;
            // Last, so the busy counter rows stay locked only until the commit.
            tally.write(b, &mut tx).await?;
            tx.commit().await?;
            Ok(recorded)
        }).await
    }

    /// Notes the failed tries among `updates` (`OUTCOME_RETRYING`, status queued) on deliveries
    /// still queued: their attempts, and why and when they go again. A try is noted once (a
    /// repeat of it changes nothing and is not answered); the deliveries noted are answered, to
    /// become events like any move.
    async fn note_retries(
        &self,
        tx: &mut Transaction<'_, Any>,
        updates: &[ReceiptUpdate],
    ) -> Result<Vec<DeliveryRecord>> {
        let rows: Vec<_> = updates
            .iter()
            .filter(|u| u.status == DeliveryStatus::Queued)
            .map(|u| {
                (
                    u.delivery_id.as_str(),
                    u.tenant_id.as_str(),
                    &u.reason,
                    u.attempts,
                    u.at_ms,
                )
            })
            .collect();
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "WITH v AS (SELECT {} AS id, {} AS tenant, {} AS reason, {} AS attempts, {} AS at FROM {}) \
             UPDATE deliveries SET reason = v.reason, attempts = v.attempts, updated_at = v.at \
             FROM v WHERE deliveries.id = v.id AND deliveries.tenant_id = v.tenant \
                 AND deliveries.status = 'queued' AND deliveries.attempts < v.attempts \
             RETURNING {}",
            text(0),
            text(1),
            text(2),
            int(3),
            int(4),
            self.backend.json_rows(1),
            returned_delivery_columns(),
        );
        let rows = sqlx::query(&sql)
            .bind(json(&rows))
            .fetch_all(&mut **tx)
            .await?;
        rows.iter().map(DeliveryRecord::from_row).collect()
    }

    /// Notes each delivery's first click (or button tap) among `updates` and counts it.
    async fn count_clicks(
        &self,
        tx: &mut Transaction<'_, Any>,
        updates: &[ReceiptUpdate],
        tally: &mut Tally,
    ) -> Result<()> {
        let rows: Vec<_> = updates
            .iter()
            .filter(|u| u.clicked)
            .map(|u| (u.delivery_id.as_str(), u.tenant_id.as_str(), u.at_ms))
            .collect();
        if rows.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "WITH v AS (SELECT {} AS id, {} AS tenant, {} AS at FROM {}) \
             UPDATE deliveries SET clicked_at = v.at \
             FROM v WHERE deliveries.id = v.id AND deliveries.tenant_id = v.tenant \
                 AND deliveries.clicked_at = 0 \
             RETURNING {}, deliveries.clicked_at",
            text(0),
            text(1),
            int(2),
            self.backend.json_rows(1),
            returned_delivery_columns(),
        );
        for row in sqlx::query(&sql)
            .bind(json(&rows))
            .fetch_all(&mut **tx)
            .await?
        {
            let record = DeliveryRecord::from_row(&row)?;
            tally.add(
                &record.tenant_id,
                &record.message_id,
                record.provider,
                row.try_get("clicked_at")?,
                Stage::Clicked,
                1,
            );
        }
        Ok(())
    }
}
