//! End-to-end server tests over real HTTP and WebSockets, each on SQLite and PostgreSQL.
mod admin;
mod admin_tab;
mod ai;
mod backup;
mod canned;
mod chaos;
mod chat_files;
mod crash;
mod digests;
mod email;
mod faults;
mod guards;
mod helpers;
mod idor;
mod inbox;
mod knowledge_index;
mod labels;
mod limits;
mod list;
mod notes;
mod ops;
mod outbound;
mod process;
mod push;
mod render;
mod retention;
mod revocation;
mod secrets;
mod security;
mod seen;
mod smtp;
mod standalone;
mod transcripts;
mod transfer;
mod typing;
mod upgrade;
mod visitor_context;
mod visitor_data;
mod widget;

use domain::handoff::HandoffState;
use domain::wire::{Author, MessageDto, ServerFrame};
use helpers::*;
use serde_json::json;
use std::time::Duration;

fn is_ai(m: &MessageDto) -> bool {
    m.author == Author::Ai
}
fn is_system(m: &MessageDto) -> bool {
    m.author == Author::System
}

/// request → Handle chat → messages both ways (the AI silent) → Pass chat to AI → AI answers.
async fn full_handoff_flow(db: Db) {
    let app = spawn_app(db).await;
    let mut ann = app.agent(ANN).await;
    let mut v = app.visitor().await;
    let conv = v.conversation_id();

    let greeting = v.message(|_| true).await;
    assert_eq!((greeting.seq, greeting.author.clone()), (1, Author::Ai));

    v.send("q1", "What are your opening hours?").await;
    assert_eq!(v.ack("q1").await, 2);
    let answer = v.message(is_ai).await;
    assert!(answer.text.contains("Monday to Friday"), "{}", answer.text);

    v.socket.send_json(json!({"type": "request_human"})).await;
    v.socket.until(|f| matches!(f, ServerFrame::State { state: HandoffState::Requested, .. }).then_some(())).await;
    let notice = v.message(is_system).await;
    assert!(notice.text.contains("asked for a human"));

    // The dashboard learns of the request live.
    ann.socket
        .until(|f| match f {
            f if list_rows(f).iter().any(|s| s.id == conv && s.state == HandoffState::Requested) => Some(()),
            _ => None,
        })
        .await;

    let state = ann.act(&app, "handoff/handle", &conv).await.ok();
    assert_eq!(state["kind"], "human");
    assert_eq!(state["agent"]["name"], "Ann Agent");
    let joined = v.message(is_system).await;
    assert_eq!(joined.text, "Ann Agent joined the chat.");

    ann.watch(&conv, 0).await;
    v.send("q2", "Hello human, are you there?").await;
    v.ack("q2").await;
    let got = ann.message(|m| m.client_msg_id.as_deref() == Some("q2")).await;
    assert_eq!(got.author, Author::Visitor);

    ann.say(&app, &conv, "a1", "Yes, I'm Ann. How can I help?").await.ok();
    let reply = v.message(|m| matches!(m.author, Author::Agent { .. })).await;
    assert_eq!(reply.text, "Yes, I'm Ann. How can I help?");
    assert_eq!(reply.author, Author::Agent { id: "demo-user-1".into(), name: "Ann Agent".into() });

    // The AI stayed silent while Ann held the conversation.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stored = app.stored(&conv).await;
    let q2 = stored.iter().position(|m| m.client_msg_id.as_deref() == Some("q2")).unwrap();
    assert!(!stored[q2..].iter().any(is_ai), "the AI replied while a human held the chat: {stored:#?}");

    let state = ann.act(&app, "handoff/pass", &conv).await.ok();
    assert_eq!(state["kind"], "ai");
    let back = v.message(is_system).await;
    assert_eq!(back.text, "Ann Agent passed the chat back to the AI assistant.");

    v.send("q3", "How much does shipping cost?").await;
    v.ack("q3").await;
    let again = v.message(is_ai).await;
    assert!(again.text.contains("Shipping is free"), "{}", again.text);

    let stored = app.stored(&conv).await;
    assert_gap_free(&stored);
    // Every stored message reached the visitor exactly once, in order.
    let mut delivered: Vec<i64> = v.seen.iter().map(|m| m.seq).collect();
    delivered.dedup();
    assert_eq!(delivered, stored.iter().map(|m| m.seq).collect::<Vec<_>>());

    // Control changes are logged as events: who, from, to.
    assert_eq!(
        app.control_events(&conv).await,
        vec![
            ("request_human".into(), "ai".into(), "requested".into(), None),
            ("handle_chat".into(), "requested".into(), "human".into(), Some("Ann Agent".into())),
            ("pass_chat_to_ai".into(), "human".into(), "ai".into(), Some("Ann Agent".into())),
        ]
    );
}
on_both_databases!(full_handoff_flow);

