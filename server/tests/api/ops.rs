//! Operators' endpoints: `/readyz` following the database, `/metrics` guarded and moving with
//! load, on the main address or a listener of its own.
use crate::helpers::*;
use crate::on_both_databases;
use domain::handoff::HandoffState;
use domain::wire::ServerFrame;
use serde_json::{json, Value};
use std::time::Duration;

const TOKEN: &str = "metrics-token-for-the-tests";

async fn readyz(app: &TestApp) -> (u16, Value) {
    let res = app.http.get(format!("{}/readyz", app.base)).send().await.unwrap();
    let status = res.status().as_u16();
    assert_eq!(res.headers()["cache-control"], "no-store");
    (status, serde_json::from_str(&res.text().await.unwrap()).unwrap())
}

/// Polls `/readyz` until it answers `status` (10 s at most); returns the last answer.
async fn readyz_until(app: &TestApp, status: u16) -> Value {
    let mut last = Value::Null;
    for _ in 0..100 {
        let (got, body) = readyz(app).await;
        if got == status {
            return body;
        }
        last = body;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("/readyz never answered {status}; last: {last}");
}

/// Ready with every check named; unready while the database is gone (SQLite: its file moved
/// away under the running server; PostgreSQL: its schema renamed and every connection killed),
/// with a fixed sentence and no database detail; ready again once it is back, without a restart.
async fn readiness_follows_the_database(db: Db) {
    let tag = format!("readyz_{}_{:?}", std::process::id(), db);
    let app_name = tag.clone();
    let app = spawn_app_with(db, move |c| {
        if let Some(url) = c.database_url.take() {
            c.database_url = Some(format!("{url}&application_name={app_name}"));
        }
        c.metrics_token = TOKEN.into();
    })
    .await;
    let (status, body) = readyz(&app).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ready"], true);
    assert_eq!(body["checks"]["database"], "ok");
    assert_eq!(body["checks"]["migrations"], "ok");
    assert_eq!(body["checks"]["process"], "ok");
    match db {
        // The relay between processes hears its own ping.
        Db::Postgres => assert_eq!(body["checks"]["relay"], "ok", "{body}"),
        Db::Sqlite => assert!(body["checks"].get("relay").is_none(), "{body}"),
    }

    let file = app.data_dir.join("handoff.sqlite3");
    let schema = app
        .database_url
        .as_ref()
        .map(|url| url.rsplit("search_path%3D").next().unwrap().split('&').next().unwrap().to_string());
    sqlx::any::install_default_drivers();
    let admin = match db {
        Db::Postgres => Some(sqlx::AnyPool::connect(&pg_base_url()).await.unwrap()),
        Db::Sqlite => None,
    };
    let exec = |sql: String| {
        let admin = admin.clone().unwrap();
        async move { sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&admin).await.unwrap() }
    };
    match db {
        Db::Sqlite => std::fs::rename(&file, file.with_extension("away")).unwrap(),
        Db::Postgres => {
            let schema = schema.as_ref().unwrap();
            exec(format!("ALTER SCHEMA {schema} RENAME TO {schema}_away")).await;
            exec(format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{tag}'"))
                .await;
        }
    }
    let body = readyz_until(&app, 503).await;
    assert_eq!(body["ready"], false);
    match db {
        Db::Sqlite => assert_eq!(body["checks"]["database"], "the database file is missing or was replaced"),
        Db::Postgres => {
            assert_eq!(body["checks"]["migrations"], "cannot read the applied migrations", "{body}");
            assert!(!body.to_string().contains(schema.as_deref().unwrap()), "no database detail: {body}");
            // The process's own figures are still scraped; the installation's say they are stale.
            let text = scrape(&app, &app.base).await;
            assert_eq!(value(&text, "handoff_installation_gauges_up"), 0.0, "{text}");
            assert!(text.contains("handoff_open_sockets"), "{text}");
        }
    }

    match db {
        Db::Sqlite => std::fs::rename(file.with_extension("away"), &file).unwrap(),
        Db::Postgres => {
            let schema = schema.as_ref().unwrap();
            exec(format!("ALTER SCHEMA {schema}_away RENAME TO {schema}")).await;
        }
    }
    let body = readyz_until(&app, 200).await;
    assert_eq!(body["ready"], true, "{body}");
    assert_eq!(value(&scrape(&app, &app.base).await, "handoff_installation_gauges_up"), 1.0);
    // And it serves again.
    let mut v = app.visitor().await;
    v.send("back", "hello again").await;
    assert_eq!(v.ack("back").await, 2);
}
on_both_databases!(readiness_follows_the_database);

/// A stopping process is not ready: the load balancer sends no new clients to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_process_is_not_ready() {
    let app = spawn_app(Db::Sqlite).await;
    readyz_until(&app, 200).await;
    app.backend.begin_shutdown();
    let body = readyz_until(&app, 503).await;
    assert_eq!(body["checks"]["process"], "shutting down");
}

