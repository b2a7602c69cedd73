//! Tenants and their API keys (stored hashed).

use herald_core::ids::{KeyId, TenantId};
use herald_core::time::now_ms;
use sqlx::Row;
use sqlx::any::AnyRow;

use herald_core::names::Named as _;
use herald_core::timing::QuietHours;
use herald_proto::v1::{ApiKeyScope, QuietAction};

use crate::{Result, Store, decode};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantRecord {
    pub id: TenantId,
    /// A label for people.
    pub display_name: String,
    pub created_at: i64,
    pub settings: TenantSettings,
}

impl TenantRecord {
    fn from_row(row: &AnyRow) -> Result<Self> {
        Ok(Self {
            id: TenantId::from_trusted(row.try_get("id")?),
            display_name: row.try_get("name")?,
            created_at: row.try_get("created_at")?,
            settings: TenantSettings::from_row(row)?,
        })
    }
}

impl TenantSettings {
    fn from_row(row: &AnyRow) -> Result<Self> {
        let flag = |column: &str| -> Result<bool> { Ok(row.try_get::<i64, _>(column)? != 0) };
        Ok(Self {
            allow_http_web_push: flag("allow_http_web_push")?,
            topic_messaging_disabled: flag("topic_messaging_disabled")?,
            segment_messaging_disabled: flag("segment_messaging_disabled")?,
            default_time_zone: row.try_get("default_time_zone")?,
            quiet_hours: quiet_hours(row)?,
            frequency_caps: json_column(row, "frequency_caps")?,
            rate_limits: json_column(row, "rate_limits")?,
        })
    }
}

const SETTINGS_COLUMNS: &str = "allow_http_web_push, topic_messaging_disabled, \
    segment_messaging_disabled, default_time_zone, quiet_start, quiet_end, quiet_standard, \
    quiet_marketing, frequency_caps, rate_limits";

/// What a tenant may do beyond the defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TenantSettings {
    /// Accept `http://` Web Push endpoints (for local testing only).
    pub allow_http_web_push: bool,
    /// Sends to topics are refused (a policy failure).
    pub topic_messaging_disabled: bool,
    /// Sends to segments are refused (a policy failure).
    pub segment_messaging_disabled: bool,
    /// The zone of devices with none of their own or their customer's ('' for UTC).
    pub default_time_zone: String,
    /// Quiet hours for the tenant's devices (a customer may have its own instead).
    pub quiet_hours: Option<QuietHours>,
    /// At most so many pushes of a class per device or user in a window.
    pub frequency_caps: Vec<herald_core::caps::Cap>,
    /// How fast pushes go out, per provider or for all.
    pub rate_limits: Vec<herald_core::caps::RateLimit>,
}

/// A column holding JSON Herald wrote.
fn json_column<T: serde::de::DeserializeOwned>(row: &AnyRow, column: &'static str) -> Result<T> {
    let stored: String = row.try_get(column)?;
    serde_json::from_str(&stored).map_err(|_| crate::StoreError::Corrupt {
        column,
        value: stored,
    })
}

/// Quiet hours stored in a row's `quiet_*` columns (a tenant's or a customer's).
pub(crate) fn quiet_hours(row: &AnyRow) -> Result<Option<QuietHours>> {
    let start: String = row.try_get("quiet_start")?;
    let end: String = row.try_get("quiet_end")?;
    if start.is_empty() || end.is_empty() {
        return Ok(None);
    }
    let time = |column: &'static str, value: String| {
        herald_core::timing::clock(column, &value)
            .map_err(|_| crate::StoreError::Corrupt { column, value })
    };
    let action = |column: &'static str| -> Result<QuietAction> {
        let stored: String = row.try_get(column)?;
        if stored.is_empty() {
            Ok(QuietAction::Unspecified)
        } else {
            decode(row, column)
        }
    };
    Ok(Some(QuietHours {
        start: time("quiet_start", start)?,
        end: time("quiet_end", end)?,
        standard: action("quiet_standard")?,
        marketing: action("quiet_marketing")?,
    }))
}

