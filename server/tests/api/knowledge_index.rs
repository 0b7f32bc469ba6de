//! Issue 20, item 8: one tenant cannot stall everyone through the knowledge base. The agent's
//! search index is built once per change of its knowledge and reused by every visitor message and
//! every "try it"; "try it" needs the *settings* permission.
use crate::ai::{ask, greeted_visitor, preview};
use crate::helpers::*;
use crate::on_both_databases;
use serde_json::json;

/// Adds a Q&A entry through `app`; the visitor (on any node) then gets its answer, twice.
async fn add_qa_and_ask_twice(app: &TestApp, cookie: &str, v: &mut Visitor, question: &str, answer: &str) {
    app.call_json(
        "knowledge/save",
        cookie,
        json!({"agent_id": "demo-agent", "entry_id": null, "input": {"kind": "qa", "title": question, "body": answer}}),
    )
    .await
    .ok();
    for id in ["after-edit-1", "after-edit-2"] {
        assert_eq!(ask(v, id, question).await.text, answer);
    }
}

async fn the_index_is_built_once_per_change(db: Db) {
    let app = spawn_app(db).await;
    let ann = app.login(ANN).await;
    let mut v = greeted_visitor(&app).await;
    assert!(ask(&mut v, "w", "What are your opening hours?").await.text.contains("Monday"));
    let built = app.backend.knowledge_index_builds();
    for i in 0..4 {
        ask(&mut v, &format!("q{i}"), "What are your opening hours?").await;
        preview(&app, &ann, "What are your opening hours?").await;
    }
    assert_eq!(app.backend.knowledge_index_builds(), built, "the index was rebuilt for messages");

    // An edit is used by the very next answer.
    let answer = "Yes, gift vouchers can be redeemed at checkout.";
    add_qa_and_ask_twice(&app, &ann, &mut v, "Can I pay with gift vouchers?", answer).await;
    assert_eq!(app.backend.knowledge_index_builds(), built + 1, "one rebuild per change");
}
on_both_databases!(the_index_is_built_once_per_change);

/// "Try it" runs the responder on the server: only for users who may change the agent.
async fn try_it_needs_the_settings_permission(db: Db) {
    let app = spawn_app(db).await;
    let bob = app.login(BOB).await;
    let denied =
        app.call_json("knowledge/preview", &bob, json!({"agent_id": "demo-agent", "question": "Opening hours?"})).await;
    assert_eq!(denied.err(403)["kind"], "forbidden");
}
on_both_databases!(try_it_needs_the_settings_permission);

/// "Try it" is limited per user (`previews_per_minute`): over the limit, 429 with a clear error.
async fn try_it_is_rate_limited(db: Db) {
    let app = spawn_app_with(db, |c| c.previews_per_minute = 2).await;
    let ann = app.login(ANN).await;
    for _ in 0..2 {
        preview(&app, &ann, "What are your opening hours?").await;
    }
    let limited =
        app.call_json("knowledge/preview", &ann, json!({"agent_id": "demo-agent", "question": "Opening hours?"})).await;
    assert_eq!(limited.err(429)["kind"], "rate_limited");
    assert!(limited.body.to_string().contains("try again in"), "{}", limited.body);
}
on_both_databases!(try_it_is_rate_limited);

/// Another process sees a knowledge edit at its next answer (the stored version differs), and
/// builds its own index once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_process_rebuilds_after_an_edit() {
    if !postgres_available().await {
        return;
    }
    let a = spawn_app(Db::Postgres).await;
    let b = spawn_second_node(&a).await;
    let ann = a.login(ANN).await;
    let mut v = greeted_visitor(&b).await;
    assert!(ask(&mut v, "b0", "What are your opening hours?").await.text.contains("Monday"));
    let built = b.backend.knowledge_index_builds();
    let answer = "Parking is free behind the shop.";
    add_qa_and_ask_twice(&a, &ann, &mut v, "Is there parking near the shop?", answer).await;
    assert_eq!(b.backend.knowledge_index_builds(), built + 1);
}
