//! A visitor's data on request (issue 27, GDPR): an organization's user with *settings* exports
//! everything stored about the visitor of a conversation — every conversation of that browser,
//! messages, files, notes, labels, what the widget told, e-mail addresses — as a zip, and erases
//! it: every row about the visitor goes, nothing of anyone else does. Both leave an audit entry
//! that names the user, never the visitor. Another organization's conversation is "not found";
//! without *settings* "forbidden"; an erasure needs its confirmation and waits for the visitor's
//! open conversations to close.
use crate::email::{submit, PNG};
use crate::helpers::*;
use crate::on_both_databases;
use crate::retention::{full_conversation, make_label, rows, search};
use domain::privacy::{AuditEntry, VisitorExport};
use domain::wire::MessageExtra;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;

/// `GET /api/visitor/export` as the dashboard's link does: (status, content type, body).
async fn get_export(app: &TestApp, cookie: Option<&str>, conversation: &str) -> (u16, String, Vec<u8>) {
    let mut req = app.http.get(format!("{}/api/visitor/export", app.base)).query(&[("conversation_id", conversation)]);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let kind = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    (status, kind, res.bytes().await.unwrap().to_vec())
}

/// Every entry of a zip, by name.
fn unzip(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    let mut out = BTreeMap::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        out.insert(f.name().unwrap().to_string(), data);
    }
    out
}

async fn audit(app: &TestApp, cookie: &str) -> Vec<AuditEntry> {
    serde_json::from_value(app.call_json("org/audit", cookie, json!({})).await.ok()).unwrap()
}

/// The visitor of the test: a closed conversation with a row in every table (see
/// `retention::full_conversation`), then a second one from the same browser with an e-mail form
/// and a picture. Returns (first, second, token).
async fn visitor_with_two_conversations(app: &TestApp, ann: &Agent) -> (String, String, String) {
    let label = make_label(app, &ann.cookie, "refund").await;
    let (first, token) = full_conversation(app, ann, &label, "kettle").await;
    let session = app.visitor_session("demo", Some(&token)).await;
    let second = session.conversation_id;
    assert_ne!(second, first, "a closed conversation's visitor starts a new one");
    let sent =
        submit(app, &token, "s1", "vera@example.com", "Please call me back about the kettle", &[("receipt.png", PNG)]);
    sent.await.ok();
    (first, second, token)
}