/// The `quiet_*` columns of quiet hours: start, end, standard action, marketing action.
pub(crate) fn quiet_columns(q: Option<&QuietHours>) -> [String; 4] {
    let action = |a: QuietAction| match a {
        QuietAction::Unspecified => String::new(),
        a => a.name().to_owned(),
    };
    match q {
        None => Default::default(),
        Some(q) => {
            let api = q.to_api();
            [api.start, api.end, action(q.standard), action(q.marketing)]
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub id: KeyId,
    pub tenant_id: TenantId,
    /// A label for people.
    pub display_name: String,
    pub prefix: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub scope: ApiKeyScope,
}

impl ApiKeyRecord {
    fn from_row(row: &AnyRow) -> Result<Self> {
        Ok(Self {
            id: KeyId::from_trusted(row.try_get("id")?),
            tenant_id: TenantId::from_trusted(row.try_get("tenant_id")?),
            display_name: row.try_get("name")?,
            prefix: row.try_get("prefix")?,
            created_at: row.try_get("created_at")?,
            revoked_at: row.try_get("revoked_at")?,
            scope: decode(row, "scope")?,
        })
    }
}

/// A live key, as a call's authorization finds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveKey {
    pub tenant_id: TenantId,
    pub id: KeyId,
    pub scope: ApiKeyScope,
}

impl Store {
    #[tracing::instrument(skip(self))]
    pub async fn create_tenant(&self, display_name: &str) -> Result<TenantRecord> {
        let record = TenantRecord {
            id: TenantId::generate(),
            display_name: display_name.to_owned(),
            created_at: now_ms(),
            settings: TenantSettings::default(),
        };
        sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(record.id.as_str())
            .bind(&record.display_name)
            .bind(record.created_at)
            .execute(&self.pool)
            .await?;
        Ok(record)
    }

    pub async fn get_tenant(&self, tenant: &TenantId) -> Result<Option<TenantRecord>> {
        let row = sqlx::query(&format!(
            "SELECT id, name, created_at, {SETTINGS_COLUMNS} FROM tenants WHERE id = $1"
        ))
        .bind(tenant.as_str())
        .fetch_optional(&self.reader)
        .await?;
        row.as_ref().map(TenantRecord::from_row).transpose()
    }

    /// Ends a console session before it expires (`expires_at`); forgets sessions that expired.
    pub async fn end_console_session(&self, id: &str, expires_at: i64) -> Result<()> {
        sqlx::query("DELETE FROM console_signouts WHERE expires_at < $1")
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO console_signouts (id, expires_at) VALUES ($1, $2) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Whether the console session `id` was signed out.
    pub async fn console_session_ended(&self, id: &str) -> Result<bool> {
        let row = sqlx::query("SELECT 1 AS ended FROM console_signouts WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// The tenants in id order (the order they were made), after `after`, at most `limit`.
    pub async fn list_tenants(&self, after: Option<&str>, limit: u32) -> Result<Vec<TenantRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT id, name, created_at, {SETTINGS_COLUMNS} FROM tenants \
             WHERE id > $1 ORDER BY id LIMIT $2"
        ))
        .bind(after.unwrap_or(""))
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(TenantRecord::from_row).collect()
    }

    /// Replaces the tenant's display name and settings with `record`'s; false for an unknown
    /// tenant.
    pub async fn update_tenant(&self, record: &TenantRecord) -> Result<bool> {
        let [quiet_start, quiet_end, quiet_standard, quiet_marketing] =
            quiet_columns(record.settings.quiet_hours.as_ref());
        let done = sqlx::query(
            "UPDATE tenants SET name = $1, allow_http_web_push = $2, \
                 topic_messaging_disabled = $3, segment_messaging_disabled = $4, \
                 default_time_zone = $6, quiet_start = $7, quiet_end = $8, quiet_standard = $9, \
                 quiet_marketing = $10, frequency_caps = $11, rate_limits = $12 WHERE id = $5",
        )
        .bind(&record.display_name)
        .bind(i64::from(record.settings.allow_http_web_push))
        .bind(i64::from(record.settings.topic_messaging_disabled))
        .bind(i64::from(record.settings.segment_messaging_disabled))
        .bind(record.id.as_str())
        .bind(&record.settings.default_time_zone)
        .bind(quiet_start)
        .bind(quiet_end)
        .bind(quiet_standard)
        .bind(quiet_marketing)
        .bind(crate::json(&record.settings.frequency_caps))
        .bind(crate::json(&record.settings.rate_limits))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The tenant's settings, or `None` for an unknown tenant.
    pub async fn tenant_settings(&self, tenant: &TenantId) -> Result<Option<TenantSettings>> {
        let row = sqlx::query(&format!(
            "SELECT {SETTINGS_COLUMNS} FROM tenants WHERE id = $1"
        ))
        .bind(tenant.as_str())
        .fetch_optional(&self.reader)
        .await?;
        row.as_ref().map(TenantSettings::from_row).transpose()
    }

    pub async fn tenant_exists(&self, tenant: &TenantId) -> Result<bool> {
        let row = sqlx::query("SELECT 1 FROM tenants WHERE id = $1")
            .bind(tenant.as_str())
            .fetch_optional(&self.reader)
            .await?;
        Ok(row.is_some())
    }

    /// Records a new key by its hash; the caller shows the key itself once.
    #[tracing::instrument(skip(self, key_hash))]
    pub async fn insert_api_key(
        &self,
        tenant: &TenantId,
        display_name: &str,
        prefix: &str,
        key_hash: &str,
        scope: ApiKeyScope,
    ) -> Result<ApiKeyRecord> {
        let record = ApiKeyRecord {
            id: KeyId::generate(),
            tenant_id: tenant.clone(),
            display_name: display_name.to_owned(),
            prefix: prefix.to_owned(),
            created_at: now_ms(),
            revoked_at: None,
            scope,
        };
        sqlx::query(
            "INSERT INTO api_keys (id, tenant_id, name, prefix, key_hash, created_at, scope) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(record.id.as_str())
        .bind(tenant.as_str())
        .bind(display_name)
        .bind(prefix)
        .bind(key_hash)
        .bind(record.created_at)
        .bind(scope.name())
        .execute(&self.pool)
        .await?;
        Ok(record)
    }

    /// A live (not revoked) key, by the key's hash.
    pub async fn live_key(&self, key_hash: &str) -> Result<Option<LiveKey>> {
        let row = sqlx::query(
            "SELECT tenant_id, id, scope FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL",
        )
        .bind(key_hash)
        .fetch_optional(&self.reader)
        .await?;
        row.map(|r| {
            Ok(LiveKey {
                tenant_id: TenantId::from_trusted(r.try_get("tenant_id")?),
                id: KeyId::from_trusted(r.try_get("id")?),
                scope: decode(&r, "scope")?,
            })
        })
        .transpose()
    }

    /// The tenant's keys in id order (the order they were made), after `after`, at most `limit`.
    pub async fn list_api_keys(
        &self,
        tenant: &TenantId,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<ApiKeyRecord>> {
        let rows = sqlx::query(
            "SELECT id, tenant_id, name, prefix, created_at, revoked_at, scope FROM api_keys \
             WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(tenant.as_str())
        .bind(after.unwrap_or(""))
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(ApiKeyRecord::from_row).collect()
    }

    /// Revokes a key of `tenant`; false when the tenant has no such live key.
    pub async fn revoke_api_key(&self, tenant: &TenantId, key: &KeyId) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE api_keys SET revoked_at = $1 \
             WHERE tenant_id = $2 AND id = $3 AND revoked_at IS NULL",
        )
        .bind(now_ms())
        .bind(tenant.as_str())
        .bind(key.as_str())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

/// Tenants' settings kept for a couple of seconds, for the hot paths that read them for every
/// batch (the router's delivery policy, the senders' rate limits): a change reaches them
/// within [`SettingsCache::KEPT`].
#[derive(Clone, Debug, Default)]
pub struct SettingsCache {
    kept: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<TenantId, Kept>>>,
}

/// A tenant's settings and when they were read.
type Kept = (std::time::Instant, std::sync::Arc<TenantSettings>);

impl SettingsCache {
    /// How long settings are used before they are read again.
    pub const KEPT: std::time::Duration = std::time::Duration::from_secs(2);

    /// The tenant's settings (the defaults for an unknown tenant).
    pub async fn get(
        &self,
        store: &Store,
        tenant: &TenantId,
    ) -> Result<std::sync::Arc<TenantSettings>> {
        if let Some((at, settings)) = self.kept.lock().expect("not poisoned").get(tenant)
            && at.elapsed() < Self::KEPT
        {
            return Ok(settings.clone());
        }
        let settings =
            std::sync::Arc::new(store.tenant_settings(tenant).await?.unwrap_or_default());
        self.kept.lock().expect("not poisoned").insert(
            tenant.clone(),
            (std::time::Instant::now(), settings.clone()),
        );
        Ok(settings)
    }
}
