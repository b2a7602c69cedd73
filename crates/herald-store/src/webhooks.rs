//! Outbound webhook endpoints (their secrets and authorization sealed by the caller) and the
//! record of every attempt to post to them.

use herald_core::ids::{TenantId, WebhookId};
use herald_core::names::Named;
use herald_core::time::now_ms;
use herald_proto::v1::{AttemptOutcome, Provider, SignatureScheme, WebhookAuthKind, WebhookEvent};
use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::{Result, Store, StoreError, decode, int, json, text};

/// An endpoint as the API shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookRecord {
    pub id: WebhookId,
    pub url: String,
    pub description: String,
    pub events: Vec<WebhookEvent>,
    /// Only events of this provider's deliveries (`None`: every provider's).
    pub provider: Option<Provider>,
    pub scheme: SignatureScheme,
    pub auth_kind: WebhookAuthKind,
    /// The waits before each retry, in seconds.
    pub retry_delays: Vec<u32>,
    pub timeout_secs: u32,
    pub enabled: bool,
    pub disabled_reason: String,
    pub failing_since: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// An endpoint's sealed parts: its signing secrets and its authorization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedWebhook {
    pub secrets: Vec<u8>,
    pub auth: Vec<u8>,
}

/// An endpoint with its sealed parts.
#[derive(Clone, Debug)]
pub struct StoredWebhook {
    pub record: WebhookRecord,
    pub sealed: SealedWebhook,
}

/// One attempt to post an event to an endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptRecord {
    pub webhook_id: WebhookId,
    pub event_id: String,
    pub event: WebhookEvent,
    pub message_id: String,
    pub attempt: u32,
    pub at: i64,
    pub outcome: AttemptOutcome,
    pub status_code: u16,
    pub detail: String,
    pub duration_ms: u32,
    pub next_attempt_at: i64,
    pub url: String,
}

const COLUMNS: &str = "id, url, description, events, provider, signature_scheme, auth_kind, \
     retry_delays, timeout_secs, enabled, disabled_reason, failing_since, created_at, updated_at";

fn list<T: Named>(column: &'static str, text: &str) -> Result<Vec<T>> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(|name| {
            T::from_name(name).ok_or_else(|| StoreError::Corrupt {
                column,
                value: text.to_owned(),
            })
        })
        .collect()
}

fn spelled<T: Named>(values: &[T]) -> String {
    values
        .iter()
        .map(|v| v.name())
        .collect::<Vec<_>>()
        .join(",")
}

