//! Files in the chat (issue 23), both ways: the visitor's file reaches the dashboards and the
//! holder's reaches the visitor, live and stored, each side able to download it and nobody else;
//! a resend is stored once; a file refused by its content, its name or its size, or sent by
//! someone who may not, is a clear error and changes nothing; the visitor's hourly cap; the AI
//! is told that a file arrived, never what is in it.
use crate::ai::fake_llm::{app_with_llm, FakeLlm, Reply};
use crate::ai::greeted_visitor;
use crate::email::{download, PNG};
use crate::helpers::*;
use crate::on_both_databases;
use domain::wire::{Author, MessageDto, MessageExtra};
use serde_json::{json, Value};

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";
/// An executable's first bytes (a PE header), named like a picture.
const EXE: &[u8] = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0";

/// Posts one file to `/api/widget/file` (`("token", …)`) or `/api/chat/file`
/// (`("conversation_id", …)` with a session cookie), the fields in the order given.
pub(crate) async fn post_file(
    app: &TestApp,
    path: &str,
    cookie: Option<&str>,
    fields: &[(&str, &str)],
    file: Option<(&str, &[u8])>,
) -> Answer {
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    if let Some((name, bytes)) = file {
        form = form.part("file", reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_string()));
    }
    let mut req = app.http.post(format!("{}{path}", app.base)).multipart(form);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let res = req.send().await.expect("upload");
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    Answer { status, body: serde_json::from_str(&text).unwrap_or(Value::String(text)) }
}

pub(crate) async fn visitor_file(app: &TestApp, token: &str, id: &str, name: &str, bytes: &[u8]) -> Answer {
    post_file(app, "/api/widget/file", None, &[("token", token), ("client_msg_id", id)], Some((name, bytes))).await
}

pub(crate) async fn agent_file(app: &TestApp, cookie: &str, conv: &str, id: &str, name: &str, bytes: &[u8]) -> Answer {
    let fields = [("conversation_id", conv), ("client_msg_id", id)];
    post_file(app, "/api/chat/file", Some(cookie), &fields, Some((name, bytes))).await
}

fn file_of(m: &MessageDto) -> Option<&domain::wire::AttachmentDto> {
    match &m.extra {
        MessageExtra::File { attachment } => Some(attachment),
        _ => None,
    }
}

async fn attachments(app: &TestApp) -> i64 {
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM attachments").fetch_one(&app.backend.db.pool).await.unwrap();
    n
}

