//! Start-up, background workers and shutdown: the only module that wires every service together.
//!
//! [`Backend::start`] opens and migrates the database, seeds the demo if configured, upgrades
//! legacy data, starts the relays between processes (PostgreSQL: live frames, revocations) and
//! this process's workers (the e-mail offer check, the outbox, the purge, retention). Stopping is [`Backend::begin_shutdown`] (`services`).
use crate::ai::{AiResponder, Responders};
use crate::config::Config;
use crate::db::Db;
use crate::error::{BackendError, Result};
use crate::hub::Hub;
use crate::mailer::Mailer;
use crate::services::outbox::Couriers;
use crate::services::push::Pusher;
use crate::services::{Backend, Inner};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

impl Backend {
    /// Opens the database (creating the data dir), migrates, seeds the demo if configured.
    pub async fn start(config: Config) -> Result<Self> {
        let ai = Responders::from_config(&config)?;
        Self::start_with_ai(config, Arc::new(ai)).await
    }

    pub async fn start_with_ai(config: Config, ai: Arc<dyn AiResponder>) -> Result<Self> {
        // SQLite: a shared lock on the data directory while the process lives (several servers
        // may share the file; a restore waits for none of them — it refuses, see `backup`).
        let data_dir_lock = if config.effective_database_url().starts_with("sqlite:") {
            Some(crate::db::DataDirLock::shared(&config.data_dir)?)
        } else {
            None
        };
        let db = Db::connect(&config.effective_database_url()).await?;
        if config.seed_demo && crate::seed::seed_demo(&db, &config.demo_password).await? {
            tracing::info!("seeded the demo organization");
        }
        let kind = db.kind;
        let metrics = crate::metrics::Metrics::new(db.write_wait.clone());
        let new_visitors =
            crate::limits::RateWindow::new(config.new_chats_per_ip_per_hour, std::time::Duration::from_secs(3600));
        let backend = Self(Arc::new(Inner {
            db,
            hub: Hub::default(),
            config: config.clone(),
            ai,
            generating: Mutex::new(HashMap::new()),
            ai_locks: Mutex::new(HashMap::new()),
            new_visitors,
            context_updates: crate::services::visitor_context::context_rate(config.visitor_context_per_minute),
            typing: Default::default(),
            seen: crate::services::seen::seen_rate(),
            sign_in_stats: Default::default(),
            revocations: Default::default(),
            vapid_key: tokio::sync::OnceCell::new(),
            shutdown: tokio::sync::watch::channel(false).0,
            open_sockets: Arc::default(),
            knowledge_indexes: crate::services::knowledge_index::KnowledgeIndexes::new(config.previews_per_minute),
            secrets: crate::secrets::SecretBox::load(&config)
                .map(Arc::new)
                .map_err(|e| BackendError::Internal(e.to_string()))?,
            outbound: crate::outbound::Outbound::from_config(&config)?,
            metrics,
            relay_pings: Default::default(),
            _data_dir_lock: data_dir_lock,
        }));
        backend.upgrade_legacy_knowledge().await?;
        crate::secrets::seal_stored_plaintext(backend.writer(), &backend.secrets).await?;
        if kind == crate::db::DbKind::Postgres && backend.config.relay_events {
            crate::bus::start(&backend, &backend.config.effective_database_url()).await?;
            crate::services::revocation::start_relay(&backend, &backend.config.effective_database_url()).await?;
        }
        backend.start_workers();
        Ok(backend)
    }

    /// Starts this process's background workers (e-mail offers, the outbox, the purge, retention), as
    /// configured.
    pub fn start_workers(&self) {
        if self.config.email_offer_check_ms > 0 {
            let this = self.clone();
            repeat("email_offer", Duration::from_millis(self.config.email_offer_check_ms), move || {
                let this = this.clone();
                async move { this.offer_email_forms().await.map(drop) }
            });
        }
        start_outbox_worker(self);
        start_purge_worker(self);
        start_retention_worker(self);
    }
}

/// Starts the outbox worker of this process (unless `outbox_poll_ms` is 0).
pub(crate) fn start_outbox_worker(backend: &Backend) {
    if backend.config.outbox_poll_ms == 0 {
        return;
    }
    let mailer = match Mailer::from_config(&backend.config) {
        Ok(m) => m,
        Err(e) => {
            tracing::error!(error = %e, "e-mail is not configured correctly; nothing will be sent");
            return;
        }
    };
    tracing::info!(to = %mailer.describe(), "outbox worker started");
    let this = backend.clone();
    let every = Duration::from_millis(backend.config.outbox_poll_ms);
    tokio::spawn(async move {
        let couriers = loop {
            match Pusher::new(&this).await {
                Ok(pusher) => break Couriers { mailer, pusher },
                Err(e) => {
                    tracing::warn!(error = %e, "push is not ready yet; retrying");
                    tokio::time::sleep(every.max(Duration::from_secs(1))).await;
                }
            }
        };
        let couriers = Arc::new(couriers);
        repeat("outbox", every, move || {
            let (this, couriers) = (this.clone(), couriers.clone());
            async move { this.run_outbox(&couriers).await.map(drop) }
        });
    });
}

/// Runs `round` forever, `every` apart, on a task of its own: each round in a `work` span with a
/// fresh `work_id` (a JSON log tells one round's lines from the next's); a failed round is
/// logged, and so is a panicking one — a worker never dies of one bad round.
fn repeat<F, Fut>(task: &'static str, every: Duration, mut round: F)
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<()>> + Send + 'static,
{
    use futures::FutureExt;
    use tracing::Instrument;
    tokio::spawn(async move {
        loop {
            let span = tracing::info_span!("work", task, work_id = %crate::ids::new_id());
            match std::panic::AssertUnwindSafe(round()).catch_unwind().instrument(span.clone()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => span.in_scope(|| tracing::warn!(error = %e, "{task} round failed")),
                Err(_) => span.in_scope(|| tracing::error!("{task} round panicked; the next round runs as usual")),
            }
            tokio::time::sleep(every).await;
        }
    });
}

/// Starts this process's purge worker (see [`crate::services::purge`]) unless `purge_every_ms`
/// is 0.
pub(crate) fn start_purge_worker(backend: &Backend) {
    if backend.config.purge_every_ms == 0 {
        return;
    }
    let this = backend.clone();
    repeat("purge", Duration::from_millis(backend.config.purge_every_ms), move || {
        let this = this.clone();
        async move {
            let (s, t, c) = this.purge_expired().await?;
            if s + t + c > 0 {
                tracing::info!(sessions = s, visitor_tokens = t, sign_in_counts = c, "purged expired rows");
            }
            Ok(())
        }
    });
}

/// Starts this process's retention worker (see [`crate::services::retention`]) unless
/// `retention_every_ms` is 0.
pub(crate) fn start_retention_worker(backend: &Backend) {
    if backend.config.retention_every_ms == 0 {
        return;
    }
    let this = backend.clone();
    repeat("retention", Duration::from_millis(backend.config.retention_every_ms), move || {
        let this = this.clone();
        async move { this.apply_retention().await.map(drop) }
    });
}