async fn export_holds_everything_of_the_visitor_and_nothing_else(db: Db) {
    let app = spawn_app(db).await;
    let ann = app.agent(ANN).await;
    let (first, second, _token) = visitor_with_two_conversations(&app, &ann).await;
    let mut w = app.visitor().await;
    w.send("w1", "Walter's own kettle question").await;
    w.ack("w1").await;
    // A long chat: more messages than one read of a transcript answers (500).
    let (last,): (i64,) = sqlx::query_as("SELECT last_seq FROM conversations WHERE id = $1")
        .bind(&first)
        .fetch_one(app.backend.pool())
        .await
        .unwrap();
    for seq in last + 1..=last + 520 {
        sqlx::query(
            "INSERT INTO messages (conversation_id, seq, sender, author_kind, body, created_at)
             VALUES ($1, $2, 'visitor', 'visitor', $3, $4)",
        )
        .bind(&first)
        .bind(seq)
        .bind(format!("line {seq}"))
        .bind(backend::now_ms())
        .execute(app.backend.writer())
        .await
        .unwrap();
    }
    sqlx::query("UPDATE conversations SET last_seq = $2 WHERE id = $1")
        .bind(&first)
        .bind(last + 520)
        .execute(app.backend.writer())
        .await
        .unwrap();

    let (status, kind, body) = get_export(&app, Some(&ann.cookie), &second).await;
    assert_eq!((status, kind.as_str()), (200, "application/zip"));
    let files = unzip(&body);
    let export: VisitorExport = serde_json::from_slice(&files["visitor.json"]).unwrap();
    assert!(files.contains_key("README.txt"));
    let ids: Vec<&str> = export.conversations.iter().map(|c| c.summary.id.as_str()).collect();
    assert_eq!(ids, [first.as_str(), second.as_str()], "both conversations of the browser, oldest first");
    assert_eq!(export.organization, "demo-org");
    assert_eq!(export.visitor.emails, ["vera@example.com", "v@example.com"]);
    let (one, two) = (&export.conversations[0], &export.conversations[1]);
    let seqs: Vec<i64> = one.messages.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=last + 520).collect::<Vec<_>>(), "the first conversation whole, every message in order");
    assert_eq!(app.stored(&first).await, one.messages[..app.stored(&first).await.len()], "as stored");
    assert_eq!(one.messages.last().unwrap().text, format!("line {}", last + 520));
    assert_eq!(app.stored(&second).await, two.messages, "the second conversation whole");
    assert!(one.messages.iter().any(|m| m.text == "My kettle arrived broken"));
    assert!(two
        .messages
        .iter()
        .any(|m| matches!(&m.extra, MessageExtra::EmailForm { email, .. } if email == "vera@example.com")));
    assert_eq!(one.notes.iter().map(|n| n.text.as_str()).collect::<Vec<_>>(), ["refund"]);
    assert_eq!(one.labels, ["refund"]);
    assert_eq!(one.context.current_page().unwrap().url, "https://shop.example/orders/7");
    assert_eq!(one.context.language, "en-GB");
    // Every file, byte for byte, where visitor.json says.
    assert_eq!(export.files.len(), 3, "{:?}", export.files);
    let digest = hex::encode(Sha256::digest(PNG));
    for f in &export.files {
        assert_eq!(files[&f.path], PNG, "{}", f.path);
        assert_eq!(f.sha256, digest);
    }
    let mut names: Vec<&str> = export.files.iter().map(|f| f.file_name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["label.png", "photo.png", "receipt.png"]);
    assert_eq!(files.len(), 2 + 3, "README, visitor.json and the files: {:?}", files.keys());
    // Nothing of anyone else.
    let all: String = files.values().map(|b| String::from_utf8_lossy(b).into_owned()).collect();
    assert!(!all.contains("Walter") && !all.contains(&w.conversation_id()), "another visitor's data in the export");

    // Who may: another organization's user finds nothing; without *settings*, forbidden;
    // signed out, 401; from another site, refused.
    let eve = app.other_org_user().await;
    assert_eq!(get_export(&app, Some(&eve), &second).await.0, 404);
    assert_eq!(get_export(&app, Some(&ann.cookie), "no-such-conversation").await.0, 404);
    let bob = app.login(BOB).await;
    assert_eq!(get_export(&app, Some(&bob), &second).await.0, 403);
    assert_eq!(get_export(&app, None, &second).await.0, 401);
    let cross = app
        .http
        .get(format!("{}/api/visitor/export?conversation_id={second}", app.base))
        .header("cookie", &ann.cookie)
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status().as_u16(), 403);

    // One audit entry: Ann exported; it names no visitor.
    let log = audit(&app, &ann.cookie).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0].actor_name, "Ann Agent");
    let messages = last + 520 + two.messages.len() as i64;
    assert_eq!(log[0].text, format!("Exported a visitor's data: 2 conversations, {messages} messages and 3 files"));
    let name = &export.visitor.name;
    assert!(!log[0].text.contains(name.as_str()) && !log[0].text.contains("example.com"));
    assert_eq!(app.call_json("org/audit", &bob, json!({})).await.status, 403);
    assert_eq!(audit(&app, &eve).await, vec![], "another organization's log is its own");
}
on_both_databases!(export_holds_everything_of_the_visitor_and_nothing_else);

