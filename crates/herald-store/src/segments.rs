//! Segments: stored as their name and expression, and evaluated by the database — a parsed
//! [`Expr`] becomes a SQL condition on a device, with every value it names bound as a parameter.

use herald_core::ids::TenantId;
use herald_core::names::Named as _;
use herald_core::segments::{Condition, Expr};
use herald_core::time::now_ms;
use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::{Backend, Result, Store};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentRecord {
    pub name: String,
    pub expression: String,
    pub created_at: i64,
}

impl SegmentRecord {
    fn from_row(row: &AnyRow) -> Result<Self> {
        Ok(Self {
            name: row.try_get("name")?,
            expression: row.try_get("expression")?,
            created_at: row.try_get("created_at")?,
        })
    }
}

impl Store {
    /// Creates a segment; `None` when the tenant has one of that name.
    pub async fn create_segment(
        &self,
        tenant: &TenantId,
        name: &str,
        expression: &str,
    ) -> Result<Option<SegmentRecord>> {
        let now = now_ms();
        let done = sqlx::query(
            "INSERT INTO segments (tenant_id, name, expression, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant_id, name) DO NOTHING",
        )
        .bind(tenant.as_str())
        .bind(name)
        .bind(expression)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok((done.rows_affected() == 1).then(|| SegmentRecord {
            name: name.to_owned(),
            expression: expression.to_owned(),
            created_at: now,
        }))
    }

    pub async fn get_segment(
        &self,
        tenant: &TenantId,
        name: &str,
    ) -> Result<Option<SegmentRecord>> {
        let row = sqlx::query(
            "SELECT name, expression, created_at FROM segments WHERE tenant_id = $1 AND name = $2",
        )
        .bind(tenant.as_str())
        .bind(name)
        .fetch_optional(&self.reader)
        .await?;
        row.as_ref().map(SegmentRecord::from_row).transpose()
    }

    /// Deletes a segment; whether there was one.
    pub async fn delete_segment(&self, tenant: &TenantId, name: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM segments WHERE tenant_id = $1 AND name = $2")
            .bind(tenant.as_str())
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Segments in name order after `after`.
    pub async fn list_segments(
        &self,
        tenant: &TenantId,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<SegmentRecord>> {
        let rows = sqlx::query(
            "SELECT name, expression, created_at FROM segments \
             WHERE tenant_id = $1 AND name > $2 ORDER BY name LIMIT $3",
        )
        .bind(tenant.as_str())
        .bind(after.unwrap_or(""))
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(SegmentRecord::from_row).collect()
    }
}

/// The customer of device `d`: the one it was registered with, else its user's.
const CUSTOMER_OF_DEVICE: &str = "COALESCE(d.customer_id, (SELECT cu.customer_id FROM customer_users cu \
     WHERE cu.tenant_id = d.tenant_id AND cu.user_id = d.user_id))";

/// A segment expression as SQL on device `d`; the values it names are pushed onto `params`
/// (text, bound in order from `$first`).
pub(crate) struct Rendered {
    pub sql: String,
    pub params: Vec<String>,
}

pub(crate) fn render(backend: Backend, expr: &Expr, first: usize, now: i64) -> Rendered {
    let mut out = Rendered {
        sql: String::new(),
        params: Vec::new(),
    };
    let sql = node(backend, expr, first, now, &mut out.params);
    out.sql = sql;
    out
}

fn node(backend: Backend, expr: &Expr, first: usize, now: i64, params: &mut Vec<String>) -> String {
    let mut bind = |value: String| {
        params.push(value);
        format!("${}", first + params.len() - 1)
    };
    match expr {
        Expr::Topic(topic) => {
            let p = bind(topic.clone());
            format!(
                "(EXISTS (SELECT 1 FROM topic_subscriptions s WHERE s.tenant_id = d.tenant_id \
                     AND s.topic = {p} AND s.kind = 'device' AND s.subscriber = d.id) \
                  OR EXISTS (SELECT 1 FROM topic_subscriptions s WHERE s.tenant_id = d.tenant_id \
                     AND s.topic = {p} AND s.kind = 'user' AND s.subscriber = d.user_id))"
            )
        }
        Expr::Condition(condition) => match condition {
            Condition::Platform { equal, platform } => {
                let p = bind(platform.name().to_owned());
                format!("d.platform {} {p}", if *equal { "=" } else { "<>" })
            }
            Condition::Browser { equal, browser } => {
                let p = bind(browser.name().to_owned());
                format!("d.browser {} {p}", if *equal { "=" } else { "<>" })
            }
            Condition::Locale { equal, tag } => {
                let exact = bind(tag.clone());
                let within = bind(format!("{tag}-%"));
                let locale = format!(
                    "LOWER(REPLACE(COALESCE(NULLIF(d.locale, ''), (SELECT c.locale FROM customers c \
                         WHERE c.tenant_id = d.tenant_id AND c.id = {CUSTOMER_OF_DEVICE}), ''), '_', '-'))"
                );
                let test = format!("({locale} = {exact} OR {locale} LIKE {within})");
                if *equal { test } else { format!("NOT {test}") }
            }
            Condition::AppVersion { cmp, key } => {
                let p = bind(key.clone());
                format!(
                    "(d.app_version <> '' AND d.app_version_key {} {p})",
                    cmp.sql()
                )
            }
            Condition::ActiveWithin { ms } => {
                let p = bind((now - ms).to_string());
                format!("(d.last_active_at > 0 AND d.last_active_at >= CAST({p} AS BIGINT))")
            }
            Condition::CustomerAttribute { key, equal, value } => {
                let (path, attribute) = match backend {
                    Backend::Sqlite => {
                        (bind(format!("$.\"{key}\"")), "json_extract(c.attributes, ")
                    }
                    Backend::Postgres => (bind(key.clone()), "(c.attributes::jsonb ->> "),
                };
                let v = bind(value.clone());
                let test = format!(
                    "EXISTS (SELECT 1 FROM customers c WHERE c.tenant_id = d.tenant_id \
                         AND c.id = {CUSTOMER_OF_DEVICE} AND {attribute}{path}) = {v})"
                );
                if *equal { test } else { format!("NOT {test}") }
            }
        },
        Expr::Not(inner) => format!("NOT ({})", node(backend, inner, first, now, params)),
        Expr::And(parts) | Expr::Or(parts) => {
            let joiner = if matches!(expr, Expr::And(_)) {
                " AND "
            } else {
                " OR "
            };
            let parts: Vec<String> = parts
                .iter()
                .map(|p| node(backend, p, first, now, params))
                .collect();
            format!("({})", parts.join(joiner))
        }
    }
}
