//! Delivery analytics: counters per message and per tenant, UTC day and provider, added to in
//! the transactions that create and move deliveries, and read back without touching deliveries.

use std::collections::{BTreeMap, HashMap};

use herald_core::ids::{MessageId, TenantId};
use herald_core::names::Named as _;
use herald_core::stats::{Counts, Stage, day_of};
use herald_proto::v1::Provider;
use sqlx::any::AnyRow;
use sqlx::{Any, Row as _, Transaction};

use crate::{Backend, Result, Store, decode, json, text};

const DAY_MS: i64 = 86_400_000;

/// The counter columns, in [`Stage`] order.
const COUNTERS: [&str; 8] = [
    "n_sent",
    "n_submitted",
    "n_delivered",
    "n_read",
    "n_clicked",
    "n_failed",
    "n_expired",
    "n_cancelled",
];

/// What one transaction adds to the counters.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    messages: BTreeMap<(String, String), Counts>,
    /// By tenant, UTC day (days since the epoch; spelled when written) and provider.
    days: BTreeMap<(String, i64, &'static str), Counts>,
}

impl Tally {
    /// Counts one delivery of `message` reaching `stage` at `at_ms`.
    pub fn add(
        &mut self,
        tenant: &TenantId,
        message: &MessageId,
        provider: Provider,
        at_ms: i64,
        stage: Stage,
        n: i64,
    ) {
        self.messages
            .entry((tenant.to_string(), message.to_string()))
            .or_default()
            .add(stage, n);
        self.days
            .entry((
                tenant.to_string(),
                at_ms.div_euclid(DAY_MS),
                provider.name(),
            ))
            .or_default()
            .add(stage, n);
    }

    /// Adds the tally to the counters. The rows go in key order, so transactions that add to
    /// the same counters lock them in the same order and cannot deadlock.
    pub async fn write(&self, b: Backend, tx: &mut Transaction<'_, Any>) -> Result<()> {
        if self.messages.is_empty() {
            return Ok(());
        }
        let messages: Vec<_> = self
            .messages
            .iter()
            .map(|((tenant, message), counts)| (tenant, message, counts.values()))
            .collect();
        upsert(
            b,
            tx,
            "message_stats",
            &["tenant_id", "message_id"],
            &messages,
        )
        .await?;
        let days: Vec<_> = self
            .days
            .iter()
            .map(|((tenant, day, provider), counts)| {
                (tenant, day_of(day * DAY_MS), provider, counts.values())
            })
            .collect();
        upsert(
            b,
            tx,
            "daily_stats",
            &["tenant_id", "day", "provider"],
            &days,
        )
        .await
    }
}

/// Adds `rows` (the key's texts, then the counters as one array) to `table`'s counters.
async fn upsert(
    b: Backend,
    tx: &mut Transaction<'_, Any>,
    table: &str,
    key: &[&str],
    rows: &impl serde::Serialize,
) -> Result<()> {
    let keys = key.len();
    let values: Vec<String> = (0..keys)
        .map(text)
        .chain((0..COUNTERS.len()).map(|i| format!("CAST(j.value -> {keys} ->> {i} AS BIGINT)")))
        .collect();
    let sums: Vec<String> = COUNTERS
        .iter()
        .map(|c| format!("{c} = {table}.{c} + excluded.{c}"))
        .collect();
    // `WHERE true`: SQLite cannot tell an upsert's ON CONFLICT from a join's ON without it.
    let sql = format!(
        "INSERT INTO {table} ({}, {}) SELECT {} FROM {} WHERE true \
         ON CONFLICT ({}) DO UPDATE SET {}",
        key.join(", "),
        COUNTERS.join(", "),
        values.join(", "),
        b.json_rows(1),
        key.join(", "),
        sums.join(", "),
    );
    sqlx::query(&sql)
        .bind(json(rows))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

fn counts(row: &AnyRow) -> Result<Counts> {
    let mut values = [0; COUNTERS.len()];
    for (value, column) in values.iter_mut().zip(COUNTERS) {
        *value = row.try_get(column)?;
    }
    Ok(Counts::from_values(values))
}

/// One day's counts of one provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DailyCounts {
    pub day: String,
    pub provider: Provider,
    pub counts: Counts,
}

impl Store {
    /// A message's counts (all zero for a message without deliveries yet).
    pub async fn message_stats(&self, tenant: &TenantId, message: &MessageId) -> Result<Counts> {
        let sql = format!(
            "SELECT {} FROM message_stats WHERE tenant_id = $1 AND message_id = $2",
            COUNTERS.join(", ")
        );
        let row = sqlx::query(&sql)
            .bind(tenant.as_str())
            .bind(message.as_str())
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref()
            .map(counts)
            .transpose()
            .map(Option::unwrap_or_default)
    }

    /// The counts of several of the tenant's messages in one read, by message id (a message
    /// without deliveries yet is absent).
    pub async fn messages_stats(
        &self,
        tenant: &TenantId,
        messages: &[&MessageId],
    ) -> Result<HashMap<String, Counts>> {
        if messages.is_empty() {
            return Ok(HashMap::new());
        }
        let ids: Vec<(&str,)> = messages.iter().map(|m| (m.as_str(),)).collect();
        let sql = format!(
            "SELECT message_id, {} FROM message_stats WHERE tenant_id = $1 \
             AND message_id IN (SELECT {} FROM {})",
            COUNTERS.join(", "),
            text(0),
            self.backend.json_rows(2),
        );
        let rows = sqlx::query(&sql)
            .bind(tenant.as_str())
            .bind(json(&ids))
            .fetch_all(&self.reader)
            .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("message_id")?, counts(row)?)))
            .collect()
    }

    /// The tenant's counts per day and provider for the UTC days `first..=last` (`YYYY-MM-DD`),
    /// of one provider or all, in day then provider order.
    pub async fn daily_stats(
        &self,
        tenant: &TenantId,
        first: &str,
        last: &str,
        provider: Option<Provider>,
    ) -> Result<Vec<DailyCounts>> {
        let sql = format!(
            "SELECT day, provider, {} FROM daily_stats \
             WHERE tenant_id = $1 AND day >= $2 AND day <= $3 AND ($4 = '' OR provider = $4) \
             ORDER BY day, provider",
            COUNTERS.join(", ")
        );
        let rows = sqlx::query(&sql)
            .bind(tenant.as_str())
            .bind(first)
            .bind(last)
            .bind(provider.map(|p| p.name()).unwrap_or_default())
            .fetch_all(&self.reader)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(DailyCounts {
                    day: row.try_get("day")?,
                    provider: decode(row, "provider")?,
                    counts: counts(row)?,
                })
            })
            .collect()
    }

    /// Every tenant's counts together for the UTC day `day` (`YYYY-MM-DD`), per provider in
    /// provider order: what `herald status` shows of the providers' outcomes.
    pub async fn provider_stats(&self, day: &str) -> Result<Vec<DailyCounts>> {
        let sums: Vec<String> = COUNTERS
            .iter()
            .map(|c| format!("CAST(SUM({c}) AS BIGINT) AS {c}"))
            .collect();
        let sql = format!(
            "SELECT provider, {} FROM daily_stats WHERE day = $1 \
             GROUP BY provider ORDER BY provider",
            sums.join(", ")
        );
        let rows = sqlx::query(&sql).bind(day).fetch_all(&self.reader).await?;
        rows.iter()
            .map(|row| {
                Ok(DailyCounts {
                    day: day.to_owned(),
                    provider: decode(row, "provider")?,
                    counts: counts(row)?,
                })
            })
            .collect()
    }
}
