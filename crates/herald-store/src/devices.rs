//! The device registry: push tokens of users' phones and browsers, and their retirement when a
//! provider reports a token dead.

use herald_core::ids::{DeviceId, TenantId};
use herald_core::names::Named;
use herald_core::time::now_ms;
use herald_proto::v1::{Browser, DeviceState, Platform};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::{Backend, ReceiptUpdate, Result, Store, decode, int, json, text};

/// What a registration says of a device.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeviceProfile {
    pub user_id: Option<String>,
    pub customer_id: Option<String>,
    pub platform: Platform,
    pub push_token: String,
    /// The browser of a web subscription, when known.
    pub browser: Option<Browser>,
    pub web_p256dh: String,
    pub web_auth: String,
    pub sandbox: bool,
    pub app_version: String,
    pub locale: String,
    /// An IANA time zone name, or empty.
    pub time_zone: String,
}

/// Which devices a listing shows; `None` matches every value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeviceFilter {
    pub user_id: Option<String>,
    pub platform: Option<Platform>,
    pub browser: Option<Browser>,
    pub state: Option<DeviceState>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceRecord {
    pub id: DeviceId,
    pub tenant_id: TenantId,
    pub profile: DeviceProfile,
    /// Active, inactive (token dead) or expired (web subscription gone).
    pub state: DeviceState,
    pub state_reason: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_active_at: i64,
}

/// How precisely `last_active_at` follows the pushes that reach a device (a minute).
pub const LAST_ACTIVE_PRECISION_MS: i64 = 60_000;

pub(crate) const COLUMNS: &str = "id, tenant_id, user_id, customer_id, platform, push_token, browser, \
    web_p256dh, web_auth, sandbox, app_version, locale, state, state_reason, created_at, \
    updated_at, last_active_at, time_zone";

impl DeviceRecord {
    pub(crate) fn from_row(row: &AnyRow) -> Result<Self> {
        Ok(Self {
            id: DeviceId::from_trusted(row.try_get("id")?),
            tenant_id: TenantId::from_trusted(row.try_get("tenant_id")?),
            profile: DeviceProfile {
                user_id: row.try_get("user_id")?,
                customer_id: row.try_get("customer_id")?,
                platform: decode(row, "platform")?,
                push_token: row.try_get("push_token")?,
                browser: browser(row)?,
                web_p256dh: row.try_get("web_p256dh")?,
                web_auth: row.try_get("web_auth")?,
                sandbox: row.try_get::<i64, _>("sandbox")? != 0,
                app_version: row.try_get("app_version")?,
                locale: row.try_get("locale")?,
                time_zone: row.try_get("time_zone")?,
            },
            state: decode(row, "state")?,
            state_reason: row.try_get("state_reason")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            last_active_at: row.try_get("last_active_at")?,
        })
    }

    pub fn is_active(&self) -> bool {
        self.state == DeviceState::Active
    }
}

/// The stored spelling of an optional browser: its name, or '' for none.
fn browser_name(browser: Option<Browser>) -> &'static str {
    browser.map_or("", |b| b.name())
}

fn browser(row: &AnyRow) -> Result<Option<Browser>> {
    let stored: String = row.try_get("browser")?;
    if stored.is_empty() {
        return Ok(None);
    }
    decode(row, "browser").map(Some)
}

/// How a registration of a known token changes its device: it takes the new registration's
/// user and details and is active again.
const RE_REGISTER: &str = "ON CONFLICT (tenant_id, platform, push_token) DO UPDATE SET \
     user_id = excluded.user_id, customer_id = excluded.customer_id, \
     browser = excluded.browser, web_p256dh = excluded.web_p256dh, \
     web_auth = excluded.web_auth, sandbox = excluded.sandbox, \
     app_version = excluded.app_version, locale = excluded.locale, \
     time_zone = CASE WHEN excluded.time_zone = '' THEN devices.time_zone ELSE excluded.time_zone END, \
     app_version_key = excluded.app_version_key, \
     state = 'active', state_reason = '', updated_at = excluded.updated_at";

/// A device to import and the topics it joins (one deleted meanwhile is left out).
#[derive(Clone, Debug)]
pub struct ImportDevice {
    pub profile: DeviceProfile,
    pub topics: Vec<String>,
}

/// What an import of a chunk of devices did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Imported {
    /// Devices registered (created or updated).
    pub devices: u64,
    /// Of those, new ones.
    pub created: u64,
}

