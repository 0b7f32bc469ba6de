//! WebSocket endpoints.
//!
//! * `/ws/visitor`: the widget. First frame `hello {token, last_seq}`; the server answers
//!   `welcome`, then every message after `last_seq` in order, then live frames.
//! * `/ws/agent`: the dashboard, authenticated by the session cookie. It receives its
//!   organization's changed conversations live (`/ws/agent?ai_agent=<id>`: a platform admin's
//!   conversations tab of one AI agent, that agent's conversations) — coalesced, newest only, handoff changes at once
//!   (see [`crate::dashboard_list`]) — and the messages of the conversations it `watch`es (from
//!   the `last_seq` it gives). Its user is re-checked on every `watch`, on each
//!   presence tick and whenever their access may have shrunk (`backend::services::revocation`): a revoked
//!   session, another organization or a lost *conversations* permission closes it (1008).
//!
//! Delivery rule for both: messages of a conversation go out in `seq` order, each at most once
//! per connection. Live frames from the hub are hints; a gap (or a lagging receiver) is filled
//! from the database. Upgrades from foreign origins are refused; frames are limited to 16 KiB.
use crate::dashboard_list::{until, DashboardList};
use crate::security::origin_allowed;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use backend::hub::Frame;
use backend::principal::UserCtx;
use backend::{Backend, BackendError, ListScope};
use domain::wire::{AgentFrame, MessageDto, MessageExtra, ServerFrame, VisitorFrame};
use futures::stream::{BoxStream, SelectAll, StreamExt};
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

const MAX_FRAME: usize = 16 * 1024;
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
const PING_EVERY: Duration = Duration::from_secs(25);

fn error_frame(e: &BackendError, client_msg_id: Option<String>) -> ServerFrame {
    ServerFrame::Error { code: e.code().into(), message: e.to_string(), client_msg_id }
}

fn bad_frame(detail: impl std::fmt::Display) -> ServerFrame {
    ServerFrame::Error { code: "bad_frame".into(), message: format!("malformed frame: {detail}"), client_msg_id: None }
}

async fn send(socket: &mut WebSocket, frame: &ServerFrame) -> bool {
    match serde_json::to_string(frame) {
        Ok(text) => socket.send(Message::Text(text.into())).await.is_ok(),
        Err(_) => false,
    }
}

/// A message as the visitor may see it: without delivery error details (SMTP server names).
fn for_visitor(mut message: MessageDto) -> MessageDto {
    if let MessageExtra::EmailReply { delivery, .. } = &mut message.extra {
        delivery.error = None;
    }
    message
}

/// Sends the messages of one conversation after `*last_sent` (reading the database), advancing
/// `*last_sent`. `upto` is a live message that triggered this, if any: when it is the next one it
/// is sent directly without a query.
async fn deliver(
    socket: &mut WebSocket,
    backend: &Backend,
    conversation_id: &str,
    last_sent: &mut i64,
    upto: Option<&MessageDto>,
    view: fn(MessageDto) -> MessageDto,
) -> bool {
    if let Some(m) = upto {
        if m.seq <= *last_sent {
            return true; // already delivered
        }
        if m.seq == *last_sent + 1 {
            *last_sent = m.seq;
            return send(socket, &ServerFrame::Message { message: view(m.clone()) }).await;
        }
    }
    loop {
        let page = match backend.messages_after(conversation_id, *last_sent).await {
            Ok(p) => p,
            Err(e) => return send(socket, &error_frame(&e, None)).await,
        };
        let full = page.len() as i64 >= backend::conversation::PAGE;
        for message in page {
            *last_sent = message.seq;
            if !send(socket, &ServerFrame::Message { message: view(message) }).await {
                return false;
            }
        }
        if !full {
            return true;
        }
    }
}

enum Incoming {
    Text(String),
    Ignore,
    Closed,
}

