//! Customer profiles: a person's linked user ids, other channels' identities (kept as data),
//! attributes and preferences, and the devices a customer destination reaches.

use std::collections::{BTreeMap, HashMap};

use herald_core::ids::TenantId;
use herald_core::time::now_ms;
use sqlx::any::AnyRow;
use sqlx::{Any, Row as _, Transaction};

use crate::devices::COLUMNS as DEVICE_COLUMNS;
use crate::{DeviceRecord, Result, Store, StoreError, json, text};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CustomerRecord {
    pub id: String,
    pub name: String,
    pub locale: String,
    pub time_zone: String,
    pub attributes: BTreeMap<String, String>,
    /// (channel, id) pairs.
    pub identities: Vec<(String, String)>,
    pub push_opt_out: bool,
    /// The person's own quiet hours (applied where the tenant has quiet hours).
    pub quiet_hours: Option<herald_core::timing::QuietHours>,
    /// In name order.
    pub opted_out_topics: Vec<String>,
    /// In id order.
    pub user_ids: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Where a customer destination goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CustomerDevices {
    /// The tenant has no such customer.
    Unknown,
    /// The customer opted out of push.
    OptedOut,
    /// The customer's active devices (maybe none).
    Devices(Vec<DeviceRecord>),
}

const COLUMNS: &str = "id, name, locale, time_zone, attributes, identities, push_opt_out, \
    created_at, updated_at, quiet_start, quiet_end, quiet_standard, quiet_marketing";

impl CustomerRecord {
    fn from_row(row: &AnyRow) -> Result<Self> {
        let attributes: String = row.try_get("attributes")?;
        let identities: String = row.try_get("identities")?;
        let corrupt = |column: &'static str, value: String| StoreError::Corrupt { column, value };
        Ok(Self {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            locale: row.try_get("locale")?,
            time_zone: row.try_get("time_zone")?,
            attributes: serde_json::from_str(&attributes)
                .map_err(|_| corrupt("attributes", attributes.clone()))?,
            identities: serde_json::from_str(&identities)
                .map_err(|_| corrupt("identities", identities.clone()))?,
            push_opt_out: row.try_get::<i64, _>("push_opt_out")? != 0,
            quiet_hours: crate::tenants::quiet_hours(row)?,
            opted_out_topics: Vec::new(),
            user_ids: Vec::new(),
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

/// SQL that holds for a device (`d`) whose customer — registered with it, or linked to its user
/// — opted out of push, or of the topic whose name is the parameter `topic` (when given).
pub(crate) fn opted_out(topic: Option<&str>) -> String {
    let refuses = match topic {
        Some(topic) => format!(
            "(c.push_opt_out = 1 OR EXISTS (SELECT 1 FROM customer_topic_opt_outs o \
                 WHERE o.tenant_id = c.tenant_id AND o.customer_id = c.id AND o.topic = {topic}))"
        ),
        None => "c.push_opt_out = 1".to_owned(),
    };
    format!(
        "(EXISTS (SELECT 1 FROM customers c \
              WHERE c.tenant_id = d.tenant_id AND c.id = d.customer_id AND {refuses}) \
          OR EXISTS (SELECT 1 FROM customer_users cu JOIN customers c \
                  ON c.tenant_id = cu.tenant_id AND c.id = cu.customer_id \
              WHERE cu.tenant_id = d.tenant_id AND cu.user_id = d.user_id AND {refuses}))"
    )
}

impl Store {
    /// Creates a customer with its links and opt-outs; `false` when the tenant has one with
    /// that id. A listed user linked elsewhere moves to it.
    pub async fn create_customer(&self, tenant: &TenantId, c: &CustomerRecord) -> Result<bool> {
        let quiet = crate::tenants::quiet_columns(c.quiet_hours.as_ref());
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(&format!(
            "INSERT INTO customers (tenant_id, {COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11, $12, $13) \
             ON CONFLICT (tenant_id, id) DO NOTHING"
        ))
        .bind(tenant.as_str())
        .bind(&c.id)
        .bind(&c.name)
        .bind(&c.locale)
        .bind(&c.time_zone)
        .bind(json(&c.attributes))
        .bind(json(&c.identities))
        .bind(i64::from(c.push_opt_out))
        .bind(c.created_at)
        .bind(quiet[0].as_str())
        .bind(quiet[1].as_str())
        .bind(quiet[2].as_str())
        .bind(quiet[3].as_str())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        for user in &c.user_ids {
            link(&mut tx, tenant, &c.id, user).await?;
        }
        self.set_opt_outs(&mut tx, tenant, &c.id, &c.opted_out_topics)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Replaces a customer's fields and opt-outs (not its links); `false` for an unknown one.
    pub async fn update_customer(&self, tenant: &TenantId, c: &CustomerRecord) -> Result<bool> {
        let quiet = crate::tenants::quiet_columns(c.quiet_hours.as_ref());
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE customers SET name = $1, locale = $2, time_zone = $3, attributes = $4, \
                 identities = $5, push_opt_out = $6, updated_at = $7, quiet_start = $10, \
                 quiet_end = $11, quiet_standard = $12, quiet_marketing = $13 \
             WHERE tenant_id = $8 AND id = $9",
        )
        .bind(&c.name)
        .bind(&c.locale)
        .bind(&c.time_zone)
        .bind(json(&c.attributes))
        .bind(json(&c.identities))
        .bind(i64::from(c.push_opt_out))
        .bind(c.updated_at)
        .bind(tenant.as_str())
        .bind(&c.id)
        .bind(quiet[0].as_str())
        .bind(quiet[1].as_str())
        .bind(quiet[2].as_str())
        .bind(quiet[3].as_str())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        self.set_opt_outs(&mut tx, tenant, &c.id, &c.opted_out_topics)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn set_opt_outs(
        &self,
        tx: &mut Transaction<'_, Any>,
        tenant: &TenantId,
        customer: &str,
        topics: &[String],
    ) -> Result<()> {
        sqlx::query(
            "DELETE FROM customer_topic_opt_outs WHERE tenant_id = $1 AND customer_id = $2",
        )
        .bind(tenant.as_str())
        .bind(customer)
        .execute(&mut **tx)
        .await?;
        if topics.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "INSERT INTO customer_topic_opt_outs (tenant_id, customer_id, topic) \
             SELECT DISTINCT $1, $2, {} FROM {} WHERE true ON CONFLICT DO NOTHING",
            text(0),
            self.backend.json_rows(3),
        );
        let rows: Vec<(&str,)> = topics.iter().map(|t| (t.as_str(),)).collect();
        sqlx::query(&sql)
            .bind(tenant.as_str())
            .bind(customer)
            .bind(json(&rows))
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    pub async fn get_customer(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Option<CustomerRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM customers WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant.as_str())
        .bind(id)
        .fetch_optional(&self.reader)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut found = vec![CustomerRecord::from_row(&row)?];
        self.fill_links(tenant, &mut found).await?;
        Ok(found.pop())
    }

    /// Customers in id order after `after`.
    pub async fn list_customers(
        &self,
        tenant: &TenantId,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<CustomerRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM customers WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        ))
        .bind(tenant.as_str())
        .bind(after.unwrap_or(""))
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        let mut found = rows
            .iter()
            .map(CustomerRecord::from_row)
            .collect::<Result<Vec<_>>>()?;
        self.fill_links(tenant, &mut found).await?;
        Ok(found)
    }

    /// The rows of `sql`, which reads the tenant's (`$1`) rows for the keys bound as `$2`.
    async fn by_keys(
        &self,
        sql: &str,
        tenant: &TenantId,
        keys: &impl serde::Serialize,
    ) -> Result<Vec<AnyRow>> {
        Ok(sqlx::query(sql)
            .bind(tenant.as_str())
            .bind(json(keys))
            .fetch_all(&self.reader)
            .await?)
    }

    /// Reads the linked users and opted-out topics of `customers`, in one query each.
    async fn fill_links(&self, tenant: &TenantId, customers: &mut [CustomerRecord]) -> Result<()> {
        if customers.is_empty() {
            return Ok(());
        }
        let ids: Vec<(String,)> = customers.iter().map(|c| (c.id.clone(),)).collect();
        let at: HashMap<String, usize> = customers
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.clone(), i))
            .collect();
        let b = self.backend;
        for (sql, users) in [
            (
                format!(
                    "SELECT cu.customer_id AS owner, cu.user_id AS item FROM {} \
                     JOIN customer_users cu ON cu.tenant_id = $1 AND cu.customer_id = {} \
                     ORDER BY cu.user_id",
                    b.json_rows(2),
                    text(0)
                ),
                true,
            ),
            (
                format!(
                    "SELECT o.customer_id AS owner, o.topic AS item FROM {} \
                     JOIN customer_topic_opt_outs o ON o.tenant_id = $1 AND o.customer_id = {} \
                     ORDER BY o.topic",
                    b.json_rows(2),
                    text(0)
                ),
                false,
            ),
        ] {
            let rows = self.by_keys(&sql, tenant, &ids).await?;
            for row in rows {
                let owner: String = row.try_get("owner")?;
                let item: String = row.try_get("item")?;
                if let Some(i) = at.get(&owner) {
                    let list = if users {
                        &mut customers[*i].user_ids
                    } else {
                        &mut customers[*i].opted_out_topics
                    };
                    list.push(item);
                }
            }
        }
        Ok(())
    }

    /// Deletes a customer with its links and opt-outs; whether there was one.
    pub async fn delete_customer(&self, tenant: &TenantId, id: &str) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        for table in ["customer_users", "customer_topic_opt_outs"] {
            sqlx::query(&format!(
                "DELETE FROM {table} WHERE tenant_id = $1 AND customer_id = $2"
            ))
            .bind(tenant.as_str())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        let done = sqlx::query("DELETE FROM customers WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Links `user` to the customer (moving it from any other), or unlinks it; `false` for an
    /// unknown customer.
    pub async fn set_link(
        &self,
        tenant: &TenantId,
        customer: &str,
        user: &str,
        linked: bool,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        if !exists(&mut tx, tenant, customer).await? {
            return Ok(false);
        }
        if linked {
            link(&mut tx, tenant, customer, user).await?;
        } else {
            sqlx::query(
                "DELETE FROM customer_users WHERE tenant_id = $1 AND customer_id = $2 AND user_id = $3",
            )
            .bind(tenant.as_str())
            .bind(customer)
            .bind(user)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("UPDATE customers SET updated_at = $1 WHERE tenant_id = $2 AND id = $3")
            .bind(now_ms())
            .bind(tenant.as_str())
            .bind(customer)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Whether the customer opted out of push; `None` for an unknown customer.
    pub async fn customer_opted_out(
        &self,
        tenant: &TenantId,
        customer: &str,
    ) -> Result<Option<bool>> {
        let row =
            sqlx::query("SELECT push_opt_out FROM customers WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.as_str())
                .bind(customer)
                .fetch_optional(&self.reader)
                .await?;
        row.map(|r| Ok(r.try_get::<i64, _>("push_opt_out")? != 0))
            .transpose()
    }

    /// Where a send to the customer goes: its active devices (registered with its id, or of a
    /// linked user and registered with no other customer's), unless it opted out of push.
    pub async fn customer_devices(
        &self,
        tenant: &TenantId,
        customer: &str,
    ) -> Result<CustomerDevices> {
        match self.customer_opted_out(tenant, customer).await? {
            None => return Ok(CustomerDevices::Unknown),
            Some(true) => return Ok(CustomerDevices::OptedOut),
            Some(false) => {}
        }
        let rows = sqlx::query(&format!(
            "SELECT {DEVICE_COLUMNS} FROM devices WHERE tenant_id = $1 AND state = 'active' \
                 AND (customer_id = $2 OR (customer_id IS NULL AND user_id IN \
                     (SELECT user_id FROM customer_users WHERE tenant_id = $1 AND customer_id = $2))) \
             ORDER BY id"
        ))
        .bind(tenant.as_str())
        .bind(customer)
        .fetch_all(&self.reader)
        .await?;
        let devices = rows
            .iter()
            .map(DeviceRecord::from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(CustomerDevices::Devices(devices))
    }
}

impl Store {
    /// The customer of each of `devices` that has one (registered with the device, else its
    /// user's), by device id, in two queries.
    pub async fn customers_of_devices(
        &self,
        tenant: &TenantId,
        devices: &[&DeviceRecord],
    ) -> Result<HashMap<String, CustomerRecord>> {
        let mut users: Vec<(&str,)> = devices
            .iter()
            .filter(|d| d.profile.customer_id.is_none())
            .filter_map(|d| d.profile.user_id.as_deref().map(|u| (u,)))
            .collect();
        users.sort_unstable();
        users.dedup();
        let b = self.backend;
        let mut customer_of_user: HashMap<String, String> = HashMap::new();
        if !users.is_empty() {
            let sql = format!(
                "SELECT cu.user_id, cu.customer_id FROM {} \
                 JOIN customer_users cu ON cu.tenant_id = $1 AND cu.user_id = {}",
                b.json_rows(2),
                text(0)
            );
            for row in self.by_keys(&sql, tenant, &users).await? {
                customer_of_user.insert(row.try_get("user_id")?, row.try_get("customer_id")?);
            }
        }
        let customer_of = |d: &DeviceRecord| -> Option<String> {
            d.profile.customer_id.clone().or_else(|| {
                d.profile
                    .user_id
                    .as_ref()
                    .and_then(|u| customer_of_user.get(u).cloned())
            })
        };
        let mut ids: Vec<(String,)> = devices
            .iter()
            .filter_map(|d| customer_of(d))
            .map(|c| (c,))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let mut records: HashMap<String, CustomerRecord> = HashMap::new();
        if !ids.is_empty() {
            let sql = format!(
                "SELECT c.id, c.name, c.locale, c.time_zone, c.attributes, c.identities, \
                     c.push_opt_out, c.created_at, c.updated_at, c.quiet_start, c.quiet_end, \
                     c.quiet_standard, c.quiet_marketing FROM {} \
                 JOIN customers c ON c.tenant_id = $1 AND c.id = {}",
                b.json_rows(2),
                text(0)
            );
            for row in self.by_keys(&sql, tenant, &ids).await? {
                let record = CustomerRecord::from_row(&row)?;
                records.insert(record.id.clone(), record);
            }
        }
        Ok(devices
            .iter()
            .filter_map(|d| {
                let record = records.get(&customer_of(d)?)?;
                Some((d.id.to_string(), record.clone()))
            })
            .collect())
    }
}

async fn exists(tx: &mut Transaction<'_, Any>, tenant: &TenantId, customer: &str) -> Result<bool> {
    Ok(
        sqlx::query("SELECT 1 AS one FROM customers WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(customer)
            .fetch_optional(&mut **tx)
            .await?
            .is_some(),
    )
}

async fn link(
    tx: &mut Transaction<'_, Any>,
    tenant: &TenantId,
    customer: &str,
    user: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO customer_users (tenant_id, user_id, customer_id, created_at) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (tenant_id, user_id) DO UPDATE SET customer_id = excluded.customer_id",
    )
    .bind(tenant.as_str())
    .bind(user)
    .bind(customer)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(())
}
