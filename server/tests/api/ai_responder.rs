//! The AI responder end to end: the knowledge base edited through the API and answered from in
//! the widget, handoff intent, and an OpenAI-compatible backend played by a small local server
//! that speaks the chat-completions protocol (streaming), including failures and takeovers.
use crate::helpers::*;
use crate::on_both_databases;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use domain::handoff::HandoffState;
use domain::wire::{Author, MessageDto, ServerFrame};
use futures::StreamExt;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn is_ai(m: &MessageDto) -> bool {
    m.author == Author::Ai
}

/// How the fake model answers.
#[derive(Clone)]
enum Mode {
    /// Streams these pieces, `delay` apart.
    Stream { pieces: Vec<String>, delay: Duration },
    /// Answers with this HTTP status.
    Status(u16),
    /// Never answers.
    Hang,
}

/// A recorded request: its JSON body and Authorization header.
type Recorded = (Value, Option<String>);

#[derive(Clone)]
struct FakeLlm {
    mode: Arc<Mutex<Mode>>,
    /// Every request: its JSON body and Authorization header.
    requests: Arc<Mutex<Vec<Recorded>>>,
    base_url: String,
}

impl FakeLlm {
    async fn start(mode: Mode) -> Self {
        let mut fake = FakeLlm { mode: Arc::new(Mutex::new(mode)), requests: Arc::default(), base_url: String::new() };
        let router = axum::Router::new().route("/v1/chat/completions", post(complete)).with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        fake.base_url = format!("http://{}/v1", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        fake
    }

    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    fn last_request(&self) -> Recorded {
        self.requests.lock().unwrap().last().cloned().expect("the model was called")
    }
}

async fn complete(State(fake): State<FakeLlm>, headers: HeaderMap, body: String) -> Response {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned);
    fake.requests.lock().unwrap().push((serde_json::from_str(&body).expect("JSON request"), auth));
    let mode = fake.mode.lock().unwrap().clone();
    match mode {
        Mode::Status(code) => {
            (StatusCode::from_u16(code).unwrap(), "{\"error\":{\"message\":\"nope\"}}").into_response()
        }
        Mode::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
        Mode::Stream { pieces, delay } => {
            let events = pieces
                .into_iter()
                .map(|p| format!("data: {}\n\n", json!({"choices": [{"index": 0, "delta": {"content": p}}]})))
                .chain(std::iter::once("data: [DONE]\n\n".to_string()));
            let stream = futures::stream::iter(events).then(move |e| async move {
                tokio::time::sleep(delay).await;
                Ok::<_, std::convert::Infallible>(e)
            });
            Response::builder().header("content-type", "text/event-stream").body(Body::from_stream(stream)).unwrap()
        }
    }
}

fn pieces(text: &str) -> Vec<String> {
    text.split_inclusive(' ').map(str::to_owned).collect()
}

/// The demo agent's settings, as the settings page sends them.
fn update(backend: &str, base_url: &str) -> Value {
    json!({
        "name": "Ada",
        "greeting": "Hi! I'm Ada.",
        "fallback_text": "",
        "handoff_text": "",
        "handoff_enabled": true,
        "handoff_fixed": false,
        "backend": backend,
        "llm": {"base_url": base_url, "model": "test-model", "api_key_env": "", "system_prompt": "",
                "temperature": 0.2, "max_tokens": 300},
        "api_key": {"set": "sk-test-secret"},
    })
}

async fn use_llm(app: &TestApp, ann: &str, fake: &FakeLlm) {
    let a = app
        .call_json("agents/update", ann, json!({"agent_id": "demo-agent", "update": update("open_ai", &fake.base_url)}))
        .await
        .ok();
    assert_eq!(a["api_key_set"], true);
    assert!(!a.to_string().contains("sk-test-secret"), "the key is never sent back: {a}");
}

/// A server whose demo agent answers through the fake model, Ann signed in, and a visitor who
/// has had the greeting.
async fn with_llm(db: Db, mode: Mode, tweak: impl FnOnce(&mut backend::Config)) -> (FakeLlm, TestApp, String, Visitor) {
    let fake = FakeLlm::start(mode).await;
    let app = spawn_app_with(db, tweak).await;
    let ann = app.login(ANN).await;
    use_llm(&app, &ann, &fake).await;
    let mut v = app.visitor().await;
    v.message(is_ai).await;
    (fake, app, ann, v)
}

