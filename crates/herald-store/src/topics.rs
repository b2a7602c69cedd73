//! Topics: named audiences by interest, and who is subscribed to each — single devices, or
//! users (a user's subscription covers every device of the user, present and future).

use herald_core::ids::TenantId;
use herald_core::time::now_ms;
use herald_core::topics::Subscriber;
use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::{Result, Store};

/// The `kind` column's spelling and the `subscriber` column's value.
fn columns(who: &Subscriber) -> (&'static str, &str) {
    match who {
        Subscriber::Device(id) => ("device", id.as_str()),
        Subscriber::User(user) => ("user", user.as_str()),
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicRecord {
    pub name: String,
    pub description: String,
    pub created_at: i64,
    /// Subscriptions: devices subscribed directly plus users subscribed.
    pub subscriber_count: u64,
}

impl TopicRecord {
    fn from_row(row: &AnyRow) -> Result<Self> {
        let count: i64 = row.try_get("subscriber_count")?;
        Ok(Self {
            name: row.try_get("name")?,
            description: row.try_get("description")?,
            created_at: row.try_get("created_at")?,
            subscriber_count: u64::try_from(count).unwrap_or_default(),
        })
    }
}

/// What came of a subscribe or unsubscribe call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subscription {
    /// The subscription was made (or removed).
    Changed,
    /// It was already so: subscribed twice, or unsubscribed when not subscribed.
    Unchanged,
    /// The tenant has no topic of that name.
    NoTopic,
}

const TOPIC_COLUMNS: &str = "t.name, t.description, t.created_at, \
     (SELECT COUNT(*) FROM topic_subscriptions s \
      WHERE s.tenant_id = t.tenant_id AND s.topic = t.name) AS subscriber_count";

impl Store {
    /// Creates a topic; `None` when the tenant already has one of that name.
    pub async fn create_topic(
        &self,
        tenant: &TenantId,
        name: &str,
        description: &str,
    ) -> Result<Option<TopicRecord>> {
        let now = now_ms();
        let done = sqlx::query(
            "INSERT INTO topics (tenant_id, name, description, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant_id, name) DO NOTHING",
        )
        .bind(tenant.as_str())
        .bind(name)
        .bind(description)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok((done.rows_affected() == 1).then(|| TopicRecord {
            name: name.to_owned(),
            description: description.to_owned(),
            created_at: now,
            subscriber_count: 0,
        }))
    }

    /// Deletes a topic and its subscriptions; whether there was one.
    pub async fn delete_topic(&self, tenant: &TenantId, name: &str) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM topic_subscriptions WHERE tenant_id = $1 AND topic = $2")
            .bind(tenant.as_str())
            .bind(name)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM topics WHERE tenant_id = $1 AND name = $2")
            .bind(tenant.as_str())
            .bind(name)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Topics in name order, after `after`, with their subscription counts.
    pub async fn list_topics(
        &self,
        tenant: &TenantId,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<TopicRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {TOPIC_COLUMNS} FROM topics t \
             WHERE t.tenant_id = $1 AND t.name > $2 ORDER BY t.name LIMIT $3"
        ))
        .bind(tenant.as_str())
        .bind(after.unwrap_or(""))
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(TopicRecord::from_row).collect()
    }

    /// Subscribes `who` to the tenant's topic `topic`.
    pub async fn subscribe(
        &self,
        tenant: &TenantId,
        topic: &str,
        who: &Subscriber,
    ) -> Result<Subscription> {
        let (kind, subscriber) = columns(who);
        // Only where the topic exists: one statement, so a concurrent delete cannot leave an
        // orphan subscription behind.
        let done = sqlx::query(
            "INSERT INTO topic_subscriptions (tenant_id, topic, kind, subscriber, created_at) \
             SELECT tenant_id, name, $3, $4, $5 FROM topics WHERE tenant_id = $1 AND name = $2 \
             ON CONFLICT (tenant_id, topic, kind, subscriber) DO NOTHING",
        )
        .bind(tenant.as_str())
        .bind(topic)
        .bind(kind)
        .bind(subscriber)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        self.outcome(tenant, topic, done.rows_affected()).await
    }

    /// Removes `who`'s subscription to the tenant's topic `topic`.
    pub async fn unsubscribe(
        &self,
        tenant: &TenantId,
        topic: &str,
        who: &Subscriber,
    ) -> Result<Subscription> {
        let (kind, subscriber) = columns(who);
        let done = sqlx::query(
            "DELETE FROM topic_subscriptions \
             WHERE tenant_id = $1 AND topic = $2 AND kind = $3 AND subscriber = $4",
        )
        .bind(tenant.as_str())
        .bind(topic)
        .bind(kind)
        .bind(subscriber)
        .execute(&self.pool)
        .await?;
        self.outcome(tenant, topic, done.rows_affected()).await
    }

    /// Whether the tenant has a topic of that name.
    pub async fn topic_exists(&self, tenant: &TenantId, topic: &str) -> Result<bool> {
        Ok(
            sqlx::query("SELECT 1 AS one FROM topics WHERE tenant_id = $1 AND name = $2")
                .bind(tenant.as_str())
                .bind(topic)
                .fetch_optional(&self.reader)
                .await?
                .is_some(),
        )
    }

    /// What a statement that changed `changed` subscriptions to `topic` came to.
    async fn outcome(&self, tenant: &TenantId, topic: &str, changed: u64) -> Result<Subscription> {
        if changed == 1 {
            return Ok(Subscription::Changed);
        }
        Ok(if self.topic_exists(tenant, topic).await? {
            Subscription::Unchanged
        } else {
            Subscription::NoTopic
        })
    }
}
