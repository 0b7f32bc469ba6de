//! The [`Backend`] service and its capabilities, one `impl Backend` block per file:
//!
//! * [`sign_in`] — passwords, sessions, the signed-in user; [`sign_in_limits`] — failed
//!   sign-ins counted in the database, the same work for unknown addresses;
//! * [`revocation`] — live dashboard sockets re-check their user, across processes;
//! * [`purge`] — deleting expired sessions and sign-in counts, retiring old visitor tokens;
//!   [`retention`] — deleting an organization's ended conversations after the days it chose;
//!   [`visitor_data`] — one visitor's data exported or erased on request, the audit log;
//! * [`visitor_chat`] — widgets' visitor sessions and messages, "talk to a human";
//!   [`visitor_context`] — what the widget tells about the visitor (pages, browser), the panel;
//! * [`human_agent_chat`] — what a human agent does in the dashboard: list, read, reply, take over;
//!   [`inbox`] — the list page by page under a filter, and each filter's count; [`notes`] —
//!   agents' private notes in a conversation; [`canned`] — the organization's canned responses;
//! * [`transcript`] — reading conversations, appending idempotently, publishing appends;
//!   [`typing`] — typing indicators both ways (never stored); [`seen`] — how far each side read;
//! * [`handoff`] — applying a handoff event and executing its effects; [`transfer`] — passing a
//!   held chat to an online colleague;
//! * [`ai_replies`] — the AI agent's replies (intent, rate, responder, guarded store);
//! * [`ai_agents`] and [`knowledge`] — AI agent settings and knowledge bases; [`ai_agent_llm`] —
//!   which language-model settings may be saved; [`knowledge_index`] — the per-agent search index
//!   built once per knowledge change, and the "try it" rate;
//! * [`email_form`], [`email_offer`], [`org_settings`] — the e-mail fallback and its settings;
//!   [`transcript_email`] — a visitor's transcript by e-mail once their conversation ended;
//! * [`notifications`] — the bell as users read it and their preferences;
//! * [`push`], [`outbox`] — browser push subscriptions and the outbox's sending;
//! * [`orgs`], [`users`], [`ai_agent_assignment`], [`widgets`] — the admin pages;
//! * [`health`] — readiness (database, migrations, relay) and the metrics' scrape.
//!
//! Services call each other through `Backend` methods; start-up and workers live in
//! `crate::runtime`.
use crate::ai::AiResponder;
use crate::config::Config;
use crate::db::Db;
use crate::hub::Hub;
use std::collections::HashMap;
use std::ops::Deref;
use std::sync::{Arc, Mutex};
use tokio::task::AbortHandle;

pub mod ai_agent_assignment;
pub mod ai_agent_llm;
pub mod ai_agents;
pub mod ai_replies;
pub mod canned;
pub mod chat_files;
pub mod email_form;
pub mod email_offer;
pub mod handoff;
pub mod health;
pub mod human_agent_chat;
pub mod inbox;
pub mod knowledge;
pub mod knowledge_index;
pub mod labels;
pub mod notes;
pub mod notifications;
pub mod org_settings;
pub mod orgs;
pub mod outbox;
pub mod purge;
pub mod push;
pub mod retention;
pub mod revocation;
pub mod seen;
pub mod sign_in;
pub mod sign_in_limits;
pub mod transcript;
pub mod transcript_email;
pub mod transfer;
pub mod typing;
pub mod users;
pub mod visitor_chat;
pub mod visitor_context;
pub mod visitor_data;
pub mod widgets;

#[derive(Clone)]
pub struct Backend(pub(crate) Arc<Inner>);