async fn ask(v: &mut Visitor, id: &str, text: &str) {
    v.send(id, text).await;
    v.ack(id).await;
}

/// Knowledge base edited through the API; the widget answers from it, cites articles, admits not
/// knowing; bad input is refused with the field named; only the settings permission may edit;
/// another organization's agent does not exist for the caller.
async fn knowledge_base_answers_and_is_guarded(db: Db) {
    let app = spawn_app(db).await;
    let ann = app.login(ANN).await;
    let bob = app.login(BOB).await;
    let entry = |title: &str, body: &str| json!({"kind": "qa", "title": title, "body": body});

    let saved = app
        .call_json(
            "knowledge/save",
            &ann,
            json!({"agent_id": "demo-agent", "entry_id": null,
                   "input": entry("Do you sell gift cards?", "Yes: gift cards from 10 to 500 EUR, valid three years.")}),
        )
        .await
        .ok();
    let entry_id = saved["id"].as_str().unwrap().to_string();
    let imported = app
        .call_json(
            "knowledge/import",
            &ann,
            json!({"agent_id": "demo-agent", "file_name": "care.md",
                   "text": "# Caring for wooden furniture\nOil the surface twice a year with linseed oil.\n"}),
        )
        .await
        .ok();
    assert_eq!(imported.as_array().unwrap().len(), 1);

    let mut v = app.visitor().await;
    ask(&mut v, "q1", "do you sell gift cards?").await;
    assert_eq!(v.message(is_ai).await.text, "Yes: gift cards from 10 to 500 EUR, valid three years.");
    ask(&mut v, "q2", "how often should I oil wooden furniture?").await;
    let a = v.message(is_ai).await.text;
    assert!(a.contains("linseed") && a.ends_with("(Source: Caring for wooden furniture)"), "{a}");
    ask(&mut v, "q3", "what is the boiling point of tungsten").await;
    let a = v.message(is_ai).await.text;
    assert!(a.contains("not sure") && a.contains("human"), "{a}");
    let preview = app
        .call_json("knowledge/preview", &bob, json!({"agent_id": "demo-agent", "question": "gift cards?"}))
        .await
        .ok();
    assert!(preview.as_str().unwrap().starts_with("Yes: gift cards"), "{preview}");

    // Bad input: the field is named, nothing stored.
    let before = app.call_json("knowledge/list", &ann, json!({"agent_id": "demo-agent"})).await.ok();
    let bad = app
        .call_json(
            "knowledge/save",
            &ann,
            json!({"agent_id": "demo-agent", "entry_id": null, "input": entry(" ", "x")}),
        )
        .await;
    assert_eq!(bad.err(400)["field"], "title");
    let bad = app
        .call_json("knowledge/import", &ann, json!({"agent_id": "demo-agent", "file_name": "x.exe", "text": "MZ"}))
        .await;
    assert_eq!(bad.err(400)["field"], "file");
    let bad = app
        .call_json("agents/update", &ann, json!({"agent_id": "demo-agent", "update": update("open_ai", "ftp://x")}))
        .await;
    assert_eq!(bad.err(400)["field"], "base_url");
    let after = app.call_json("knowledge/list", &ann, json!({"agent_id": "demo-agent"})).await.ok();
    assert_eq!(before, after);
    assert_eq!(app.call_json("agents/list", &ann, json!({})).await.ok()[0]["backend"], "embedded");

    // Permissions and isolation.
    app.call_json("knowledge/delete", &bob, json!({"agent_id": "demo-agent", "entry_id": entry_id})).await.err(403);
    app.call_json("agents/update", &bob, json!({"agent_id": "demo-agent", "update": update("embedded", "")}))
        .await
        .err(403);
    sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ('org-b', 'B', 0)")
        .execute(&app.backend.db.pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO agents (id, org_id, name, greeting, created_at) VALUES ('agent-b', 'org-b', 'B', 'Hi', 0)",
    )
    .execute(&app.backend.db.pool)
    .await
    .unwrap();
    let not_found = app.call_json("knowledge/list", &ann, json!({"agent_id": "agent-b"})).await;
    assert_eq!(not_found.err(404)["kind"], "not_found");
    app.call_json("agents/update", &ann, json!({"agent_id": "agent-b", "update": update("embedded", "")}))
        .await
        .err(404);
    app.call_json("knowledge/delete", &ann, json!({"agent_id": "demo-agent", "entry_id": entry_id})).await.ok();
}
on_both_databases!(knowledge_base_answers_and_is_guarded);