fn classify(msg: Option<Result<Message, axum::Error>>) -> Incoming {
    match msg {
        Some(Ok(Message::Text(t))) => Incoming::Text(t.to_string()),
        Some(Ok(Message::Binary(_))) => Incoming::Text(String::new()), // answered as malformed
        Some(Ok(Message::Ping(_) | Message::Pong(_))) => Incoming::Ignore,
        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => Incoming::Closed,
    }
}

/// Frame limits and small buffers: an idle widget connection should cost little memory (the
/// library's defaults reserve 128 KiB per direction and connection).
fn limits(ws: WebSocketUpgrade) -> WebSocketUpgrade {
    ws.max_message_size(MAX_FRAME).max_frame_size(MAX_FRAME).read_buffer_size(4 * 1024).write_buffer_size(4 * 1024)
}

/// Close code for "the server is restarting": clients reconnect (to this or another process)
/// and resume from their last seen sequence number.
const RESTART: u16 = 1012;
const RESTART_REASON: &str = "server restarting; reconnect";

/// Resolves once the process is stopping.
async fn stopping(stop: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopping| *stopping).await;
}

async fn close(mut socket: WebSocket, code: u16, reason: &str) {
    let _ = socket.send(Message::Close(Some(CloseFrame { code, reason: reason.to_string().into() }))).await;
}

// ------------------------------------------------------------------------------------- visitor

pub async fn visitor_socket(ws: WebSocketUpgrade, headers: HeaderMap, State(backend): State<Backend>) -> Response {
    if !origin_allowed(&headers, &backend) {
        return (StatusCode::FORBIDDEN, "origin not allowed").into_response();
    }
    // The socket lives on in its upgrade request's span (its request id, see `ops`).
    let span = tracing::Span::current();
    limits(ws).on_upgrade(move |s| tracing::Instrument::instrument(visitor_loop(s, backend), span))
}

