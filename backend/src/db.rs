//! The database: SQLite (default, a file in the data dir) or PostgreSQL, behind sqlx's `Any`
//! driver. All SQL is written once, with `$N` placeholders that both engines accept; types are
//! limited to TEXT and 64-bit integers so that both decode alike.
use crate::error::{BackendError, Result};
use futures::future::BoxFuture;
use futures::FutureExt;
use prometheus_client::metrics::histogram::Histogram;
use sqlx::any::{install_default_drivers, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, Connection};
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DbKind {
    Sqlite,
    Postgres,
}

impl DbKind {
    /// The clause that ends a `SELECT` locking its rows until the transaction ends (`mode`:
    /// `UPDATE`, exclusive, or `SHARE`): PostgreSQL's `FOR …`; nothing on SQLite, whose writes
    /// run one at a time anyway.
    pub fn row_lock(self, mode: &str) -> String {
        match self {
            DbKind::Postgres => format!(" FOR {mode}"),
            DbKind::Sqlite => String::new(),
        }
    }
}

/// Two handles on one database. `pool` is for reads; `writer` for everything that writes (a
/// transaction that writes, or an INSERT/UPDATE/DELETE). On PostgreSQL both are the same pool:
/// row locks let writers of different conversations run side by side. On SQLite, which allows one
/// writer at a time, `writer` is a pool of **one** connection: writers wait in the pool's fair
/// queue instead of colliding inside SQLite, whose busy handler sleeps in steps of up to 100 ms
/// and turned a busy moment into a tail of hundreds of milliseconds (BENCHMARKS.md). Readers use
/// the other connections and, with WAL, never wait for the writer.
///
/// The hot writes (messages, handoff transitions, notifications) go through [`Db::write`]
/// instead, which on SQLite commits many of them together (group commit, see there).
///
/// Rule for callers: never acquire `writer`, nor call [`Db::write`], while the same task holds a
/// writer transaction or runs inside a `write` job — on SQLite that waits for itself (pass the
/// transaction or connection down instead).
#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    pub writer: AnyPool,
    pub kind: DbKind,
    /// SQLite only: the queue of the task that runs [`Db::write`] jobs in shared transactions.
    batch: Option<mpsc::UnboundedSender<Job>>,
    /// Commits of [`Db::write`] jobs so far (SQLite: batches), for benchmarks and tests.
    commits: Arc<AtomicU64>,
    /// How long writes waited for the writer before they could start (see [`crate::metrics`]).
    pub write_wait: Histogram,
    /// SQLite only: the database file as opened (path, and on Unix its device and inode), to
    /// tell when it is gone or replaced under the running server ([`Db::file_in_place`]).
    file: Option<(PathBuf, u64, u64)>,
}

/// What a [`Db::write`] job decided: keep its writes, or undo them (the value goes back to the
/// caller either way; a kept one only once it is committed).
pub enum Done<T> {
    Commit(T),
    Rollback(T),
}

/// At most this many jobs share one commit, which bounds how long the first of them waits.
const MAX_BATCH: usize = 64;

/// Called once the batch a job ran in is committed (`Ok`) or was undone (`Err`, why).
type Finish = Box<dyn FnOnce(std::result::Result<(), String>) + Send>;
/// A type-erased [`Db::write`] job: runs on the writer connection inside a savepoint (or is told
/// why it cannot run), says whether to keep its writes, and hands back what to do once the batch
/// ends.
type Job =
    Box<dyn for<'c> FnOnce(std::result::Result<&'c mut AnyConnection, String>) -> BoxFuture<'c, (bool, Finish)> + Send>;