/// `/metrics` value of one series (`name` or `name{labels}`), 0 when absent.
fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
        .map(|v| v.trim().parse().unwrap())
        .unwrap_or(0.0)
}

async fn scrape(app: &TestApp, base: &str) -> String {
    let res = app.http.get(format!("{base}/metrics")).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
    res.text().await.unwrap()
}

/// Without a token nothing is served; with one, a request without it or with a wrong one gets
/// 401; the figures move with a chat: sockets, messages by author, the waiting request and its
/// age, the time to handle it, the AI's answer time, the database's write waits.
async fn metrics_are_guarded_and_move_with_load(db: Db) {
    let off = spawn_app(db).await;
    let res = off.http.get(format!("{}/metrics", off.base)).send().await.unwrap();
    assert_eq!(res.status(), 404, "metrics are off by default");

    let app = spawn_app_with(db, |c| c.metrics_token = TOKEN.into()).await;
    let url = format!("{}/metrics", app.base);
    let res = app.http.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers()["www-authenticate"], "Bearer realm=\"metrics\"");
    let res = app.http.get(&url).bearer_auth("metrics-token-for-the-test").send().await.unwrap();
    assert_eq!(res.status(), 401);
    let res = app.http.get(&url).basic_auth(TOKEN, None::<&str>).send().await.unwrap();
    assert_eq!(res.status(), 401);

    let before = scrape(&app, &app.base).await;
    assert_eq!(value(&before, "handoff_open_sockets{side=\"visitor\"}"), 0.0);
    assert_eq!(value(&before, "handoff_requests_waiting"), 0.0);

    let ann = app.agent(ANN).await;
    let mut v = app.visitor().await;
    let conv = v.conversation_id();
    v.message(|_| true).await; // the greeting
    for i in 0..3 {
        let id = format!("m{i}");
        v.send(&id, "What are your opening hours?").await;
        v.ack(&id).await;
        v.message(|m| m.author == domain::wire::Author::Ai).await;
    }
    v.socket.send_json(json!({"type": "request_human"})).await;
    v.socket.until(|f| matches!(f, ServerFrame::State { state: HandoffState::Requested, .. }).then_some(())).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let waiting = scrape(&app, &app.base).await;
    assert_eq!(value(&waiting, "handoff_open_sockets{side=\"visitor\"}"), 1.0, "{waiting}");
    assert_eq!(value(&waiting, "handoff_open_sockets{side=\"agent\"}"), 1.0, "{waiting}");
    assert_eq!(value(&waiting, "handoff_messages_total{author=\"visitor\"}"), 3.0, "{waiting}");
    assert!(value(&waiting, "handoff_messages_total{author=\"ai\"}") >= 3.0, "the answers: {waiting}");
    assert!(value(&waiting, "handoff_ai_reply_seconds_count") >= 3.0, "{waiting}");
    assert_eq!(value(&waiting, "handoff_requests_waiting"), 1.0, "{waiting}");
    assert!(value(&waiting, "handoff_oldest_request_age_seconds") >= 1.0, "{waiting}");
    assert!(
        value(&waiting, "handoff_db_write_wait_seconds_count") > value(&before, "handoff_db_write_wait_seconds_count")
    );
    assert_eq!(value(&waiting, "handoff_time_to_handle_seconds_count"), 0.0);

    ann.act(&app, "handoff/handle", &conv).await.ok();
    drop(v);
    let mut handled = String::new();
    for _ in 0..50 {
        handled = scrape(&app, &app.base).await;
        if value(&handled, "handoff_open_sockets{side=\"visitor\"}") == 0.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(value(&handled, "handoff_open_sockets{side=\"visitor\"}"), 0.0, "a closed socket is not counted");
    assert_eq!(value(&handled, "handoff_requests_waiting"), 0.0, "{handled}");
    assert_eq!(value(&handled, "handoff_oldest_request_age_seconds"), 0.0, "{handled}");
    assert_eq!(value(&handled, "handoff_time_to_handle_seconds_count"), 1.0, "{handled}");
    assert!(value(&handled, "handoff_time_to_handle_seconds_sum") >= 1.0, "{handled}");
    assert!(value(&handled, "handoff_messages_total{author=\"system\"}") >= 2.0, "request and joined notices");
}
on_both_databases!(metrics_are_guarded_and_move_with_load);

