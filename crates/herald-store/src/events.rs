//! Events and what reacts to them: a tenant's triggers (its own, and its changes to the
//! built-in ones), the record of each published event (kept for a while, then pruned), and
//! users' mobile sessions (which device of a user the call and message triggers reach).

use herald_core::ids::{EventId, SessionId, TenantId};
use herald_core::time::now_ms;
use herald_proto::v1::{EventRecord, Trigger};
use prost::Message as _;
use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::{Result, Store, StoreError};

fn decode<M: prost::Message + Default>(column: &'static str, row: &AnyRow) -> Result<M> {
    let bytes: Vec<u8> = row.try_get(column)?;
    M::decode(bytes.as_slice()).map_err(|err| StoreError::Corrupt {
        column,
        value: err.to_string(),
    })
}

/// What came of storing an event.
#[derive(Clone, Debug, PartialEq)]
pub enum InsertedEvent {
    Inserted,
    /// The idempotency key was used before: the first event's record and request digest.
    Duplicate {
        record: Box<EventRecord>,
        request_digest: String,
    },
}

/// A user's mobile session on one device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    pub id: SessionId,
    pub user_id: String,
    pub device_id: String,
    /// The device of the app's VoIP token; empty without one.
    pub voip_device_id: String,
    pub created_at: i64,
}

impl SessionRecord {
    fn from_row(row: &AnyRow) -> Result<Self> {
        Ok(Self {
            id: SessionId::from_trusted(row.try_get("id")?),
            user_id: row.try_get("user_id")?,
            device_id: row.try_get("device_id")?,
            voip_device_id: row.try_get("voip_device_id")?,
            created_at: row.try_get("created_at")?,
        })
    }
}

const SESSION_COLUMNS: &str = "id, user_id, device_id, voip_device_id, created_at";

/// A stored trigger; a built-in one changed before triggers had a class takes the class it
/// ships with (an incoming call's is transactional).
fn trigger(row: &sqlx::any::AnyRow) -> Result<Trigger> {
    let mut trigger: Trigger = decode("body", row)?;
    if trigger.builtin
        && trigger.class == 0
        && let Some(shipped) = herald_core::triggers::builtin(&trigger.trigger_id)
    {
        trigger.class = shipped.class;
    }
    Ok(trigger)
}

