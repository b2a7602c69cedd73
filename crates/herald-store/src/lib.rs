//! Herald's SQL store through sqlx: PostgreSQL for deployments, SQLite as the embedded default.
//!
//! One set of queries serves both backends through sqlx's `Any` driver (both accept `$N`
//! placeholders, `ON CONFLICT` and `RETURNING`), and so does the schema. Every query takes the
//! tenant, so no call can reach another tenant's rows.
#![forbid(unsafe_code)]

mod caps;
mod credentials;
mod customers;
mod deliveries;
mod devices;
mod events;
mod fanouts;
mod limits;
mod messages;
mod recall;
mod segments;
mod stats;
mod tenants;
mod topics;
mod webhooks;

use std::str::FromStr;
use std::time::Duration;

use herald_core::names::Named;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor, Row as _};

pub use credentials::{CredentialCache, CredentialError, CredentialRecord, SealedCredential};
pub use customers::{CustomerDevices, CustomerRecord};
pub use deliveries::{
    Claims, DeliveryRecord, FailedMessage, NewDelivery, ReceiptUpdate, RoutedMessage,
};
pub use devices::{
    DeviceFilter, DeviceProfile, DeviceRecord, ImportDevice, Imported, LAST_ACTIVE_PRECISION_MS,
};
pub use events::{InsertedEvent, SessionRecord};
pub use fanouts::{Cursor, FanoutEnd, FanoutJob, PageRecorded, Position, Source};
pub use messages::{InsertedMessage, MessageRecord, NewMessage, ReportContext, UnpublishedMessage};
pub use recall::{RECALLED_ATTEMPT, RecalledDelivery};
pub use segments::SegmentRecord;
pub use stats::DailyCounts;
pub use tenants::{ApiKeyRecord, LiveKey, SettingsCache, TenantRecord, TenantSettings};
pub use topics::{Subscription, TopicRecord};
pub use webhooks::{AttemptRecord, SealedWebhook, StoredWebhook, WebhookRecord};

/// A store failure; the API answers it as an internal error and logs the detail.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL (expected sqlite:… or postgres://…)")]
    UnsupportedUrl,
    /// A row holds what Herald never writes: decoding it would only hide the damage.
    #[error("column {column} holds {value:?}, which is not a valid value")]
    Corrupt { column: &'static str, value: String },
}

impl StoreError {
    /// Whether the database is out of reach or busy (every statement would fail alike, and a
    /// later try will pass), rather than this statement failing for what it holds.
    pub fn is_outage(&self) -> bool {
        let Self::Database(err) = self else {
            return false;
        };
        match err {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(db) => db.code().is_some_and(|code| transient_code(&code)),
            _ => false,
        }
    }
}

/// A database error code that passes by itself: PostgreSQL's connection exceptions (08…),
/// insufficient resources (53…), operator intervention (57P…: a terminated connection, a
/// server shutting down or starting), serialization failures and deadlocks; SQLite's busy,
/// locked, I/O, full and cannot-open (primary codes 5, 6, 10, 13 and 14).
fn transient_code(code: &str) -> bool {
    // SQLSTATEs have five characters; SQLite's (extended) codes are numbers below 10,000.
    if code.len() < 5
        && let Ok(sqlite) = code.parse::<u32>()
    {
        return [5, 6, 10, 13, 14].contains(&(sqlite & 0xff));
    }
    ["08", "53", "57P"]
        .iter()
        .any(|class| code.starts_with(class))
        || code == "40001"
        || code == "40P01"
}

