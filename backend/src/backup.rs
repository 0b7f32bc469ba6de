//! `handoff-server backup <file>` and `restore <file>` for SQLite (PostgreSQL: `pg_dump`, see
//! README). Attachments live in the database, so a backup holds them.
//!
//! * **Backup** is online: SQLite's `VACUUM INTO` reads one consistent snapshot of the database
//!   (WAL lets the running server go on writing meanwhile) into a new file beside the target,
//!   which is synced and renamed over it only when whole. An existing file is replaced only with
//!   `--force`. Every message acknowledged before the backup started is in it: an
//!   acknowledgement is sent after its commit.
//! * **Restore** needs every server on the data directory stopped: each running server holds a
//!   shared lock on `<data_dir>/handoff.lock` ([`DataDirLock::shared`], in `db`) and a restore takes it
//!   exclusively, or refuses. The file must be a sound SQLite database of Handoff (integrity
//!   check, its migrations table) from this release or an earlier one (the server migrates it
//!   forward at start). The database it replaces (only with `--force`) is kept beside it as
//!   `handoff.sqlite3.before-restore-<time>`, with its WAL.
//!
//! Secrets in the database (LLM keys, the VAPID key) are sealed with the server's key, which is
//! not in the backup: keep the key file (or `HANDOFF_SECRET_KEY`) with it.
use crate::config::Config;
use crate::db::DataDirLock;
use crate::error::{BackendError, Result};
use sqlx::{Connection, SqliteConnection};
use std::fs::File;
use std::path::{Path, PathBuf};

/// The database file's name in the data directory.
pub const DB_FILE: &str = crate::config::SQLITE_FILE;

/// A refusal or failure, told to the operator as it is (not hidden like an internal error).
fn refuse(msg: impl Into<String>) -> BackendError {
    BackendError::Conflict(msg.into())
}

fn io(e: std::io::Error) -> BackendError {
    refuse(e.to_string())
}

/// The SQLite database file the configuration names (the server's own, see
/// `Config::effective_database_url`).
fn sqlite_only(config: &Config, what: &str) -> Result<PathBuf> {
    crate::db::sqlite_path(&config.effective_database_url()).ok_or_else(|| {
        refuse(format!("`{what}` is for SQLite; on PostgreSQL use pg_dump and pg_restore (see README, Backups)"))
    })
}

/// Makes a rename in `path`'s directory durable.
fn sync_parent(path: &Path) -> Result<()> {
    match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => File::open(dir).and_then(|d| d.sync_all()).map_err(io),
        None => Ok(()),
    }
}

/// A temporary name beside `path` (same directory, so the final rename is atomic).
fn partial(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    path.with_file_name(format!(".{name}.partial-{}", crate::ids::new_id()))
}

async fn open(path: &Path, read_only: bool) -> Result<SqliteConnection> {
    let mode = if read_only { "ro" } else { "rw" };
    SqliteConnection::connect(&format!("sqlite://{}?mode={mode}", path.display()))
        .await
        .map_err(|e| refuse(format!("cannot open {}: {e}", path.display())))
}

/// A consistent copy of the database behind `conn` (its WAL included) written to `temp` and
/// synced to disk; nothing is left at `temp` when it fails.
async fn copy_into(conn: &mut SqliteConnection, temp: &Path) -> Result<()> {
    let copied = async {
        sqlx::query("VACUUM INTO $1")
            .bind(temp.to_string_lossy().to_string())
            .execute(&mut *conn)
            .await
            .map_err(|e| refuse(format!("cannot write {}: {e}", temp.display())))?;
        File::open(temp).and_then(|f| f.sync_all()).map_err(io)
    }
    .await;
    if copied.is_err() {
        let _ = std::fs::remove_file(temp);
    }
    copied
}

/// What a Handoff database holds, for the commands' reports.
async fn describe(conn: &mut SqliteConnection) -> Result<String> {
    let mut counts = Vec::new();
    for table in ["conversations", "messages", "attachments"] {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| refuse(format!("cannot read the database: {e}")))?;
        counts.push(n);
    }
    let (conversations, messages, files) = (counts[0], counts[1], counts[2]);
    Ok(format!("{conversations} conversations, {messages} messages, {files} files"))
}