impl Db {
    /// Connects and runs the migrations of the matching engine.
    pub async fn connect(url: &str) -> Result<Self> {
        install_default_drivers();
        let kind = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            DbKind::Postgres
        } else if url.starts_with("sqlite:") {
            DbKind::Sqlite
        } else {
            return Err(BackendError::Internal(format!(
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
        let commits = Arc::new(AtomicU64::new(0));
        let batch = (kind == DbKind::Sqlite).then(|| {
            let (queue, jobs) = mpsc::unbounded_channel();
            tokio::spawn(run_batches(writer.clone(), jobs, commits.clone()));
            queue
        });
        let write_wait = crate::metrics::seconds_histogram();
        let file = match kind {
            DbKind::Sqlite => sqlite_file(url),
            DbKind::Postgres => None,
        };
        let db = Self { pool, writer, kind, batch, commits, write_wait, file };
        db.migrate().await?;
        Ok(db)
    }

    /// SQLite: whether the database file this process opened is still at its path (not
    /// deleted, moved away or replaced by another file — the server would go on writing into a
    /// file nobody will open again). Always true on PostgreSQL and for an in-memory database.
    pub fn file_in_place(&self) -> bool {
        let Some((path, dev, ino)) = &self.file else {
            return true;
        };
        match std::fs::metadata(path) {
            Ok(meta) => file_identity(&meta) == (*dev, *ino),
            Err(_) => false,
        }
    }

    /// This release's migrations for the engine.
    fn migrator(&self) -> &'static sqlx::migrate::Migrator {
        match self.kind {
            DbKind::Sqlite => &SQLITE_MIGRATIONS,
            DbKind::Postgres => &POSTGRES_MIGRATIONS,
        }
    }

    /// The versions of this release's SQLite migrations.
    pub fn sqlite_migration_versions() -> Vec<i64> {
        SQLITE_MIGRATIONS.iter().map(|m| m.version).collect()
    }

    /// The versions of this release's migrations that the database does not record as applied
    /// (empty when it is up to date; the server applies them at start).
    pub async fn missing_migrations(&self) -> Result<Vec<i64>> {
        let applied: Vec<(i64,)> =
            sqlx::query_as("SELECT version FROM _sqlx_migrations WHERE success").fetch_all(&self.pool).await?;
        Ok(self.migrator().iter().map(|m| m.version).filter(|v| !applied.iter().any(|(a,)| a == v)).collect())
    }

    /// Runs `job` in a write transaction and returns its value once its writes are committed
    /// (or at once, for [`Done::Rollback`] and errors, which leave nothing behind).
    ///
    /// On PostgreSQL each job is a transaction of its own (the server groups concurrent commits
    /// itself). On SQLite, where every commit waits for the disk and only one writer runs at a
    /// time, one task runs the queued jobs one after another inside a single transaction, each in
    /// a savepoint of its own, and commits them together: throughput is bounded by the
    /// statements, not by one disk flush per message. A job that fails or asks for a rollback
    /// undoes only its own savepoint; if the shared commit fails, every job of the batch gets
    /// the error, so nothing is reported stored that was not. The job must not wait for another
    /// write (see the rule on [`Db`]).
    pub async fn write<T, F>(&self, job: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, Result<Done<T>>> + Send + 'static,
    {
        let Some(queue) = &self.batch else {
            let asked = Instant::now();
            let mut tx = self.writer.begin().await?;
            self.write_wait.observe(asked.elapsed().as_secs_f64());
            return match job(&mut tx).await? {
                Done::Commit(value) => {
                    tx.commit().await?;
                    self.commits.fetch_add(1, Ordering::Relaxed);
                    Ok(value)
                }
                Done::Rollback(value) => {
                    tx.rollback().await?;
                    Ok(value)
                }
            };
        };
        let (reply, answer) = oneshot::channel::<Result<T>>();
        let (asked, write_wait) = (Instant::now(), self.write_wait.clone());
        let erased: Job = Box::new(move |conn| {
            Box::pin(async move {
                write_wait.observe(asked.elapsed().as_secs_f64());
                let outcome = match conn {
                    Ok(conn) => AssertUnwindSafe(job(conn))
                        .catch_unwind()
                        .await
                        .unwrap_or_else(|_| Err(BackendError::Internal("a database write panicked".into()))),
                    Err(why) => Err(BackendError::Internal(why)),
                };
                let keep = matches!(outcome, Ok(Done::Commit(_)));
                let finish: Finish = Box::new(move |batch| {
                    let result = match (outcome, batch) {
                        (Ok(Done::Commit(value)), Ok(())) => Ok(value),
                        (Ok(Done::Commit(_)), Err(why)) => Err(BackendError::Internal(why)),
                        (Ok(Done::Rollback(value)), _) => Ok(value),
                        (Err(e), _) => Err(e),
                    };
                    let _ = reply.send(result);
                });
                (keep, finish)
            })
        });
        let stopped = || BackendError::Internal("the database writer has stopped".into());
        queue.send(erased).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// A write transaction on `writer` outside [`Db::write`] (rarer writes: settings, users,
    /// the outbox). On SQLite it starts IMMEDIATE, taking the write lock before its first read:
    /// a deferred one that reads and then writes fails at once with SQLITE_BUSY when another
    /// process (a second server on the same file) wrote in between, instead of waiting.
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        let asked = Instant::now();
        let tx = match self.kind {
            DbKind::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await?,
            DbKind::Postgres => self.writer.begin().await?,
        };
        self.write_wait.observe(asked.elapsed().as_secs_f64());
        Ok(tx)
    }

    /// How many commits [`Db::write`] has made (on SQLite one per batch of jobs).
    pub fn write_commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    async fn migrate(&self) -> Result<()> {
        self.repair_edited_migrations().await?;
        self.migrator().run(&self.writer).await?;
        Ok(())
    }
}

/// Migrations whose file was edited after a release had applied it: (version, the SHA-384 of the
/// released file per engine, what brings such a database level with the edited file). sqlx
/// refuses to start on a checksum it does not know ("previously applied but has been
/// modified"), so [`Db::repair_edited_migrations`] applies the difference and records the
/// current checksum first. 0013 (labels) gained two indexes after the release of 8b237f6 had
/// shipped it; `server/tests/api/upgrade.rs` keeps a database of that release.
const EDITED_MIGRATIONS: [(i64, &str, &str, &str); 1] = [(
    13,
    "1788fd0323b2632f61bf95ece43a993d430d069f976d912a29a43ba83b3a7bf595ff2f4dc8d3a8012c7222f86cc439af",
    "a9166aaa9439ad6e23a34ba8236f58c496111760d60cf8245a282c31b6ac7f5b0f69fb6d9314ebbead99892e97e0999d",
    "CREATE INDEX IF NOT EXISTS conversations_org_labels_at ON conversations(org_id, labels_at);
     CREATE INDEX IF NOT EXISTS conversations_agent_labels_at ON conversations(agent_id, labels_at);",
)];

impl Db {
    /// See [`EDITED_MIGRATIONS`]: a database that applied a since-edited migration's released
    /// file gets the difference and the current checksum, in one transaction. Nothing happens
    /// on a new database or one that applied the current file.
    async fn repair_edited_migrations(&self) -> Result<()> {
        for (version, sqlite_sum, postgres_sum, difference) in EDITED_MIGRATIONS {
            let released = match self.kind {
                DbKind::Sqlite => sqlite_sum,
                DbKind::Postgres => postgres_sum,
            };
            // No table yet (a new database): nothing to repair.
            let Ok(Some((stored,))) =
                sqlx::query_as::<_, (Vec<u8>,)>("SELECT checksum FROM _sqlx_migrations WHERE version = $1")
                    .bind(version)
                    .fetch_optional(&self.pool)
                    .await
            else {
                continue;
            };
            if hex::encode(&stored) != released {
                continue;
            }
            let Some(current) = self.migrator().iter().find(|m| m.version == version) else {
                continue;
            };
            let mut tx = self.begin_write().await?;
            for statement in difference.split(';').map(str::trim).filter(|s| !s.is_empty()) {
                sqlx::query(sqlx::AssertSqlSafe(statement.to_string())).execute(&mut *tx).await?;
            }
            sqlx::query("UPDATE _sqlx_migrations SET checksum = $2 WHERE version = $1")
                .bind(version)
                .bind(current.checksum.to_vec())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            tracing::info!(version, "brought a since-edited migration level with this release");
        }
        Ok(())
    }
}

/// The lock file's name in the data directory.
pub const LOCK_FILE: &str = "handoff.lock";

/// A lock on a SQLite data directory, held while the value lives: a server holds it shared while
/// it runs, `backup::restore` exclusively.
pub struct DataDirLock(#[allow(dead_code)] std::fs::File);

impl DataDirLock {
    fn open(data_dir: &std::path::Path) -> Result<std::fs::File> {
        let refuse = BackendError::Conflict;
        std::fs::create_dir_all(data_dir)
            .map_err(|e| refuse(format!("cannot create the data directory {}: {e}", data_dir.display())))?;
        let path = data_dir.join(LOCK_FILE);
        std::fs::File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| refuse(format!("cannot open {}: {e}", path.display())))
    }

    /// A running server's lock: shared (several processes may serve one SQLite file); refused
    /// while a restore holds it.
    pub fn shared(data_dir: &std::path::Path) -> Result<Self> {
        Self::take(data_dir, false, || {
            format!("a restore into {} is under way; start the server when it is done", data_dir.display())
        })
    }

    /// A restore's lock: exclusive; refused while any server runs on the directory.
    pub fn exclusive(data_dir: &std::path::Path) -> Result<Self> {
        Self::take(data_dir, true, || {
            format!(
                "a server is running on {}: stop every server process first (a restore replaces its database)",
                data_dir.display()
            )
        })
    }

    /// Takes the lock without waiting: `held` says why when another process holds it.
    fn take(data_dir: &std::path::Path, exclusive: bool, held: impl FnOnce() -> String) -> Result<Self> {
        let file = Self::open(data_dir)?;
        let taken = if exclusive { file.try_lock() } else { file.try_lock_shared() };
        taken.map_err(|e| match e {
            std::fs::TryLockError::WouldBlock => BackendError::Conflict(held()),
            std::fs::TryLockError::Error(e) => {
                BackendError::Conflict(format!("cannot lock {}: {e}", data_dir.display()))
            }
        })?;
        Ok(Self(file))
    }
}

/// The file of a `sqlite:` URL (`None` for another engine or an in-memory database).
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// The file of a `sqlite://path?…` URL and its identity now (`None` in memory or if missing).
fn sqlite_file(url: &str) -> Option<(PathBuf, u64, u64)> {
    let path = sqlite_path(url)?;
    let (dev, ino) = file_identity(&std::fs::metadata(&path).ok()?);
    Some((path, dev, ino))
}

#[cfg(unix)]
fn file_identity(meta: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

#[cfg(not(unix))]
fn file_identity(_: &std::fs::Metadata) -> (u64, u64) {
    (0, 0)
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

/// The SQLite group-commit task: takes the queued jobs in arrival order, runs as many as are
/// waiting (up to [`MAX_BATCH`]) in one transaction on the writer connection, commits, then
/// answers them. It ends when every [`Db`] is gone.
async fn run_batches(writer: AnyPool, mut queue: mpsc::UnboundedReceiver<Job>, commits: Arc<AtomicU64>) {
    while let Some(first) = queue.recv().await {
        if run_batch(&writer, first, &mut queue).await {
            commits.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// One batch: every job taken is answered, with its value or with the error that stopped it.
/// Returns whether it committed.
async fn run_batch(writer: &AnyPool, first: Job, queue: &mut mpsc::UnboundedReceiver<Job>) -> bool {
    let mut conn = match writer.acquire().await {
        Ok(conn) => conn,
        Err(e) => {
            tracing::error!(error = %e, "database writer unavailable");
            refuse(first, e.to_string()).await;
            return false;
        }
    };
    // IMMEDIATE, as in `Db::begin_write`.
    let mut batch = match conn.begin_with("BEGIN IMMEDIATE").await {
        Ok(tx) => tx,
        Err(e) => {
            tracing::error!(error = %e, "could not begin a write batch");
            refuse(first, e.to_string()).await;
            return false;
        }
    };
    let mut finishes: Vec<Finish> = Vec::new();
    let mut next = Some(first);
    let mut broken: Option<String> = None;
    while let Some(job) = next.take() {
        let mut savepoint = match batch.begin().await {
            Ok(sp) => sp,
            Err(e) => {
                broken = Some(e.to_string());
                finishes.push(job(Err(e.to_string())).await.1);
                break;
            }
        };
        let (keep, finish) = job(Ok(&mut savepoint)).await;
        finishes.push(finish);
        let ended = if keep { savepoint.commit().await } else { savepoint.rollback().await };
        if let Err(e) = ended {
            // SQLite undid the whole transaction (disk full, I/O error…): the batch is lost.
            broken = Some(e.to_string());
            break;
        }
        if finishes.len() < MAX_BATCH {
            next = queue.try_recv().ok();
        }
    }
    let result = match broken {
        Some(why) => {
            let _ = batch.rollback().await;
            Err(why)
        }
        None => batch.commit().await.map_err(|e| e.to_string()),
    };
    drop(conn);
    if let Err(why) = &result {
        tracing::error!(error = %why, jobs = finishes.len(), "a write batch was rolled back");
    }
    let committed = result.is_ok();
    for finish in finishes {
        finish(result.clone());
    }
    committed
}

/// Answers a job that could not run with the reason.
async fn refuse(job: Job, why: String) {
    let (_, finish) = job(Err(why.clone())).await;
    finish(Err(why));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    async fn sqlite() -> (Db, PathBuf) {
        let dir = std::env::temp_dir().join(format!("handoff-db-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = Db::connect(&format!("sqlite://{}?mode=rwc", dir.join("t.sqlite3").display())).await.unwrap();
        sqlx::query("CREATE TABLE parents (id INTEGER PRIMARY KEY)").execute(&db.writer).await.unwrap();
        sqlx::query(
            "CREATE TABLE items (n INTEGER PRIMARY KEY,
             parent INTEGER REFERENCES parents(id) DEFERRABLE INITIALLY DEFERRED)",
        )
        .execute(&db.writer)
        .await
        .unwrap();
        (db, dir)
    }

    /// Inserts item `n` (with a parent that may not exist) and then keeps it, undoes it or fails.
    fn insert(db: &Db, n: i64, parent: Option<i64>, end: &'static str) -> tokio::task::JoinHandle<Result<i64>> {
        let db = db.clone();
        tokio::spawn(async move {
            db.write(move |conn| {
                Box::pin(async move {
                    sqlx::query("INSERT INTO items (n, parent) VALUES ($1, $2)")
                        .bind(n)
                        .bind(parent)
                        .execute(&mut *conn)
                        .await?;
                    match end {
                        "commit" => Ok(Done::Commit(n)),
                        "rollback" => Ok(Done::Rollback(-n)),
                        _ => Err(BackendError::Conflict(format!("job {n} failed"))),
                    }
                })
            })
            .await
        })
    }

    async fn items(db: &Db) -> Vec<i64> {
        sqlx::query_as::<_, (i64,)>("SELECT n FROM items ORDER BY n")
            .fetch_all(&db.pool)
            .await
            .unwrap()
            .into_iter()
            .map(|(n,)| n)
            .collect()
    }

    /// Holds the writer connection until the jobs spawned meanwhile are queued, so that they
    /// run in one batch.
    async fn in_one_batch<T>(db: &Db, spawn: impl FnOnce() -> T) -> T {
        let held = db.writer.acquire().await.unwrap();
        let jobs = spawn();
        tokio::time::sleep(Duration::from_millis(100)).await;
        drop(held);
        jobs
    }

    #[tokio::test]
    async fn many_concurrent_writes_share_few_commits_and_all_land() {
        let (db, dir) = sqlite().await;
        let before = db.write_commits();
        let jobs = in_one_batch(&db, || (1..=200).map(|n| insert(&db, n, None, "commit")).collect::<Vec<_>>()).await;
        for (i, job) in jobs.into_iter().enumerate() {
            assert_eq!(job.await.unwrap().unwrap(), i as i64 + 1);
        }
        assert_eq!(items(&db).await, (1..=200).collect::<Vec<_>>());
        let commits = db.write_commits() - before;
        // 200 jobs, at most 64 a batch: 4 commits when all were queued, never one each.
        assert!((4..50).contains(&commits), "{commits} commits for 200 writes");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn a_failing_or_rolled_back_job_undoes_only_itself() {
        let (db, dir) = sqlite().await;
        let (a, b, c, d) = in_one_batch(&db, || {
            (
                insert(&db, 1, None, "commit"),
                insert(&db, 2, None, "fail"),
                insert(&db, 3, None, "rollback"),
                insert(&db, 4, None, "commit"),
            )
        })
        .await;
        assert_eq!(a.await.unwrap().unwrap(), 1);
        assert!(matches!(b.await.unwrap(), Err(BackendError::Conflict(m)) if m == "job 2 failed"));
        assert_eq!(c.await.unwrap().unwrap(), -3);
        assert_eq!(d.await.unwrap().unwrap(), 4);
        assert_eq!(items(&db).await, vec![1, 4]);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn a_failed_commit_fails_every_job_of_the_batch_and_keeps_nothing() {
        let (db, dir) = sqlite().await;
        // Job 2 breaks a deferred foreign key: only the commit notices, and it fails for all.
        let (a, b, c) = in_one_batch(&db, || {
            (insert(&db, 1, None, "commit"), insert(&db, 2, Some(99), "commit"), insert(&db, 3, None, "commit"))
        })
        .await;
        for job in [a, b, c] {
            assert!(matches!(job.await.unwrap(), Err(BackendError::Internal(_))));
        }
        assert_eq!(items(&db).await, Vec::<i64>::new());
        // The writer goes on working afterwards.
        assert_eq!(insert(&db, 5, None, "commit").await.unwrap().unwrap(), 5);
        assert_eq!(items(&db).await, vec![5]);
        let _ = std::fs::remove_dir_all(dir);
    }
}