/// With `metrics_addr`, `/metrics` is served on its own listener (with the token when one is set)
/// and not on the main address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_on_a_listener_of_their_own() {
    let app = spawn_app_with(Db::Sqlite, |c| {
        c.metrics_addr = "127.0.0.1:0".into();
        c.metrics_token = TOKEN.into();
    })
    .await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ops = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(handoff_server::ops::serve_ops(listener, app.backend.clone()));

    let main = app.http.get(format!("{}/metrics", app.base)).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(main.status(), 404, "not on the main address");
    let res = app.http.get(format!("{ops}/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 401, "the token holds there too");
    assert!(scrape(&app, &ops).await.contains("# TYPE handoff_messages counter"));
    let ready = app.http.get(format!("{ops}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let health = app.http.get(format!("{ops}/healthz")).send().await.unwrap();
    assert_eq!(health.text().await.unwrap(), "ok");
}

/// JSON logs (the real binary, our crates at debug level): every line of the log an object; a
/// request's id — a proxy's, or a fresh one for a malformed one — answered back and carried by
/// the lines of its WebSocket and of the AI reply that socket started; and nowhere in the log
/// the password, the session cookie, the visitor's token or what the visitor wrote (the banner
/// printed before the log shows the demo's login on purpose: it is the serve command's).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_carry_request_ids_and_nothing_secret() {
    let (dir, _) = crate::process::fresh_storage(Db::Sqlite, "json_logs").await;
    let password = "never-logged-pass-7781";
    let server = crate::process::start_server(
        &dir,
        None,
        &[
            ("HANDOFF_LOG_FORMAT", "json"),
            ("RUST_LOG", "info,handoff_backend=debug,handoff_server=debug"),
            ("HANDOFF_SEED_DEMO", "true"),
            ("HANDOFF_DEMO_PASSWORD", password),
            ("HANDOFF_AI_TYPING_DELAY_MS", "0"),
        ],
    )
    .await;
    let base = server.base.clone();
    let http = reqwest::Client::new();
    let res = http.get(format!("{base}/healthz")).header("x-request-id", "probe-42").send().await.unwrap();
    assert_eq!(res.headers()["x-request-id"], "probe-42");
    let res = http.get(format!("{base}/healthz")).header("x-request-id", "bad id {}").send().await.unwrap();
    let fresh = res.headers()["x-request-id"].to_str().unwrap();
    assert!(fresh.len() == 32 && fresh.bytes().all(|b| b.is_ascii_hexdigit()), "a fresh id: {fresh}");

    let cookie = crate::process::sign_in_at(&base, ANN, password).await.expect("signs in");
    let session = crate::process::widget_session_at(&base).await;
    let token = session["token"].as_str().unwrap().to_string();
    let mut socket = Socket::connect_with(&base, "/ws/visitor", &[("x-request-id", "visitor-socket-1")]).await;
    socket.send_json(json!({"type": "hello", "token": token, "last_seq": 0})).await;
    let secret_question = "What are your opening hours, asks Zebulon-5521?";
    socket.send_json(json!({"type": "send", "client_msg_id": "c1", "text": secret_question})).await;
    socket
        .until(|f| match f {
            ServerFrame::Message { message } if message.author == domain::wire::Author::Ai && message.seq > 2 => {
                Some(())
            }
            _ => None,
        })
        .await;

    let printed = server.printed().await;
    let mut of_socket = Vec::new();
    for line in printed.lines().filter(|l| l.starts_with('{')) {
        let entry: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        let ids: Vec<&str> = entry["spans"]
            .as_array()
            .map(|spans| spans.iter().filter_map(|s| s["request_id"].as_str()).collect())
            .unwrap_or_default();
        if ids.contains(&"visitor-socket-1") {
            of_socket.push(entry["fields"]["message"].as_str().unwrap_or_default().to_string());
        }
    }
    assert!(of_socket.iter().any(|m| m == "visitor socket open"), "{of_socket:?}\n{printed}");
    assert!(of_socket.iter().any(|m| m == "AI answered"), "the reply the socket started: {of_socket:?}\n{printed}");
    // The log is the JSON lines; the banner before them prints the demo's login on purpose.
    let log: Vec<&str> = printed.lines().filter(|l| l.starts_with('{')).collect();
    let session_token = cookie.split_once('=').unwrap().1;
    for secret in [password, session_token, token.as_str(), "Zebulon-5521"] {
        assert!(!log.iter().any(|l| l.contains(secret)), "`{secret}` is in the log:\n{printed}");
    }
}
