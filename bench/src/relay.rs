//! The baselines, run as `handoff-bench relay-server [--durable <file>]` in a process of their
//! own: the least a chat server must do to carry the benchmark's traffic, on the same wire
//! protocol as Handoff (so that the load generator drives all three alike).
//!
//! * Visitor sockets (`/ws/visitor`): `hello` (the token is the conversation id), `welcome`,
//!   then each `send` gets a sequence number, is delivered as a `message` frame to the visitor
//!   and to the agent sockets watching the conversation, and is acknowledged (`ack`).
//! * Agent sockets (`/ws/agent`): `watch` subscribes to a conversation's live messages.
//! * HTTP: `auth/login` (a cookie), `widget/session` (a new conversation), `chat/send` (an
//!   agent's message, as Handoff's server function takes it: a form), `handoff/continue` and
//!   `handoff/pass` (answered at once: the HTTP round trip without any work).
//!
//! Bare: nothing is stored. Durable (`--durable <file>`): every message is appended to the file
//! and the batch waiting meanwhile is `fdatasync`ed before any of it is delivered or
//! acknowledged (group commit: the least work a store-then-deliver server can do on this disk).
//! No history is kept, so `watch` and `hello` deliver only what comes after them.
//!
//! The sockets use axum (tokio-tungstenite underneath) with Handoff's buffer sizes and
//! `TCP_NODELAY`. Messages are written in sequence order per conversation.
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use axum::{Form, Router};
use domain::handoff::{AgentRef, HandoffState};
use domain::wire::{Author, MessageDto, MessageExtra, ServerFrame, VisitorSession, WidgetConfig};
use futures::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};

/// A socket's outgoing frames, already encoded.
type Out = mpsc::UnboundedSender<Arc<str>>;

#[derive(Default)]
struct Conversation {
    seq: i64,
    visitor: Option<Out>,
    watchers: Vec<Out>,
}

/// A message waiting for its sequence number (and, durable, for the disk).
struct Pending {
    conversation_id: String,
    author: Author,
    client_msg_id: String,
    text: String,
    done: oneshot::Sender<MessageDto>,
}

#[derive(Clone)]
struct Relay {
    conversations: Arc<Mutex<HashMap<String, Conversation>>>,
    store: mpsc::UnboundedSender<Pending>,
    next_id: Arc<AtomicU64>,
}

/// Runs the relay on a free port of 127.0.0.1 and prints `listening on <url>`.
pub async fn serve(durable: Option<PathBuf>) {
    let (store, queue) = mpsc::unbounded_channel();
    let relay = Relay { conversations: Default::default(), store, next_id: Arc::new(AtomicU64::new(1)) };
    let file = durable.map(|path| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    });
    tokio::spawn(sequencer(relay.conversations.clone(), queue, file));
    let app = Router::new()
        .route("/ws/visitor", get(visitor_socket))
        .route("/ws/agent", get(agent_socket))
        .route("/api/auth/login", post(login))
        .route("/api/widget/session", post(session))
        .route("/api/chat/send", post(agent_send))
        .route("/api/handoff/continue", post(no_op))
        .route("/api/handoff/pass", post(no_op))
        .with_state(relay);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    println!("relay listening on http://{}", listener.local_addr().expect("address"));
    // `HANDOFF_RELAY_NAGLE=1` leaves Nagle's algorithm on, as axum's default does (an experiment:
    // what `TCP_NODELAY` is worth on this traffic).
    let nodelay = std::env::var_os("HANDOFF_RELAY_NAGLE").is_none();
    let listener = listener.tap_io(move |tcp| {
        let _ = tcp.set_nodelay(nodelay);
    });
    axum::serve(listener, app).await.expect("serve");
}

