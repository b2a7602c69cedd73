//! A fresh database per test: a SQLite file in a temporary directory, or a new PostgreSQL
//! database on the server named by `HERALD_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`), dropped when the test ends.

use sqlx::{Connection, Executor, PgConnection};

/// Which backend a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database that exists for one test.
#[derive(Debug)]
pub struct TestDatabase {
    pub url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Dir(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

/// The PostgreSQL server tests use.
pub fn postgres_admin_url() -> String {
    std::env::var("HERALD_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

impl TestDatabase {
    pub async fn new(backend: Backend) -> anyhow::Result<Self> {
        match backend {
            Backend::Sqlite => Self::sqlite(),
            Backend::Postgres => Self::postgres().await,
        }
    }

    pub fn sqlite() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("herald.db").display()
        );
        Ok(Self {
            url,
            cleanup: Cleanup::Dir(dir),
        })
    }

    pub async fn postgres() -> anyhow::Result<Self> {
        Self::postgres_on(&postgres_admin_url()).await
    }

    /// A new database on the PostgreSQL server that `admin_url` reaches.
    pub async fn postgres_on(admin_url: &str) -> anyhow::Result<Self> {
        let admin_url = admin_url.to_owned();
        let name = format!("herald_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::connect(&admin_url).await.map_err(|e| {
            anyhow::anyhow!("PostgreSQL at {admin_url} is needed for this test: {e}")
        })?;
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await?;
        conn.close().await?;
        let base = admin_url
            .rsplit_once('/')
            .map(|(b, _)| b)
            .unwrap_or(&admin_url);
        Ok(Self {
            url: format!("{base}/{name}"),
            cleanup: Cleanup::Postgres { admin_url, name },
        })
    }
}

/// Takes the database of `url` away from its clients for `down`: on PostgreSQL every other
/// connection to it is terminated, again and again; SQLite is locked for writing.
pub async fn outage(url: &str, down: std::time::Duration) -> anyhow::Result<()> {
    let until = std::time::Instant::now() + down;
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await?;
        conn.execute("BEGIN EXCLUSIVE").await?;
        tokio::time::sleep_until(until.into()).await;
        conn.execute("ROLLBACK").await?;
        return Ok(());
    }
    let mut conn = PgConnection::connect(url).await?;
    while std::time::Instant::now() < until {
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .await?;
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Ok(())
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop runs inside the test's runtime; a thread with its own runtime can block.
            let dropped = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                rt.block_on(async {
                    let mut conn = PgConnection::connect(&admin_url).await?;
                    conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                        .await?;
                    anyhow::Ok(())
                })
            })
            .join();
            if !matches!(dropped, Ok(Ok(()))) {
                eprintln!("could not drop test database {}", self.url);
            }
        }
    }
}