async fn files_go_both_ways_and_only_to_the_conversation(db: Db) {
    let app = spawn_app(db).await;
    let mut ann = app.agent(ANN).await;
    let bob = app.agent(BOB).await;
    let mut v = app.visitor().await;
    let conv = v.conversation_id();
    let token = v.session.token.clone();
    ann.watch(&conv, 0).await;

    // The visitor's picture: stored under the next seq, live on both sides, named by its file.
    let sent = visitor_file(&app, &token, "f1", "screenshot.png", PNG).await.ok();
    assert_eq!(sent["duplicate"], false);
    let seq = sent["seq"].as_i64().unwrap();
    let mine = v.message(|m| m.seq == seq).await;
    let file = file_of(&mine).expect("a file message").clone();
    assert_eq!(
        (file.name.as_str(), file.content_type.as_str(), file.size),
        ("screenshot.png", "image/png", PNG.len() as i64)
    );
    assert_eq!((mine.author.clone(), mine.text.as_str()), (Author::Visitor, "screenshot.png"));
    assert_eq!(mine.client_msg_id.as_deref(), Some("f1"));
    let seen_by_ann = ann.message(|m| m.seq == seq).await;
    assert_eq!(file_of(&seen_by_ann), Some(&file));
    // The list shows it as a file.
    let (preview,): (Option<String>,) = sqlx::query_as("SELECT last_message FROM conversations WHERE id = $1")
        .bind(&conv)
        .fetch_one(&app.backend.db.pool)
        .await
        .unwrap();
    assert_eq!(preview.as_deref(), Some("File: screenshot.png"));

    // A resend (the network failed after the upload) is the stored message, once.
    let again = visitor_file(&app, &token, "f1", "screenshot.png", PNG).await.ok();
    assert_eq!((again["seq"].as_i64(), again["duplicate"].as_bool()), (Some(seq), Some(true)));
    assert_eq!(attachments(&app).await, 1);

    // Ann (the organization) and the visitor download it; always as a download, typed by content.
    let res = download(&app, &file.id, Some(&ann.cookie), None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");
    assert!(res.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    assert_eq!(res.bytes().await.unwrap().as_ref(), PNG);
    assert_eq!(download(&app, &file.id, None, Some(&token)).await.status(), 200);

    // Ann must hold the chat to send one; Bob, not holding it, is refused and nothing is stored.
    let refused = agent_file(&app, &ann.cookie, &conv, "a1", "invoice.pdf", PDF).await;
    assert!(refused.err(403)["message"].as_str().unwrap().contains("take the chat first"), "{:?}", refused.body);
    ann.act(&app, "handoff/continue", &conv).await.ok();
    let refused = agent_file(&app, &bob.cookie, &conv, "b1", "invoice.pdf", PDF).await;
    assert_eq!(refused.status, 403, "{:?}", refused.body);

    // Ann's PDF reaches the visitor, who may download it (not only what they uploaded).
    let sent = agent_file(&app, &ann.cookie, &conv, "a1", "invoice.pdf", PDF).await.ok();
    let seq = sent["seq"].as_i64().unwrap();
    let theirs = v.message(|m| m.seq == seq).await;
    assert!(matches!(theirs.author, Author::Agent { ref name, .. } if name == "Ann Agent"));
    let pdf = file_of(&theirs).expect("a file message").clone();
    assert_eq!(pdf.content_type, "application/pdf");
    let res = download(&app, &pdf.id, None, Some(&token)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().await.unwrap().as_ref(), PDF);

    // Nobody else: another visitor, another organization, no credentials — the same 404.
    let other = app.visitor().await;
    for id in [&file.id, &pdf.id] {
        assert_eq!(download(&app, id, None, Some(&other.session.token)).await.status(), 404);
        assert_eq!(download(&app, id, None, None).await.status(), 404);
    }
    let eve = app.other_org_user().await;
    assert_eq!(download(&app, &pdf.id, Some(&eve), None).await.status(), 404);
    // Eve cannot send into it either: the conversation is not found for her.
    let refused = agent_file(&app, &eve, &conv, "e1", "x.pdf", PDF).await;
    assert_eq!(refused.status, 404, "{:?}", refused.body);
    // Signed out: 401.
    let refused = post_file(&app, "/api/chat/file", None, &[("conversation_id", &conv)], Some(("x.pdf", PDF))).await;
    assert_eq!(refused.status, 401);
    let stored = app.stored(&conv).await;
    assert_eq!(stored.iter().filter(|m| file_of(m).is_some()).count(), 2, "{stored:#?}");
    assert_gap_free(&stored);
}
on_both_databases!(files_go_both_ways_and_only_to_the_conversation);

async fn refused_files_are_clear_errors_and_change_nothing(db: Db) {
    let app = spawn_app_with(db, |c| c.visitor_messages_per_minute = 0).await;
    let mut v = app.visitor().await;
    let conv = v.conversation_id();
    let token = v.session.token.clone();
    v.message(|m| m.seq == 1).await; // the greeting
    let field = |a: &Answer| {
        (
            a.status,
            a.body["field"].as_str().unwrap_or_default().to_string(),
            a.body["message"].as_str().unwrap_or_default().to_string(),
        )
    };

    // An executable renamed .png: refused by its content, in words the widget shows.
    let (status, f, message) = field(&visitor_file(&app, &token, "x1", "holiday.png", EXE).await);
    assert_eq!((status, f.as_str()), (400, "file"));
    assert!(message.starts_with("holiday.png: this type of file is not accepted"), "{message}");
    // A picture named .pdf; an empty file; a file over 5 MB; no file; two files.
    let (_, _, message) = field(&visitor_file(&app, &token, "x2", "report.pdf", PNG).await);
    assert!(message.contains("does not match its name"), "{message}");
    let (_, _, message) = field(&visitor_file(&app, &token, "x3", "empty.txt", b"").await);
    assert!(message.contains("is empty"), "{message}");
    let big = vec![b'a'; domain::email::MAX_FILE_BYTES + 1];
    let (status, f, message) = field(&visitor_file(&app, &token, "x4", "big.txt", &big).await);
    assert_eq!((status, f.as_str()), (400, "file"));
    assert!(message.contains("each file may be at most 5.0 MB"), "{message}");
    let huge = vec![b'a'; domain::email::MAX_FILE_BYTES + 200 * 1024];
    let (status, f, _) = field(&visitor_file(&app, &token, "x5", "huge.txt", &huge).await);
    assert_eq!((status, f.as_str()), (413, "file"));
    let none = post_file(&app, "/api/widget/file", None, &[("token", &token), ("client_msg_id", "x6")], None).await;
    assert!(none.err(400)["message"].as_str().unwrap().contains("choose a file"));
    let form = reqwest::multipart::Form::new()
        .text("token", token.clone())
        .text("client_msg_id", "x7")
        .part("file", reqwest::multipart::Part::bytes(b"one".to_vec()).file_name("a.txt"))
        .part("file", reqwest::multipart::Part::bytes(b"two".to_vec()).file_name("b.txt"));
    let res = app.http.post(format!("{}/api/widget/file", app.base)).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), 400);
    // The file before the token, a forged token: refused before a byte of the file is read.
    // (A file just over the limit: read, it would be a 413.)
    let over = vec![b'a'; domain::email::MAX_FILE_BYTES + 10 * 1024];
    let early = post_file(&app, "/api/widget/file", None, &[], Some(("a.txt", &over))).await;
    assert_eq!(early.status, 403, "{:?}", early.body);
    let forged = visitor_file(&app, "forged", "x8", "a.txt", b"hello").await;
    assert_eq!(forged.status, 403);
    // A malformed client message id.
    let bad_id = visitor_file(&app, &token, "", "a.txt", b"hello").await;
    assert_eq!(bad_id.status, 400, "{:?}", bad_id.body);
    assert_eq!(app.stored(&conv).await.len(), 1, "only the greeting");
    assert_eq!(attachments(&app).await, 0);

    // Twenty files an hour from the visitor; the next is refused with the reason.
    for i in 0..domain::chat_files::MAX_VISITOR_FILES_PER_HOUR {
        visitor_file(&app, &token, &format!("ok{i}"), "note.txt", b"hello").await.ok();
    }
    let limited = visitor_file(&app, &token, "over", "note.txt", b"hello").await;
    let body = limited.err(429);
    assert!(body["message"].as_str().unwrap().contains("20 files in this chat in the last hour"), "{body}");
    assert_eq!(attachments(&app).await, 20);

    // A closed conversation takes no more files.
    let ann = app.agent(ANN).await;
    ann.act(&app, "handoff/close", &conv).await.ok();
    let closed = visitor_file(&app, &token, "late", "note.txt", b"hello").await;
    assert_eq!(closed.status, 409, "{:?}", closed.body);
    assert_eq!(attachments(&app).await, 20);
}
on_both_databases!(refused_files_are_clear_errors_and_change_nothing);

