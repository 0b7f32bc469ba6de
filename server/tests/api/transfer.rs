//! Transfer (issue 23): the agent holding a chat passes it to an online colleague with an
//! optional note; the colleague is notified (their bell only), the visitor told who took over,
//! the note kept as a private note (never the visitor's); the colleague now holds it and the AI
//! stays silent. An offline, deactivated or unknown colleague, oneself, a chat one does not hold
//! or a note over the limit: a clear error, and nothing changes.
use crate::admin::{field_error, new_user, ADMIN};
use crate::helpers::*;
use crate::on_both_databases;
use domain::handoff::HandoffState;
use domain::notes::NoteDto;
use domain::transfer::Colleague;
use domain::wire::{Author, ServerFrame};
use serde_json::{json, Value};

async fn user_id(app: &TestApp, cookie: &str) -> String {
    app.call("auth/me", Some(cookie), &[]).await.ok()["id"].as_str().unwrap().to_string()
}

async fn transfer(app: &TestApp, cookie: &str, conv: &str, to: &str, note: &str) -> Answer {
    app.call("handoff/transfer", Some(cookie), &[("id", conv), ("to", to), ("note", note)]).await
}

async fn bell(app: &TestApp, cookie: &str) -> Vec<Value> {
    app.call_json("notifications/list", cookie, json!({})).await.ok()["items"].as_array().unwrap().clone()
}

async fn holder(app: &TestApp, conv: &str) -> Option<String> {
    match app.backend.conversation_state(conv, "demo-org").await.unwrap().0 {
        HandoffState::Human { agent } => Some(agent.name),
        _ => None,
    }
}

async fn a_transfer_rings_the_colleague_and_tells_the_visitor(db: Db) {
    let app = spawn_app(db).await;
    let ann = app.agent(ANN).await;
    let mut bob = app.agent(BOB).await;
    let bob_id = user_id(&app, &bob.cookie).await;
    app.backend.touch_presence(&bob_id).await.unwrap(); // his dashboard is open
    let mut v = app.visitor().await;
    let conv = v.conversation_id();
    v.send("m1", "I need a refund").await;
    v.ack("m1").await;
    ann.act(&app, "handoff/continue", &conv).await.ok();

    // Ann sees Bob online among her colleagues, and passes him the chat with a note.
    let colleagues: Vec<Colleague> =
        serde_json::from_value(app.call("handoff/colleagues", Some(&ann.cookie), &[("id", &conv)]).await.ok()).unwrap();
    assert!(colleagues.iter().any(|c| c.id == bob_id && c.online), "{colleagues:?}");
    assert!(colleagues.iter().all(|c| c.name != "Ann Agent"), "not herself: {colleagues:?}");
    let state = transfer(&app, &ann.cookie, &conv, &bob_id, "Refund approved up to 50 EUR").await.ok();
    assert_eq!(state["agent"]["name"], "Bob Agent");

    // The visitor is told who took over, and sees the new holder; never the note.
    let told = v.message(|m| m.author == Author::System && m.text.contains("took over")).await;
    assert_eq!(told.text, "Bob Agent took over the chat from Ann Agent.");
    assert!(v.seen.iter().all(|m| !m.text.contains("Refund approved")));
    assert!(app.stored(&conv).await.iter().all(|m| !m.text.contains("Refund approved")));

    // Bob is rung (a bell frame, a transfer notification naming Ann); Ann's bell has none.
    bob.socket.until(|f| matches!(f, ServerFrame::Notifications).then_some(())).await;
    let bobs = bell(&app, &bob.cookie).await;
    let rung = bobs.iter().find(|n| n["kind"] == "transfer").expect("Bob's bell has the transfer");
    assert_eq!(rung["conversation_id"], conv.as_str());
    assert!(rung["text"].as_str().unwrap().starts_with("Ann Agent passed you the chat with"), "{rung}");
    assert!(bell(&app, &ann.cookie).await.iter().all(|n| n["kind"] != "transfer"));
    // The note is a private note by Ann.
    let notes: Vec<NoteDto> =
        serde_json::from_value(app.call("conversations/notes", Some(&bob.cookie), &[("id", &conv)]).await.ok())
            .unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!((notes[0].text.as_str(), notes[0].author_name.as_str()), ("Refund approved up to 50 EUR", "Ann Agent"));

    // Bob holds it now: he answers, Ann no longer can, and the AI stays silent.
    assert_eq!(holder(&app, &conv).await.as_deref(), Some("Bob Agent"));
    bob.say(&app, &conv, "b1", "Your refund is on its way.").await.ok();
    v.message(|m| m.text == "Your refund is on its way.").await;
    assert_eq!(ann.say(&app, &conv, "a1", "Me too").await.status, 403);
    v.send("m2", "Thanks!").await;
    v.ack("m2").await;
    let after = app.stored(&conv).await;
    assert!(after.iter().skip_while(|m| m.text != "Thanks!").all(|m| m.author != Author::Ai), "{after:?}");
}
on_both_databases!(a_transfer_rings_the_colleague_and_tells_the_visitor);