async fn visitor_loop(mut socket: WebSocket, backend: Backend) {
    let _open = backend.socket_opened(backend::services::SocketSide::Visitor);
    let mut stop = backend.on_shutdown();
    // 1. hello
    let hello = tokio::time::timeout(HELLO_TIMEOUT, socket.recv()).await;
    let (token, mut last_sent) = match hello.map(classify) {
        Ok(Incoming::Text(t)) => match serde_json::from_str::<VisitorFrame>(&t) {
            Ok(VisitorFrame::Hello { token, last_seq }) => (token, last_seq.max(0)),
            Ok(_) => {
                send(&mut socket, &bad_frame("the first frame must be hello")).await;
                return close(socket, 1008, "hello expected").await;
            }
            Err(e) => {
                send(&mut socket, &bad_frame(e)).await;
                return close(socket, 1008, "hello expected").await;
            }
        },
        _ => return close(socket, 1008, "hello expected").await,
    };
    let visitor = match backend.visitor_by_token(&token).await {
        Ok(v) => v,
        Err(e) => {
            send(&mut socket, &error_frame(&e, None)).await;
            return close(socket, 1008, "unknown visitor").await;
        }
    };
    let conv = visitor.conversation_id.clone();
    tracing::debug!(conversation = %conv, "visitor socket open");
    // 2. subscribe before reading the backlog, so nothing falls between the two
    let mut live = backend.hub.subscribe_conversation(&conv);
    let (state, last_seq, human_seen_seq) = match backend.visitor_welcome(&visitor).await {
        Ok(s) => s,
        Err(e) => {
            send(&mut socket, &error_frame(&e, None)).await;
            return close(socket, 1011, "unavailable").await;
        }
    };
    if last_sent > last_seq {
        last_sent = 0; // the client remembers another conversation: send it everything
    }
    if !send(&mut socket, &ServerFrame::Welcome { conversation_id: conv.clone(), state, last_seq, human_seen_seq })
        .await
        || !deliver(&mut socket, &backend, &conv, &mut last_sent, None, for_visitor).await
    {
        return;
    }
    // 3. live
    let mut ping = tokio::time::interval(PING_EVERY);
    loop {
        tokio::select! {
            msg = socket.recv() => match classify(msg) {
                Incoming::Closed => return,
                Incoming::Ignore => {}
                Incoming::Text(t) => {
                    let reply = match serde_json::from_str::<VisitorFrame>(&t) {
                        Ok(VisitorFrame::Send { client_msg_id, text }) => {
                            match backend.visitor_send(&visitor, &client_msg_id, &text).await {
                                Ok(p) => Some(ServerFrame::Ack { client_msg_id, seq: p.message.seq }),
                                Err(e) => Some(error_frame(&e, Some(client_msg_id))),
                            }
                        }
                        Ok(VisitorFrame::RequestHuman) => match backend.visitor_request_human(&visitor).await {
                            Ok(state) => Some(ServerFrame::State { conversation_id: conv.clone(), state }),
                            Err(e) => Some(error_frame(&e, None)),
                        },
                        // Stored quietly; a refusal has its own code, which the widget does not show
                        // the visitor (nothing they could do about it).
                        Ok(VisitorFrame::Context { env }) => backend.visitor_context_update(&visitor, &env).await.err().map(|e| {
                            ServerFrame::Error { code: domain::visitor_context::CONTEXT_REFUSED.into(), message: e.to_string(), client_msg_id: None }
                        }),
                        // Never answered: over the rate it is dropped (see backend::services::typing).
                        Ok(VisitorFrame::Typing { preview }) => {
                            backend.visitor_typing(&visitor, &preview).await;
                            None
                        }
                        // Never answered either (see backend::services::seen).
                        Ok(VisitorFrame::Seen { seq }) => backend.visitor_seen(&visitor, seq).await.err().map(|e| error_frame(&e, None)),
                        Ok(VisitorFrame::Ping) => Some(ServerFrame::Pong),
                        Ok(VisitorFrame::Hello { .. }) => Some(bad_frame("already said hello")),
                        Err(e) => Some(bad_frame(e)),
                    };
                    if let Some(reply) = reply {
                        if !send(&mut socket, &reply).await { return; }
                    }
                }
            },
            frame = live.recv() => {
                let ok = match frame {
                    Ok(f) => visitor_forward(&mut socket, &backend, &conv, &mut last_sent, f).await,
                    Err(RecvError::Lagged(_)) => deliver(&mut socket, &backend, &conv, &mut last_sent, None, for_visitor).await,
                    Err(RecvError::Closed) => return,
                };
                if !ok { return; }
            }
            _ = stopping(&mut stop) => return close(socket, RESTART, RESTART_REASON).await,
            _ = ping.tick() => {
                if socket.send(Message::Ping(Default::default())).await.is_err() { return; }
            }
        }
    }
}

async fn visitor_forward(
    socket: &mut WebSocket,
    backend: &Backend,
    conv: &str,
    last_sent: &mut i64,
    frame: Frame,
) -> bool {
    match &*frame {
        ServerFrame::Message { message } => deliver(socket, backend, conv, last_sent, Some(message), for_visitor).await,
        // A message the visitor has (delivery status of an e-mail reply); errors stay internal.
        ServerFrame::MessageUpdated { message } if message.seq <= *last_sent => {
            send(socket, &ServerFrame::MessageUpdated { message: for_visitor(message.clone()) }).await
        }
        f @ (ServerFrame::State { .. }
        | ServerFrame::Typing { .. }
        | ServerFrame::HumanTyping { .. }
        | ServerFrame::HumanSeen { .. }
        | ServerFrame::Draft { .. }
        | ServerFrame::DraftEnd { .. }) => send(socket, f).await,
        _ => true, // dashboard-only frames
    }
}

// --------------------------------------------------------------------------------------- agent

/// `?ai_agent=<id>`: the conversations tab of one AI agent (platform admins).
#[derive(serde::Deserialize)]
pub struct AgentQuery {
    ai_agent: Option<String>,
}