impl From<StoreError> for herald_core::Error {
    fn from(err: StoreError) -> Self {
        if err.is_outage() {
            herald_core::Error::unavailable(err)
        } else {
            herald_core::Error::internal(err)
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Bulk statements take their rows as one JSON array parameter rather than a placeholder per
/// value: the statement text stays the same whatever the row count, so each connection
/// prepares it once, and SQLite does not look up thousands of numbered parameters by name
/// (quadratic in their count).
impl Backend {
    /// A `FROM` item with one row per element of the JSON array bound as `$n`, as `j.value`.
    fn json_rows(self, n: usize) -> String {
        match self {
            Self::Sqlite => format!("json_each(${n}) AS j"),
            Self::Postgres => format!("jsonb_array_elements(${n}::jsonb) AS j(value)"),
        }
    }

    /// The bytes of a hex text.
    fn unhex(self, expr: &str) -> String {
        match self {
            Self::Sqlite => format!("unhex({expr})"),
            Self::Postgres => format!("decode({expr}, 'hex')"),
        }
    }
}

/// Element `i` of a [`Backend::json_rows`] row, as text.
fn text(i: usize) -> String {
    format!("j.value ->> {i}")
}

/// Element `i` of a [`Backend::json_rows`] row, as an integer.
fn int(i: usize) -> String {
    format!("CAST(j.value ->> {i} AS BIGINT)")
}

/// Rows for a [`Backend::json_rows`] parameter (tuples serialise as arrays).
fn json(rows: &impl serde::Serialize) -> String {
    serde_json::to_string(rows).expect("rows of strings and integers serialise")
}

/// The enum spelled in `column` of `row`.
fn decode<T: Named>(row: &AnyRow, column: &'static str) -> Result<T> {
    let value: String = row.try_get(column)?;
    T::from_name(&value).ok_or(StoreError::Corrupt { column, value })
}

/// Which database a store talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn of_url(url: &str) -> Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl)
        }
    }
}

/// The store: connection pools for writes and reads (one and the same on PostgreSQL). Cheap
/// to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    reader: AnyPool,
    backend: Backend,
}

impl Store {
    /// Connects to `url` and applies pending migrations.
    ///
    /// SQLite runs in WAL mode with one writer connection and a pool of readers: SQLite has one
    /// writer at a time, and queueing writes on one connection in-process is far cheaper than
    /// connections contending for the lock (SQLite's busy handler sleeps 1 to 100 ms per try);
    /// WAL readers never block the writer nor wait for it.
    pub async fn connect(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of_url(url)?;
        let options = AnyConnectOptions::from_str(url)?;
        let (pool, reader) = match backend {
            Backend::Sqlite => {
                create_private(url)?;
                let pool = sqlite_pool(1)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            sqlite_pragmas(conn).await?;
                            // Checkpoints run beside the writer (see `checkpoints`), not in it.
                            conn.execute("PRAGMA wal_autocheckpoint = 0").await?;
                            Ok(())
                        })
                    })
                    .connect_with(options.clone())
                    .await?;
                let reader = sqlite_pool(4)
                    .after_connect(|conn, _| Box::pin(async move { sqlite_pragmas(conn).await }))
                    .connect_with(options)
                    .await?;
                tokio::spawn(checkpoints(reader.clone()));
                (pool, reader)
            }
            Backend::Postgres => {
                // Plan each execution for the table as it is now. A generic plan cached while
                // the tables are small (a new deployment, a fresh database) is kept until
                // ANALYZE runs; for the bulk receipt UPDATE it was a hash join over a full scan
                // of deliveries, which slows down as the table grows.
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute("SET plan_cache_mode = force_custom_plan")
                                .await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?;
                (pool.clone(), pool)
            }
        };
        let store = Self {
            pool,
            reader,
            backend,
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<()> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    /// Closes every connection (on shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
        self.reader.close().await;
    }
}

/// Creates the SQLite database of `url`, when it may create one and the file is missing, as a
/// file only its owner can read (0600, like the key files): it holds API key hashes, sealed
/// credentials and every message. SQLite gives the WAL and shared-memory files the database
/// file's mode.
fn create_private(url: &str) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)?;
    let path = options.get_filename();
    let creates = url.contains("mode=rwc");
    if !creates || path.as_os_str().is_empty() || path.as_os_str() == ":memory:" || path.exists() {
        return Ok(());
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(err) => Err(StoreError::Database(sqlx::Error::Io(err))),
    }
}

/// A pool of SQLite connections.
fn sqlite_pool(connections: u32) -> AnyPoolOptions {
    AnyPoolOptions::new().max_connections(connections)
}

/// How long a statement waits for a lock before it fails as busy.
const BUSY_TIMEOUT_MS: u32 = 10_000;