/// "Ich möchte mit einem Mitarbeiter sprechen": the AI says it is getting someone and the
/// conversation waits for a human.
async fn handoff_intent_moves_the_conversation_to_requested(db: Db) {
    let app = spawn_app(db).await;
    let mut v = app.visitor().await;
    v.message(is_ai).await;
    ask(&mut v, "h1", "Ich möchte mit einem Mitarbeiter sprechen").await;
    assert!(v.message(is_ai).await.text.contains("getting a human"));
    v.socket.until(|f| matches!(f, ServerFrame::State { state: HandoffState::Requested, .. }).then_some(())).await;
    let (state, _) = app.backend.conversation_state(&v.conversation_id(), "demo-org").await.unwrap();
    assert_eq!(state, HandoffState::Requested);
}
on_both_databases!(handoff_intent_moves_the_conversation_to_requested);

/// The answer streams in as growing drafts, is stored once, and the model got the key, the
/// model name and the matching knowledge base passage.
async fn openai_backend_streams_and_stores_once(db: Db) {
    let answer = "Shipping is free above 50 EUR, otherwise 4.90 EUR.";
    let mode = Mode::Stream { pieces: pieces(answer), delay: Duration::from_millis(80) };
    let (fake, app, _ann, mut v) = with_llm(db, mode, |_| {}).await;
    v.send("s1", "How much does shipping cost?").await;
    let mut drafts: Vec<String> = Vec::new();
    let final_text = v
        .socket
        .until(|f| match f {
            ServerFrame::Draft { text, .. } => {
                drafts.push(text.clone());
                None
            }
            ServerFrame::Message { message } if message.author == Author::Ai => Some(message.text.clone()),
            _ => None,
        })
        .await;
    assert_eq!(final_text, answer);
    assert!(drafts.len() >= 2, "the answer grows in the widget: {drafts:?}");
    assert!(drafts.windows(2).all(|w| w[1].starts_with(&w[0]) && w[1].len() > w[0].len()), "{drafts:?}");
    assert!(drafts.iter().all(|d| answer.starts_with(d.as_str())));
    let stored = app.stored(&v.conversation_id()).await;
    assert_eq!(stored.iter().filter(|m| m.text == answer).count(), 1, "stored exactly once");

    let (req, auth) = fake.last_request();
    assert_eq!(auth.as_deref(), Some("Bearer sk-test-secret"));
    assert_eq!((req["model"].as_str(), req["stream"].as_bool()), (Some("test-model"), Some(true)));
    let system = req["messages"][0]["content"].as_str().unwrap();
    assert!(system.contains("Shipping is free for orders above 50 EUR"), "{system}");
    assert_eq!(req["messages"].as_array().unwrap().last().unwrap()["content"], "How much does shipping cost?");
}
on_both_databases!(openai_backend_streams_and_stores_once);

/// HTTP errors, rate limits and silence: the visitor gets the fallback (with the offer of a
/// human) within the timeout; nothing hangs.
async fn openai_failures_fall_back_politely(db: Db) {
    let (fake, _app, _ann, mut v) = with_llm(db, Mode::Status(500), |c| c.ai_timeout_ms = 700).await;
    for (i, mode) in [Mode::Status(500), Mode::Status(429), Mode::Hang].into_iter().enumerate() {
        fake.set(mode);
        let started = std::time::Instant::now();
        ask(&mut v, &format!("f{i}"), "What is your warranty?").await;
        let a = v.message(is_ai).await.text;
        assert!(a.contains("not sure") && a.contains("human"), "{a}");
        assert!(started.elapsed() < Duration::from_secs(5), "answered within the timeout");
    }
    assert_eq!(fake.requests.lock().unwrap().len(), 3);
}
on_both_databases!(openai_failures_fall_back_politely);

