//! Retention (issue 27): an organization that chooses to keep ended conversations (closed, or
//! left with the AI) for N days has the older ones deleted by the background worker — the
//! conversation and every row about it in every table, its search entries, the sent digests
//! quoting it, its visitor once none of theirs is left — and nothing else: not a recent closed
//! conversation, not an old one a person holds, not another organization's. Off by default; the setting is the
//! *settings* permission's, between 1 and 3,650 days, and a bad value changes nothing.
use crate::admin::{field_error, set_up_org, ADMIN};
use crate::chat_files::{agent_file, visitor_file};
use crate::email::PNG;
use crate::helpers::*;
use crate::on_both_databases;
use domain::inbox::SearchHit;
use serde_json::json;
use std::time::Duration;

const DAY: i64 = 86_400_000;

/// Every table that holds rows of a conversation, and the column naming it.
const TABLES: [(&str, &str); 10] = [
    ("conversations", "id"),
    ("messages", "conversation_id"),
    ("attachments", "conversation_id"),
    ("outbox", "conversation_id"),
    ("notifications", "conversation_id"),
    ("control_events", "conversation_id"),
    ("conversation_labels", "conversation_id"),
    ("notes", "conversation_id"),
    ("visitor_pages", "conversation_id"),
    ("visitor_context", "conversation_id"),
];

/// How many rows each table holds about the conversation.
pub(crate) async fn rows(app: &TestApp, id: &str) -> Vec<(&'static str, i64)> {
    let mut out = Vec::new();
    for (table, column) in TABLES {
        let (n,): (i64,) =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table} WHERE {column} = $1")))
                .bind(id)
                .fetch_one(app.backend.pool())
                .await
                .unwrap();
        out.push((table, n));
    }
    out
}

/// Makes the conversation's last activity (and its closing, if closed) `days` old.
async fn age(app: &TestApp, id: &str, days: i64) {
    let at = backend::now_ms() - days * DAY;
    sqlx::query("UPDATE conversations SET last_activity = $2, state_since = $2 WHERE id = $1")
        .bind(id)
        .bind(at)
        .execute(app.backend.writer())
        .await
        .unwrap();
}

pub(crate) async fn search(app: &TestApp, cookie: &str, q: &str) -> Vec<String> {
    let hits: Vec<SearchHit> =
        serde_json::from_value(app.call("conversations/search", Some(cookie), &[("q", q)]).await.ok()).unwrap();
    hits.into_iter().map(|h| h.summary.id).collect()
}

/// A conversation of the demo organization with a row in every table: the visitor's messages
/// (with `word`), a request (notifications, events), Ann's takeover, a file each way, a private
/// note, a label, what the widget told about the visitor; closed, with its transcript asked for
/// (by v@example.com). Returns the conversation and the visitor's token.
pub(crate) async fn full_conversation(app: &TestApp, ann: &Agent, label: &str, word: &str) -> (String, String) {
    let mut v = app.visitor().await;
    let conv = v.conversation_id();
    v.send("m1", &format!("My {word} arrived broken")).await;
    v.ack("m1").await;
    v.socket
        .send_json(json!({"type": "context", "env": {"url": "https://shop.example/orders/7", "title": "Order 7",
            "referrer": "", "language": "en-GB", "time_zone": "Europe/London", "utc_offset": 0, "user_agent": "Firefox"}}))
        .await;
    v.socket.send_json(json!({"type": "request_human"})).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    ann.act(app, "handoff/handle", &conv).await.ok();
    visitor_file(app, &v.session.token, &conv, "photo.png", PNG).await.ok();
    agent_file(app, &ann.cookie, &conv, "f2", "label.png", PNG).await.ok();
    ann.say(app, &conv, "a1", "Sorry to hear that, a new one is on its way").await.ok();
    app.call("conversations/note", Some(&ann.cookie), &[("id", &conv), ("client_note_id", "n1"), ("text", "refund")])
        .await
        .ok();
    app.call_json("labels/conversation", &ann.cookie, json!({"conversation_id": conv, "label_id": label, "on": true}))
        .await
        .ok();
    ann.act(app, "handoff/close", &conv).await.ok();
    app.call("widget/transcript", None, &[("token", &v.session.token), ("id", &conv), ("email", "v@example.com")])
        .await
        .ok();
    // Every table holds something of it (the context is stored after its frame, not answered).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let counts = rows(app, &conv).await;
        if counts.iter().all(|(_, n)| *n > 0) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "not every table holds the conversation: {counts:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (conv, v.session.token.clone())
}