impl Store {
    /// Registers a chunk of devices with their subscriptions in one transaction, each as
    /// [`Store::register_device`] would (a known token is updated, moved to the row's user and
    /// made active again). A token given twice in the chunk is registered once, as its last row
    /// says, with the topics of both.
    #[tracing::instrument(skip_all, fields(count = devices.len()))]
    pub async fn import_devices(
        &self,
        tenant: &TenantId,
        devices: &[ImportDevice],
    ) -> Result<Imported> {
        let mut by_token: std::collections::HashMap<(Platform, &str), (usize, Vec<&str>)> =
            std::collections::HashMap::new();
        for (at, device) in devices.iter().enumerate() {
            let entry = by_token
                .entry((device.profile.platform, device.profile.push_token.as_str()))
                .or_default();
            entry.0 = at;
            entry.1.extend(device.topics.iter().map(String::as_str));
        }
        let mut order: Vec<_> = by_token.into_iter().collect();
        order.sort_by_key(|(_, (at, _))| *at);
        let ids: Vec<DeviceId> = order.iter().map(|_| DeviceId::generate()).collect();
        let rows: Vec<_> = order
            .iter()
            .zip(&ids)
            .map(|((_, (at, _)), id)| {
                let p = &devices[*at].profile;
                (
                    id.as_str(),
                    p.user_id.as_deref().unwrap_or_default(),
                    p.customer_id.as_deref().unwrap_or_default(),
                    p.platform.name(),
                    p.push_token.as_str(),
                    browser_name(p.browser),
                    p.web_p256dh.as_str(),
                    p.web_auth.as_str(),
                    i64::from(p.sandbox),
                    p.app_version.as_str(),
                    p.locale.as_str(),
                    herald_core::segments::version_key(&p.app_version),
                    p.time_zone.as_str(),
                )
            })
            .collect();
        if rows.is_empty() {
            return Ok(Imported::default());
        }
        let b = self.backend;
        let sql = format!(
            // `WHERE true`: SQLite cannot tell an upsert's ON CONFLICT from a join's ON without it.
            "INSERT INTO devices (id, tenant_id, user_id, customer_id, platform, push_token, \
                 browser, web_p256dh, web_auth, sandbox, app_version, locale, app_version_key, \
                 time_zone, state, created_at, updated_at) \
             SELECT {}, $2, NULLIF({}, ''), NULLIF({}, ''), {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, \
                 'active', $1, $1 FROM {} WHERE true \
             {RE_REGISTER} \
             RETURNING id, platform, push_token",
            text(0),
            text(1),
            text(2),
            text(3),
            text(4),
            text(5),
            text(6),
            text(7),
            int(8),
            text(9),
            text(10),
            text(11),
            text(12),
            b.json_rows(3),
        );
        let mut tx = self.pool.begin().await?;
        let stored = sqlx::query(&sql)
            .bind(now_ms())
            .bind(tenant.as_str())
            .bind(json(&rows))
            .fetch_all(&mut *tx)
            .await?;
        let generated: std::collections::HashSet<&str> = ids.iter().map(DeviceId::as_str).collect();
        let mut id_of = std::collections::HashMap::new();
        let mut created = 0;
        for row in &stored {
            let id: String = row.try_get("id")?;
            let platform: Platform = decode(row, "platform")?;
            let token: String = row.try_get("push_token")?;
            created += u64::from(generated.contains(id.as_str()));
            id_of.insert((platform, token), id);
        }
        let subscriptions: Vec<(&str, &str)> = order
            .iter()
            .flat_map(|((platform, token), (_, topics))| {
                let id = id_of
                    .get(&(*platform, (*token).to_owned()))
                    .map(String::as_str);
                topics.iter().filter_map(move |topic| Some((*topic, id?)))
            })
            .collect();
        if !subscriptions.is_empty() {
            let sql = format!(
                "INSERT INTO topic_subscriptions (tenant_id, topic, kind, subscriber, created_at) \
                 SELECT $2, t.name, 'device', {}, $1 FROM {} \
                     JOIN topics t ON t.tenant_id = $2 AND t.name = {} \
                 WHERE true ON CONFLICT (tenant_id, topic, kind, subscriber) DO NOTHING",
                text(1),
                b.json_rows(3),
                text(0),
            );
            sqlx::query(&sql)
                .bind(now_ms())
                .bind(tenant.as_str())
                .bind(json(&subscriptions))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Imported {
            devices: u64::try_from(stored.len()).unwrap_or(u64::MAX),
            created,
        })
    }

