//! Transcripts by e-mail (issue 23): once their conversation has ended, the visitor asks for its
//! transcript; it goes through the outbox to the address given (once per conversation), holds
//! every message as the widget showed it and never a private note. Before the end, or with a
//! bad address: a clear error and nothing queued.
use crate::email::mail_config;
use crate::helpers::*;
use crate::on_both_databases;
use crate::smtp::SmtpSink;
use serde_json::json;
use std::time::Duration;

async fn ask(app: &TestApp, token: &str, conversation: &str, email: &str) -> Answer {
    app.call("widget/transcript", None, &[("token", token), ("id", conversation), ("email", email)]).await
}

async fn queued(app: &TestApp, conv: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE conversation_id = $1 AND kind = 'transcript'")
        .bind(conv)
        .fetch_one(app.backend.pool())
        .await
        .unwrap();
    n
}

async fn an_ended_chat_s_transcript_reaches_the_visitor_without_notes(db: Db) {
    let smtp = SmtpSink::start().await;
    let app = spawn_app_with(db, mail_config(&smtp)).await;
    let ann = app.agent(ANN).await;
    let mut v = app.visitor().await;
    let conv = v.conversation_id();
    let token = v.session.token.clone();
    v.send("m1", "Where is my parcel?").await;
    v.ack("m1").await;
    ann.act(&app, "handoff/continue", &conv).await.ok();
    ann.say(&app, &conv, "a1", "It left today.").await.ok();
    app.call(
        "conversations/note",
        Some(&ann.cookie),
        &[("id", &conv), ("client_note_id", "n1"), ("text", "VIP since 2019")],
    )
    .await
    .ok();

    // Not before the end.
    assert_eq!(ask(&app, &token, &conv, "v@example.com").await.err(409)["code"], "conflict");
    assert_eq!(queued(&app, &conv).await, 0);
    ann.act(&app, "handoff/close", &conv).await.ok();

    // A bad address: a field error, nothing queued.
    let bad = ask(&app, &token, &conv, "not an address").await;
    assert_eq!(bad.err(400)["field"], "email");
    assert_eq!(queued(&app, &conv).await, 0);

    // Asked: queued once; asking again (elsewhere) answers where the first went.
    assert_eq!(ask(&app, &token, &conv, " V@Example.COM ").await.ok(), json!("V@example.com"));
    assert_eq!(ask(&app, &token, &conv, "other@example.com").await.ok(), json!("V@example.com"));
    let mails = smtp.wait_for("V@example.com", 1).await;
    assert_eq!(mails[0].header("Subject").as_deref(), Some("Your conversation with Demo Org"));
    let body = mails[0].body();
    let (asked, answered, closed) = (
        body.find("You:\nWhere is my parcel?").expect("the visitor's message"),
        body.find("Ann Agent:\nIt left today.").expect("the agent's answer"),
        body.find("This conversation was closed.").expect("the end"),
    );
    assert!(asked < answered && answered < closed, "in order: {body}");
    assert!(!body.contains("VIP since"), "the transcript carried a private note: {body}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(smtp.mails().len(), 1, "one transcript");
    assert_eq!(queued(&app, &conv).await, 1);

    // An unknown token learns nothing; another visitor cannot ask for this conversation.
    assert_eq!(ask(&app, "no-such-token", &conv, "v@example.com").await.status, 403);
    let other = app.visitor().await;
    assert_eq!(ask(&app, &other.session.token, &conv, "spy@example.com").await.status, 404);
    assert!(smtp.mails_to("spy@example.com").is_empty());
}
on_both_databases!(an_ended_chat_s_transcript_reaches_the_visitor_without_notes);

/// The ended conversation's transcript can still be asked for after the visitor's next page
/// started a new conversation; an organization sends at most 100 transcripts an hour.
async fn the_ended_chat_is_the_one_sent_and_an_organization_sends_a_bounded_number(db: Db) {
    let smtp = SmtpSink::start().await;
    let app = spawn_app_with(db, mail_config(&smtp)).await;
    let ann = app.login(ANN).await;
    let v = app.visitor().await;
    let (token, ended) = (v.session.token.clone(), v.conversation_id());
    app.call("handoff/close", Some(&ann), &[("id", &ended)]).await.ok();
    let next = app.visitor_session("demo", Some(&token)).await;
    assert_ne!(next.conversation_id, ended, "a new page started the next conversation");
    assert_eq!(ask(&app, &token, &next.conversation_id, "v@example.com").await.err(409)["code"], "conflict");
    ask(&app, &token, &ended, "v@example.com").await.ok();
    let mails = smtp.wait_for("v@example.com", 1).await;
    assert!(mails[0].body().contains("This conversation was closed."));

    // 100 transcripts this hour already (99 more, failed ones count too).
    for i in 0..99 {
        sqlx::query(
            "INSERT INTO outbox (id, org_id, kind, conversation_id, to_addr, status, next_attempt_at, created_at)
             VALUES ($1, 'demo-org', 'transcript', $2, 'x@example.com', 'failed', 0, $3)",
        )
        .bind(format!("t{i}"))
        .bind(&ended)
        .bind(backend::now_ms())
        .execute(app.backend.writer())
        .await
        .unwrap();
    }
    let w = app.visitor().await;
    app.call("handoff/close", Some(&ann), &[("id", &w.conversation_id())]).await.ok();
    let refused = ask(&app, &w.session.token, &w.conversation_id(), "w@example.com").await;
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert_eq!(queued(&app, &w.conversation_id()).await, 0);
}
on_both_databases!(the_ended_chat_is_the_one_sent_and_an_organization_sends_a_bounded_number);