impl WebhookRecord {
    fn from_row(row: &AnyRow) -> Result<Self> {
        let provider: String = row.try_get("provider")?;
        let delays: String = row.try_get("retry_delays")?;
        Ok(Self {
            id: WebhookId::from_trusted(row.try_get("id")?),
            url: row.try_get("url")?,
            description: row.try_get("description")?,
            events: list("events", &row.try_get::<String, _>("events")?)?,
            provider: match provider.as_str() {
                "" => None,
                name => Some(Provider::from_name(name).ok_or(StoreError::Corrupt {
                    column: "provider",
                    value: provider.clone(),
                })?),
            },
            scheme: decode(row, "signature_scheme")?,
            auth_kind: decode(row, "auth_kind")?,
            retry_delays: delays
                .split(',')
                .filter(|s| !s.is_empty())
                .map(|s| {
                    s.parse().map_err(|_| StoreError::Corrupt {
                        column: "retry_delays",
                        value: delays.clone(),
                    })
                })
                .collect::<Result<_>>()?,
            timeout_secs: u32::try_from(row.try_get::<i64, _>("timeout_secs")?).unwrap_or(0),
            enabled: row.try_get::<i64, _>("enabled")? != 0,
            disabled_reason: row.try_get("disabled_reason")?,
            failing_since: row.try_get("failing_since")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }

    fn delays_text(&self) -> String {
        self.retry_delays
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Binds `$1`…`$15`: the columns an insert and an update write alike, in table order.
fn bind_columns<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    tenant: &'q TenantId,
    record: &'q WebhookRecord,
    sealed: &'q SealedWebhook,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    query
        .bind(tenant.as_str())
        .bind(record.id.as_str())
        .bind(&record.url)
        .bind(&record.description)
        .bind(spelled(&record.events))
        .bind(record.provider.map_or("", Named::name))
        .bind(record.scheme.name())
        .bind(sealed.secrets.as_slice())
        .bind(record.auth_kind.name())
        .bind(sealed.auth.as_slice())
        .bind(record.delays_text())
        .bind(i64::from(record.timeout_secs))
        .bind(i64::from(record.enabled))
        .bind(&record.disabled_reason)
        .bind(record.failing_since)
}

fn stored(row: &AnyRow) -> Result<StoredWebhook> {
    Ok(StoredWebhook {
        record: WebhookRecord::from_row(row)?,
        sealed: SealedWebhook {
            secrets: row.try_get("secrets")?,
            auth: row.try_get("auth")?,
        },
    })
}

impl Store {
    /// Stores a new endpoint.
    pub async fn insert_webhook(
        &self,
        tenant: &TenantId,
        record: &WebhookRecord,
        sealed: &SealedWebhook,
    ) -> Result<()> {
        bind_columns(
            sqlx::query(
            "INSERT INTO webhooks (tenant_id, id, url, description, events, provider, signature_scheme, \
                 secrets, auth_kind, auth, retry_delays, timeout_secs, enabled, disabled_reason, \
                 failing_since, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
        )
        ,
        tenant,
        record,
        sealed,
    )
        .bind(record.created_at)
        .bind(record.updated_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Writes an endpoint's every column; false when it does not exist. `read_auth` is the
    /// sealed authorization the caller read: when `sealed.auth` is still that one (the caller
    /// did not change it), the stored one is kept, as the dispatcher may have replaced it
    /// meanwhile (a new refresh token).
    pub async fn update_webhook(
        &self,
        tenant: &TenantId,
        record: &WebhookRecord,
        sealed: &SealedWebhook,
        read_auth: &[u8],
    ) -> Result<bool> {
        let done = bind_columns(
            sqlx::query(
                "UPDATE webhooks SET url = $3, description = $4, events = $5, provider = $6, \
                 signature_scheme = $7, secrets = $8, auth_kind = $9, \
                 auth = CASE WHEN $10 = $17 THEN auth ELSE $10 END, retry_delays = $11, \
                 timeout_secs = $12, enabled = $13, disabled_reason = $14, failing_since = $15, \
                 updated_at = $16 \
             WHERE tenant_id = $1 AND id = $2",
            ),
            tenant,
            record,
            sealed,
        )
        .bind(now_ms())
        .bind(read_auth)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn delete_webhook(&self, tenant: &TenantId, id: &WebhookId) -> Result<bool> {
        let done = sqlx::query("DELETE FROM webhooks WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(id.as_str())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn webhook(
        &self,
        tenant: &TenantId,
        id: &WebhookId,
    ) -> Result<Option<StoredWebhook>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS}, secrets, auth FROM webhooks WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(stored).transpose()
    }

    /// The tenant's endpoints in id order, after `after`, at most `limit`.
    pub async fn list_webhooks(
        &self,
        tenant: &TenantId,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<WebhookRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM webhooks WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        ))
        .bind(tenant.as_str())
        .bind(after.unwrap_or(""))
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(WebhookRecord::from_row).collect()
    }

    /// The tenant's enabled endpoints, with their sealed parts (what the dispatcher posts to).
    pub async fn enabled_webhooks(&self, tenant: &TenantId) -> Result<Vec<StoredWebhook>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS}, secrets, auth FROM webhooks \
             WHERE tenant_id = $1 AND enabled <> 0 ORDER BY id"
        ))
        .bind(tenant.as_str())
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(stored).collect()
    }

    /// Notes that an attempt to `id` failed at `at`: answers since when it has been failing.
    pub async fn webhook_failing(&self, tenant: &TenantId, id: &WebhookId, at: i64) -> Result<i64> {
        let row = sqlx::query(
            "UPDATE webhooks SET failing_since = CASE WHEN failing_since = 0 THEN $3 ELSE failing_since END \
             WHERE tenant_id = $1 AND id = $2 RETURNING failing_since",
        )
        .bind(tenant.as_str())
        .bind(id.as_str())
        .bind(at)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row
            .map(|r| r.try_get("failing_since"))
            .transpose()?
            .unwrap_or(at))
    }

    /// Notes that an attempt to `id` succeeded (written only when it had been failing).
    pub async fn webhook_succeeded(&self, tenant: &TenantId, id: &WebhookId) -> Result<()> {
        sqlx::query(
            "UPDATE webhooks SET failing_since = 0 \
             WHERE tenant_id = $1 AND id = $2 AND failing_since <> 0",
        )
        .bind(tenant.as_str())
        .bind(id.as_str())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Disables an enabled endpoint with the reason; false when it was not enabled.
    pub async fn disable_webhook(
        &self,
        tenant: &TenantId,
        id: &WebhookId,
        reason: &str,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE webhooks SET enabled = 0, disabled_reason = $3, updated_at = $4 \
             WHERE tenant_id = $1 AND id = $2 AND enabled <> 0",
        )
        .bind(tenant.as_str())
        .bind(id.as_str())
        .bind(reason)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Stores an endpoint's sealed authorization in place of `previous` (the dispatcher's, when
    /// the authorization server replaced a refresh token); false when it is no longer
    /// `previous` (changed or replaced meanwhile).
    pub async fn replace_webhook_auth(
        &self,
        tenant: &TenantId,
        id: &WebhookId,
        previous: &[u8],
        sealed: &[u8],
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE webhooks SET auth = $3 WHERE tenant_id = $1 AND id = $2 AND auth = $4",
        )
        .bind(tenant.as_str())
        .bind(id.as_str())
        .bind(sealed)
        .bind(previous)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The tenant's sealed notify URL signing secrets, if it has any.
    pub async fn notify_secrets(&self, tenant: &TenantId) -> Result<Option<Vec<u8>>> {
        let row = sqlx::query("SELECT secrets FROM notify_secrets WHERE tenant_id = $1")
            .bind(tenant.as_str())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get("secrets")).transpose()?)
    }

    /// Stores the tenant's sealed notify URL signing secrets in place of `previous` (`None`: it
    /// had none); false when they are no longer `previous` (another rotation came first).
    pub async fn set_notify_secrets(
        &self,
        tenant: &TenantId,
        sealed: &[u8],
        previous: Option<&[u8]>,
    ) -> Result<bool> {
        let done = match previous {
            None => {
                sqlx::query(
                    "INSERT INTO notify_secrets (tenant_id, secrets, updated_at) \
                     VALUES ($1, $2, $3) ON CONFLICT (tenant_id) DO NOTHING",
                )
                .bind(tenant.as_str())
                .bind(sealed)
                .bind(now_ms())
                .execute(&self.pool)
                .await?
            }
            Some(previous) => {
                sqlx::query(
                    "UPDATE notify_secrets SET secrets = $2, updated_at = $3 \
                     WHERE tenant_id = $1 AND secrets = $4",
                )
                .bind(tenant.as_str())
                .bind(sealed)
                .bind(now_ms())
                .bind(previous)
                .execute(&self.pool)
                .await?
            }
        };
        Ok(done.rows_affected() == 1)
    }

    /// Records attempts (of any tenants) in one statement.
    pub async fn record_attempts(&self, attempts: &[(TenantId, AttemptRecord)]) -> Result<()> {
        if attempts.is_empty() {
            return Ok(());
        }
        let rows: Vec<_> = attempts
            .iter()
            .map(|(tenant, a)| {
                (
                    tenant.as_str(),
                    // Ordered by when the attempt was made, then at random.
                    format!("{:013}{}", a.at.max(0), uuid::Uuid::new_v4().simple()),
                    a.webhook_id.as_str(),
                    a.event_id.as_str(),
                    a.event.name(),
                    a.message_id.as_str(),
                    a.attempt,
                    a.at,
                    a.outcome.name(),
                    a.status_code,
                    a.detail.as_str(),
                    a.duration_ms,
                    a.next_attempt_at,
                    a.url.as_str(),
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO webhook_attempts (tenant_id, id, webhook_id, event_id, event_type, message_id, \
                 attempt, at, outcome, status_code, detail, duration_ms, next_attempt_at, url) \
             SELECT {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {} FROM {}",
            text(0),
            text(1),
            text(2),
            text(3),
            text(4),
            text(5),
            int(6),
            int(7),
            text(8),
            int(9),
            text(10),
            int(11),
            int(12),
            text(13),
            self.backend.json_rows(1),
        );
        sqlx::query(&sql)
            .bind(json(&rows))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Attempts newest first, of one endpoint and/or one message, before the attempt `before`
    /// (a page token), at most `limit`; with the last one's token.
    pub async fn list_attempts(
        &self,
        tenant: &TenantId,
        webhook: Option<&WebhookId>,
        message: Option<&str>,
        before: Option<&str>,
        limit: u32,
    ) -> Result<Vec<(String, AttemptRecord)>> {
        let rows = sqlx::query(
            "SELECT id, webhook_id, event_id, event_type, message_id, attempt, at, outcome, \
                 status_code, detail, duration_ms, next_attempt_at, url \
             FROM webhook_attempts \
             WHERE tenant_id = $1 AND ($2 = '' OR webhook_id = $2) AND ($3 = '' OR message_id = $3) \
                 AND ($4 = '' OR id < $4) \
             ORDER BY id DESC LIMIT $5",
        )
        .bind(tenant.as_str())
        .bind(webhook.map_or("", WebhookId::as_str))
        .bind(message.unwrap_or(""))
        .bind(before.unwrap_or(""))
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|row| {
                let number = |column| -> Result<i64> { Ok(row.try_get::<i64, _>(column)?) };
                Ok((
                    row.try_get("id")?,
                    AttemptRecord {
                        webhook_id: WebhookId::from_trusted(row.try_get("webhook_id")?),
                        event_id: row.try_get("event_id")?,
                        event: decode(row, "event_type")?,
                        message_id: row.try_get("message_id")?,
                        attempt: u32::try_from(number("attempt")?).unwrap_or(0),
                        at: number("at")?,
                        outcome: decode(row, "outcome")?,
                        status_code: u16::try_from(number("status_code")?).unwrap_or(0),
                        detail: row.try_get("detail")?,
                        duration_ms: u32::try_from(number("duration_ms")?).unwrap_or(u32::MAX),
                        next_attempt_at: number("next_attempt_at")?,
                        url: row.try_get("url")?,
                    },
                ))
            })
            .collect()
    }
}
