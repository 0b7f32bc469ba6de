//! Everything Handoff does on the server that is not HTTP wiring, in one-way layers: a module
//! imports only from its own layer (without cycles) or from layers below it. The layers, lowest
//! first (checked by `backend/tests/layers.rs`; ARCHITECTURE.md explains them):
//!
//! 1. **Foundation** — no knowledge of chats: [`error`], [`config`], [`ids`] (clock and ids),
//!    [`db`] (sqlx `Any` pools, group commit, migrations), [`hub`] (fan-out of live frames),
//!    [`limits`] (in-memory rate windows), [`auth`] (passwords, tokens, cookies), [`mailer`]
//!    (sending one e-mail), [`metrics`] (this process's Prometheus registry), [`outbound`] (the one guarded HTTP client for requests made on behalf
//!    of a tenant), [`secrets`] (secrets at rest — LLM keys, the VAPID key — sealed with the
//!    server's key).
//! 2. **Model** — what things are: [`principal`] (who the caller is and every permission check),
//!    [`conversation`] (conversation and message rows, column codecs, append guards),
//!    [`ai_agent`] (the AI agent's stored settings), [`ai`] (responders over plain inputs; handoff
//!    intent), [`webpush`] (the Web Push protocol: encryption, VAPID).
//! 3. **Stores** — [`store`]: connection-level functions one transaction can combine (append,
//!    transition and its effects, notification routing, outbox queue, knowledge entries).
//! 4. **Services** — [`services`]: the [`Backend`] and one `impl Backend` block per capability;
//!    [`bus`] relays live frames between processes (PostgreSQL LISTEN/NOTIFY).
//! 5. **Runtime** — [`runtime`] (start-up, workers), [`seed`] (the demo organization) and
//!    [`backup`] (the `backup` and `restore` commands).
//!
//! SECURITY.md is the threat model: sign-in limits counted in the database
//! (`services::sign_in_limits`), revocation of live dashboard sockets across processes
//! (`services::revocation`), the purge of expired sessions, sign-in counts and old visitor
//! tokens (`services::purge`, started by `runtime`).
//!
//! Invariant: the handoff rules live in `domain::handoff`; this crate only stores their results
//! and executes their effects, and every write that depends on the handoff state is conditional
//! on that state in the same SQL statement (no check-then-act across statements).

// 1. foundation
pub mod auth;
pub mod config;
pub mod db;
pub mod error;
pub mod hub;
pub mod ids;
pub mod limits;
pub mod mailer;
pub mod metrics;
pub mod outbound;
pub mod secrets;
// 2. model
pub mod ai;
pub mod ai_agent;
pub mod conversation;
pub mod principal;
pub mod webpush;
// 3. stores
pub mod store;
// 4. services
pub mod bus;
pub mod services;
// 5. runtime
pub mod backup;
pub mod runtime;
pub mod seed;

pub use config::Config;
pub use error::BackendError;
pub use ids::{new_id, now_ms};
pub use principal::{UserCtx, VisitorCtx};
pub use services::human_agent_chat::{AgentAction, ListScope};
pub use services::Backend;
