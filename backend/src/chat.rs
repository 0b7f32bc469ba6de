//! The chat service: the one place that writes conversations and messages.
//!
//! * Messages get the conversation's next sequence number inside the same transaction that
//!   stores them (`UPDATE conversations SET last_seq = last_seq + 1 … RETURNING`), so numbers are
//!   gap-free and ordered whatever the number of writers or server processes.
//! * Every append is guarded in that same statement: a visitor cannot write to a closed
//!   conversation, an agent only while holding it, and the AI only while the conversation is
//!   still `ai` *at the state version its generation started from*. That is how "the AI never
//!   replies while a human holds the conversation" holds even for a reply that was being
//!   generated during the takeover (the generation task is also aborted, but correctness does
//!   not depend on it).
//! * A retried message with the same client message id returns the stored one; nothing is
//!   stored twice.
//! * Handoff transitions are computed by `domain::handoff::transition` and applied with an
//!   optimistic compare-and-set on `state_version`: of two concurrent "Handle chat" clicks
//!   exactly one wins; the other re-reads and gets "already taken by X".
use crate::ai::{intent, AiContext, AiReply, AiResponder, DraftSink, Responders};
use crate::auth::{new_token, token_hash, verify_password};
use crate::config::Config;
use crate::db::{Db, Done};
use crate::error::{BackendError, Result};
use crate::hub::Hub;
use crate::{new_id, now_ms};
use domain::handoff::{transition, Actor, AgentRef, Effect, HandoffEvent, HandoffState, Requester, StateKind};
use domain::values::{ClientMsgId, MessageText};
use domain::wire::{
    Author, ConversationDetail, ConversationSummary, MessageDto, MessageExtra, ServerFrame, UserDto, VisitorSession,
    WidgetConfig,
};
use sqlx::{AnyConnection, AssertSqlSafe};
use std::collections::HashMap;
use std::ops::Deref;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::AbortHandle;

/// How many messages of history the AI sees (the OpenAI backend cuts them to a token budget).
const AI_HISTORY: i64 = 60;
/// Said (once) when a conversation exceeds its AI reply rate.
const RATE_NOTICE: &str = "You're sending messages faster than I can answer. Please wait a moment before asking again.";
/// Largest page of messages returned at once.
pub const PAGE: i64 = 500;

#[derive(Clone)]
pub struct Backend(Arc<Inner>);

pub struct Inner {
    pub db: Db,
    pub hub: Hub,
    pub config: Config,
    ai: Arc<dyn AiResponder>,
    generating: Mutex<HashMap<String, Vec<AbortHandle>>>,
    /// Serializes AI replies per conversation.
    ai_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// New visitors (chats) per client IP address.
    new_visitors: crate::limits::RateWindow<std::net::IpAddr>,
    /// Failed sign-ins per account (e-mail) and per client address.
    sign_in_failures: (crate::limits::RateWindow<String>, crate::limits::RateWindow<std::net::IpAddr>),
    /// The VAPID private key once read (see [`Backend::vapid`]).
    pub(crate) vapid_key: tokio::sync::OnceCell<p256::SecretKey>,
    /// Becomes true when the process is asked to stop (see [`Backend::begin_shutdown`]).
    shutdown: tokio::sync::watch::Sender<bool>,
    /// Open WebSocket connections (see [`Backend::socket_opened`]).
    open_sockets: Arc<std::sync::atomic::AtomicUsize>,
}

/// Counts one open WebSocket while it lives.
pub struct SocketGuard(Arc<std::sync::atomic::AtomicUsize>);

impl Drop for SocketGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Deref for Backend {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// A signed-in user of the dashboard.
#[derive(Clone, Debug)]
pub struct UserCtx {
    pub id: String,
    pub org_id: Option<String>,
    pub org_name: Option<String>,
    pub email: String,
    pub name: String,
    pub role: String,
    pub perm_conversations: bool,
    pub perm_settings: bool,
    pub perm_users: bool,
}

impl UserCtx {
    pub fn agent_ref(&self) -> AgentRef {
        AgentRef { id: self.id.clone(), name: self.name.clone() }
    }

    /// Whether the user may change settings (agents, handoff, notifications of the organization).
    pub fn may_edit_settings(&self) -> bool {
        self.role == "admin" || self.perm_settings
    }

    /// The organization whose conversations this user may see and handle.
    pub fn conversations_org(&self) -> Result<&str> {
        match (&self.org_id, self.perm_conversations) {
            (Some(org), true) => Ok(org),
            _ => Err(BackendError::Forbidden("you may not handle conversations".into())),
        }
    }

    pub fn dto(&self) -> UserDto {
        UserDto {
            id: self.id.clone(),
            name: self.name.clone(),
            email: self.email.clone(),
            org_name: self.org_name.clone(),
            is_admin: self.role == "admin",
            can_settings: self.may_edit_settings(),
            can_users: self.role == "admin" || (self.org_id.is_some() && self.perm_users),
        }
    }
}

/// A visitor connected through a widget, identified by their token.
#[derive(Clone, Debug)]
pub struct VisitorCtx {
    pub visitor_id: String,
    pub org_id: String,
    pub conversation_id: String,
}

/// Who may append, checked atomically with the append.
#[derive(Clone, Debug)]
pub(crate) enum Guard {
    /// Anything but a closed conversation (visitor messages).
    Open,
    /// Only while the AI still holds the conversation at this state version.
    AiAt(i64),
    /// Only while this user holds the conversation.
    HeldBy(String),
    /// Unconditional (system notices written inside a transition).
    Always,
}

/// An active user with their organization (`u` users, `o` organizations).
const USER_COLS: &str = "u.id, u.org_id, o.name AS org_name, u.email, u.name, u.role, u.perm_conversations, \
                         u.perm_settings, u.perm_users";

#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    org_id: Option<String>,
    org_name: Option<String>,
    email: String,
    name: String,
    role: String,
    perm_conversations: i64,
    perm_settings: i64,
    perm_users: i64,
}

