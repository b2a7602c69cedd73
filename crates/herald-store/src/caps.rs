//! The pushes frequency caps count: a row per message and subject (a device, or a user) of a
//! capped class, written as the router creates deliveries and read back by window.

use std::collections::HashMap;

use herald_core::ids::{MessageId, TenantId};
use sqlx::Row;

use crate::{Result, Store, int, json, text};

/// How long a logged push is kept: the longest window a cap may have.
const KEPT_MS: i64 = 31 * 24 * 3600 * 1000;

impl Store {
    /// How many messages of `class` but `except` (the one being routed, which a repeat of its
    /// routing must not count against itself) reached each of `subjects` since `since`.
    pub async fn count_pushes(
        &self,
        tenant: &TenantId,
        class: &str,
        subjects: &[&str],
        since: i64,
        except: &MessageId,
    ) -> Result<HashMap<String, u64>> {
        herald_telemetry::timed("count_pushes", async move {
            if subjects.is_empty() {
                return Ok(HashMap::new());
            }
            let rows: Vec<(&str,)> = subjects.iter().map(|s| (*s,)).collect();
            let sql = format!(
                "WITH v AS (SELECT {} AS subject FROM {}) \
                 SELECT v.subject, COUNT(*) AS n FROM v JOIN push_log p \
                     ON p.tenant_id = $2 AND p.class = $3 AND p.subject = v.subject AND p.at >= $4 \
                     AND p.message_id <> $5 \
                 GROUP BY v.subject",
                text(0),
                self.backend.json_rows(1),
            );
            let mut counts = HashMap::new();
            for row in sqlx::query(&sql)
                .bind(json(&rows))
                .bind(tenant.as_str())
                .bind(class)
                .bind(since)
                .bind(except.as_str())
                .fetch_all(&self.reader)
                .await?
            {
                let n: i64 = row.try_get("n")?;
                counts.insert(row.try_get("subject")?, u64::try_from(n).unwrap_or(0));
            }
            Ok(counts)
        })
        .await
    }

    /// Logs that `message` (of `class`) reached `subjects` at `at`, once each, and forgets those
    /// subjects' pushes older than any window.
    pub async fn log_pushes(
        &self,
        tenant: &TenantId,
        class: &str,
        message: &MessageId,
        subjects: &[&str],
        at: i64,
    ) -> Result<()> {
        herald_telemetry::timed("log_pushes", async move {
            if subjects.is_empty() {
                return Ok(());
            }
            let rows: Vec<(&str, i64)> = subjects.iter().map(|s| (*s, at)).collect();
            let b = self.backend;
            let mut tx = self.pool.begin().await?;
            let sql = format!(
                // `WHERE true`: SQLite cannot tell an upsert's ON CONFLICT from a join's ON without it.
                "INSERT INTO push_log (tenant_id, subject, class, message_id, at) \
                 SELECT $2, {}, $3, $4, {} FROM {} WHERE true \
                 ON CONFLICT (tenant_id, subject, class, message_id) DO NOTHING",
                text(0),
                int(1),
                b.json_rows(1),
            );
            sqlx::query(&sql)
                .bind(json(&rows))
                .bind(tenant.as_str())
                .bind(class)
                .bind(message.as_str())
                .execute(&mut *tx)
                .await?;
            let sql = format!(
                "DELETE FROM push_log WHERE tenant_id = $2 AND class = $3 AND at < $4 \
                 AND subject IN (SELECT {} FROM {})",
                text(0),
                b.json_rows(1),
            );
            sqlx::query(&sql)
                .bind(json(&rows))
                .bind(tenant.as_str())
                .bind(class)
                .bind(at - KEPT_MS)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }
}
