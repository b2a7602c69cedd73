//! Rate limiting shared by every sender replica: one bucket per tenant and scope (a provider,
//! or `*` for all) in the database, spent per wall-clock second, so replicas together never
//! spend more than a second's budget.

use herald_core::ids::TenantId;
use sqlx::Row;

use crate::{Backend, Result, Store};

impl Store {
    /// Takes up to `wanted` pushes from the tenant's `scope` bucket for the wall-clock second
    /// of `now`, which holds `per_second`; answers how many were granted (0 when the second is
    /// spent).
    pub async fn take_rate(
        &self,
        tenant: &TenantId,
        scope: &str,
        per_second: u32,
        wanted: u32,
        now: i64,
    ) -> Result<u32> {
        herald_telemetry::timed("take_rate", async move {
            let least = match self.backend {
                Backend::Sqlite => "MIN",
                Backend::Postgres => "LEAST",
            };
            // Every SET expression reads the row as it was: `prev` keeps what was used before.
            let sql = format!(
                "INSERT INTO rate_buckets (tenant_id, scope, second, used, prev) \
                 VALUES ($1, $2, $3, {least}($4, $5), 0) \
                 ON CONFLICT (tenant_id, scope) DO UPDATE SET \
                     prev = CASE WHEN rate_buckets.second = excluded.second \
                         THEN rate_buckets.used ELSE 0 END, \
                     used = CASE WHEN rate_buckets.second = excluded.second \
                         THEN {least}(rate_buckets.used + $4, $5) ELSE {least}($4, $5) END, \
                     second = excluded.second \
                 RETURNING used - prev AS granted"
            );
            let row = sqlx::query(&sql)
                .bind(tenant.as_str())
                .bind(scope)
                .bind(now.div_euclid(1000))
                .bind(i64::from(wanted))
                .bind(i64::from(per_second))
                .fetch_one(&self.pool)
                .await?;
            let granted: i64 = row.try_get("granted")?;
            Ok(u32::try_from(granted.max(0)).unwrap_or(0))
        })
        .await
    }
}