pub struct Inner {
    pub db: Db,
    pub hub: Hub,
    pub config: Config,
    pub(crate) ai: Arc<dyn AiResponder>,
    pub(crate) generating: Mutex<HashMap<String, Vec<AbortHandle>>>,
    /// Serializes AI replies per conversation.
    pub(crate) ai_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// New visitors (chats) per client IP address.
    pub(crate) new_visitors: crate::limits::RateWindow<std::net::IpAddr>,
    /// Visitor context updates per conversation (see [`visitor_context`]).
    pub(crate) context_updates: crate::limits::RateWindow<String>,
    /// Typing frames' rate and the organizations' preview settings (see [`typing`]).
    pub(crate) typing: typing::Typing,
    /// Seen reports per conversation (visitors) and per user (agents) (see [`seen`]).
    pub(crate) seen: crate::limits::RateWindow<String>,
    /// Sign-in's Argon2 verifications (see [`sign_in_limits`]; the limits are in the database).
    pub(crate) sign_in_stats: sign_in_limits::SignInStats,
    /// Users whose live sockets must re-check their access (see [`revocation`]).
    pub(crate) revocations: revocation::Revocations,
    /// The VAPID private key once read (see [`Backend::vapid`]).
    pub(crate) vapid_key: tokio::sync::OnceCell<p256::SecretKey>,
    /// Becomes true when the process is asked to stop (see [`Backend::begin_shutdown`]).
    pub(crate) shutdown: tokio::sync::watch::Sender<bool>,
    /// Open WebSocket connections (see [`Backend::socket_opened`]).
    pub(crate) open_sockets: Arc<std::sync::atomic::AtomicUsize>,
    /// Agents' knowledge indexes (see [`knowledge_index`]).
    pub(crate) knowledge_indexes: knowledge_index::KnowledgeIndexes,
    /// Seals and opens stored secrets (see [`crate::secrets`]).
    pub(crate) secrets: Arc<crate::secrets::SecretBox>,
    /// Checks where tenants' outbound requests may go (see [`crate::outbound`]).
    pub(crate) outbound: crate::outbound::Outbound,
    /// This process's metrics (see [`health`]).
    pub metrics: crate::metrics::Metrics,
    /// Whether the relay between processes hears its own pings (see [`health`]).
    pub(crate) relay_pings: health::RelayPings,
    /// SQLite: this process's shared lock on the data directory (see [`crate::db::DataDirLock`]).
    pub(crate) _data_dir_lock: Option<crate::db::DataDirLock>,
}

/// Which side a WebSocket serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SocketSide {
    Visitor,
    Agent,
}

/// Counts one open WebSocket while it lives.
pub struct SocketGuard(Arc<std::sync::atomic::AtomicUsize>, prometheus_client::metrics::gauge::Gauge);

impl Drop for SocketGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        self.1.dec();
    }
}

impl Deref for Backend {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl Backend {
    /// Asks every WebSocket of this process to close with a reconnect hint (SIGTERM).
    pub fn begin_shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    /// Resolves when the process is stopping.
    pub fn on_shutdown(&self) -> tokio::sync::watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// Registers an open WebSocket until the guard is dropped.
    pub fn socket_opened(&self, side: SocketSide) -> SocketGuard {
        self.open_sockets.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let side = match side {
            SocketSide::Visitor => "visitor",
            SocketSide::Agent => "agent",
        };
        let gauge = self.metrics.sockets.get_or_create(&crate::metrics::SocketLabel { side }).clone();
        gauge.inc();
        SocketGuard(self.open_sockets.clone(), gauge)
    }

    /// How many WebSockets are open in this process.
    pub fn open_sockets(&self) -> usize {
        self.open_sockets.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// For reads (see [`crate::db::Db`]).
    pub fn pool(&self) -> &sqlx::AnyPool {
        &self.db.pool
    }

    /// A write transaction (see [`crate::db::Db::begin_write`]).
    pub async fn begin_write(&self) -> crate::error::Result<sqlx::Transaction<'static, sqlx::Any>> {
        self.db.begin_write().await
    }

    /// For writes: transactions that write and single INSERT/UPDATE/DELETE statements. Never
    /// while this task holds a writer transaction (see [`crate::db::Db`]).
    pub fn writer(&self) -> &sqlx::AnyPool {
        &self.db.writer
    }
}