pub async fn agent_socket(
    ws: WebSocketUpgrade,
    headers: HeaderMap,
    Query(query): Query<AgentQuery>,
    State(backend): State<Backend>,
) -> Response {
    if !origin_allowed(&headers, &backend) {
        return (StatusCode::FORBIDDEN, "origin not allowed").into_response();
    }
    let token = crate::security::session_token(&headers, &backend);
    // Listen for revocations before the check, so that none falls in between.
    let revoked = backend.revocations();
    let user = match &token {
        Some(t) => backend.user_by_session(t).await.ok().flatten(),
        None => None,
    };
    let (Some(token), Some(user)) = (token, user) else {
        return (StatusCode::UNAUTHORIZED, "sign in first").into_response();
    };
    // The organization whose live frames the socket follows.
    let (scope, org) = match query.ai_agent {
        None => match user.conversations_org() {
            Ok(org) => (ListScope::MyOrganization, org.to_owned()),
            Err(_) => return (StatusCode::UNAUTHORIZED, "sign in first").into_response(),
        },
        Some(agent) => match backend.ai_agent_org(&user, &agent).await {
            // An AI agent of no organization has no widget, so no new conversations.
            Ok(org) => (ListScope::AiAgent(agent), org.unwrap_or_default()),
            Err(e @ BackendError::NotFound(_)) => return (StatusCode::NOT_FOUND, e.to_string()).into_response(),
            Err(e) => return (StatusCode::FORBIDDEN, e.to_string()).into_response(),
        },
    };
    let access = Access { token, user, revoked, scope, org };
    let span = tracing::Span::current();
    limits(ws).on_upgrade(move |s| tracing::Instrument::instrument(agent_loop(s, backend, access), span))
}

/// What a dashboard socket was opened with, to re-check it (see `backend::services::revocation`).
struct Access {
    token: String,
    user: UserCtx,
    revoked: tokio::sync::broadcast::Receiver<String>,
    scope: ListScope,
    /// The organization whose live frames it follows.
    org: String,
}

impl Access {
    /// Re-reads the user of the session: false when the session is gone, or what the socket
    /// shows is no longer theirs to see (the organization or its *conversations* permission; an
    /// AI agent's tab: the admin role).
    async fn recheck(&mut self, backend: &Backend) -> bool {
        match backend.dashboard_user(&self.token, &self.scope, &self.org).await {
            Some(user) => {
                self.user = user;
                true
            }
            None => false,
        }
    }

    /// Whether the list shows this conversation.
    fn lists(&self, summary: &domain::wire::ConversationSummary) -> bool {
        match &self.scope {
            ListScope::MyOrganization => true,
            ListScope::AiAgent(agent) => summary.ai_agent_id == *agent,
        }
    }

    /// Resolves with whether a revocation may concern this socket's user.
    async fn concerns_me(&mut self) -> bool {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            match self.revoked.recv().await {
                Ok(id) if id == self.user.id => return true,
                Ok(_) => continue,
                Err(RecvError::Lagged(_)) => return true,
                Err(RecvError::Closed) => return std::future::pending().await,
            }
        }
    }
}

const REVOKED: u16 = 1008;
const REVOKED_REASON: &str = "signed out or no longer allowed";