impl Store {
    /// Stores a trigger as it is (a new one, or a changed one in place of the old).
    pub async fn put_trigger(&self, tenant: &TenantId, trigger: &Trigger) -> Result<()> {
        sqlx::query(
            "INSERT INTO triggers (tenant_id, id, event_type, body, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (tenant_id, id) DO UPDATE SET event_type = excluded.event_type, \
                 body = excluded.body, updated_at = excluded.updated_at",
        )
        .bind(tenant.as_str())
        .bind(&trigger.trigger_id)
        .bind(&trigger.event_type)
        .bind(trigger.encode_to_vec())
        .bind(trigger.created_at_ms)
        .bind(trigger.updated_at_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A stored trigger.
    pub async fn get_trigger(&self, tenant: &TenantId, id: &str) -> Result<Option<Trigger>> {
        let row = sqlx::query("SELECT body FROM triggers WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(id)
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref().map(trigger).transpose()
    }

    /// Deletes a stored trigger; false when there was none.
    pub async fn delete_trigger(&self, tenant: &TenantId, id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM triggers WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The stored triggers in id order, after `after`, optionally of one event type.
    pub async fn list_triggers(
        &self,
        tenant: &TenantId,
        event_type: Option<&str>,
        after: &str,
        limit: u32,
    ) -> Result<Vec<Trigger>> {
        let rows = sqlx::query(
            "SELECT body FROM triggers WHERE tenant_id = $1 AND id > $2 \
             AND ($3 = '' OR event_type = $3) ORDER BY id LIMIT $4",
        )
        .bind(tenant.as_str())
        .bind(after)
        .bind(event_type.unwrap_or(""))
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(trigger).collect()
    }

    /// Stores an event's record, unless its idempotency key was used before.
    pub async fn insert_event(
        &self,
        tenant: &TenantId,
        record: &EventRecord,
        request_digest: &str,
    ) -> Result<InsertedEvent> {
        let key = (!record.idempotency_key.is_empty()).then_some(&record.idempotency_key);
        let done = sqlx::query(
            "INSERT INTO events (tenant_id, id, event_type, idempotency_key, request_digest, \
                 record, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (tenant_id, idempotency_key) DO NOTHING",
        )
        .bind(tenant.as_str())
        .bind(&record.event_id)
        .bind(&record.event_type)
        .bind(key)
        .bind(request_digest)
        .bind(record.encode_to_vec())
        .bind(record.created_at_ms)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 1 {
            return Ok(InsertedEvent::Inserted);
        }
        let key = key.map_or("", String::as_str);
        match self.event_by_key(tenant, key).await? {
            Some((record, request_digest)) => Ok(InsertedEvent::Duplicate {
                record: Box::new(record),
                request_digest,
            }),
            // Pruned between the two statements: store this one after all.
            None => Box::pin(self.insert_event(tenant, record, request_digest)).await,
        }
    }

    /// The event an idempotency key was used for, with its request digest.
    pub async fn event_by_key(
        &self,
        tenant: &TenantId,
        key: &str,
    ) -> Result<Option<(EventRecord, String)>> {
        let row = sqlx::query(
            "SELECT record, request_digest FROM events \
             WHERE tenant_id = $1 AND idempotency_key = $2",
        )
        .bind(tenant.as_str())
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| Ok((decode("record", &row)?, row.try_get("request_digest")?)))
            .transpose()
    }

    /// An event's record.
    pub async fn get_event(&self, tenant: &TenantId, id: &EventId) -> Result<Option<EventRecord>> {
        let row = sqlx::query("SELECT record FROM events WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(id.as_str())
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref().map(|row| decode("record", row)).transpose()
    }

    /// The tenant's events newest first (ids are time-ordered), before `before` (empty: from
    /// the newest), optionally of one type.
    pub async fn list_events(
        &self,
        tenant: &TenantId,
        event_type: Option<&str>,
        before: &str,
        limit: u32,
    ) -> Result<Vec<EventRecord>> {
        let rows = sqlx::query(
            "SELECT record FROM events WHERE tenant_id = $1 AND ($2 = '' OR id < $2) \
             AND ($3 = '' OR event_type = $3) ORDER BY id DESC LIMIT $4",
        )
        .bind(tenant.as_str())
        .bind(before)
        .bind(event_type.unwrap_or(""))
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(|row| decode("record", row)).collect()
    }

    /// Forgets the events published before `before_ms`; answers how many.
    pub async fn prune_events(&self, before_ms: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM events WHERE created_at < $1")
            .bind(before_ms)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// Opens a mobile session for `user_id` on `device_id`, replacing the device's earlier
    /// session (whoever's it was); another session with the same VoIP device loses it (a
    /// PushKit token belongs to one phone: its last login).
    pub async fn start_session(
        &self,
        tenant: &TenantId,
        user_id: &str,
        device_id: &str,
        voip_device_id: &str,
    ) -> Result<SessionRecord> {
        let session = SessionRecord {
            id: SessionId::generate(),
            user_id: user_id.to_owned(),
            device_id: device_id.to_owned(),
            voip_device_id: voip_device_id.to_owned(),
            created_at: now_ms(),
        };
        let mut tx = self.pool.begin().await?;
        if !voip_device_id.is_empty() {
            sqlx::query(
                "UPDATE mobile_sessions SET voip_device_id = '' \
                 WHERE tenant_id = $1 AND voip_device_id = $2 AND device_id <> $3",
            )
            .bind(tenant.as_str())
            .bind(voip_device_id)
            .bind(device_id)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO mobile_sessions (tenant_id, id, user_id, device_id, voip_device_id, \
                 created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (tenant_id, device_id) DO UPDATE SET id = excluded.id, \
                 user_id = excluded.user_id, voip_device_id = excluded.voip_device_id, \
                 created_at = excluded.created_at",
        )
        .bind(tenant.as_str())
        .bind(session.id.as_str())
        .bind(user_id)
        .bind(device_id)
        .bind(voip_device_id)
        .bind(session.created_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(session)
    }

    /// Ends a session; false when there was none.
    pub async fn end_session(&self, tenant: &TenantId, id: &SessionId) -> Result<bool> {
        let done = sqlx::query("DELETE FROM mobile_sessions WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(id.as_str())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The tenant's sessions in id order after `after`, optionally of one user.
    pub async fn list_sessions(
        &self,
        tenant: &TenantId,
        user_id: Option<&str>,
        after: &str,
        limit: u32,
    ) -> Result<Vec<SessionRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM mobile_sessions WHERE tenant_id = $1 AND id > $2 \
             AND ($3 = '' OR user_id = $3) ORDER BY id LIMIT $4"
        ))
        .bind(tenant.as_str())
        .bind(after)
        .bind(user_id.unwrap_or(""))
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(SessionRecord::from_row).collect()
    }

    /// Every session of a user, for an event's mobile-session triggers.
    pub async fn sessions_of_user(
        &self,
        tenant: &TenantId,
        user_id: &str,
    ) -> Result<Vec<SessionRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM mobile_sessions WHERE tenant_id = $1 AND user_id = $2 \
             ORDER BY id"
        ))
        .bind(tenant.as_str())
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(SessionRecord::from_row).collect()
    }
}
