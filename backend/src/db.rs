//! The database: SQLite (default, a file in the data dir) or PostgreSQL, behind sqlx's `Any`
//! driver. All SQL is written once, with `$N` placeholders that both engines accept; types are
//! limited to TEXT and 64-bit integers so that both decode alike.
use crate::error::Result;
use sqlx::any::{install_default_drivers, AnyPoolOptions};
use sqlx::AnyPool;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DbKind {
    Sqlite,
    Postgres,
}

/// Two handles on one database. `pool` is for reads; `writer` for everything that writes (a
/// transaction that writes, or an INSERT/UPDATE/DELETE). On PostgreSQL both are the same pool:
/// row locks let writers of different conversations run side by side. On SQLite, which allows one
/// writer at a time, `writer` is a pool of **one** connection: writers wait in the pool's fair
/// queue instead of colliding inside SQLite, whose busy handler sleeps in steps of up to 100 ms
/// and turned a busy moment into a tail of hundreds of milliseconds (BENCHMARKS.md). Readers use
/// the other connections and, with WAL, never wait for the writer.
///
/// Rule for callers: never acquire `writer` while the same task holds a writer transaction —
/// on SQLite that waits for itself (pass the transaction down instead).
#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    pub writer: AnyPool,
    pub kind: DbKind,
}

impl Db {
    /// Connects and runs the migrations of the matching engine.
    pub async fn connect(url: &str) -> Result<Self> {
        install_default_drivers();
        let kind = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            DbKind::Postgres
        } else if url.starts_with("sqlite:") {
            DbKind::Sqlite
        } else {
            return Err(crate::BackendError::Internal(format!(
                "unsupported database URL (use sqlite:// or postgres://): {}",
                url.split('@').next_back().unwrap_or("")
            )));
        };
        let opts = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(10));
        let (pool, writer) = match kind {
            DbKind::Sqlite => {
                let writer = sqlite_options(opts.clone().max_connections(1)).connect(url).await?;
                // Readers: WAL lets them run beside the writer.
                let pool = sqlite_options(opts.max_connections(8)).connect(url).await?;
                (pool, writer)
            }
            DbKind::Postgres => {
                let pool = opts.max_connections(20).connect(url).await?;
                (pool.clone(), pool)
            }
        };
        let db = Self { pool, writer, kind };
        db.migrate().await?;
        Ok(db)
    }

    async fn migrate(&self) -> Result<()> {
        match self.kind {
            DbKind::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&self.writer).await?,
            DbKind::Postgres => sqlx::migrate!("./migrations/postgres").run(&self.writer).await?,
        }
        Ok(())
    }
}

/// Every SQLite connection: WAL, a busy timeout (another process, e.g. a second server started
/// by mistake, may still hold the lock), foreign keys.
fn sqlite_options(opts: AnyPoolOptions) -> AnyPoolOptions {
    opts.after_connect(|conn, _| {
        Box::pin(async move {
            sqlx::query("PRAGMA journal_mode = WAL").execute(&mut *conn).await?;
            sqlx::query("PRAGMA busy_timeout = 10000").execute(&mut *conn).await?;
            sqlx::query("PRAGMA foreign_keys = ON").execute(&mut *conn).await?;
            Ok(())
        })
    })
}