    /// Registers a device, or updates the one holding the same token: a re-registration is
    /// idempotent, moves the token to the new user and makes the device active again.
    /// Answers the device and whether it was created.
    #[tracing::instrument(skip(self, device), fields(platform = device.platform.name()))]
    pub async fn register_device(
        &self,
        tenant: &TenantId,
        device: &DeviceProfile,
    ) -> Result<(DeviceRecord, bool)> {
        herald_telemetry::timed("register_device", async move {
                let new_id = DeviceId::generate();
                let now = now_ms();
                let row = sqlx::query(&format!(
                    "INSERT INTO devices (id, tenant_id, user_id, customer_id, platform, push_token, \
                     browser, web_p256dh, web_auth, sandbox, app_version, locale, app_version_key, \
                     time_zone, state, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $14, $15, 'active', $13, $13) \
                 {RE_REGISTER} \
                 RETURNING {COLUMNS}"
                ))
                .bind(new_id.as_str())
                .bind(tenant.as_str())
                .bind(device.user_id.as_deref())
                .bind(device.customer_id.as_deref())
                .bind(device.platform.name())
                .bind(&device.push_token)
                .bind(browser_name(device.browser))
                .bind(&device.web_p256dh)
                .bind(&device.web_auth)
                .bind(i64::from(device.sandbox))
                .bind(&device.app_version)
                .bind(&device.locale)
                .bind(now)
                .bind(herald_core::segments::version_key(&device.app_version))
                .bind(&device.time_zone)
                .fetch_one(&self.pool)
                .await?;
                let record = DeviceRecord::from_row(&row)?;
                let created = record.id == new_id;
                Ok((record, created))
            })
            .await
    }

