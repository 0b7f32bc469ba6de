//! Everything Handoff does on the server that is not HTTP wiring.
//!
//! * [`db`] — connecting to SQLite or PostgreSQL through sqlx's `Any` driver and migrating.
//! * [`hub`] — fan-out of live frames to WebSocket connections; [`bus`] relays them between
//!   server processes sharing a PostgreSQL database (LISTEN/NOTIFY).
//! * [`chat`] — the [`Backend`] service: visitor sessions, messages with gap-free sequence
//!   numbers and idempotent client ids, and handoff transitions applied atomically.
//! * [`ai`] — the AI responder seam: embedded retrieval over the knowledge base (offline) and an
//!   OpenAI-compatible streaming backend; handoff intent detection.
//! * [`admin`] — organizations, users, permissions, agent assignment and widgets.
//! * [`agents`] — AI agent settings and knowledge bases, as the dashboard edits them.
//! * [`email`] — the "send email" fallback: offers, form submissions with attachments, agents'
//!   e-mail replies, the organization's handoff settings, presence.
//! * [`mail`] — the durable outbox and its SMTP worker (lettre), notification digests.
//! * [`notify`] — the dashboard's bell: who is notified of what, per-user preferences.
//! * [`push`] — browser push (Web Push: VAPID, `aes128gcm` encryption, subscriptions).
//! * [`auth`] — passwords and database-backed sessions.
//! * [`seed`] — the demo organization.
//!
//! Invariant: the handoff rules live in `domain::handoff`; this crate only stores their results,
//! and every write that depends on the handoff state is conditional on that state in the same SQL
//! statement (no check-then-act across statements).
pub mod admin;
pub mod agents;
pub mod ai;
pub mod auth;
pub mod bus;
pub mod chat;
pub mod config;
pub mod db;
pub mod email;
pub mod error;
pub mod hub;
pub mod limits;
pub mod mail;
pub mod notify;
pub mod push;
pub mod seed;

pub use chat::Backend;
pub use config::Config;
pub use error::BackendError;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// A fresh random id for rows.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}
