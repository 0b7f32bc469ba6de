//! Private notes (issue 23): agents of the organization write and read them, live; a note never
//! reaches the visitor's socket, the widget's read of the conversation, the AI's context or an
//! e-mail to the visitor; a retry is stored once; bad notes are refused and store nothing.
//! (Other organizations: `idor::organizations_cannot_reach_each_other`.)
use crate::ai::fake_llm::{app_with_llm, sse, FakeLlm, Reply};
use crate::ai::{ask, greeted_visitor};
use crate::email::{mail_config, submit};
use crate::helpers::*;
use crate::on_both_databases;
use crate::smtp::SmtpSink;
use domain::notes::{NoteDto, MAX_NOTES_PER_CONVERSATION};
use domain::values::MAX_MESSAGE_BYTES;
use domain::wire::{ConversationDetail, ServerFrame};
use serde_json::json;
use std::time::Duration;

const NOTE: &str = "VIP since 2019 — <b>refund</b> approved by Carla";

async fn add(app: &TestApp, cookie: &str, conversation: &str, client_id: &str, text: &str) -> Answer {
    app.call("conversations/note", Some(cookie), &[("id", conversation), ("client_note_id", client_id), ("text", text)])
        .await
}

async fn notes(app: &TestApp, cookie: &str, conversation: &str) -> Vec<NoteDto> {
    serde_json::from_value(app.call("conversations/notes", Some(cookie), &[("id", conversation)]).await.ok()).unwrap()
}

/// Ann writes a note while the AI answers (nobody holds the chat): Bob's watching dashboard is
/// told and reads it, with the conversation too (Ann's, not watching it, is not told); the visitor's socket carries nothing of it
/// (the next thing it gets is Ann's chat message); a visitor reconnecting from the start reads
/// the messages only, their seqs gap-free (the note took none). A retry is stored once.
async fn a_note_reaches_the_team_and_never_the_visitor(db: Db) {
    let app = spawn_app(db).await;
    let mut ann = app.agent(ANN).await;
    let mut bob = app.agent(BOB).await;
    bob.socket.ready().await;
    ann.socket.ready().await;
    let mut v = app.visitor().await;
    let conv = v.conversation_id();
    v.message(|m| m.seq == 1).await; // the greeting
    v.send("v1", "Where is my refund?").await;
    let asked = v.ack("v1").await;
    v.message(|m| m.seq == asked + 1).await; // the AI's answer
    bob.watch(&conv, 0).await;

    let note: NoteDto = serde_json::from_value(add(&app, &ann.cookie, &conv, "n1", NOTE).await.ok()).unwrap();
    assert_eq!((note.text.as_str(), note.author_name.as_str(), note.after_seq), (NOTE, "Ann Agent", asked + 1));
    bob.socket
        .until(|f| matches!(f, ServerFrame::NotesChanged { conversation_id } if *conversation_id == conv).then_some(()))
        .await;
    assert_eq!(notes(&app, &bob.cookie, &conv).await, vec![note.clone()]);
    let detail: ConversationDetail =
        serde_json::from_value(app.call("conversations/get", Some(&bob.cookie), &[("id", &conv)]).await.ok()).unwrap();
    assert_eq!(detail.notes, vec![note.clone()]);

    // A retry (same client id) answers the stored note and stores nothing more.
    let again: NoteDto = serde_json::from_value(add(&app, &ann.cookie, &conv, "n1", NOTE).await.ok()).unwrap();
    assert_eq!(again, note);
    assert_eq!(notes(&app, &ann.cookie, &conv).await.len(), 1);

    // Ann's own dashboard does not watch the conversation: no hint (frames arrive in order, so
    // it would come before the takeover's state).
    ann.act(&app, "handoff/continue", &conv).await.ok();
    let mut ann_frames = Vec::new();
    ann.socket
        .until(|f| {
            ann_frames.push(serde_json::to_string(f).unwrap());
            matches!(f, ServerFrame::State { conversation_id, .. } if *conversation_id == conv).then_some(())
        })
        .await;
    assert!(ann_frames.iter().all(|f| !f.contains("notes_changed")), "{ann_frames:#?}");

    // The visitor's socket: nothing between the note and Ann's next chat message.
    ann.say(&app, &conv, "a1", "Let me check that for you.").await.ok();
    let mut before = Vec::new();
    v.socket
        .until(|f| {
            before.push(serde_json::to_string(f).unwrap());
            matches!(f, ServerFrame::Message { message } if message.text == "Let me check that for you.").then_some(())
        })
        .await;
    for frame in &before {
        assert!(
            !frame.contains("VIP since") && !frame.contains("notes_changed"),
            "the visitor's socket carried {frame}"
        );
    }

    // The widget's read: a visitor reconnecting from the start gets the messages only.
    let mut again = Socket::connect(&app, "/ws/visitor", None).await;
    again.send_json(json!({"type": "hello", "token": v.session.token, "last_seq": 0})).await;
    let mut frames = Vec::new();
    let last_seq = match again.next().await {
        ServerFrame::Welcome { last_seq, .. } => last_seq,
        other => panic!("expected welcome, got {other:?}"),
    };
    let mut seqs = Vec::new();
    while seqs.last() != Some(&last_seq) {
        let f = again.next().await;
        frames.push(serde_json::to_string(&f).unwrap());
        if let ServerFrame::Message { message } = f {
            seqs.push(message.seq);
        }
    }
    assert_eq!(seqs, (1..=last_seq).collect::<Vec<_>>(), "gap-free: the note took no seq");
    assert!(frames.iter().all(|f| !f.contains("VIP since")), "{frames:#?}");
    assert!(app.stored(&conv).await.iter().all(|m| !m.text.contains("VIP since")));
}
on_both_databases!(a_note_reaches_the_team_and_never_the_visitor);