/// The AI answers after a visitor's file like after any message, told only that the file arrived
/// (its name, type and size), never its content.
async fn the_ai_is_told_a_file_arrived_never_its_content(db: Db) {
    let fake = FakeLlm::start(Reply::Json(json!({
        "id": "c1", "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Thanks, a colleague will look at it."}, "finish_reason": "stop"}]
    })))
    .await;
    let (app, _ann) = app_with_llm(db, &fake, |_| {}).await;
    let mut v = greeted_visitor(&app).await;
    let secret = "order 7731, PIN 0042, the content no model may read";
    let sent = visitor_file(&app, &v.session.token, "f1", "order.txt", secret.as_bytes()).await.ok();
    let seq = sent["seq"].as_i64().unwrap();
    let answer = v.message(|m| m.seq > seq && m.author == Author::Ai).await;
    assert_eq!(answer.text, "Thanks, a colleague will look at it.");
    let req = fake.last();
    let messages = req.body["messages"].as_array().unwrap();
    let last = messages.last().unwrap();
    assert_eq!(last["role"], "user");
    let told = last["content"].as_str().unwrap();
    assert!(told.starts_with("[The visitor sent a file: order.txt (text/plain, "), "{told}");
    // Nothing of the file's content in the whole request (were text files ever inlined).
    let everything = req.body.to_string();
    assert!(!everything.contains("PIN 0042") && !everything.contains("order 7731"), "{everything}");
}
on_both_databases!(the_ai_is_told_a_file_arrived_never_its_content);