async fn a_transfer_nobody_can_take_is_refused_and_changes_nothing(db: Db) {
    let app = spawn_app(db).await;
    let ann = app.agent(ANN).await;
    let bob = app.login(BOB).await; // signed in, no dashboard open: offline
    let bob_id = user_id(&app, &bob).await;
    let admin = app.login(ADMIN).await;
    let dee = new_user(
        "dee@demo.test",
        "Dee",
        Some("demo-org"),
        json!({"conversations": true, "settings": false, "users": false}),
    );
    let dee = app.call_json("admin/users/create", &admin, dee).await.ok();
    let dee_id = dee["id"].as_str().unwrap().to_string();
    app.backend.touch_presence(&dee_id).await.unwrap();
    let off = json!({"user_id": dee_id, "change": {"email": "dee@demo.test", "name": "Dee", "role": "client",
        "org_id": "demo-org", "permissions": {"conversations": true, "settings": false, "users": false}, "active": false}});
    app.call_json("admin/users/update", &admin, off).await.ok();
    let eve = app.other_org_user().await;
    let eve_id = user_id(&app, &eve).await;
    let mut v = app.visitor().await;
    let conv = v.conversation_id();
    v.send("m1", "hello").await;
    v.ack("m1").await;

    // Nobody holds it yet (the AI answers): only the holder transfers.
    app.backend.touch_presence(&bob_id).await.unwrap();
    assert_eq!(transfer(&app, &ann.cookie, &conv, &bob_id, "").await.err(409)["code"], "not_held");
    ann.act(&app, "handoff/continue", &conv).await.ok();
    let before = app.stored(&conv).await;

    // Bob's dashboard closed long ago.
    sqlx::query("UPDATE users SET last_seen_at = 0 WHERE id = $1")
        .bind(&bob_id)
        .execute(app.backend.writer())
        .await
        .unwrap();
    let offline = field_error(&transfer(&app, &ann.cookie, &conv, &bob_id, "").await, "to");
    assert!(offline.contains("offline"), "{offline}");
    let deactivated = field_error(&transfer(&app, &ann.cookie, &conv, &dee_id, "").await, "to");
    assert!(deactivated.contains("deactivated"), "{deactivated}");
    for unknown in [eve_id.as_str(), "no-such-user", &"x".repeat(5000)] {
        let message = field_error(&transfer(&app, &ann.cookie, &conv, unknown, "").await, "to");
        assert_eq!(message, "choose a colleague of your organization");
    }
    let ann_id = user_id(&app, &ann.cookie).await;
    app.backend.touch_presence(&bob_id).await.unwrap();
    assert_eq!(transfer(&app, &ann.cookie, &conv, &ann_id, "").await.err(409)["code"], "transfer_to_self");
    field_error(&transfer(&app, &ann.cookie, &conv, &bob_id, &"n".repeat(5000)).await, "note");
    // Bob, online now, cannot take it by transferring it to himself: he does not hold it.
    let bob_answer = transfer(&app, &bob, &conv, &bob_id, "").await;
    assert_eq!(bob_answer.err(409)["code"], "not_holder");

    // Nothing changed: Ann holds it, no message, no note, nobody notified.
    assert_eq!(holder(&app, &conv).await.as_deref(), Some("Ann Agent"));
    assert_eq!(app.stored(&conv).await, before);
    let notes = app.call("conversations/notes", Some(&ann.cookie), &[("id", &conv)]).await.ok();
    assert_eq!(notes, json!([]));
    assert!(bell(&app, &bob).await.iter().all(|n| n["kind"] != "transfer"));
}
on_both_databases!(a_transfer_nobody_can_take_is_refused_and_changes_nothing);