/// Two agents click Handle chat at the same moment: exactly one wins, the other is told who.
async fn concurrent_handle_chat_has_one_winner(db: Db) {
    let app = spawn_app(db).await;
    let ann = app.agent(ANN).await;
    let bob = app.agent(BOB).await;
    for _round in 0..5 {
        let mut v = app.visitor().await;
        let conv = v.conversation_id();
        v.socket.send_json(json!({"type": "request_human"})).await;
        v.socket.until(|f| matches!(f, ServerFrame::State { state: HandoffState::Requested, .. }).then_some(())).await;

        let (a, b) = tokio::join!(ann.act(&app, "handoff/handle", &conv), bob.act(&app, "handoff/handle", &conv));
        let (winner, loser) = match (a.status, b.status) {
            (200, 409) => (a, b),
            (409, 200) => (b, a),
            other => panic!("expected one 200 and one 409, got {other:?}: {a:?} {b:?}"),
        };
        let name = winner.body["agent"]["name"].as_str().unwrap().to_string();
        assert_eq!(loser.body["code"], "already_taken");
        assert_eq!(loser.body["message"], format!("this conversation is already taken by {name}"));

        let (handles,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM control_events WHERE conversation_id = $1 AND event = 'handle_chat'")
                .bind(&conv)
                .fetch_one(&app.backend.db.pool)
                .await
                .unwrap();
        assert_eq!(handles, 1);
        let joined = app.stored(&conv).await.into_iter().filter(|m| m.text.ends_with("joined the chat.")).count();
        assert_eq!(joined, 1);
        v.socket.close().await;
    }
}
on_both_databases!(concurrent_handle_chat_has_one_winner);

/// A reply being generated when an agent takes over is never delivered nor stored — including
/// when the agent passes the chat back before the stale reply would have arrived.
async fn ai_never_replies_while_human_holds(db: Db) {
    let app = spawn_app_with(db, |c| c.ai_typing_delay_ms = 700).await;
    let ann = app.agent(ANN).await;
    for pass_back in [false, true] {
        let mut v = app.visitor().await;
        let conv = v.conversation_id();
        v.message(is_ai).await; // greeting
        v.send("q", "What are your opening hours?").await;
        v.ack("q").await;
        // The AI is generating now.
        v.socket.until(|f| matches!(f, ServerFrame::Typing { .. }).then_some(())).await;
        ann.act(&app, "handoff/continue", &conv).await.ok();
        if pass_back {
            ann.act(&app, "handoff/pass", &conv).await.ok();
        }
        // Wait well past the moment the reply would have been stored.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let stored = app.stored(&conv).await;
        let ai_after_question =
            stored.iter().skip_while(|m| m.client_msg_id.as_deref() != Some("q")).filter(|m| is_ai(m)).count();
        assert_eq!(ai_after_question, 0, "stale AI reply stored (pass_back={pass_back}): {stored:#?}");
        while let Some(f) = v.socket.try_next(Duration::from_millis(100)).await {
            if let ServerFrame::Message { message } = f {
                assert!(!is_ai(&message), "stale AI reply delivered: {message:?}");
            }
        }
        assert_eq!(app.backend.generations_running(), 0);
    }
}
on_both_databases!(ai_never_replies_while_human_holds);

/// The same client message id is stored once, however often and over whichever connection it
/// is sent; visitors and agents alike.
async fn resent_messages_are_stored_once(db: Db) {
    let app = spawn_app_with(db, |c| c.ai_typing_delay_ms = 10).await;
    let ann = app.agent(ANN).await;
    let mut v = app.visitor().await;
    let conv = v.conversation_id();
    v.send("same-id", "Hi there").await;
    let first = v.ack("same-id").await;
    v.send("same-id", "Hi there").await;
    assert_eq!(v.ack("same-id").await, first);
    // a retry after a reconnect
    let token = v.session.token.clone();
    v.socket.close().await;
    let mut v2 = Visitor {
        session: app.visitor_session("demo", Some(&token)).await,
        socket: Socket::connect(&app, "/ws/visitor", None).await,
        seen: vec![],
    };
    assert_eq!(v2.conversation_id(), conv);
    v2.hello(first).await;
    v2.send("same-id", "Hi there").await;
    assert_eq!(v2.ack("same-id").await, first);
    let stored = app.stored(&conv).await;
    assert_eq!(stored.iter().filter(|m| m.client_msg_id.as_deref() == Some("same-id")).count(), 1);

    ann.act(&app, "handoff/continue", &conv).await.ok();
    let a = ann.say(&app, &conv, "agent-1", "Hello from Ann").await.ok();
    let b = ann.say(&app, &conv, "agent-1", "Hello from Ann").await.ok();
    assert_eq!(a["seq"], b["seq"]);
    let stored = app.stored(&conv).await;
    assert_eq!(stored.iter().filter(|m| m.client_msg_id.as_deref() == Some("agent-1")).count(), 1);
    assert_gap_free(&stored);
}
on_both_databases!(resent_messages_are_stored_once);

/// A client that reconnects with its last seen sequence number receives exactly what it missed,
/// in order; a reload (same token) finds the same conversation and its history.
async fn reconnect_resumes_from_last_seen_sequence(db: Db) {
    let app = spawn_app(db).await;
    let mut ann = app.agent(ANN).await;
    let mut v = app.visitor().await;
    let conv = v.conversation_id();
    v.message(is_ai).await;
    ann.act(&app, "handoff/continue", &conv).await.ok();
    let joined = v.message(is_system).await;
    let last_seen = joined.seq;
    let token = v.session.token.clone();
    v.socket.close().await;

    for i in 0..5 {
        ann.say(&app, &conv, &format!("missed-{i}"), &format!("missed message {i}")).await.ok();
    }
    let session = app.visitor_session("demo", Some(&token)).await;
    assert_eq!(session.conversation_id, conv, "a reload resumes the same conversation");
    let mut v = Visitor { session, socket: Socket::connect(&app, "/ws/visitor", None).await, seen: vec![] };
    v.hello(last_seen).await;
    let mut got = Vec::new();
    for _ in 0..5 {
        got.push(v.message(|_| true).await);
    }
    assert_eq!(got.iter().map(|m| m.seq).collect::<Vec<_>>(), ((last_seen + 1)..=(last_seen + 5)).collect::<Vec<_>>());
    assert_eq!(got[0].text, "missed message 0");
    assert!(v.socket.try_next(Duration::from_millis(300)).await.is_none(), "nothing more, nothing twice");

    // A full reload (last_seq 0) gets the whole history once.
    let mut fresh = Visitor {
        session: app.visitor_session("demo", Some(&token)).await,
        socket: Socket::connect(&app, "/ws/visitor", None).await,
        seen: vec![],
    };
    fresh.hello(0).await;
    let total = app.stored(&conv).await.len();
    for _ in 0..total {
        fresh.message(|_| true).await;
    }
    assert_gap_free(&fresh.seen);

    // The dashboard's socket resumes the same way.
    ann.watch(&conv, last_seen + 3).await;
    let m = ann.message(|_| true).await;
    assert_eq!(m.seq, last_seen + 4);
}
on_both_databases!(reconnect_resumes_from_last_seen_sequence);

/// Bad input gets a clear error and changes nothing.
async fn bad_input_is_refused_and_changes_nothing(db: Db) {
    let app = spawn_app(db).await;
    let ann = app.agent(ANN).await;
    let mut v = app.visitor().await;
    let conv = v.conversation_id();
    v.message(is_ai).await;
    let before = app.stored(&conv).await.len();

    v.send("e1", "   ").await;
    assert_eq!(v.error().await.0, "empty_message");
    v.send("e2", &"x".repeat(4097)).await;
    let (code, msg) = v.error().await;
    assert_eq!(code, "message_too_long");
    assert!(msg.contains("4096"), "{msg}");
    v.send("bad id with spaces", "hello").await;
    assert_eq!(v.error().await.0, "bad_client_msg_id");
    v.socket.send_raw(tokio_tungstenite::tungstenite::Message::Text("{not json".into())).await;
    assert_eq!(v.error().await.0, "bad_frame");
    v.socket.send_json(json!({"type": "launch_missiles"})).await;
    assert_eq!(v.error().await.0, "bad_frame");
    v.socket.send_raw(tokio_tungstenite::tungstenite::Message::Binary(vec![1, 2, 3].into())).await;
    assert_eq!(v.error().await.0, "bad_frame");
    v.socket.send_json(json!({"type": "ping"})).await;
    assert_eq!(v.socket.next().await, ServerFrame::Pong, "the connection survives bad frames");
    assert_eq!(app.stored(&conv).await.len(), before);

    // An unknown visitor token is refused and the socket closed.
    let mut s = Socket::connect(&app, "/ws/visitor", None).await;
    s.send_json(json!({"type": "hello", "token": "not-a-token", "last_seq": 0})).await;
    assert!(matches!(s.next().await, ServerFrame::Error { code, .. } if code == "forbidden"));
    assert!(s.try_next(Duration::from_secs(2)).await.is_none());
    // The first frame must be hello.
    let mut s = Socket::connect(&app, "/ws/visitor", None).await;
    s.send_json(json!({"type": "send", "client_msg_id": "x", "text": "hi"})).await;
    assert!(matches!(s.next().await, ServerFrame::Error { code, .. } if code == "bad_frame"));

    // Unknown ids, wrong holder, no session.
    assert_eq!(ann.act(&app, "conversations/get", "no-such-conversation").await.err(404)["kind"], "not_found");
    assert_eq!(ann.act(&app, "handoff/handle", "no-such-conversation").await.err(404)["kind"], "not_found");
    assert_eq!(ann.say(&app, &conv, "n1", "not mine yet").await.err(403)["kind"], "forbidden");
    assert_eq!(ann.act(&app, "handoff/pass", &conv).await.err(409)["code"], "not_with_human");
    assert_eq!(ann.act(&app, "handoff/handle", &conv).await.err(409)["code"], "not_requested");
    ann.act(&app, "handoff/continue", &conv).await.ok();
    assert_eq!(ann.say(&app, &conv, "n2", "").await.err(400)["code"], "empty_message");
    assert_eq!(app.call("conversations/list", None, &[]).await.err(401)["kind"], "unauthorized");
    assert_eq!(
        app.call("conversations/list", Some("handoff_session=forged"), &[]).await.err(401)["kind"],
        "unauthorized"
    );
    assert_eq!(
        app.call("widget/session", None, &[("widget_id", "no-such-widget")]).await.err(404)["kind"],
        "not_found"
    );
    let wrong = app.call("auth/login", None, &[("email", ANN), ("password", "wrong")]).await;
    assert_eq!(wrong.err(401)["message"], "wrong e-mail or password");

    // Foreign origins: no WebSocket, no state-changing request.
    assert!(Socket::try_connect(&app, "/ws/visitor", None, Some("https://evil.example")).await.is_err());
    assert!(Socket::try_connect(&app, "/ws/agent", Some(&ann.cookie), Some("https://evil.example")).await.is_err());
    assert!(Socket::try_connect(&app, "/ws/agent", None, Some(&app.base)).await.is_err(), "agents must sign in");
    let csrf = app
        .http
        .post(format!("{}/api/handoff/pass", app.base))
        .header("cookie", &ann.cookie)
        .header("origin", "https://evil.example")
        .form(&[("id", conv.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(csrf.status(), 403);
    assert_eq!(app.backend.conversation_state(&conv, "demo-org").await.unwrap().0.kind().as_str(), "human");
}
on_both_databases!(bad_input_is_refused_and_changes_nothing);

/// Pages render on the server with security headers; the embed script is served.
async fn pages_and_embed_script(db: Db) {
    let app = spawn_app(db).await;
    let login = app.http.get(format!("{}/login", app.base)).send().await.unwrap();
    assert_eq!(login.status(), 200);
    assert_eq!(login.headers()["x-content-type-options"], "nosniff");
    let csp =
        |res: &reqwest::Response| res.headers().get("content-security-policy").unwrap().to_str().unwrap().to_string();
    // Scripts run only from this origin or inline with this response's nonce, which every inline
    // script of the page carries (a second page gets another nonce).
    let policy = csp(&login);
    assert!(policy.ends_with("; frame-ancestors 'none'"), "{policy}");
    let nonce = policy.split("'nonce-").nth(1).and_then(|r| r.split('\'').next()).expect("a nonce").to_string();
    assert!(nonce.len() >= 16, "{policy}");
    assert!(
        policy.contains("object-src 'none'")
            && policy.contains("base-uri 'none'")
            && !policy.contains(" 'unsafe-eval'")
    );
    let html = login.text().await.unwrap();
    assert!(html.contains("Sign in"));
    let inline_scripts = html.matches("<script").count();
    assert!(inline_scripts > 0 && html.matches(&format!("nonce=\"{nonce}\"")).count() >= inline_scripts, "{html}");
    let again = app.http.get(format!("{}/login", app.base)).send().await.unwrap();
    assert!(!csp(&again).contains(&nonce), "a fresh nonce per response");
    let widget = app.http.get(format!("{}/widget/demo", app.base)).send().await.unwrap();
    assert_eq!(widget.status(), 200);
    assert!(widget.headers().get("x-frame-options").is_none(), "the widget must be embeddable");
    let ancestors = |res: &reqwest::Response| {
        let p = csp(res);
        assert!(p.contains("script-src 'self' 'nonce-"), "{p}");
        p.rsplit("; ").next().unwrap().to_string()
    };
    assert_eq!(ancestors(&widget), "frame-ancestors *", "no allowed origins set: any site");
    sqlx::query("UPDATE widgets SET allowed_origins = 'https://shop.example, http://127.0.0.1:8080/ bad;value' WHERE id = 'demo'")
        .execute(&app.backend.db.pool)
        .await
        .unwrap();
    let widget = app.http.get(format!("{}/widget/demo", app.base)).send().await.unwrap();
    assert_eq!(ancestors(&widget), "frame-ancestors 'self' https://shop.example http://127.0.0.1:8080");
    // An unknown widget's page runs no script at all (just a message) and is framable by no one.
    let unknown = app.http.get(format!("{}/widget/nope", app.base)).send().await.unwrap();
    assert_eq!(csp(&unknown), "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
    let js = app.http.get(format!("{}/widget.js", app.base)).send().await.unwrap();
    assert!(js.headers()["content-type"].to_str().unwrap().starts_with("application/javascript"));
    assert!(js.text().await.unwrap().contains("/widget/"));
    // Signed in, the dashboard and a conversation render completely (the whole stream arrives).
    let mut v = app.visitor().await;
    v.message(is_ai).await;
    let cookie = app.login(ANN).await;
    for path in ["/conversations".to_string(), format!("/conversations/{}", v.conversation_id())] {
        let res = app.http.get(format!("{}{path}", app.base)).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let html = res.text().await.expect("a complete page");
        assert!(html.contains(&v.session.visitor_name), "{path} lists the conversation");
        assert!(html.contains("</html>"), "{path} rendered to the end");
    }
    let dash = app.http.get(format!("{}/conversations", app.base)).header("accept", "text/html").send().await.unwrap();
    assert!(
        dash.status().is_redirection() || dash.text().await.unwrap().contains("/login"),
        "signed-out users are sent to sign in"
    );
}
on_both_databases!(pages_and_embed_script);

/// A signed-out browser opening a signed-in page is redirected to the sign-in page (302 with
/// its Location), also where the page's own data is refused while it renders (the settings
/// pages read their lists with the page: the refusal sets 401, the redirect comes after it).
async fn signed_out_pages_redirect_to_sign_in(db: Db) {
    let app = spawn_app(db).await;
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    for path in [
        "/conversations",
        "/admin",
        "/settings/users",
        "/settings/widgets",
        "/settings/labels",
        "/settings/ai",
        "/settings/account",
    ] {
        let res = browser.get(format!("{}{path}", app.base)).header("accept", "text/html").send().await.unwrap();
        assert_eq!(res.status(), 302, "{path}");
        assert_eq!(res.headers()["location"], "/login", "{path}");
    }
}
on_both_databases!(signed_out_pages_redirect_to_sign_in);

/// Two server processes on one PostgreSQL: a visitor on node A and an agent on node B see each
/// other's messages and state changes live; claims on both nodes at once still have one winner.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_live_events_on_postgres() {
    if !postgres_available().await {
        return;
    }
    let a = spawn_app(Db::Postgres).await;
    let b = spawn_second_node(&a).await;
    let mut ann = b.agent(ANN).await;
    let mut v = a.visitor().await;
    let conv = v.conversation_id();
    v.message(is_ai).await;

    v.socket.send_json(json!({"type": "request_human"})).await;
    ann.socket
        .until(|f| match f {
            f if list_rows(f).iter().any(|s| s.id == conv && s.state == HandoffState::Requested) => Some(()),
            _ => None,
        })
        .await;
    ann.act(&b, "handoff/handle", &conv).await.ok();
    v.message(|m| is_system(m) && m.text == "Ann Agent joined the chat.").await;

    ann.watch(&conv, 0).await;
    v.send("from-a", "hello from node A").await;
    v.ack("from-a").await;
    ann.message(|m| m.client_msg_id.as_deref() == Some("from-a")).await;
    ann.say(&b, &conv, "from-b", "hello from node B").await.ok();
    let got = v.message(|m| matches!(m.author, Author::Agent { .. })).await;
    assert_eq!(got.text, "hello from node B");
    assert_gap_free(&a.stored(&conv).await);

    let bob = a.agent(BOB).await;
    let mut v2 = a.visitor().await;
    let conv2 = v2.conversation_id();
    v2.socket.send_json(json!({"type": "request_human"})).await;
    v2.socket.until(|f| matches!(f, ServerFrame::State { state: HandoffState::Requested, .. }).then_some(())).await;
    let (x, y) = tokio::join!(ann.act(&b, "handoff/handle", &conv2), bob.act(&a, "handoff/handle", &conv2));
    let mut statuses = [x.status, y.status];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{x:?} {y:?}");
}

/// With "Enable handoff popup" off, the widget is told to hide the button, and the server refuses
/// a request for a human sent anyway; with it on, "Fixed handoff popup" is passed through.
async fn handoff_popup_settings_reach_the_widget_and_are_enforced(db: Db) {
    let app = spawn_app(db).await;
    let set = |enabled: i64, fixed: i64| {
        let pool = app.backend.db.pool.clone();
        async move {
            sqlx::query("UPDATE agents SET handoff_enabled = $1, handoff_fixed = $2 WHERE id = 'demo-agent'")
                .bind(enabled)
                .bind(fixed)
                .execute(&pool)
                .await
                .unwrap();
        }
    };
    set(1, 1).await;
    let on = app.visitor_session("demo", None).await;
    assert!(on.widget.handoff_enabled && on.widget.handoff_fixed);

    set(0, 0).await;
    let mut v = app.visitor().await;
    assert!(!v.session.widget.handoff_enabled);
    v.socket.send_json(json!({"type": "request_human"})).await;
    let (code, message) = v.error().await;
    assert_eq!((code.as_str(), message.as_str()), ("forbidden", "talking to a human is not available here"));
    let (state, _) = app.backend.conversation_state(&v.conversation_id(), "demo-org").await.unwrap();
    assert_eq!(state, HandoffState::Ai);
}
on_both_databases!(handoff_popup_settings_reach_the_widget_and_are_enforced);

/// The bell's routing rules: requests reach every user of the organization allowed to handle
/// conversations (never another organization's); messages reach those who chose "all messages",
/// batched into one unread entry per conversation; a handled request is read for everyone; a
/// user can read only their own notifications.
async fn notifications_follow_the_routing_rules(db: Db) {
    let app = spawn_app(db).await;
    let eve = app.other_org_user().await;
    let ann = app.login(ANN).await;
    let bob = app.login(BOB).await;
    let bell = |cookie: String| {
        let app = &app;
        async move { app.call_json("notifications/list", &cookie, json!({})).await.ok() }
    };

    // Bob wants every message; Ann keeps the default (requests only).
    let saved = app
        .call_json(
            "notifications/save_prefs",
            &bob,
            json!({"prefs": {"via_email": false, "via_push": true, "events": "all"}}),
        )
        .await
        .ok();
    assert_eq!(saved["events"], "all");
    assert_eq!(app.call_json("notifications/prefs", &bob, json!({})).await.ok()["via_push"], true);

    let mut v = app.visitor().await;
    let conv = v.conversation_id();
    for (i, text) in ["first", "second", "third"].iter().enumerate() {
        v.send(&format!("m{i}"), text).await;
        v.ack(&format!("m{i}")).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let b = bell(bob.clone()).await;
    let messages: Vec<_> = b["items"].as_array().unwrap().iter().filter(|n| n["kind"] == "message").collect();
    assert_eq!(messages.len(), 1, "batched: {b}");
    assert!(messages[0]["text"].as_str().unwrap().ends_with(": third"), "{b}");
    assert_eq!(bell(ann.clone()).await["unread"], 0, "Ann chose requests only");

    v.socket.send_json(json!({"type": "request_human"})).await;
    v.socket.until(|f| matches!(f, ServerFrame::State { state: HandoffState::Requested, .. }).then_some(())).await;
    let a = bell(ann.clone()).await;
    assert_eq!(a["unread"], 1, "{a}");
    let req = &a["items"][0];
    assert_eq!((req["kind"].as_str(), req["conversation_id"].as_str()), (Some("request"), Some(conv.as_str())));
    assert!(req["text"].as_str().unwrap().ends_with("asked for a human"));
    assert_eq!(bell(bob.clone()).await["unread"], 2);
    assert_eq!(bell(eve.clone()).await["unread"], 0, "another organization hears nothing");

    // Eve cannot read Ann's notification; Ann can.
    let id = req["id"].as_str().unwrap().to_string();
    app.call_json("notifications/read", &eve, json!({"id": id})).await.err(404);
    app.call_json("notifications/read", &ann, json!({"id": id})).await.ok();
    assert_eq!(bell(ann.clone()).await["unread"], 0);

    // Handling the request makes it old news for everyone.
    app.call("handoff/handle", Some(&ann), &[("id", &conv)]).await.ok();
    let b = bell(bob.clone()).await;
    assert!(b["items"].as_array().unwrap().iter().filter(|n| n["kind"] == "request").all(|n| n["read"] == true), "{b}");
    app.call_json("notifications/read_all", &bob, json!({"conversation_id": null})).await.ok();
    assert_eq!(bell(bob).await["unread"], 0);
    app.call_json("notifications/list", "handoff_session=nope", json!({})).await.err(401);
}
on_both_databases!(notifications_follow_the_routing_rules);