async fn agent_loop(mut socket: WebSocket, backend: Backend, mut access: Access) {
    let _open = backend.socket_opened(backend::services::SocketSide::Agent);
    let mut stop = backend.on_shutdown();
    let mut live = backend.hub.subscribe_org(&access.org);
    // The watched conversations' own frames (messages, typing, "seen"), one stream each.
    let mut for_watchers: SelectAll<BoxStream<'static, Watched>> = SelectAll::new();
    let mut list = DashboardList::new(backend::ids::now_ms());
    // conversation id -> last seq sent on this connection
    let mut watched: HashMap<String, i64> = HashMap::new();
    let mut ping = tokio::time::interval(PING_EVERY);
    // An open dashboard keeps its user "online" (see backend::email: the e-mail offer).
    let mut presence = tokio::time::interval(Duration::from_millis(backend::services::email_offer::PRESENCE_EVERY_MS));
    loop {
        tokio::select! {
            _ = presence.tick() => {
                if !access.recheck(&backend).await {
                    return close(socket, REVOKED, REVOKED_REASON).await;
                }
                if let Err(e) = backend.touch_presence(&access.user.id).await {
                    tracing::warn!(error = %e, "could not record presence");
                }
            }
            mine = access.concerns_me() => {
                if mine && !access.recheck(&backend).await {
                    return close(socket, REVOKED, REVOKED_REASON).await;
                }
            }
            msg = socket.recv() => match classify(msg) {
                Incoming::Closed => return,
                Incoming::Ignore => {}
                Incoming::Text(t) => {
                    let ok = match serde_json::from_str::<AgentFrame>(&t) {
                        Ok(AgentFrame::Watch { conversation_id, last_seq }) => {
                            // The caller is re-checked beside the conversation's check (one
                            // round trip): the fresh user has the same organization (or is still
                            // an admin), so the conversation's answer holds for them.
                            let user = access.user.clone();
                            let (fresh, allowed) = tokio::join!(
                                backend.dashboard_user(&access.token, &access.scope, &access.org),
                                backend.authorize_conversation(&user, &conversation_id)
                            );
                            let Some(fresh) = fresh else {
                                return close(socket, REVOKED, REVOKED_REASON).await;
                            };
                            access.user = fresh;
                            match allowed {
                                Ok(()) => {
                                    if !watched.contains_key(&conversation_id) {
                                        for_watchers.push(watcher_frames(&backend, &conversation_id));
                                    }
                                    let last = watched.entry(conversation_id.clone()).or_insert(last_seq.max(0));
                                    deliver(&mut socket, &backend, &conversation_id, last, None, std::convert::identity).await
                                }
                                Err(e) => send(&mut socket, &error_frame(&e, None)).await,
                            }
                        }
                        Ok(AgentFrame::Unwatch { conversation_id }) => {
                            if watched.remove(&conversation_id).is_some() {
                                // The streams are subscribed afresh: what the old ones held
                                // unread is read from the database.
                                for_watchers = watched.keys().map(|c| watcher_frames(&backend, c)).collect();
                                let mut ok = true;
                                for (conv, last) in watched.iter_mut() {
                                    ok = ok && deliver(&mut socket, &backend, conv, last, None, std::convert::identity).await;
                                }
                                ok
                            } else {
                                true
                            }
                        }
                        Ok(AgentFrame::Typing { conversation_id }) => match backend.human_typing(&access.user, &conversation_id).await {
                            Ok(()) => true,
                            Err(e) => send(&mut socket, &error_frame(&e, None)).await,
                        },
                        Ok(AgentFrame::Seen { conversation_id, seq }) => match backend.human_seen(&access.user, &conversation_id, seq).await {
                            Ok(()) => true,
                            Err(e) => send(&mut socket, &error_frame(&e, None)).await,
                        },
                        Ok(AgentFrame::Ping) => send(&mut socket, &ServerFrame::Pong).await,
                        Err(e) => send(&mut socket, &bad_frame(e)).await,
                    };
                    if !ok { return; }
                }
            },
            frame = live.recv() => {
                let ok = match frame {
                    Ok(f) => match &*f {
                        // Messages, typing and drafts come on the watched conversations' own
                        // streams (`backend::hub::watched_only`).
                        ServerFrame::VisitorContext { conversation_id }
                        | ServerFrame::NotesChanged { conversation_id }
                            if !watched.contains_key(conversation_id) => true,
                        ServerFrame::Conversation { summary } => {
                            if access.lists(summary) { list.note(summary.clone()); }
                            true
                        }
                        other => send(&mut socket, other).await,
                    },
                    Err(RecvError::Lagged(_)) => agent_resync(&mut socket, &backend, &access, &mut list, &watched).await,
                    Err(RecvError::Closed) => return,
                };
                if !ok { return; }
            }
            // Messages, typing and "seen" in the conversations this socket watches.
            Some(item) = for_watchers.next(), if !for_watchers.is_empty() => {
                let ok = match item {
                    Watched::Frame(f) => match &*f {
                        ServerFrame::Message { message } => match watched.get_mut(&message.conversation_id) {
                            Some(last) => deliver(&mut socket, &backend, &message.conversation_id, last, Some(message), std::convert::identity).await,
                            None => true,
                        },
                        ServerFrame::MessageUpdated { message }
                            if watched.get(&message.conversation_id).is_none_or(|last| message.seq > *last) => true,
                        other => send(&mut socket, other).await,
                    },
                    // Messages may have been lost: read them.
                    Watched::Lagged(conv) => match watched.get_mut(&conv) {
                        Some(last) => deliver(&mut socket, &backend, &conv, last, None, std::convert::identity).await,
                        None => true,
                    },
                };
                if !ok { return; }
            }
            _ = until(list.due()) => {
                for frame in list.flush() {
                    if !send(&mut socket, &frame).await { return; }
                }
            }
            // The filters' counts, once a flush asked for them (at most once per RECOUNT_EVERY).
            _ = until(list.recount_due()) => {
                if list.take_recount() && !send_counts(&mut socket, &backend, &access).await { return; }
            }
            _ = stopping(&mut stop) => return close(socket, RESTART, RESTART_REASON).await,
            _ = ping.tick() => {
                if socket.send(Message::Ping(Default::default())).await.is_err() { return; }
            }
        }
    }
}

