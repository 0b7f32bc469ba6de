//! Whether this process can serve ([`Backend::readiness`], behind `/readyz`) and what it reports
//! to Prometheus ([`Backend::render_metrics`], behind `/metrics`).
//!
//! Ready means: not shutting down; the database answers within [`CHECK_TIMEOUT`] and, on
//! SQLite, the file this process opened is still the one at its path; every migration of this
//! release is recorded as applied; on PostgreSQL, the relay between processes hears a ping this
//! process sends on [`READY_CHANNEL`] (its LISTEN connection is up). A check's answer is a fixed
//! sentence: never a database error's text, which can name hosts and users.
use crate::db::DbKind;
use crate::error::Result;
use crate::ids::now_ms;
use crate::metrics::PoolLabel;
use crate::services::Backend;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::timeout;

/// Longest a readiness check waits for one answer.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(2);
/// The channel of readiness pings (`<node id>:<n>`), next to the relay's events.
pub const READY_CHANNEL: &str = "handoff_ready";

/// The relay's pings: how many this process sent, and the highest it heard back.
pub struct RelayPings {
    sent: AtomicU64,
    heard: tokio::sync::watch::Sender<u64>,
}

impl Default for RelayPings {
    fn default() -> Self {
        Self { sent: AtomicU64::new(0), heard: tokio::sync::watch::channel(0).0 }
    }
}

impl RelayPings {
    /// The relay heard this process's ping number `n` (see `crate::bus`).
    pub(crate) fn heard(&self, n: u64) {
        self.heard.send_if_modified(|highest| {
            let newer = n > *highest;
            if newer {
                *highest = n;
            }
            newer
        });
    }
}

/// One check's outcome: `Err` says what is wrong, in a fixed sentence.
pub type Check = std::result::Result<(), &'static str>;

/// Every readiness check, by name, in a fixed order.
pub struct Readiness {
    pub checks: Vec<(&'static str, Check)>,
}

impl Readiness {
    pub fn ready(&self) -> bool {
        self.checks.iter().all(|(_, c)| c.is_ok())
    }
}

impl Backend {
    /// Checks what this process needs to serve (see the module's documentation).
    pub async fn readiness(&self) -> Readiness {
        let mut checks = Vec::new();
        let stopping = *self.shutdown.borrow();
        checks.push(("process", if stopping { Err("shutting down") } else { Ok(()) }));
        let database = match timeout(CHECK_TIMEOUT, sqlx::query("SELECT 1").execute(self.pool())).await {
            Err(_) => Err("no answer within 2 seconds"),
            Ok(Err(_)) => Err("unreachable"),
            Ok(Ok(_)) if !self.db.file_in_place() => Err("the database file is missing or was replaced"),
            Ok(Ok(_)) => Ok(()),
        };
        let migrations = match database {
            Err(_) => Err("not checked: the database is unavailable"),
            Ok(()) => match timeout(CHECK_TIMEOUT, self.db.missing_migrations()).await {
                Err(_) => Err("no answer within 2 seconds"),
                Ok(Err(_)) => Err("cannot read the applied migrations"),
                Ok(Ok(missing)) if !missing.is_empty() => Err("migrations of this release are not applied"),
                Ok(Ok(_)) => Ok(()),
            },
        };
        checks.push(("database", database));
        checks.push(("migrations", migrations));
        if self.db.kind == DbKind::Postgres && self.config.relay_events {
            checks.push(("relay", self.relay_ping().await));
        }
        Readiness { checks }
    }

    /// Sends a ping through PostgreSQL's NOTIFY and waits for the relay's LISTEN connection to
    /// hear it.
    async fn relay_ping(&self) -> Check {
        let n = self.relay_pings.sent.fetch_add(1, Ordering::SeqCst) + 1;
        let mut heard = self.relay_pings.heard.subscribe();
        let sent = sqlx::query("SELECT pg_notify($1, $2)")
            .bind(READY_CHANNEL)
            .bind(format!("{}:{n}", self.hub.node_id()))
            .execute(self.pool());
        if !matches!(timeout(CHECK_TIMEOUT, sent).await, Ok(Ok(_))) {
            return Err("cannot send a ping through the database");
        }
        let answered = matches!(timeout(CHECK_TIMEOUT, heard.wait_for(|h| *h >= n)).await, Ok(Ok(_)));
        if answered {
            Ok(())
        } else {
            Err("the relay between processes does not hear its own ping")
        }
    }

    /// The metrics in the Prometheus text format, the installation's gauges read now. When the
    /// database does not answer, this process's own figures are still rendered, the
    /// installation's keep their last values and `handoff_installation_gauges_up` says 0.
    pub async fn render_metrics(&self) -> String {
        let fresh = matches!(timeout(CHECK_TIMEOUT, self.read_installation_gauges()).await, Ok(Ok(())));
        if !fresh {
            tracing::warn!("metrics: the installation's gauges could not be read from the database");
        }
        self.metrics.installation_up.set(i64::from(fresh));
        let m = &self.metrics;
        let pools: &[(&'static str, &sqlx::AnyPool)] = match self.db.kind {
            DbKind::Sqlite => &[("read", &self.db.pool), ("write", &self.db.writer)],
            DbKind::Postgres => &[("main", &self.db.pool)],
        };
        for (name, pool) in pools {
            let (size, idle) = (i64::from(pool.size()), pool.num_idle() as i64);
            m.pool.get_or_create(&PoolLabel { pool: name, state: "idle" }).set(idle);
            m.pool.get_or_create(&PoolLabel { pool: name, state: "busy" }).set((size - idle).max(0));
        }
        m.render()
    }

    /// Requests waiting and the outbox, for the whole installation.
    async fn read_installation_gauges(&self) -> Result<()> {
        let now = now_ms();
        let (waiting, oldest): (i64, Option<i64>) =
            sqlx::query_as("SELECT COUNT(*), MIN(state_since) FROM conversations WHERE state = 'requested'")
                .fetch_one(self.pool())
                .await?;
        let m = &self.metrics;
        m.requests_waiting.set(waiting);
        m.oldest_request.set(oldest.map_or(0.0, |since| (now - since).max(0) as f64 / 1000.0));
        let outbox: Vec<(String, i64)> =
            sqlx::query_as("SELECT status, COUNT(*) FROM outbox WHERE status IN ('queued', 'failed') GROUP BY status")
                .fetch_all(self.pool())
                .await?;
        let count = |status: &str| outbox.iter().find(|(s, _)| s == status).map_or(0, |(_, n)| *n);
        m.outbox_queued.set(count("queued"));
        m.outbox_failed.set(count("failed"));
        Ok(())
    }
}