/// Takes the messages waiting, numbers them, writes and syncs them (durable), then delivers
/// and acknowledges them, batch after batch.
async fn sequencer(
    conversations: Arc<Mutex<HashMap<String, Conversation>>>,
    mut queue: mpsc::UnboundedReceiver<Pending>,
    file: Option<std::fs::File>,
) {
    let file = file.map(|f| Arc::new(Mutex::new(f)));
    let mut batch = Vec::new();
    while queue.recv_many(&mut batch, 4096).await > 0 {
        let now = now_ms();
        let numbered: Vec<(MessageDto, oneshot::Sender<MessageDto>)> = {
            let mut convs = conversations.lock().unwrap();
            batch
                .drain(..)
                .map(|p| {
                    let conv = convs.entry(p.conversation_id.clone()).or_default();
                    conv.seq += 1;
                    let message = MessageDto {
                        conversation_id: p.conversation_id,
                        seq: conv.seq,
                        author: p.author,
                        text: p.text,
                        client_msg_id: Some(p.client_msg_id),
                        created_at: now,
                        extra: MessageExtra::Chat,
                    };
                    (message, p.done)
                })
                .collect()
        };
        let frames: Vec<Arc<str>> = numbered
            .iter()
            .map(|(m, _)| Arc::from(serde_json::to_string(&ServerFrame::Message { message: m.clone() }).unwrap()))
            .collect();
        if let Some(file) = &file {
            let mut log = Vec::new();
            for frame in &frames {
                log.extend_from_slice(frame.as_bytes());
                log.push(b'\n');
            }
            let file = file.clone();
            tokio::task::spawn_blocking(move || {
                let mut f = file.lock().unwrap();
                f.write_all(&log).and_then(|_| f.sync_data()).expect("relay log");
            })
            .await
            .expect("relay log writer");
        }
        let convs = conversations.lock().unwrap();
        for ((message, done), frame) in numbered.into_iter().zip(frames) {
            if let Some(conv) = convs.get(&message.conversation_id) {
                for out in conv.visitor.iter().chain(conv.watchers.iter()) {
                    let _ = out.send(frame.clone());
                }
            }
            let _ = done.send(message);
        }
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

impl Relay {
    async fn append(&self, conversation_id: &str, author: Author, client_msg_id: String, text: String) -> MessageDto {
        let (done, stored) = oneshot::channel();
        let pending = Pending { conversation_id: conversation_id.to_string(), author, client_msg_id, text, done };
        self.store.send(pending).ok().expect("sequencer running");
        stored.await.expect("sequencer running")
    }
}

fn encode(frame: &ServerFrame) -> Arc<str> {
    Arc::from(serde_json::to_string(frame).unwrap())
}

/// Splits a socket into a writer task fed by a channel, and its reading half.
fn attach(socket: WebSocket) -> (Out, futures::stream::SplitStream<WebSocket>) {
    let (mut sink, stream) = socket.split();
    let (out, mut frames) = mpsc::unbounded_channel::<Arc<str>>();
    tokio::spawn(async move {
        while let Some(frame) = frames.recv().await {
            if sink.send(Message::Text(frame.as_ref().into())).await.is_err() {
                return;
            }
        }
    });
    (out, stream)
}

fn limits(ws: WebSocketUpgrade) -> WebSocketUpgrade {
    ws.max_message_size(16 * 1024).max_frame_size(16 * 1024).read_buffer_size(4 * 1024).write_buffer_size(4 * 1024)
}

async fn visitor_socket(ws: WebSocketUpgrade, State(relay): State<Relay>) -> Response {
    limits(ws).on_upgrade(move |socket| async move {
        let (out, mut stream) = attach(socket);
        let Some(Ok(Message::Text(hello))) = stream.next().await else { return };
        let Ok(domain::wire::VisitorFrame::Hello { token: conv, .. }) = serde_json::from_str(&hello) else { return };
        let last_seq = {
            let mut convs = relay.conversations.lock().unwrap();
            let c = convs.entry(conv.clone()).or_default();
            c.visitor = Some(out.clone());
            c.seq
        };
        let _ = out.send(encode(&ServerFrame::Welcome {
            conversation_id: conv.clone(),
            state: held(),
            last_seq,
            human_seen_seq: 0,
        }));
        while let Some(Ok(msg)) = stream.next().await {
            let Message::Text(t) = msg else { continue };
            let reply = match serde_json::from_str(&t) {
                Ok(domain::wire::VisitorFrame::Send { client_msg_id, text }) => {
                    let m = relay.append(&conv, Author::Visitor, client_msg_id.clone(), text).await;
                    ServerFrame::Ack { client_msg_id, seq: m.seq }
                }
                _ => ServerFrame::Pong,
            };
            let _ = out.send(encode(&reply));
        }
    })
}

async fn agent_socket(ws: WebSocketUpgrade, State(relay): State<Relay>) -> Response {
    limits(ws).on_upgrade(move |socket| async move {
        let (out, mut stream) = attach(socket);
        while let Some(Ok(msg)) = stream.next().await {
            let Message::Text(t) = msg else { continue };
            if let Ok(domain::wire::AgentFrame::Watch { conversation_id, .. }) = serde_json::from_str(&t) {
                relay.conversations.lock().unwrap().entry(conversation_id).or_default().watchers.push(out.clone());
            }
        }
    })
}

fn held() -> HandoffState {
    HandoffState::Human { agent: AgentRef { id: "relay-agent".into(), name: "Relay".into() } }
}

async fn login() -> Response {
    ([("set-cookie", "handoff_session=relay; Path=/; HttpOnly")], "{}").into_response()
}

async fn session(State(relay): State<Relay>) -> Response {
    let id = format!("relay-{}", relay.next_id.fetch_add(1, Ordering::Relaxed));
    relay.conversations.lock().unwrap().entry(id.clone()).or_default();
    let session = VisitorSession {
        token: id.clone(),
        conversation_id: id,
        visitor_name: "Visitor".into(),
        widget: WidgetConfig {
            widget_id: "demo".into(),
            agent_name: "Relay".into(),
            greeting: String::new(),
            handoff_enabled: true,
            handoff_fixed: false,
        },
    };
    serde_json::to_string(&session).unwrap().into_response()
}

#[derive(serde::Deserialize)]
struct SendForm {
    id: String,
    client_msg_id: String,
    text: String,
}

async fn agent_send(State(relay): State<Relay>, Form(form): Form<SendForm>) -> Response {
    let author = Author::Agent { id: "relay-agent".into(), name: "Relay".into() };
    let message = relay.append(&form.id, author, form.client_msg_id, form.text).await;
    serde_json::to_string(&message).unwrap().into_response()
}

async fn no_op() -> &'static str {
    "{}"
}