/// What a watched conversation's stream yields to the dashboard watching it.
enum Watched {
    Frame(Frame),
    /// Frames of this conversation were lost: its messages are to be read again.
    Lagged(String),
}

/// A watched conversation's own frames for a dashboard, subscribed at once (before the caller
/// reads the backlog): its messages, the AI's typing and drafts from the conversation's channel
/// (`backend::hub::watched_only`; a lag there is reported, to read the messages again), and the
/// typing hints and "seen" marks meant for dashboards (a lag loses hints only: typing expires
/// anyway; a lost mark shows with the next one or the next read).
fn watcher_frames(backend: &Backend, conversation_id: &str) -> BoxStream<'static, Watched> {
    let hints = futures::stream::unfold(backend.hub.subscribe_watchers(conversation_id), |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(frame) => return Some((Watched::Frame(frame), rx)),
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return None,
            }
        }
    });
    let conv = conversation_id.to_string();
    let own = futures::stream::unfold(backend.hub.subscribe_conversation(conversation_id), move |mut rx| {
        let conv = conv.clone();
        async move {
            loop {
                match rx.recv().await {
                    Ok(frame) if backend::hub::watched_only(&frame) => return Some((Watched::Frame(frame), rx)),
                    Ok(_) => continue, // the visitor's, or also on the organization's channel
                    Err(RecvError::Lagged(_)) => return Some((Watched::Lagged(conv), rx)),
                    Err(RecvError::Closed) => return None,
                }
            }
        }
    });
    futures::stream::select(hints, own).boxed()
}

/// Sends the filters' counts as they are now (a failed read is logged, not fatal: the next
/// change sends them again).
async fn send_counts(socket: &mut WebSocket, backend: &Backend, access: &Access) -> bool {
    match backend.list_counts(&access.user, &access.scope).await {
        Ok(counts) => send(socket, &ServerFrame::Counts { counts }).await,
        Err(e) => {
            tracing::warn!(error = %e, "could not count the conversations");
            true
        }
    }
}

/// After lagging on the organization's channel: re-send every conversation changed since the
/// socket opened that it has not sent in its newest version (at once), and have every watched
/// conversation's notes read again (a `NotesChanged` may be among the frames lost). Their
/// messages travel on their own channels, which this lag did not touch.
async fn agent_resync(
    socket: &mut WebSocket,
    backend: &Backend,
    access: &Access,
    list: &mut DashboardList,
    watched: &HashMap<String, i64>,
) -> bool {
    match backend.conversations_changed_since(&access.user, &access.scope, list.since()).await {
        Ok(changed) => {
            for summary in changed {
                list.note(summary);
            }
            list.hurry();
        }
        Err(e) => tracing::warn!(error = %e, "could not re-read the conversation list"),
    }
    for conv in watched.keys() {
        if !send(socket, &ServerFrame::NotesChanged { conversation_id: conv.clone() }).await {
            return false;
        }
    }
    true
}
