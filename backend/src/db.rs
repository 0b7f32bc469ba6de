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

#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
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
        let mut opts = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(10));
        opts = match kind {
            // One writer at a time anyway; a few readers. WAL lets readers run beside the writer.
            DbKind::Sqlite => opts.max_connections(8).after_connect(|conn, _| {
                Box::pin(async move {
                    sqlx::query("PRAGMA journal_mode = WAL").execute(&mut *conn).await?;
                    sqlx::query("PRAGMA busy_timeout = 10000").execute(&mut *conn).await?;
                    sqlx::query("PRAGMA foreign_keys = ON").execute(&mut *conn).await?;
                    Ok(())
                })
            }),
            DbKind::Postgres => opts.max_connections(20),
        };
        let pool = opts.connect(url).await?;
        let db = Self { pool, kind };
        db.migrate().await?;
        Ok(db)
    }

    async fn migrate(&self) -> Result<()> {
        match self.kind {
            DbKind::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&self.pool).await?,
            DbKind::Postgres => sqlx::migrate!("./migrations/postgres").run(&self.pool).await?,
        }
        Ok(())
    }
}