/// Blank, too long or badly identified notes are refused with a clear error and store nothing;
/// an unknown conversation is "not found"; a note at the size limit is kept; a full conversation
/// refuses more.
async fn bad_notes_are_refused_and_store_nothing(db: Db) {
    let app = spawn_app(db).await;
    let ann = app.login(ANN).await;
    let conv = app.visitor().await.conversation_id();
    let long = "a".repeat(MAX_MESSAGE_BYTES + 1);
    for (client_id, text, says) in [
        ("b1", "   ", "the message is empty"),
        ("b2", long.as_str(), "the message is too long"),
        ("", "hello", "the client message id must be"),
        ("bad id with spaces", "hello", "the client message id must be"),
    ] {
        let answer = add(&app, &ann, &conv, client_id, text).await;
        let body = answer.err(400).to_string();
        assert!(body.contains(says), "{client_id:?}: {body}");
    }
    assert!(notes(&app, &ann, &conv).await.is_empty());
    add(&app, &ann, "no-such-conversation", "n1", "hello").await.err(404);
    let at_limit = "a".repeat(MAX_MESSAGE_BYTES);
    let kept: NoteDto = serde_json::from_value(add(&app, &ann, &conv, "n2", &at_limit).await.ok()).unwrap();
    assert_eq!(kept.text.len(), MAX_MESSAGE_BYTES);

    // A conversation keeps at most MAX_NOTES_PER_CONVERSATION notes.
    for i in 1..MAX_NOTES_PER_CONVERSATION - 1 {
        sqlx::query(
            "INSERT INTO notes (id, conversation_id, author_id, author_name, text, after_seq, client_note_id, created_at)
             VALUES ($1, $2, 'demo-user-1', 'Ann Agent', 'x', 0, $1, 0)",
        )
        .bind(format!("filler{i}"))
        .bind(&conv)
        .execute(app.backend.writer())
        .await
        .unwrap();
    }
    add(&app, &ann, &conv, "last", "the last one").await.ok();
    let full = crate::admin::field_error(&add(&app, &ann, &conv, "over", "one too many").await, "text");
    assert_eq!(full, format!("a conversation keeps at most {MAX_NOTES_PER_CONVERSATION} notes"));
    assert_eq!(notes(&app, &ann, &conv).await.len(), MAX_NOTES_PER_CONVERSATION);
}
on_both_databases!(bad_notes_are_refused_and_store_nothing);

/// The AI answers from the messages only: a note written before the visitor's question is not
/// in what the model is sent.
async fn a_note_never_reaches_the_ai(db: Db) {
    let fake =
        FakeLlm::start(Reply::Sse { pieces: sse("Your refund is on its way.", false), gap: Duration::ZERO }).await;
    let (app, ann) = app_with_llm(db, &fake, |_| {}).await;
    let mut v = greeted_visitor(&app).await;
    let conv = v.conversation_id();
    add(&app, &ann, &conv, "n1", NOTE).await.ok();
    assert_eq!(ask(&mut v, "q1", "Where is my refund?").await.text, "Your refund is on its way.");
    let sent = fake.last().body.to_string();
    assert!(sent.contains("Where is my refund?"), "{sent}");
    assert!(!sent.contains("VIP since"), "the model was told the note: {sent}");
}
on_both_databases!(a_note_never_reaches_the_ai);

/// An agent's e-mail answer to the visitor's form carries the answer and the visitor's own text,
/// never a note written in the conversation.
async fn a_note_never_reaches_an_email_to_the_visitor(db: Db) {
    let smtp = SmtpSink::start().await;
    let app = spawn_app_with(db, mail_config(&smtp)).await;
    let ann = app.login(ANN).await;
    let v = app.visitor().await;
    let conv = v.conversation_id();
    let form = submit(&app, &v.session.token, "f1", "visitor@example.com", "Where is my refund?", &[]).await.ok();
    add(&app, &ann, &conv, "n1", NOTE).await.ok();
    let body =
        json!({"conversation_id": conv, "form_seq": form["seq"], "client_msg_id": "r1", "text": "It left today."});
    app.call_json("email/reply", &ann, body).await.ok();
    let mails = smtp.wait_for("visitor@example.com", 1).await;
    let text = mails[0].body();
    assert!(text.contains("It left today.") && text.contains("Where is my refund?"), "{text}");
    assert!(!text.contains("VIP since") && !text.contains("refund</b>"), "the e-mail carried the note: {text}");
}
on_both_databases!(a_note_never_reaches_an_email_to_the_visitor);