impl UserRow {
    fn ctx(self) -> UserCtx {
        UserCtx {
            id: self.id,
            org_id: self.org_id,
            org_name: self.org_name,
            email: self.email,
            name: self.name,
            role: self.role,
            perm_conversations: self.perm_conversations != 0,
            perm_settings: self.perm_settings != 0,
            perm_users: self.perm_users != 0,
        }
    }
}

#[derive(sqlx::FromRow, Clone, Debug)]
pub(crate) struct SummaryRow {
    pub(crate) id: String,
    pub(crate) org_id: String,
    pub(crate) visitor_name: String,
    state: String,
    holder_id: Option<String>,
    holder_name: Option<String>,
    state_version: i64,
    state_since: i64,
    pub(crate) last_seq: i64,
    last_message: Option<String>,
    pub(crate) last_activity: i64,
}

const SUMMARY_COLS: &str = "id, org_id, visitor_name, state, holder_id, holder_name, state_version, state_since, last_seq, last_message, last_activity";

impl SummaryRow {
    fn state(&self) -> Result<HandoffState> {
        let kind =
            StateKind::parse(&self.state).ok_or_else(|| BackendError::Internal(format!("bad state {}", self.state)))?;
        let agent = match (&self.holder_id, &self.holder_name) {
            (Some(id), Some(name)) => Some(AgentRef { id: id.clone(), name: name.clone() }),
            _ => None,
        };
        HandoffState::from_parts(kind, agent).ok_or_else(|| BackendError::Internal("human state without holder".into()))
    }