/// An organization's visitors upload at most `visitor_upload_mb_per_hour` in all (chat files and
/// e-mail forms, counted in the database); files go only where a human may read them (handoff
/// enabled); a user without the *conversations* permission sends none; the bell says "File: …".
async fn uploads_are_bounded_per_organization_and_need_a_human(db: Db) {
    let app = spawn_app_with(db, |c| c.visitor_upload_mb_per_hour = 1).await;
    let ann = app.login(ANN).await;
    let every_message = json!({"prefs": {"via_email": false, "via_push": false, "events": "all"}});
    app.call_json("notifications/save_prefs", &ann, every_message).await.ok();
    let (a, b) = (app.visitor().await, app.visitor().await);
    let part = vec![b'a'; 600 * 1024];
    visitor_file(&app, &a.session.token, "f1", "log.txt", &part).await.ok();
    // The second 600 KB, from another visitor of the same organization: over the megabyte.
    let over = visitor_file(&app, &b.session.token, "f1", "log.txt", &part).await;
    let body = over.err(429);
    assert!(body["message"].as_str().unwrap().contains("too many files were sent to this team"), "{body}");
    // The e-mail form's files count too.
    let form =
        crate::email::submit(&app, &b.session.token, "s1", "b@example.test", "see file", &[("log.txt", &part)]).await;
    assert_eq!(form.status, 429, "{:?}", form.body);
    assert_eq!(attachments(&app).await, 1);
    // The bell shows the file as one.
    let bell = app.call_json("notifications/list", &ann, json!({})).await.ok();
    assert!(bell.to_string().contains("File: log.txt"), "{bell}");

    // Vic (no *conversations* permission) sends nothing, even to a chat nobody holds.
    let (vic, _) = crate::admin::viewer_without_permissions(&app).await;
    let refused = agent_file(&app, &vic, &a.conversation_id(), "v1", "x.pdf", PDF).await;
    assert_eq!(refused.status, 403, "{:?}", refused.body);

    // Where the AI agent hands nothing to humans, the visitor sends no files.
    sqlx::query("UPDATE agents SET handoff_enabled = 0 WHERE id = 'demo-agent'")
        .execute(&app.backend.db.pool)
        .await
        .unwrap();
    let c = app.visitor().await;
    let refused = visitor_file(&app, &c.session.token, "f1", "a.txt", b"hello").await;
    assert!(refused.err(403)["message"].as_str().unwrap().contains("files cannot be sent in this chat"));
    assert_eq!(attachments(&app).await, 1);
}
on_both_databases!(uploads_are_bounded_per_organization_and_need_a_human);