/// `backup <target>`: see the module's documentation.
pub async fn backup(config: &Config, target: &Path, force: bool) -> Result<String> {
    let source = sqlite_only(config, "backup")?;
    if !source.exists() {
        return Err(refuse(format!("there is no database at {}", source.display())));
    }
    if target.exists() && !force {
        return Err(refuse(format!("{} exists; add --force to replace it", target.display())));
    }
    if target.is_dir() {
        return Err(refuse(format!("{} is a directory; name the backup file", target.display())));
    }
    // Never over the live database (or its WAL): the server would go on writing into a file
    // replaced under it.
    let live = std::fs::canonicalize(&source).map_err(io)?;
    let aimed = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map_or_else(|| std::env::current_dir().map_err(io), |d| std::fs::canonicalize(d).map_err(io))?;
    let name = target.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let live_name = live.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    if Some(aimed.as_path()) == live.parent() && name.starts_with(&live_name) {
        return Err(refuse(format!("{} is the server's own database; name another file", target.display())));
    }
    let temp = partial(target);
    let result = async {
        copy_into(&mut open(&source, false).await?, &temp).await?;
        let report = describe(&mut open(&temp, true).await?).await?;
        std::fs::rename(&temp, target).map_err(io)?;
        sync_parent(target)?;
        Ok::<_, BackendError>(report)
    }
    .await;
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    let report = result?;
    Ok(format!(
        "backup written to {} ({report}); keep the server's key ({}) with it: stored secrets are sealed with it",
        target.display(),
        crate::secrets::key_file(config).display()
    ))
}

/// `restore <source>`: see the module's documentation.
pub async fn restore(config: &Config, source: &Path, force: bool) -> Result<String> {
    let target = sqlite_only(config, "restore")?;
    if !source.is_file() {
        return Err(refuse(format!("there is no backup file at {}", source.display())));
    }
    let _lock = DataDirLock::exclusive(&config.data_dir)?;
    let (report, mut checked) = check_backup(source).await?;
    if target.exists() && !force {
        return Err(refuse(format!(
            "{} already has a database; add --force to replace it (it is kept beside as {DB_FILE}.before-restore-<time>)",
            config.data_dir.display()
        )));
    }
    // A copy read through SQLite (the backup's own WAL, if it has one, included), not its bytes.
    let temp = partial(&target);
    let copied = copy_into(&mut checked, &temp).await;
    drop(checked);
    copied?;
    // The database it replaces and its WAL move aside together; a WAL left without its database
    // moves too (SQLite would replay it into the restored file).
    let stamp = format!("{}-{}", chrono_stamp(), &crate::ids::new_id()[..6]);
    let kept = target.exists().then(|| format!("{}.before-restore-{stamp}", target.display()));
    for suffix in ["", "-wal", "-shm"] {
        let from = PathBuf::from(format!("{}{suffix}", target.display()));
        if from.exists() {
            std::fs::rename(&from, format!("{}.before-restore-{stamp}{suffix}", target.display())).map_err(io)?;
        }
    }
    std::fs::rename(&temp, &target).map_err(io)?;
    sync_parent(&target)?;
    Ok(match kept {
        Some(kept) => format!("restored {} ({report}); the database it replaced is kept as {kept}", target.display()),
        None => format!("restored {} ({report})", target.display()),
    })
}

/// A backup must be a sound SQLite database of Handoff, from this release or an earlier one.
/// Returns what it holds and the connection that checked it.
async fn check_backup(source: &Path) -> Result<(String, SqliteConnection)> {
    let not_ours = || refuse(format!("{} is not a Handoff database backup", source.display()));
    let mut conn = open(source, true).await.map_err(|_| not_ours())?;
    let (check,): (String,) =
        sqlx::query_as("PRAGMA integrity_check(1)").fetch_one(&mut conn).await.map_err(|_| not_ours())?;
    if check != "ok" {
        return Err(refuse(format!("{} is damaged: {check}", source.display())));
    }
    let applied: Vec<(i64,)> = sqlx::query_as("SELECT version FROM _sqlx_migrations WHERE success")
        .fetch_all(&mut conn)
        .await
        .map_err(|_| not_ours())?;
    let known = crate::db::Db::sqlite_migration_versions();
    if applied.is_empty() {
        return Err(not_ours());
    }
    if let Some((newer,)) = applied.iter().find(|(v,)| !known.contains(v)) {
        return Err(refuse(format!(
            "{} comes from a newer release of Handoff (migration {newer}); restore it with that release",
            source.display()
        )));
    }
    let report = describe(&mut conn).await.map_err(|_| not_ours())?;
    Ok((report, conn))
}

/// `2026-12-07-15-30-00`, UTC.
fn chrono_stamp() -> String {
    let ms = crate::ids::now_ms();
    format!("{}-{:02}", crate::ids::utc_time(ms).trim_end_matches(" UTC").replace([' ', ':'], "-"), (ms / 1000) % 60)
}