async fn erasure_removes_everything_of_the_visitor_and_nothing_else(db: Db) {
    let app = spawn_app(db).await;
    let ann = app.agent(ANN).await;
    let (first, second, token) = visitor_with_two_conversations(&app, &ann).await;
    let (visitor,): (String,) = sqlx::query_as("SELECT visitor_id FROM conversations WHERE id = $1")
        .bind(&first)
        .fetch_one(app.backend.pool())
        .await
        .unwrap();
    // Someone else of the same organization, with a conversation of their own.
    let label = make_label(&app, &ann.cookie, "keep").await;
    let (other, other_token) = full_conversation(&app, &ann, &label, "teapot").await;
    let other_before = rows(&app, &other).await;
    let erase = |conversation: &str, confirm: bool| {
        app.call_json("visitor/erase", &ann.cookie, json!({"conversation_id": conversation, "confirm": confirm}))
    };
    let unchanged = |what: &'static str| {
        let (app, first, second) = (&app, first.clone(), second.clone());
        async move {
            assert_eq!(rows(app, &first).await[0], ("conversations", 1), "{what}");
            assert_eq!(rows(app, &second).await[0], ("conversations", 1), "{what}");
        }
    };

    // Refusals change nothing: unconfirmed, another organization's, no *settings*, signed out,
    // and while a conversation of the visitor is open.
    assert_eq!(erase(&second, false).await.err(400)["code"], "unconfirmed");
    unchanged("unconfirmed").await;
    let eve = app.other_org_user().await;
    let foreign = json!({"conversation_id": second, "confirm": true});
    assert_eq!(app.call_json("visitor/erase", &eve, foreign.clone()).await.status, 404);
    assert_eq!(app.call_json("visitor/erasure", &eve, json!({"conversation_id": second})).await.status, 404);
    let bob = app.login(BOB).await;
    assert_eq!(app.call_json("visitor/erase", &bob, foreign.clone()).await.err(403)["kind"], "forbidden");
    let anonymous = app.http.post(format!("{}/api/visitor/erase", app.base)).header("content-type", "application/json");
    let anonymous = anonymous.body(foreign.to_string()).send().await.unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
    let open = erase(&second, true).await;
    assert_eq!(open.err(409)["code"], "conflict");
    assert!(open.body["message"].as_str().unwrap().contains("close it first"), "{open:?}");
    unchanged("an open conversation").await;

    // Closed, the preview counts what will go, and the erasure takes exactly that.
    ann.act(&app, "handoff/close", &second).await.ok();
    let preview = app.call_json("visitor/erasure", &ann.cookie, json!({"conversation_id": first})).await.ok();
    let messages = (app.stored(&first).await.len() + app.stored(&second).await.len()) as i64;
    assert_eq!(preview, json!({"conversations": 2, "messages": messages, "files": 3, "open": 0}));
    assert_eq!(erase(&first, true).await.ok(), preview);
    for conversation in [&first, &second] {
        let left = rows(&app, conversation).await;
        assert!(left.iter().all(|(_, n)| *n == 0), "{conversation}: {left:?}");
    }
    let (visitors,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM visitors WHERE id = $1")
        .bind(&visitor)
        .fetch_one(app.backend.pool())
        .await
        .unwrap();
    assert_eq!(visitors, 0, "the visitor is gone");
    assert_eq!(search(&app, &ann.cookie, "kettle").await, Vec::<String>::new(), "search forgot them");
    assert_eq!(get_export(&app, Some(&ann.cookie), &first).await.0, 404);
    assert_eq!(erase(&first, true).await.status, 404, "erased once");
    // The browser's token is unknown now: it starts afresh, with nothing of before.
    let fresh = app.visitor_session("demo", Some(&token)).await;
    assert!(fresh.conversation_id != first && fresh.conversation_id != second);
    assert_ne!(fresh.token, token, "a new visitor, with a token of its own");
    assert!(app.stored(&fresh.conversation_id).await.iter().all(|m| !m.text.contains("kettle")));

    // Nobody else lost anything; the other visitor chats on.
    assert_eq!(rows(&app, &other).await, other_before);
    assert_eq!(search(&app, &ann.cookie, "teapot").await, vec![other.clone()]);
    let again = app.visitor_session("demo", Some(&other_token)).await;
    assert_ne!(again.conversation_id, other, "their closed conversation stays closed, kept");

    // The audit entry names Ann and counts; never the visitor.
    let log = audit(&app, &ann.cookie).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0].actor_name, "Ann Agent");
    assert_eq!(log[0].text, format!("Erased a visitor's data: 2 conversations, {messages} messages and 3 files"));
}
on_both_databases!(erasure_removes_everything_of_the_visitor_and_nothing_else);
