//! Faults: the database going away under a running server, and coming back.
use crate::helpers::*;
use domain::wire::ServerFrame;
use serde_json::json;
use std::time::Duration;

/// While PostgreSQL cannot serve the server's tables (its schema is renamed away and every
/// connection of the server is killed), requests get a clear error (HTTP 500 `internal`, a
/// WebSocket error frame), nothing crashes and no socket is dropped; once the database is back,
/// the same server serves again without a restart and the visitor's resent message is stored
/// once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_gives_clear_errors_and_heals() {
    if !postgres_available().await {
        return;
    }
    let app_name = format!("outage_{}", std::process::id());
    let tag = app_name.clone();
    let app = spawn_app_with(Db::Postgres, move |c| {
        let url = c.database_url.take().unwrap();
        c.database_url = Some(format!("{url}&application_name={tag}"));
    })
    .await;
    let url = app.database_url.clone().unwrap();
    let schema = url.rsplit("search_path%3D").next().unwrap().split('&').next().unwrap().to_string();
    let ann = app.login(ANN).await;
    let mut v = app.visitor().await;
    v.message(|_| true).await;

    sqlx::any::install_default_drivers();
    let admin = sqlx::AnyPool::connect(&pg_base_url()).await.unwrap();
    let exec = |sql: String| {
        let admin = admin.clone();
        async move { sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&admin).await.unwrap() }
    };
    exec(format!("ALTER SCHEMA {schema} RENAME TO {schema}_away")).await;
    exec(format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{app_name}'")).await;

    let list = app.call_json("conversations/list", &ann, json!({})).await;
    assert_eq!(list.status, 500, "{:?}", list);
    assert_eq!(list.body["kind"], "internal", "a clear, detail-free error: {}", list.body);
    assert!(!list.body.to_string().contains(&schema), "{}", list.body);
    v.send("during", "are you there?").await;
    let (code, _) = v.error().await;
    assert_eq!(code, "internal");

    exec(format!("ALTER SCHEMA {schema}_away RENAME TO {schema}")).await;
    let mut healed = false;
    for _ in 0..50 {
        if app.call_json("conversations/list", &ann, json!({})).await.status == 200 {
            healed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(healed, "the server serves again once the database is back");
    // The same socket still works; the resent message is stored once.
    v.send("during", "are you there?").await;
    assert_eq!(v.ack("during").await, 2);
    v.send("during", "are you there?").await;
    assert_eq!(v.ack("during").await, 2);
    let stored = app.stored(&v.conversation_id()).await;
    assert_eq!(stored.iter().filter(|m| m.client_msg_id.as_deref() == Some("during")).count(), 1);
    // And a new dashboard connection gets live frames again.
    let mut bob = app.agent(BOB).await;
    let mut w = app.visitor().await;
    w.socket.send_json(json!({"type": "request_human"})).await;
    let conv = w.conversation_id();
    bob.socket
        .until(|f| match f {
            f if list_rows(f).iter().any(|s| s.id == conv) => Some(()),
            _ => None,
        })
        .await;
}

/// Random garbage on both kinds of socket (bytes, text, JSON with the right tags and wrong
/// fields): every frame gets an error frame or is ignored, the connection stays usable, nothing
/// is stored, and the server keeps serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_frames_never_break_a_connection() {
    use rand::{Rng, SeedableRng};
    use tokio_tungstenite::tungstenite::Message;
    let app = spawn_app(Db::Sqlite).await;
    let mut v = app.visitor().await;
    v.message(|_| true).await; // greeting
    let ann = app.login(ANN).await;
    let mut agent = Socket::connect(&app, "/ws/agent", Some(&ann)).await;
    let seed: u64 = rand::random();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    // ("request_human" is left out: with any extra fields it is a valid request.)
    let tags = ["hello", "send", "ping", "watch", "unwatch", "", "SEND", "request_humans"];
    let keys = ["token", "text", "client_msg_id", "last_seq", "conversation_id", "type", "x"];
    let values =
        [json!(null), json!(-1), json!(i64::MAX), json!(""), json!("é\u{0}"), json!([1]), json!({"a": 1}), json!(1.5)];
    for socket in [&mut v.socket, &mut agent] {
        for _ in 0..300 {
            let frame = match rng.gen_range(0..3) {
                0 => Message::Binary((0..rng.gen_range(0..64)).map(|_| rng.gen()).collect::<Vec<u8>>().into()),
                1 => Message::Text((0..rng.gen_range(0..64)).map(|_| rng.gen::<char>()).collect::<String>().into()),
                _ => {
                    let mut o = serde_json::Map::new();
                    o.insert("type".into(), json!(tags[rng.gen_range(0..tags.len())]));
                    for _ in 0..rng.gen_range(0..3) {
                        o.insert(
                            keys[rng.gen_range(0..keys.len())].into(),
                            values[rng.gen_range(0..values.len())].clone(),
                        );
                    }
                    // Never a valid "send" with an id and text: garbage only.
                    o.remove("text");
                    Message::Text(serde_json::Value::Object(o).to_string().into())
                }
            };
            socket.send_raw(frame).await;
        }
        socket.send_json(json!({"type": "ping"})).await;
        socket.until(|f| matches!(f, ServerFrame::Pong).then_some(())).await;
    }
    assert_eq!(app.stored(&v.conversation_id()).await.len(), 1, "seed {seed}: nothing stored");
    v.send("after", "still here").await;
    assert_eq!(v.ack("after").await, 2, "seed {seed}");
    assert_eq!(app.call_json("conversations/list", &ann, json!({})).await.status, 200);

    // Size limits: a frame over 16 KiB ends that connection (the message is not stored); a
    // request body over 64 KiB is refused with 413.
    let text = "x".repeat(20 * 1024);
    v.socket.send_json(json!({"type": "send", "client_msg_id": "huge", "text": text})).await;
    assert!(v.socket.closes_within(Duration::from_secs(5)).await, "an oversized frame ends the connection");
    assert!(!app.stored(&v.conversation_id()).await.iter().any(|m| m.client_msg_id.as_deref() == Some("huge")));
    let big = app
        .http
        .post(format!("{}/api/chat/send", app.base))
        .header("cookie", &ann)
        .form(&[("id", "x"), ("client_msg_id", "big"), ("text", &"y".repeat(100 * 1024))])
        .send()
        .await
        .unwrap();
    assert_eq!(big.status(), 413);
}