    /// Registers the devices of push ids a batch of messages is sent to (active, with no user),
    /// in one statement; a token already registered is left as it is.
    pub async fn ensure_devices(&self, tenant: &TenantId, devices: &[DeviceProfile]) -> Result<()> {
        herald_telemetry::timed("ensure_devices", async move {
            if devices.is_empty() {
                return Ok(());
            }
            let rows: Vec<_> = devices
                .iter()
                .map(|d| {
                    (
                        DeviceId::generate().into_string(),
                        d.platform.name(),
                        d.push_token.as_str(),
                        browser_name(d.browser),
                        d.web_p256dh.as_str(),
                        d.web_auth.as_str(),
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO devices (id, tenant_id, platform, push_token, browser, web_p256dh, \
                     web_auth, state, created_at, updated_at) \
                 SELECT {}, $1, {}, {}, {}, {}, {}, 'active', $2, $2 FROM {} WHERE true \
                 ON CONFLICT (tenant_id, platform, push_token) DO NOTHING",
                text(0),
                text(1),
                text(2),
                text(3),
                text(4),
                text(5),
                self.backend.json_rows(3),
            );
            sqlx::query(&sql)
                .bind(tenant.as_str())
                .bind(now_ms())
                .bind(json(&rows))
                .execute(&self.pool)
                .await?;
            Ok(())
        })
        .await
    }

    pub async fn get_device(
        &self,
        tenant: &TenantId,
        id: &DeviceId,
    ) -> Result<Option<DeviceRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM devices WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_optional(&self.reader)
        .await?;
        row.as_ref().map(DeviceRecord::from_row).transpose()
    }

    /// The devices among `ids` (in any state), in one query: a batch's `device_id`
    /// destinations.
    pub async fn devices_by_ids(
        &self,
        tenant: &TenantId,
        ids: &[&str],
    ) -> Result<Vec<DeviceRecord>> {
        let sql = match self.backend {
            // One primary-key lookup per id (see `active_devices_of_users`).
            Backend::Postgres => format!(
                "SELECT d.* FROM (SELECT DISTINCT value FROM jsonb_array_elements_text($2::jsonb)) \
                         AS w(id) \
                     CROSS JOIN LATERAL (SELECT {COLUMNS} FROM devices \
                         WHERE tenant_id = $1 AND id = w.id OFFSET 0) d"
            ),
            Backend::Sqlite => format!(
                "SELECT {COLUMNS} FROM devices WHERE tenant_id = $1 \
                     AND id IN (SELECT value FROM json_each($2))"
            ),
        };
        self.devices_listed(&sql, tenant, ids).await
    }

    /// The devices holding any of `tokens` (platform, push token), in one query: a batch's
    /// `push_id` destinations.
    pub async fn devices_by_tokens(
        &self,
        tenant: &TenantId,
        tokens: &[(Platform, &str)],
    ) -> Result<Vec<DeviceRecord>> {
        herald_telemetry::timed("devices_by_tokens", async move {
            let sql = match self.backend {
                Backend::Postgres => format!(
                    "SELECT d.* FROM (SELECT DISTINCT value ->> 0 AS platform, value ->> 1 AS token \
                         FROM jsonb_array_elements($2::jsonb)) AS w \
                     CROSS JOIN LATERAL (SELECT {COLUMNS} FROM devices \
                         WHERE tenant_id = $1 AND platform = w.platform AND push_token = w.token \
                         OFFSET 0) d"
                ),
                Backend::Sqlite => format!(
                    "SELECT {COLUMNS} FROM devices WHERE tenant_id = $1 \
                     AND (platform, push_token) IN \
                         (SELECT value ->> 0, value ->> 1 FROM json_each($2))"
                ),
            };
            let wanted: Vec<(&str, &str)> = tokens.iter().map(|(p, t)| (p.name(), *t)).collect();
            self.devices_listed(&sql, tenant, &wanted).await
        }).await
    }

    /// The devices `sql` selects, given the tenant as `$1` and `list` as a JSON array as `$2`;
    /// none for an empty list, without a query.
    async fn devices_listed(
        &self,
        sql: &str,
        tenant: &TenantId,
        list: &[impl serde::Serialize],
    ) -> Result<Vec<DeviceRecord>> {
        if list.is_empty() {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(sql)
            .bind(tenant.as_str())
            .bind(json(&list))
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(DeviceRecord::from_row).collect()
    }

    /// The tenant's devices that `filter` matches, in id order after `after` (keyset
    /// pagination).
    pub async fn list_devices(
        &self,
        tenant: &TenantId,
        filter: &DeviceFilter,
        after: Option<&DeviceId>,
        limit: u32,
    ) -> Result<Vec<DeviceRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM devices \
             WHERE tenant_id = $1 AND ($2 = '' OR user_id = $2) AND id > $3 \
                 AND ($5 = '' OR platform = $5) AND ($6 = '' OR browser = $6) \
                 AND ($7 = '' OR state = $7) \
             ORDER BY id LIMIT $4"
        ))
        .bind(tenant.as_str())
        .bind(filter.user_id.as_deref().unwrap_or(""))
        .bind(after.map(DeviceId::as_str).unwrap_or(""))
        .bind(i64::from(limit))
        .bind(filter.platform.map_or("", Named::name))
        .bind(browser_name(filter.browser))
        .bind(filter.state.map_or("", Named::name))
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(DeviceRecord::from_row).collect()
    }

    /// Every active device of each of `users`: the audiences of user destinations, read in
    /// one query, ordered by device id.
    pub async fn active_devices_of_users(
        &self,
        tenant: &TenantId,
        users: &[&str],
    ) -> Result<Vec<DeviceRecord>> {
        herald_telemetry::timed("active_devices_of_users", async move {
            let sql = match self.backend {
                // A lookup in the (tenant, user) index per user, forced by the lateral subquery:
                // with statistics from before the devices were registered, PostgreSQL otherwise
                // read every device of the tenant and filtered them.
                Backend::Postgres => format!(
                    "SELECT d.* FROM (SELECT DISTINCT value FROM jsonb_array_elements_text($2::jsonb)) \
                         AS u(user_id) \
                     CROSS JOIN LATERAL (SELECT {COLUMNS} FROM devices \
                         WHERE tenant_id = $1 AND user_id = u.user_id AND state = 'active' OFFSET 0) d \
                     ORDER BY d.id"
                ),
                Backend::Sqlite => format!(
                    "SELECT {COLUMNS} FROM devices WHERE tenant_id = $1 \
                     AND user_id IN (SELECT value FROM json_each($2)) AND state = 'active' ORDER BY id"
                ),
            };
            self.devices_listed(&sql, tenant, users).await
        }).await
    }

    /// The platforms of each of `users`' active devices, as (user, platform) pairs: which
    /// providers a message to them can reach.
    pub async fn platforms_of_users(
        &self,
        tenant: &TenantId,
        users: &[&str],
    ) -> Result<Vec<(String, Platform)>> {
        let sql = match self.backend {
            // One index lookup per user (see `active_devices_of_users`).
            Backend::Postgres => {
                "SELECT DISTINCT d.user_id, d.platform \
                 FROM (SELECT DISTINCT value FROM jsonb_array_elements_text($2::jsonb)) AS u(user_id) \
                 CROSS JOIN LATERAL (SELECT user_id, platform FROM devices \
                     WHERE tenant_id = $1 AND user_id = u.user_id AND state = 'active' OFFSET 0) d"
            }
            Backend::Sqlite => {
                "SELECT DISTINCT user_id, platform FROM devices WHERE tenant_id = $1 \
                 AND user_id IN (SELECT value FROM json_each($2)) AND state = 'active'"
            }
        };
        let rows = sqlx::query(sql)
            .bind(tenant.as_str())
            .bind(crate::json(&users))
            .fetch_all(&self.reader)
            .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("user_id")?, decode(row, "platform")?)))
            .collect()
    }

    /// Marks a device unsubscribed (removed by the app or the user: it is listed as such and
    /// never sent to again until registered again) and drops its topic subscriptions; false
    /// when the tenant has no such device.
    pub async fn unregister_device(&self, tenant: &TenantId, id: &DeviceId) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "DELETE FROM topic_subscriptions WHERE tenant_id = $1 AND kind = 'device' AND subscriber = $2",
        )
        .bind(tenant.as_str())
        .bind(id.as_str())
        .execute(&mut *tx)
        .await?;
        let done = sqlx::query(
            "UPDATE devices SET state = $3, state_reason = 'unregistered', updated_at = $4 \
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_str())
        .bind(id.as_str())
        .bind(DeviceState::Unsubscribed.name())
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Retires the devices whose token a receipt reported dead, in the receipts' transaction.
    pub(crate) async fn retire_devices(
        &self,
        tx: &mut Transaction<'_, Any>,
        updates: &[ReceiptUpdate],
    ) -> Result<()> {
        let dead: Vec<_> = updates
            .iter()
            .filter(|u| u.token_dead)
            .map(|u| {
                (
                    u.device_id.as_str(),
                    u.tenant_id.as_str(),
                    &u.reason,
                    u.at_ms,
                )
            })
            .collect();
        if !dead.is_empty() {
            // A web subscription the push service forgot is expired; other tokens are dead.
            let sql = format!(
                "WITH v AS (SELECT {} AS id, {} AS tenant, {} AS reason, {} AS at FROM {}) \
                 UPDATE devices SET state = CASE WHEN devices.platform = 'web' THEN 'expired' ELSE 'inactive' END, \
                     state_reason = v.reason, updated_at = v.at \
                 FROM v WHERE devices.tenant_id = v.tenant AND devices.id = v.id AND devices.state = 'active'",
                text(0),
                text(1),
                text(2),
                int(3),
                self.backend.json_rows(1),
            );
            sqlx::query(&sql)
                .bind(json(&dead))
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Records when a push last reached each device (tenant, device, Unix ms), in one statement
    /// of its own: the receipt service gathers these and writes them every few seconds, out of
    /// the receipts' transaction. A device's time moves only forward, and only once it is
    /// [`LAST_ACTIVE_PRECISION_MS`] behind, so a device reached often is not rewritten with
    /// every push.
    pub async fn mark_devices_reached(&self, reached: &[(&str, &str, i64)]) -> Result<u64> {
        herald_telemetry::timed("mark_devices_reached", async move {
            if reached.is_empty() {
                return Ok(0);
            }
            let sql = format!(
                "WITH v AS (SELECT {} AS tenant, {} AS id, MAX({}) AS at FROM {} GROUP BY 1, 2) \
                 UPDATE devices SET last_active_at = v.at \
                 FROM v WHERE devices.tenant_id = v.tenant AND devices.id = v.id \
                     AND devices.last_active_at < v.at - {LAST_ACTIVE_PRECISION_MS}",
                text(0),
                text(1),
                int(2),
                self.backend.json_rows(1),
            );
            Ok(sqlx::query(&sql)
                .bind(json(&reached))
                .execute(&self.pool)
                .await?
                .rows_affected())
        })
        .await
    }
}
