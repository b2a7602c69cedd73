//! Rate limiting shared by every sender replica: one token bucket per tenant and scope (a
//! provider, or `*` for all) in the database. It refills at the limit's exact rate (a push is
//! [`UNIT`] units; `per_minute` units a millisecond) up to one second's budget, and only as its
//! refill instant moves forward: replicas with clocks apart never open a fresh budget for each
//! other, and together never take more than the rate allows.

use herald_core::ids::TenantId;
use sqlx::Row;

use crate::{Backend, Result, Store};

/// The units one push takes: a minute's worth of milliseconds, so `per_minute` pushes a minute
/// refill `per_minute` units a millisecond.
pub const UNIT: i64 = 60_000;

impl Store {
    /// Takes up to `wanted` pushes from the tenant's `scope` bucket at `now`, for a limit of
    /// `per_minute`; answers how many were granted (0 while it is empty).
    pub async fn take_rate(
        &self,
        tenant: &TenantId,
        scope: &str,
        per_minute: u32,
        wanted: u32,
        now: i64,
    ) -> Result<u32> {
        herald_telemetry::timed("take_rate", async move {
            let (least, greatest) = match self.backend {
                Backend::Sqlite => ("MIN", "MAX"),
                Backend::Postgres => ("LEAST", "GREATEST"),
            };
            // $1 tenant, $2 scope, $3 now, $4 wanted, $5 per_minute, $6 capacity (one second).
            // What the bucket holds at $3, refilled since its instant (never backwards, and a
            // second at most: by then it is full), and what of it the take is granted. Every
            // SET expression reads the row as it was.
            let held = format!(
                "{least}($6, rate_tokens.units + \
                     {least}({greatest}($3 - rate_tokens.at, 0), 1000) * $5)"
            );
            let granted = format!("{least}($4, ({held}) / {UNIT})");
            let sql = format!(
                "INSERT INTO rate_tokens (tenant_id, scope, units, at, granted) \
                 VALUES ($1, $2, $6 - {least}($4, $6 / {UNIT}) * {UNIT}, $3, {least}($4, $6 / {UNIT})) \
                 ON CONFLICT (tenant_id, scope) DO UPDATE SET \
                     units = ({held}) - ({granted}) * {UNIT}, \
                     granted = {granted}, \
                     at = {greatest}(rate_tokens.at, $3) \
                 RETURNING granted"
            );
            let capacity = i64::from(per_minute).saturating_mul(1000).max(UNIT);
            let row = sqlx::query(&sql)
                .bind(tenant.as_str())
                .bind(scope)
                .bind(now)
                .bind(i64::from(wanted))
                .bind(i64::from(per_minute))
                .bind(capacity)
                .fetch_one(&self.pool)
                .await?;
            let granted: i64 = row.try_get("granted")?;
            Ok(u32::try_from(granted.max(0)).unwrap_or(0))
        })
        .await
    }
}