/// A label of the demo organization, made by `cookie`'s user.
pub(crate) async fn make_label(app: &TestApp, cookie: &str, name: &str) -> String {
    let made =
        app.call_json("labels/save", cookie, json!({"label_id": null, "input": {"name": name, "color": "red"}})).await;
    made.ok()["id"].as_str().unwrap().to_string()
}

/// A sent e-mail digest of the demo organization quoting `conversation` (digests are composed
/// when sent and name their conversations only in their text).
async fn sent_digest(app: &TestApp, id: &str, conversation: &str) {
    sqlx::query(
        "INSERT INTO outbox (id, org_id, kind, user_id, to_addr, subject, body, status, next_attempt_at, created_at)
         VALUES ($1, 'demo-org', 'digest', NULL, 'ann@demo.test', 'New message', $2, 'sent', 0, 0)",
    )
    .bind(id)
    .bind(format!("New in Handoff:\n\n- Visitor: hello\n  http://127.0.0.1:3000/conversations/{conversation}\n"))
    .execute(app.backend.writer())
    .await
    .unwrap();
}

async fn outbox_row(app: &TestApp, id: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE id = $1")
        .bind(id)
        .fetch_one(app.backend.pool())
        .await
        .unwrap();
    n
}

async fn visitor_rows(app: &TestApp, token: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM visitors WHERE token_hash = $1")
        .bind(backend::auth::token_hash(token))
        .fetch_one(app.backend.pool())
        .await
        .unwrap();
    n
}