/// WAL mode with a generous busy timeout.
async fn sqlite_pragmas(conn: &mut sqlx::AnyConnection) -> Result<(), sqlx::Error> {
    conn.execute("PRAGMA journal_mode = WAL").await?;
    conn.execute("PRAGMA synchronous = NORMAL").await?;
    conn.execute(format!("PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}").as_str())
        .await?;
    // Deliveries are keyed by random ids, so a busy table is written and read all over: its
    // pages come from SQLite's own cache (16 MiB per connection rather than 2), not a read()
    // each.
    conn.execute("PRAGMA cache_size = -16384").await?;
    conn.execute(format!("PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}").as_str())
        .await?;
    Ok(())
}

/// How often the WAL is copied back into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// The WAL size (in pages of 4 KiB) past which a checkpoint waits for the readers to leave it
/// so the next write starts it over from the beginning.
const WAL_RESTART_PAGES: i64 = 16_384;

/// The size SQLite truncates the WAL file to when it starts it over (64 MiB): without it the
/// file keeps the largest size it ever had.
const WAL_SIZE_LIMIT: i64 = 64 * 1024 * 1024;

/// Copies the SQLite WAL back into the database from a reader connection, until the store
/// closes. SQLite's automatic checkpoint would run inside the commit that crosses its threshold,
/// holding the one writer connection (and every write queued behind it) for the copy and the
/// fsync; a passive checkpoint beside it lets writes go on.
///
/// A passive checkpoint never starts the WAL over while some reader still reads from it, and
/// under constant load some reader always does: the WAL then only grows (to gigabytes over a
/// long run). Once the WAL holds more than [`WAL_RESTART_PAGES`], the checkpoint is a
/// restarting one: it waits (briefly; readers' transactions are short) until every reader
/// reads from the database file, so the writer's next commit starts the WAL from its beginning
/// and truncates it to [`WAL_SIZE_LIMIT`].
async fn checkpoints(reader: AnyPool) {
    let mut ticker = tokio::time::interval(CHECKPOINT_EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut restart = false;
    loop {
        ticker.tick().await;
        if reader.is_closed() {
            return;
        }
        let mode = if restart { "RESTART" } else { "PASSIVE" };
        match checkpoint(&reader, restart).await {
            // (busy, pages in the WAL, pages copied back); a restart that was not kept waiting
            // too long leaves the WAL to start over at the next write.
            Ok(row) => {
                let busy: i64 = row.try_get(0).unwrap_or_default();
                let pages: i64 = row.try_get(1).unwrap_or_default();
                restart = if restart {
                    busy != 0
                } else {
                    pages > WAL_RESTART_PAGES
                };
            }
            Err(_) if reader.is_closed() => return,
            Err(err) => tracing::warn!(%err, mode, "SQLite checkpoint failed; retrying"),
        }
    }
}

/// How long a restarting checkpoint may hold the writer back while it waits for readers to
/// leave the WAL; one that waits longer gives up (`busy`) and is tried again at the next tick.
const RESTART_PATIENCE_MS: u32 = 100;

/// One checkpoint on a connection of `reader`: passive, or restarting with a short busy
/// timeout (a restarting checkpoint takes the write lock first, so its wait holds up writes).
async fn checkpoint(reader: &AnyPool, restart: bool) -> Result<AnyRow, sqlx::Error> {
    if !restart {
        return sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(reader)
            .await;
    }
    let mut conn = reader.acquire().await?;
    conn.execute(format!("PRAGMA busy_timeout = {RESTART_PATIENCE_MS}").as_str())
        .await?;
    let row = sqlx::query("PRAGMA wal_checkpoint(RESTART)")
        .fetch_one(&mut *conn)
        .await;
    if let Err(err) = conn
        .execute(format!("PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}").as_str())
        .await
    {
        // A connection left this impatient must not serve other statements.
        conn.close_on_drop();
        return Err(err);
    }
    row
}

/// The migrations in `migrations/`, compiled into the binary: one file per migration, named
/// `<version>_<description>.sql`. One set serves both backends: the schema sticks to types both
/// understand (TEXT, BIGINT, and BYTEA, under which SQLite stores blobs unchanged).
static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

#[cfg(test)]
mod tests;