    fn summary(&self) -> Result<ConversationSummary> {
        Ok(ConversationSummary {
            id: self.id.clone(),
            visitor_name: self.visitor_name.clone(),
            state: self.state()?,
            state_since: self.state_since,
            last_seq: self.last_seq,
            last_message: self.last_message.clone(),
            last_activity: self.last_activity,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct MessageRow {
    conversation_id: String,
    seq: i64,
    author_kind: String,
    author_id: Option<String>,
    author_name: Option<String>,
    body: String,
    client_msg_id: Option<String>,
    created_at: i64,
    kind: String,
    meta: Option<String>,
}

pub(crate) const MESSAGE_COLS: &str =
    "conversation_id, seq, author_kind, author_id, author_name, body, client_msg_id, created_at, kind, meta";

impl MessageRow {
    /// The message without the details kept in other tables (attachments, delivery):
    /// [`Backend::complete_messages`] adds those.
    pub(crate) fn dto(self) -> MessageDto {
        let author = match self.author_kind.as_str() {
            "visitor" => Author::Visitor,
            "ai" => Author::Ai,
            "agent" => {
                Author::Agent { id: self.author_id.unwrap_or_default(), name: self.author_name.unwrap_or_default() }
            }
            _ => Author::System,
        };
        MessageDto {
            conversation_id: self.conversation_id,
            seq: self.seq,
            author,
            text: self.body,
            client_msg_id: self.client_msg_id,
            created_at: self.created_at,
            extra: crate::email::extra_from_columns(&self.kind, self.meta.as_deref()),
        }
    }
}

fn author_columns(author: &Author) -> (&'static str, Option<String>, Option<String>, String) {
    match author {
        Author::Visitor => ("visitor", None, None, "visitor".into()),
        Author::Ai => ("ai", None, None, "ai".into()),
        Author::Agent { id, name } => ("agent", Some(id.clone()), Some(name.clone()), format!("agent:{id}")),
        Author::System => ("system", None, None, "system".into()),
    }
}

fn preview(text: &str) -> String {
    const MAX: usize = 140;
    match text.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

/// The outcome of an append.
#[derive(Clone, Debug)]
pub struct Posted {
    pub message: MessageDto,
    /// The message had been stored before under the same client message id.
    pub duplicate: bool,
}

/// What an agent asks of a conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AgentAction {
    HandleChat,
    ContinueChatYourself,
    PassChatToAi,
    Close,
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
    pub fn socket_opened(&self) -> SocketGuard {
        self.open_sockets.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        SocketGuard(self.open_sockets.clone())
    }

    /// How many WebSockets are open in this process.
    pub fn open_sockets(&self) -> usize {
        self.open_sockets.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Opens the database (creating the data dir), migrates, seeds the demo if configured.
    pub async fn start(config: Config) -> Result<Self> {
        let ai = Responders::new(Duration::from_millis(config.ai_timeout_ms));
        Self::start_with_ai(config, Arc::new(ai)).await
    }

    pub async fn start_with_ai(config: Config, ai: Arc<dyn AiResponder>) -> Result<Self> {
        if config.database_url.is_none() {
            std::fs::create_dir_all(&config.data_dir).map_err(|e| {
                BackendError::Internal(format!("cannot create data dir {}: {e}", config.data_dir.display()))
            })?;
        }
        let db = Db::connect(&config.effective_database_url()).await?;
        if config.seed_demo && crate::seed::seed_demo(&db, &config.demo_password).await? {
            tracing::info!("seeded the demo organization");
        }
        let kind = db.kind;
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
            sign_in_failures: {
                let window = std::time::Duration::from_secs(config.sign_in_window_secs);
                (
                    crate::limits::RateWindow::new(config.sign_in_failures_per_account, window),
                    crate::limits::RateWindow::new(config.sign_in_failures_per_ip, window),
                )
            },
            vapid_key: tokio::sync::OnceCell::new(),
            shutdown: tokio::sync::watch::channel(false).0,
            open_sockets: Arc::default(),
        }));
        backend.upgrade_legacy_knowledge().await?;
        if kind == crate::db::DbKind::Postgres {
            crate::bus::start(&backend, &backend.config.effective_database_url()).await?;
        }
        backend.start_workers();
        Ok(backend)
    }

    /// For reads (see [`crate::db::Db`]).
    pub fn pool(&self) -> &sqlx::AnyPool {
        &self.db.pool
    }

    /// For writes: transactions that write and single INSERT/UPDATE/DELETE statements. Never
    /// while this task holds a writer transaction (see [`crate::db::Db`]).
    pub fn writer(&self) -> &sqlx::AnyPool {
        &self.db.writer
    }

    // ---------------------------------------------------------------- sign-in

    /// Signs in. Failed attempts are limited per account and per client address
    /// (`sign_in_failures_per_account` / `_per_ip` within `sign_in_window_secs`); over the limit
    /// every attempt, right or wrong, answers "try again in N s" without checking the password.
    /// A deactivated user cannot sign in (the same error as a wrong password).
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        client_ip: Option<std::net::IpAddr>,
    ) -> Result<(String, UserCtx)> {
        let email = email.trim().to_lowercase();
        let limited = |wait: std::time::Duration| {
            BackendError::RateLimited(format!(
                "too many failed sign-in attempts; try again in {}",
                crate::limits::wait_words(wait)
            ))
        };
        self.sign_in_failures.0.check(&email).map_err(limited)?;
        if let Some(ip) = client_ip {
            self.sign_in_failures.1.check(&ip).map_err(limited)?;
        }
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT id, password_hash FROM users WHERE email = $1 AND active = 1")
                .bind(&email)
                .fetch_optional(self.pool())
                .await?;
        let (user_id, hash) = match row {
            Some(r) => r,
            // Spend the same time as a real check, so that e-mails cannot be probed by timing.
            None => (String::new(), "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaA".to_string()),
        };
        let ok = {
            let password = password.to_string();
            tokio::task::spawn_blocking(move || verify_password(&password, &hash)).await.unwrap_or(false)
        };
        if !ok || user_id.is_empty() {
            let _ = self.sign_in_failures.0.hit(&email);
            if let Some(ip) = client_ip {
                let _ = self.sign_in_failures.1.hit(&ip);
            }
            tracing::info!(ip = ?client_ip, "failed sign-in");
            return Err(BackendError::BadCredentials);
        }
        self.sign_in_failures.0.clear(&email);
        let token = new_token();
        let now = now_ms();
        sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(token_hash(&token))
            .bind(&user_id)
            .bind(now)
            .bind(now + self.config.session_hours * 3_600_000)
            .execute(self.writer())
            .await?;
        let user = self.user_by_id(&user_id).await?.ok_or(BackendError::BadCredentials)?;
        Ok((token, user))
    }

    pub async fn logout(&self, token: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash(token))
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// The signed-in user of a session token: one query (it runs on every request).
    pub async fn user_by_session(&self, token: &str) -> Result<Option<UserCtx>> {
        let row: Option<UserRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {USER_COLS} FROM sessions s JOIN users u ON u.id = s.user_id
             LEFT JOIN organizations o ON o.id = u.org_id
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active = 1"
        )))
        .bind(token_hash(token))
        .bind(now_ms())
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(UserRow::ctx))
    }

    async fn user_by_id(&self, id: &str) -> Result<Option<UserCtx>> {
        let row: Option<UserRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {USER_COLS} FROM users u LEFT JOIN organizations o ON o.id = u.org_id WHERE u.id = $1 AND u.active = 1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(UserRow::ctx))
    }

    // ---------------------------------------------------------------- visitors

    async fn widget_config(&self, widget_id: &str) -> Result<(WidgetConfig, String, String)> {
        let row: Option<(String, String, String, String, i64, i64)> = sqlx::query_as(
            "SELECT w.org_id, w.agent_id, a.name, a.greeting, a.handoff_enabled, a.handoff_fixed
             FROM widgets w JOIN agents a ON a.id = w.agent_id WHERE w.id = $1",
        )
        .bind(widget_id)
        .fetch_optional(self.pool())
        .await?;
        let (org_id, agent_id, agent_name, greeting, enabled, fixed) = row.ok_or(BackendError::NotFound("widget"))?;
        Ok((
            WidgetConfig {
                widget_id: widget_id.to_string(),
                agent_name,
                greeting,
                handoff_enabled: enabled != 0,
                handoff_fixed: fixed != 0 && enabled != 0,
            },
            org_id,
            agent_id,
        ))
    }

    /// Starts or resumes a visitor's session on a widget. A token that is unknown or belongs to
    /// another widget starts a new visitor (it never grants access to anything else).
    /// The origins allowed to embed a widget (`None`: no such widget; empty: any). Stored as a
    /// list separated by spaces, commas or line breaks.
    pub async fn widget_allowed_origins(&self, widget_id: &str) -> Result<Option<Vec<String>>> {
        let row: Option<(String,)> = sqlx::query_as("SELECT allowed_origins FROM widgets WHERE id = $1")
            .bind(widget_id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|(list,)| {
            list.split(|c: char| c == ',' || c.is_whitespace())
                .map(|o| o.trim_end_matches('/').to_string())
                .filter(|o| !o.is_empty())
                .collect()
        }))
    }

    /// `client_ip`: where the request came from, for the limit on new chats per address.
    pub async fn visitor_session(
        &self,
        widget_id: &str,
        token: Option<&str>,
        client_ip: Option<std::net::IpAddr>,
    ) -> Result<VisitorSession> {
        let (widget, org_id, agent_id) = self.widget_config(widget_id).await?;
        let known: Option<(String, String)> = match token.filter(|t| !t.is_empty()) {
            Some(t) => {
                sqlx::query_as("SELECT id, name FROM visitors WHERE token_hash = $1 AND widget_id = $2")
                    .bind(token_hash(t))
                    .bind(widget_id)
                    .fetch_optional(self.pool())
                    .await?
            }
            None => None,
        };
        let (token, visitor_id, visitor_name) = match known {
            Some((id, name)) => (token.unwrap_or_default().to_string(), id, name),
            None => {
                if let Some(wait) = client_ip.and_then(|ip| self.new_visitors.hit(&ip).err()) {
                    return Err(BackendError::RateLimited(format!(
                        "too many new chats from your network; please try again in {}",
                        crate::limits::wait_words(wait)
                    )));
                }
                let token = new_token();
                let id = new_id();
                let name = format!("Visitor {}", id[..4].to_uppercase());
                sqlx::query(
                    "INSERT INTO visitors (id, widget_id, token_hash, name, created_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&id)
                .bind(widget_id)
                .bind(token_hash(&token))
                .bind(&name)
                .bind(now_ms())
                .execute(self.writer())
                .await?;
                (token, id, name)
            }
        };
        let open: Option<(String,)> = sqlx::query_as(
            "SELECT id FROM conversations WHERE visitor_id = $1 AND state <> 'closed' ORDER BY created_at DESC LIMIT 1",
        )
        .bind(&visitor_id)
        .fetch_optional(self.pool())
        .await?;
        let conversation_id = match open {
            Some((id,)) => id,
            None => {
                let id = new_id();
                let now = now_ms();
                let mut tx = self.writer().begin().await?;
                sqlx::query(
                    "INSERT INTO conversations (id, org_id, widget_id, agent_id, visitor_id, visitor_name, state, state_version, state_since, last_seq, last_activity, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, 'ai', 0, $7, 0, $7, $7)",
                )
                .bind(&id)
                .bind(&org_id)
                .bind(widget_id)
                .bind(&agent_id)
                .bind(&visitor_id)
                .bind(&visitor_name)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                let (greeting, row) =
                    Self::append(&mut tx, &id, &org_id, &Author::Ai, Guard::Always, None, &widget.greeting).await?;
                tx.commit().await?;
                self.after_append(&greeting, &row);
                id
            }
        };
        Ok(VisitorSession { token, conversation_id, visitor_name, widget })
    }

    /// Resolves a visitor token to the visitor's latest conversation.
    pub async fn visitor_by_token(&self, token: &str) -> Result<VisitorCtx> {
        let row: Option<(String, String, String)> = sqlx::query_as(
            "SELECT v.id, c.org_id, c.id FROM visitors v JOIN conversations c ON c.visitor_id = v.id
             WHERE v.token_hash = $1 ORDER BY c.created_at DESC LIMIT 1",
        )
        .bind(token_hash(token))
        .fetch_optional(self.pool())
        .await?;
        let (visitor_id, org_id, conversation_id) =
            row.ok_or_else(|| BackendError::Forbidden("unknown visitor token".into()))?;
        Ok(VisitorCtx { visitor_id, org_id, conversation_id })
    }

    /// A visitor's chat message. Triggers the AI when it holds the conversation.
    pub async fn visitor_send(&self, v: &VisitorCtx, client_msg_id: &str, text: &str) -> Result<Posted> {
        let id = ClientMsgId::parse(client_msg_id)?;
        let text = MessageText::parse(text)?;
        let posted = self
            .append_or_replay(&v.conversation_id, &v.org_id, &Author::Visitor, Guard::Open, &id, text.as_str())
            .await?;
        if let (false, Some(row)) = (posted.duplicate, &posted.row) {
            self.after_append(&posted.message, row);
            // In order, before the ack: one visitor's messages update the bell in sequence.
            self.notify_message(&row.org_id, &row.id, &row.visitor_name, &posted.message.text).await;
            if row.state == "ai" {
                self.spawn_ai_reply(v.conversation_id.clone(), v.org_id.clone(), row.state_version);
            }
        }
        Ok(Posted { message: posted.message, duplicate: posted.duplicate })
    }

    /// Refuses (`Forbidden`, with `refusal`) when the visitor's conversation's AI agent has
    /// handoff disabled: then neither a human nor the e-mail form is on offer.
    pub(crate) async fn require_handoff_enabled(&self, v: &VisitorCtx, refusal: &str) -> Result<()> {
        let enabled: Option<(i64,)> = sqlx::query_as(
            "SELECT a.handoff_enabled FROM conversations c JOIN agents a ON a.id = c.agent_id WHERE c.id = $1 AND c.org_id = $2",
        )
        .bind(&v.conversation_id)
        .bind(&v.org_id)
        .fetch_optional(self.pool())
        .await?;
        match enabled {
            None => Err(BackendError::NotFound("conversation")),
            Some((0,)) => Err(BackendError::Forbidden(refusal.into())),
            Some(_) => Ok(()),
        }
    }

    /// "Talk to a human". Refused when the conversation's AI agent has handoff disabled (the
    /// widget hides the button then; this is the server-side check).
    pub async fn visitor_request_human(&self, v: &VisitorCtx) -> Result<HandoffState> {
        self.require_handoff_enabled(v, "talking to a human is not available here").await?;
        self.handoff(&v.conversation_id, &v.org_id, HandoffEvent::RequestHuman { by: Requester::Visitor }).await
    }

    // ---------------------------------------------------------------- agents

    pub async fn list_conversations(&self, user: &UserCtx) -> Result<Vec<ConversationSummary>> {
        let org = user.conversations_org()?;
        let rows: Vec<SummaryRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {SUMMARY_COLS} FROM conversations WHERE org_id = $1 ORDER BY last_activity DESC LIMIT 200"
        )))
        .bind(org)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(SummaryRow::summary).collect()
    }

    pub async fn conversation_detail(&self, user: &UserCtx, conversation_id: &str) -> Result<ConversationDetail> {
        let org = user.conversations_org()?;
        let row = self.summary_row(conversation_id, org).await?;
        let messages = self.messages_after(conversation_id, 0).await?;
        Ok(ConversationDetail { summary: row.summary()?, messages })
    }

    /// Checks that a conversation belongs to the user's organization.
    pub async fn authorize_conversation(&self, user: &UserCtx, conversation_id: &str) -> Result<()> {
        let org = user.conversations_org()?;
        self.summary_row(conversation_id, org).await.map(|_| ())
    }

    pub async fn agent_send(
        &self,
        user: &UserCtx,
        conversation_id: &str,
        client_msg_id: &str,
        text: &str,
    ) -> Result<Posted> {
        let org = user.conversations_org()?.to_string();
        let id = ClientMsgId::parse(client_msg_id)?;
        let text = MessageText::parse(text)?;
        let author = Author::Agent { id: user.id.clone(), name: user.name.clone() };
        let posted = self
            .append_or_replay(conversation_id, &org, &author, Guard::HeldBy(user.id.clone()), &id, text.as_str())
            .await?;
        if let (false, Some(row)) = (posted.duplicate, &posted.row) {
            self.after_append(&posted.message, row);
            // In order, before the ack: one visitor's messages update the bell in sequence.
            self.notify_message(&row.org_id, &row.id, &row.visitor_name, &posted.message.text).await;
        }
        Ok(Posted { message: posted.message, duplicate: posted.duplicate })
    }

    pub async fn agent_action(
        &self,
        user: &UserCtx,
        conversation_id: &str,
        action: AgentAction,
    ) -> Result<HandoffState> {
        let org = user.conversations_org()?.to_string();
        let agent = user.agent_ref();
        let event = match action {
            AgentAction::HandleChat => HandoffEvent::HandleChat { agent },
            AgentAction::ContinueChatYourself => HandoffEvent::ContinueChatYourself { agent },
            AgentAction::PassChatToAi => HandoffEvent::PassChatToAi { agent },
            AgentAction::Close => HandoffEvent::Close { by: Actor::Agent { agent } },
        };
        self.handoff(conversation_id, &org, event).await
    }

    // ---------------------------------------------------------------- reading

    async fn summary_row(&self, conversation_id: &str, org_id: &str) -> Result<SummaryRow> {
        sqlx::query_as(AssertSqlSafe(format!("SELECT {SUMMARY_COLS} FROM conversations WHERE id = $1 AND org_id = $2")))
            .bind(conversation_id)
            .bind(org_id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(BackendError::NotFound("conversation"))
    }

    /// Messages with `seq > after`, in order (at most [`PAGE`]). Callers must have authorized
    /// access to the conversation.
    pub async fn messages_after(&self, conversation_id: &str, after: i64) -> Result<Vec<MessageDto>> {
        let rows: Vec<MessageRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {MESSAGE_COLS} FROM messages WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT {PAGE}"
        )))
        .bind(conversation_id)
        .bind(after)
        .fetch_all(self.pool())
        .await?;
        self.complete_messages(rows.into_iter().map(MessageRow::dto).collect()).await
    }

    pub async fn conversation_state(&self, conversation_id: &str, org_id: &str) -> Result<(HandoffState, i64)> {
        let row = self.summary_row(conversation_id, org_id).await?;
        Ok((row.state()?, row.last_seq))
    }

    // ---------------------------------------------------------------- writing

    /// Appends a message inside `tx`, taking the next sequence number, if the guard allows.
    async fn append(
        tx: &mut AnyConnection,
        conversation_id: &str,
        org_id: &str,
        author: &Author,
        guard: Guard,
        client_msg_id: Option<&ClientMsgId>,
        text: &str,
    ) -> Result<(MessageDto, SummaryRow)> {
        let row = Self::take_seq(tx, conversation_id, org_id, guard, text).await?;
        let message = Self::insert_message(tx, &row, author, client_msg_id, text, &MessageExtra::Chat).await?;
        Ok((message, row))
    }

    /// Takes the conversation's next sequence number if the guard allows (this also takes the
    /// conversation's write lock until `tx` ends).
    pub(crate) async fn take_seq(
        tx: &mut AnyConnection,
        conversation_id: &str,
        org_id: &str,
        guard: Guard,
        text: &str,
    ) -> Result<SummaryRow> {
        let now = now_ms();
        let cond = match &guard {
            Guard::Open => "state <> 'closed'",
            Guard::AiAt(_) => "state = 'ai' AND state_version = $5",
            Guard::HeldBy(_) => "state = 'human' AND holder_id = $5",
            Guard::Always => "1 = 1",
        };
        let sql = format!(
            "UPDATE conversations SET last_seq = last_seq + 1, last_message = $2, last_activity = $3
             WHERE id = $1 AND org_id = $4 AND {cond} RETURNING {SUMMARY_COLS}"
        );
        let q = sqlx::query_as::<_, SummaryRow>(AssertSqlSafe(sql))
            .bind(conversation_id)
            .bind(preview(text))
            .bind(now)
            .bind(org_id);
        let q = match &guard {
            Guard::AiAt(version) => q.bind(*version),
            Guard::HeldBy(user) => q.bind(user.clone()),
            Guard::Open | Guard::Always => q,
        };
        match q.fetch_optional(&mut *tx).await? {
            Some(row) => Ok(row),
            None => Err(Self::explain_refusal(tx, conversation_id, org_id, &guard).await),
        }
    }

    /// Stores a message under the sequence number `row` took.
    pub(crate) async fn insert_message(
        tx: &mut AnyConnection,
        row: &SummaryRow,
        author: &Author,
        client_msg_id: Option<&ClientMsgId>,
        text: &str,
        extra: &MessageExtra,
    ) -> Result<MessageDto> {
        let (conversation_id, now) = (row.id.as_str(), row.last_activity);
        let (kind, author_id, author_name, sender) = author_columns(author);
        let (extra_kind, meta) = crate::email::extra_columns(extra);
        sqlx::query(
            "INSERT INTO messages (conversation_id, seq, sender, author_kind, author_id, author_name, body, client_msg_id, created_at, kind, meta)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(conversation_id)
        .bind(row.last_seq)
        .bind(sender)
        .bind(kind)
        .bind(author_id)
        .bind(author_name)
        .bind(text)
        .bind(client_msg_id.map(|c| c.as_str().to_string()))
        .bind(now)
        .bind(extra_kind)
        .bind(meta)
        .execute(&mut *tx)
        .await?;
        Ok(MessageDto {
            conversation_id: conversation_id.to_string(),
            seq: row.last_seq,
            author: author.clone(),
            text: text.to_string(),
            client_msg_id: client_msg_id.map(|c| c.as_str().to_string()),
            created_at: now,
            extra: extra.clone(),
        })
    }

    async fn explain_refusal(
        tx: &mut AnyConnection,
        conversation_id: &str,
        org_id: &str,
        guard: &Guard,
    ) -> BackendError {
        let state: Option<(String,)> =
            match sqlx::query_as("SELECT state FROM conversations WHERE id = $1 AND org_id = $2")
                .bind(conversation_id)
                .bind(org_id)
                .fetch_optional(&mut *tx)
                .await
            {
                Ok(s) => s,
                Err(e) => return e.into(),
            };
        match (state, guard) {
            (None, _) => BackendError::NotFound("conversation"),
            (Some((s,)), _) if s == "closed" => domain::handoff::TransitionError::ConversationClosed.into(),
            (_, Guard::AiAt(_)) => BackendError::Conflict("the AI reply is no longer wanted".into()),
            (_, Guard::HeldBy(_)) => {
                BackendError::Forbidden("take the chat first (Handle chat or Continue chat yourself) to reply".into())
            }
            _ => BackendError::Conflict("the conversation changed; try again".into()),
        }
    }

    /// Like [`append`] in a write of its own ([`Db::write`]: grouped with others on SQLite), but
    /// a message already stored under the same sender and client message id is returned instead
    /// (with `duplicate`) and nothing is written.
    async fn append_or_replay(
        &self,
        conversation_id: &str,
        org_id: &str,
        author: &Author,
        guard: Guard,
        client_msg_id: &ClientMsgId,
        text: &str,
    ) -> Result<AppendOutcome> {
        let (conversation_id, org_id, author, client_msg_id, text) =
            (conversation_id.to_string(), org_id.to_string(), author.clone(), client_msg_id.clone(), text.to_string());
        let rate_limit = i64::from(self.config.visitor_messages_per_minute);
        self.db
            .write(move |conn| {
                Box::pin(async move {
                    let (_, _, _, sender) = author_columns(&author);
                    // Take the sequence number first: that locks the conversation (both
                    // engines), so the duplicate check below cannot race another append to it.
                    let taken = Self::take_seq(conn, &conversation_id, &org_id, guard, &text).await;
                    let existing: Option<MessageRow> = sqlx::query_as(AssertSqlSafe(format!(
                        "SELECT {MESSAGE_COLS} FROM messages WHERE conversation_id = $1 AND sender = $2 AND client_msg_id = $3"
                    )))
                    .bind(&conversation_id)
                    .bind(&sender)
                    .bind(client_msg_id.as_str())
                    .fetch_optional(&mut *conn)
                    .await?;
                    match (existing, taken) {
                        // Rolled back: gives the sequence number back.
                        (Some(old), _) => {
                            Ok(Done::Rollback(AppendOutcome { message: old.dto(), duplicate: true, row: None }))
                        }
                        (None, Ok(row)) => {
                            if matches!(author, Author::Visitor) {
                                check_visitor_rate(conn, &conversation_id, rate_limit).await?;
                            }
                            let message = Self::insert_message(
                                conn,
                                &row,
                                &author,
                                Some(&client_msg_id),
                                &text,
                                &MessageExtra::Chat,
                            )
                            .await?;
                            Ok(Done::Commit(AppendOutcome { message, duplicate: false, row: Some(row) }))
                        }
                        (None, Err(e)) => Err(e),
                    }
                })
            })
            .await
    }

    /// Publishes a committed message and the conversation's new summary.
    pub(crate) fn after_append(&self, message: &MessageDto, row: &SummaryRow) {
        self.hub.publish(&row.org_id, &row.id, ServerFrame::Message { message: message.clone() });
        if let Ok(summary) = row.summary() {
            self.hub.publish_org(&row.org_id, ServerFrame::Conversation { summary });
        }
    }

    /// Applies a handoff event: transition, compare-and-set, event log, announcements, effects.
    pub async fn handoff(&self, conversation_id: &str, org_id: &str, event: HandoffEvent) -> Result<HandoffState> {
        for _ in 0..8 {
            let row = self.summary_row(conversation_id, org_id).await?;
            let from = row.state()?;
            let (to, effects) = transition(&from, &event)?;
            let pending = PendingTransition {
                id: conversation_id.to_string(),
                org: org_id.to_string(),
                version: row.state_version,
                visitor_name: row.visitor_name.clone(),
                from: from.clone(),
                to: to.clone(),
                event: event.clone(),
                effects: effects.clone(),
                now: now_ms(),
            };
            let applied = self
                .db
                .write(move |conn| {
                    Box::pin(async move {
                        Ok(match Self::write_transition(conn, &pending).await? {
                            Some(done) => Done::Commit(Some(done)),
                            None => Done::Rollback(None),
                        })
                    })
                })
                .await?;
            let Some((announced, bell_changed)) = applied else {
                continue; // re-read and re-decide
            };
            if bell_changed {
                self.hub.publish_org(org_id, ServerFrame::Notifications);
            }
            if effects.contains(&Effect::CancelAiGeneration) {
                self.cancel_generation(conversation_id);
            }
            self.hub.publish(
                org_id,
                conversation_id,
                ServerFrame::State { conversation_id: conversation_id.to_string(), state: to.clone() },
            );
            for (message, row) in &announced {
                self.after_append(message, row);
            }
            if announced.is_empty() {
                let row = self.summary_row(conversation_id, org_id).await?;
                self.hub.publish_org(org_id, ServerFrame::Conversation { summary: row.summary()? });
            }
            tracing::info!(conversation = conversation_id, event = event.name(), from = %from.kind(), to = %to.kind(), "handoff");
            return Ok(to);
        }
        Err(BackendError::Conflict("the conversation is changing too fast; try again".into()))
    }

    /// Writes an applied transition: the compare-and-set on the state version, the event log, the
    /// announced notices, the bell. `None` when somebody else changed the conversation first
    /// (the caller rolls back, re-reads and re-decides). Returns the notices and whether the
    /// bell changed.
    async fn write_transition(
        conn: &mut AnyConnection,
        t: &PendingTransition,
    ) -> Result<Option<(Vec<(MessageDto, SummaryRow)>, bool)>> {
        let holder = t.to.holder();
        let updated = sqlx::query(
            "UPDATE conversations SET state = $1, holder_id = $2, holder_name = $3, state_version = state_version + 1,
             state_since = $4, last_activity = $4 WHERE id = $5 AND org_id = $6 AND state_version = $7",
        )
        .bind(t.to.kind().as_str())
        .bind(holder.map(|a| a.id.clone()))
        .bind(holder.map(|a| a.name.clone()))
        .bind(t.now)
        .bind(&t.id)
        .bind(&t.org)
        .bind(t.version)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if updated == 0 {
            return Ok(None); // somebody else changed it first
        }
        let (actor_kind, actor_id, actor_name) = match t.event.actor() {
            Actor::Visitor => ("visitor", None, None),
            Actor::Ai => ("ai", None, None),
            Actor::Agent { agent } => ("agent", Some(agent.id), Some(agent.name)),
            Actor::System => ("system", None, None),
        };
        sqlx::query(
            "INSERT INTO control_events (conversation_id, event, actor_kind, actor_id, actor_name, from_state, to_state, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&t.id)
        .bind(t.event.name())
        .bind(actor_kind)
        .bind(actor_id)
        .bind(actor_name)
        .bind(t.from.kind().as_str())
        .bind(t.to.kind().as_str())
        .bind(t.now)
        .execute(&mut *conn)
        .await?;
        let mut announced = Vec::new();
        for effect in &t.effects {
            if let Effect::Announce { notice } = effect {
                announced.push(
                    Self::append(conn, &t.id, &t.org, &Author::System, Guard::Always, None, &notice.text()).await?,
                );
            }
        }
        // The bell: a new request notifies the team; a handled one is no longer news.
        let bell_changed = match (t.from.kind(), t.to.kind()) {
            (StateKind::Requested, StateKind::Requested) => false,
            (_, StateKind::Requested) => {
                crate::notify::notify_request(conn, &t.org, &t.id, &t.visitor_name, t.now).await?;
                true
            }
            (StateKind::Requested, _) => {
                sqlx::query(
                    "UPDATE notifications SET read_at = $2 WHERE conversation_id = $1 AND kind = 'request'
                     AND read_at IS NULL",
                )
                .bind(&t.id)
                .bind(t.now)
                .execute(&mut *conn)
                .await?;
                true
            }
            _ => false,
        };
        Ok(Some((announced, bell_changed)))
    }

    // ---------------------------------------------------------------- the AI

    fn spawn_ai_reply(&self, conversation_id: String, org_id: String, version: i64) {
        let this = self.clone();
        let key = conversation_id.clone();
        let task = tokio::spawn(async move {
            this.hub.publish(
                &org_id,
                &conversation_id,
                ServerFrame::Typing { conversation_id: conversation_id.clone() },
            );
            if let Err(e) = this.ai_reply(&conversation_id, &org_id, version).await {
                match e {
                    BackendError::Conflict(_) | BackendError::Transition(_) => {
                        tracing::debug!(conversation = %conversation_id, "AI reply dropped: {e}")
                    }
                    e => tracing::error!(conversation = %conversation_id, error = %e, "AI reply failed"),
                }
            }
        });
        let mut map = self.generating.lock().expect("generating lock");
        let handles = map.entry(key).or_default();
        handles.retain(|h| !h.is_finished());
        handles.push(task.abort_handle());
    }

    async fn ai_reply(&self, conversation_id: &str, org_id: &str, version: i64) -> Result<()> {
        // One reply at a time per conversation (in this process): answers come in the order of
        // the questions, and the rate limit below sees every earlier reply of a burst.
        let lock = self.ai_locks.lock().expect("ai locks").entry(conversation_id.to_string()).or_default().clone();
        let guard = lock.lock().await;
        let result = self.ai_reply_locked(conversation_id, org_id, version).await;
        drop(guard);
        let mut locks = self.ai_locks.lock().expect("ai locks");
        if Arc::strong_count(&lock) == 2 {
            locks.remove(conversation_id); // nobody else waits
        }
        result
    }

    async fn ai_reply_locked(&self, conversation_id: &str, org_id: &str, version: i64) -> Result<()> {
        tokio::time::sleep(Duration::from_millis(self.config.ai_typing_delay_ms)).await;
        let (agent_id,): (String,) = sqlx::query_as("SELECT agent_id FROM conversations WHERE id = $1 AND org_id = $2")
            .bind(conversation_id)
            .bind(org_id)
            .fetch_one(self.pool())
            .await?;
        let agent = self.agent_row(&agent_id).await?;
        let rows: Vec<MessageRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {MESSAGE_COLS} FROM messages WHERE conversation_id = $1 ORDER BY seq DESC LIMIT {AI_HISTORY}"
        )))
        .bind(conversation_id)
        .fetch_all(self.pool())
        .await?;
        let history: Vec<MessageDto> = rows.into_iter().rev().map(MessageRow::dto).collect();

        let ctx = AiContext {
            conversation_id: conversation_id.to_string(),
            knowledge: self.knowledge_of(&agent_id).await?,
            agent,
            history,
        };
        let reply = if ctx.handoff_enabled() && intent::wants_human(ctx.question()) {
            AiReply::Handoff(ctx.agent.handoff())
        } else {
            // A visitor cannot make the server call a model in a loop: at most N AI replies a minute.
            match self.ai_rate_limited(conversation_id, &ctx.history).await? {
                None => self.ai.reply(&ctx, self.draft_sink(conversation_id, org_id)).await,
                Some(Some(notice)) => AiReply::Say(notice.into()),
                Some(None) => return Ok(()),
            }
        };
        let (text, then_handoff) = match reply {
            AiReply::Say(t) => (t, false),
            AiReply::Handoff(t) => (t, true),
        };
        let stored = self.store_ai_reply(conversation_id, org_id, version, &text, then_handoff).await;
        if stored.is_err() {
            // The reply is no longer wanted (takeover): drop any streamed draft.
            self.hub.publish(
                org_id,
                conversation_id,
                ServerFrame::DraftEnd { conversation_id: conversation_id.into() },
            );
        }
        stored
    }

    async fn store_ai_reply(
        &self,
        conversation_id: &str,
        org_id: &str,
        version: i64,
        text: &str,
        then_handoff: bool,
    ) -> Result<()> {
        let text = MessageText::parse(text).unwrap_or_else(|_| MessageText::parse("…").expect("literal"));
        let (id, org) = (conversation_id.to_string(), org_id.to_string());
        let (message, row) = self
            .db
            .write(move |conn| {
                Box::pin(async move {
                    let stored =
                        Self::append(conn, &id, &org, &Author::Ai, Guard::AiAt(version), None, text.as_str()).await?;
                    Ok(Done::Commit(stored))
                })
            })
            .await?;
        self.after_append(&message, &row);
        if then_handoff {
            self.handoff(conversation_id, org_id, HandoffEvent::RequestHuman { by: Requester::Ai }).await?;
        }
        Ok(())
    }

    /// `None`: go ahead. `Some(Some(notice))`: over the limit, say so once. `Some(None)`: over the
    /// limit and already said. Counted in the database, so it holds across server processes.
    async fn ai_rate_limited(
        &self,
        conversation_id: &str,
        history: &[MessageDto],
    ) -> Result<Option<Option<&'static str>>> {
        let limit = self.config.ai_replies_per_minute;
        if limit == 0 {
            return Ok(None);
        }
        let (recent,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM messages WHERE conversation_id = $1 AND author_kind = 'ai' AND created_at > $2",
        )
        .bind(conversation_id)
        .bind(now_ms() - 60_000)
        .fetch_one(self.pool())
        .await?;
        if recent < limit as i64 {
            return Ok(None);
        }
        let last_ai = history.iter().rev().find(|m| m.author == Author::Ai);
        tracing::info!(conversation = %conversation_id, "AI reply rate limit reached");
        Ok(Some(if last_ai.is_some_and(|m| m.text == RATE_NOTICE) { None } else { Some(RATE_NOTICE) }))
    }

    /// Streams the growing reply to the visitor and dashboards, at most every 50 ms.
    fn draft_sink(&self, conversation_id: &str, org_id: &str) -> DraftSink {
        let this = self.clone();
        let (conv, org) = (conversation_id.to_string(), org_id.to_string());
        let last = Mutex::new(None::<std::time::Instant>);
        Arc::new(move |text: &str| {
            let mut last = last.lock().expect("draft lock");
            if last.is_some_and(|t| t.elapsed() < Duration::from_millis(50)) {
                return;
            }
            *last = Some(std::time::Instant::now());
            this.hub.publish(&org, &conv, ServerFrame::Draft { conversation_id: conv.clone(), text: text.to_string() });
        })
    }

    pub(crate) fn cancel_generation(&self, conversation_id: &str) {
        let handles = self.generating.lock().expect("generating lock").remove(conversation_id);
        for h in handles.into_iter().flatten() {
            h.abort();
        }
    }

    /// How many AI generations are running (for tests and diagnostics).
    pub fn generations_running(&self) -> usize {
        self.generating.lock().expect("generating lock").values().flatten().filter(|h| !h.is_finished()).count()
    }
}

/// At most `limit` visitor messages a minute per conversation (0: no limit), counted inside the
/// append's transaction, which holds the conversation's lock: exact across processes.
async fn check_visitor_rate(conn: &mut AnyConnection, conversation_id: &str, limit: i64) -> Result<()> {
    if limit == 0 {
        return Ok(());
    }
    let (recent,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM messages WHERE conversation_id = $1 AND sender = 'visitor' AND created_at > $2",
    )
    .bind(conversation_id)
    .bind(now_ms() - 60_000)
    .fetch_one(&mut *conn)
    .await?;
    if recent >= limit {
        return Err(BackendError::RateLimited(format!(
            "you are sending messages too fast (at most {limit} a minute); please wait a moment"
        )));
    }
    Ok(())
}

/// A transition decided on a read of the conversation, to be written if nothing changed since.
struct PendingTransition {
    id: String,
    org: String,
    /// The state version the decision was made at.
    version: i64,
    visitor_name: String,
    from: HandoffState,
    to: HandoffState,
    event: HandoffEvent,
    effects: Vec<Effect>,
    now: i64,
}

struct AppendOutcome {
    message: MessageDto,
    duplicate: bool,
    row: Option<SummaryRow>,
}