async fn retention_deletes_exactly_the_old_ended_conversations(db: Db) {
    let app = spawn_app_with(db, |c| c.retention_every_ms = 100).await;
    let ann = app.agent(ANN).await;
    let label = make_label(&app, &ann.cookie, "refund").await;
    let (old, old_token) = full_conversation(&app, &ann, &label, "kettle").await;
    let (recent, _) = full_conversation(&app, &ann, &label, "teapot").await;
    // An old conversation left with the AI (nothing closes it): ended too.
    let mut a = app.visitor().await;
    let left = a.conversation_id();
    a.send("l1", "Do you sell kettles in green?").await;
    a.ack("l1").await;
    // An old conversation Ann still holds: never deleted, however old.
    let mut v = app.visitor().await;
    let held = v.conversation_id();
    v.send("o1", "Is my kettle still under warranty?").await;
    v.ack("o1").await;
    ann.act(&app, "handoff/continue", &held).await.ok();
    // Another organization's old closed conversation (that organization keeps everything).
    let admin = app.login(ADMIN).await;
    let (_org, _agent, globex_widget, gus) = set_up_org(&app, &admin, "Globex", "gus@globex.test").await;
    let mut g = app.visitor_on(&globex_widget).await;
    let other = g.conversation_id();
    g.send("g1", "My kettle too").await;
    g.ack("g1").await;
    app.call("handoff/close", Some(&gus), &[("id", &other)]).await.ok();
    sent_digest(&app, "digest-old", &old).await;
    sent_digest(&app, "digest-recent", &recent).await;

    age(&app, &old, 31).await;
    age(&app, &left, 31).await;
    age(&app, &recent, 29).await;
    age(&app, &held, 400).await;
    age(&app, &other, 400).await;
    let keep = [(recent.clone(), rows(&app, &recent).await), (held.clone(), rows(&app, &held).await)];
    let keep_other = rows(&app, &other).await;

    // Off by default: the worker's rounds delete nothing.
    let settings = app.call_json("org/retention", &ann.cookie, json!({})).await.ok();
    assert_eq!(settings, json!({"closed_days": null, "due": 0}));
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(rows(&app, &old).await[0], ("conversations", 1), "nothing is deleted while retention is off");

    // 30 days: the old closed conversation and the one left with the AI are due, then gone with
    // every row about them, the digest quoting one, and their visitors.
    let saved = app.call_json("org/save_retention", &ann.cookie, json!({"closed_days": 30})).await.ok();
    assert_eq!(saved["closed_days"], 30);
    assert!([json!(2), json!(1), json!(0)].contains(&saved["due"]), "{saved}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while rows(&app, &old).await[0].1 + rows(&app, &left).await[0].1 > 0 {
        assert!(tokio::time::Instant::now() < deadline, "the worker never deleted the old ended conversations");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for gone in [&old, &left] {
        assert!(rows(&app, gone).await.iter().all(|(_, n)| *n == 0), "{gone}: {:?}", rows(&app, gone).await);
        assert_eq!(app.call("conversations/get", Some(&ann.cookie), &[("id", gone)]).await.status, 404);
    }
    assert_eq!(visitor_rows(&app, &old_token).await, 0, "a visitor left without conversations goes");
    assert_eq!(visitor_rows(&app, &a.session.token).await, 0);
    assert_eq!((outbox_row(&app, "digest-old").await, outbox_row(&app, "digest-recent").await), (0, 1));
    assert_eq!(search(&app, &ann.cookie, "kettle").await, vec![held.clone()], "search forgot them too");
    assert_eq!(app.call_json("org/retention", &ann.cookie, json!({})).await.ok()["due"], 0);
    assert!(app.backend.metrics.render().contains("handoff_retention_deleted_conversations_total 2\n"));

    // Nothing else changed: a recent closed one, an old held one, another organization's.
    for (id, before) in keep {
        assert_eq!(rows(&app, &id).await, before, "{id} kept whole");
    }
    assert_eq!(rows(&app, &other).await, keep_other, "another organization's conversation kept whole");
    assert_eq!(search(&app, &ann.cookie, "teapot").await, vec![recent.clone()]);
    assert_eq!(visitor_rows(&app, &v.session.token).await, 1);
    // The visitor of the kept conversation chats on.
    v.send("o2", "Hello again").await;
    v.ack("o2").await;
}
on_both_databases!(retention_deletes_exactly_the_old_ended_conversations);

/// Bad values are field errors and change nothing; changing it needs *settings*; reading it needs
/// a user of the organization.
async fn retention_refuses_bad_input_and_changes_nothing(db: Db) {
    let app = spawn_app(db).await;
    let ann = app.login(ANN).await;
    let bob = app.login(BOB).await;
    app.call_json("org/save_retention", &ann, json!({"closed_days": 90})).await.ok();
    let before = app.call_json("org/retention", &bob, json!({})).await.ok();
    assert_eq!(before["closed_days"], 90);
    for bad in [json!(0), json!(-1), json!(3651), json!(i64::MAX)] {
        let a = app.call_json("org/save_retention", &ann, json!({ "closed_days": bad })).await;
        assert_eq!(field_error(&a, "closed_days"), "must be between 1 and 3650 days", "{bad}");
    }
    for bad in [json!("ten"), json!(1.5)] {
        let a = app.call_json("org/save_retention", &ann, json!({ "closed_days": bad })).await;
        assert!(a.status >= 400, "{bad}: {a:?}");
    }
    let refused = app.call_json("org/save_retention", &bob, json!({"closed_days": null})).await;
    assert_eq!(refused.err(403)["kind"], "forbidden");
    assert_eq!(app.call_anonymous("org/retention").await, 401);
    assert_eq!(app.call_json("org/retention", &ann, json!({})).await.ok(), before, "nothing changed");
    // Off again.
    let off = app.call_json("org/save_retention", &ann, json!({"closed_days": null})).await.ok();
    assert_eq!(off, json!({"closed_days": null, "due": 0}));
}
on_both_databases!(retention_refuses_bad_input_and_changes_nothing);