/// An agent takes over while the answer streams: nothing of it is stored, the visitor's draft
/// is dropped with the state change, the generation stops.
async fn takeover_cancels_a_streaming_answer(db: Db) {
    let answer = "one two three four five six seven eight nine ten eleven twelve";
    let mode = Mode::Stream { pieces: pieces(answer), delay: Duration::from_millis(150) };
    let (_fake, app, ann, mut v) = with_llm(db, mode, |_| {}).await;
    let conv = v.conversation_id();
    v.send("t1", "tell me a long story").await;
    v.socket.until(|f| matches!(f, ServerFrame::Draft { .. }).then_some(())).await;
    app.call("handoff/continue", Some(&ann), &[("id", &conv)]).await.ok();
    v.socket.until(|f| matches!(f, ServerFrame::State { state: HandoffState::Human { .. }, .. }).then_some(())).await;
    // After the state change: no more drafts and no AI message.
    while let Some(f) = v.socket.try_next(Duration::from_millis(2500)).await {
        assert!(!matches!(f, ServerFrame::Draft { .. }), "a draft after the takeover: {f:?}");
        if let ServerFrame::Message { message } = &f {
            assert_ne!(message.author, Author::Ai, "{message:?}");
        }
    }
    let stored = app.stored(&conv).await;
    assert!(!stored.iter().any(|m| m.text.contains("one two")), "{stored:?}");
    assert_eq!(app.backend.generations_running(), 0);
}
on_both_databases!(takeover_cancels_a_streaming_answer);

/// After "Pass chat to AI" the model sees what the human said.
async fn after_pass_back_the_model_reads_the_human_part(db: Db) {
    let mode = Mode::Stream { pieces: pieces("Glad to help."), delay: Duration::ZERO };
    let (fake, app, ann, mut v) = with_llm(db, mode, |_| {}).await;
    let conv = v.conversation_id();
    app.call("handoff/continue", Some(&ann), &[("id", &conv)]).await.ok();
    app.call("chat/send", Some(&ann), &[("id", &conv), ("client_msg_id", "a1"), ("text", "I sent the parcel today.")])
        .await
        .ok();
    app.call("handoff/pass", Some(&ann), &[("id", &conv)]).await.ok();
    ask(&mut v, "p1", "When will it arrive?").await;
    assert_eq!(v.message(|m| is_ai(m) && m.text == "Glad to help.").await.text, "Glad to help.");
    let (req, _) = fake.last_request();
    let msgs = req["messages"].as_array().unwrap();
    assert!(
        msgs.iter()
            .any(|m| m["role"] == "assistant" && m["content"] == "[Ann Agent, human agent] I sent the parcel today."),
        "{req}"
    );
}
on_both_databases!(after_pass_back_the_model_reads_the_human_part);

/// A visitor cannot make the server answer (or call a model) in a loop.
async fn ai_replies_are_rate_limited_per_conversation(db: Db) {
    let app = spawn_app_with(db, |c| {
        c.ai_replies_per_minute = 3;
        c.ai_typing_delay_ms = 5;
    })
    .await;
    let mut v = app.visitor().await; // the greeting is one AI message
    let conv = v.conversation_id();
    for i in 0..5 {
        ask(&mut v, &format!("r{i}"), "How much does shipping cost?").await;
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stored = app.stored(&conv).await;
    let ai: Vec<&str> = stored.iter().filter(|m| is_ai(m)).map(|m| m.text.as_str()).collect();
    let notices = ai.iter().filter(|t| t.contains("faster than I can answer")).count();
    assert_eq!(notices, 1, "{ai:?}");
    assert_eq!(ai.len(), 4, "greeting + 2 answers + 1 notice: {ai:?}");
}
on_both_databases!(ai_replies_are_rate_limited_per_conversation);
