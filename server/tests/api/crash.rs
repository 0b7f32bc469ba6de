//! Crash safety: the real server binary is killed with SIGKILL while a visitor is sending, and
//! started again on the same database. Every message the server acknowledged is still there,
//! exactly once; the client resumes from its last seen sequence number and resends what was not
//! acknowledged without creating duplicates.
use crate::helpers::*;
use domain::wire::{MessageDto, ServerFrame, VisitorSession};
use futures::{SinkExt, StreamExt};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use tokio::process::Child;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// Starts `handoff-server` on a free port with the demo seeded (as `scripts/serve.sh` does);
/// returns the process and its base URL.
async fn start_server(data_dir: &std::path::Path, database_url: Option<&str>) -> (Child, String) {
    let server = crate::process::start_server(
        data_dir,
        database_url,
        &[
            ("HANDOFF_SEED_DEMO", "true"),
            ("HANDOFF_DEMO_PASSWORD", PASSWORD),
            ("HANDOFF_AI_TYPING_DELAY_MS", "0"),
            ("HANDOFF_AI_REPLIES_PER_MINUTE", "0"),
            ("HANDOFF_VISITOR_MESSAGES_PER_MINUTE", "0"),
        ],
    )
    .await;
    (server.child, server.base)
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn visitor_socket(base: &str, token: &str, last_seq: i64) -> Ws {
    let mut req = format!("{}/ws/visitor", base.replacen("http", "ws", 1)).into_client_request().unwrap();
    req.headers_mut().insert("origin", base.parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.expect("visitor socket");
    let hello = json!({"type": "hello", "token": token, "last_seq": last_seq});
    ws.send(Message::Text(hello.to_string().into())).await.unwrap();
    ws
}

/// What the client has seen: stored messages by seq, and acknowledged client ids.
#[derive(Default)]
struct Seen {
    messages: BTreeMap<i64, MessageDto>,
    acked: BTreeMap<String, i64>,
}

impl Seen {
    fn take(&mut self, frame: ServerFrame) {
        match frame {
            ServerFrame::Message { message } => {
                if let Some(old) = self.messages.insert(message.seq, message.clone()) {
                    assert_eq!(old, message, "a seq was delivered twice with different content");
                }
            }
            ServerFrame::Ack { client_msg_id, seq } => {
                if let Some(old) = self.acked.insert(client_msg_id, seq) {
                    assert_eq!(old, seq, "an id was acknowledged with two sequence numbers");
                }
            }
            _ => {}
        }
    }

    fn last_seq(&self) -> i64 {
        self.messages.keys().next_back().copied().unwrap_or(0)
    }
}

async fn crash_and_restart(db: Db) {
    let (data_dir, database_url) = crate::process::fresh_storage(db, "crash").await;
    let db_is_postgres = matches!(db, Db::Postgres);
    let (mut server, base) = start_server(&data_dir, database_url.as_deref()).await;
    let http = reqwest::Client::new();
    let res = http.post(format!("{base}/api/widget/session")).form(&[("widget_id", "demo")]).send().await.unwrap();
    let session: VisitorSession = serde_json::from_str(&res.text().await.unwrap()).unwrap();
    let mut ws = visitor_socket(&base, &session.token, 0).await;
    let mut seen = Seen::default();

    // Send in bursts without waiting for acks; kill the server once some are acknowledged, so
    // that others are in flight (sent, maybe stored, not acknowledged).
    const TOTAL: usize = 200;
    let ids: Vec<String> = (0..TOTAL).map(|i| format!("m{i:03}")).collect();
    let mut sent = 0;
    while seen.acked.len() < 20 {
        for _ in 0..5 {
            if sent < TOTAL {
                let frame = json!({"type": "send", "client_msg_id": ids[sent], "text": format!("message {sent}")});
                ws.send(Message::Text(frame.to_string().into())).await.unwrap();
                sent += 1;
            }
        }
        while let Ok(Some(Ok(m))) = tokio::time::timeout(Duration::from_millis(2), ws.next()).await {
            if let Message::Text(t) = m {
                seen.take(serde_json::from_str(&t).unwrap());
            }
        }
    }
    // A last burst right before the kill, not waited for: with group commit the server may have
    // answered every earlier burst already, and the crash must come with messages in flight.
    for _ in 0..10 {
        if sent == TOTAL {
            break;
        }
        let frame = json!({"type": "send", "client_msg_id": ids[sent], "text": format!("message {sent}")});
        ws.send(Message::Text(frame.to_string().into())).await.unwrap();
        sent += 1;
    }
    server.start_kill().unwrap(); // SIGKILL
    server.wait().await.unwrap();
    while let Ok(Some(Ok(Message::Text(t)))) = tokio::time::timeout(Duration::from_millis(200), ws.next()).await {
        seen.take(serde_json::from_str(&t).unwrap());
    }
    let acked_before = seen.acked.clone();
    eprintln!("killed after sending {sent}, {} acknowledged", acked_before.len());
    assert!(!acked_before.is_empty(), "some messages were acknowledged before the crash");
    assert!(sent > acked_before.len(), "the crash came mid-stream");

    // Restart on the same database; the client reconnects from its last seen seq and resends
    // everything it has no ack for, then sends the rest.
    let (_server, base) = start_server(&data_dir, database_url.as_deref()).await;
    let mut ws = visitor_socket(&base, &session.token, seen.last_seq()).await;
    for id in ids.iter().filter(|id| !seen.acked.contains_key(*id)) {
        let n: usize = id[1..].parse().unwrap();
        let frame = json!({"type": "send", "client_msg_id": id, "text": format!("message {n}")});
        ws.send(Message::Text(frame.to_string().into())).await.unwrap();
    }
    // Resending acknowledged ones too changes nothing.
    for id in acked_before.keys().take(3) {
        let n: usize = id[1..].parse().unwrap();
        let frame = json!({"type": "send", "client_msg_id": id, "text": format!("message {n}")});
        ws.send(Message::Text(frame.to_string().into())).await.unwrap();
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while seen.acked.len() < TOTAL {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => seen.take(serde_json::from_str(&t).unwrap()),
            Ok(Some(Ok(_))) => {}
            other => panic!("socket ended or timed out with {} of {TOTAL} acked: {other:?}", seen.acked.len()),
        }
    }
    for (id, seq) in &acked_before {
        assert_eq!(seen.acked[id], *seq, "{id} kept the sequence number acknowledged before the crash");
    }

    // The database holds each message once, gap-free.
    let stored: Vec<MessageDto> = {
        // Read through a fresh socket: what a reconnecting client gets.
        let mut ws = visitor_socket(&base, &session.token, 0).await;
        let mut all = Seen::default();
        while all.messages.len() < seen.messages.len().max(TOTAL + 1) {
            match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
                Ok(Some(Ok(Message::Text(t)))) => all.take(serde_json::from_str(&t).unwrap()),
                Ok(Some(Ok(_))) => {}
                _ => break,
            }
        }
        while let Ok(Some(Ok(Message::Text(t)))) = tokio::time::timeout(Duration::from_millis(300), ws.next()).await {
            all.take(serde_json::from_str(&t).unwrap());
        }
        all.messages.into_values().collect()
    };
    assert_gap_free(&stored);
    let visitor_ids: Vec<&str> = stored.iter().filter_map(|m| m.client_msg_id.as_deref()).collect();
    let unique: BTreeSet<&str> = visitor_ids.iter().copied().collect();
    assert_eq!(visitor_ids.len(), unique.len(), "no message stored twice");
    assert_eq!(unique.len(), TOTAL, "every message stored");
    let _ = std::fs::remove_dir_all(&data_dir);
    if db_is_postgres {
        let admin = sqlx::AnyPool::connect(&pg_base_url()).await.unwrap();
        let schema = format!("crash_{}", std::process::id());
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE"))).execute(&admin).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_traffic_loses_and_duplicates_nothing_sqlite() {
    crash_and_restart(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_traffic_loses_and_duplicates_nothing_postgres() {
    if postgres_available().await {
        crash_and_restart(Db::Postgres).await;
    }
}

/// SIGTERM: open WebSockets are closed with code 1012 ("server restarting; reconnect"), new
/// connections are refused, and the process exits cleanly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_closes_sockets_with_a_reconnect_hint() {
    let data_dir = std::env::temp_dir().join(format!("handoff_sigterm_{}", std::process::id()));
    std::fs::create_dir_all(&data_dir).unwrap();
    let (mut server, base) = start_server(&data_dir, None).await;
    let http = reqwest::Client::new();
    let res = http.post(format!("{base}/api/widget/session")).form(&[("widget_id", "demo")]).send().await.unwrap();
    let session: VisitorSession = serde_json::from_str(&res.text().await.unwrap()).unwrap();
    let mut ws = visitor_socket(&base, &session.token, 0).await;
    let welcome = tokio::time::timeout(Duration::from_secs(5), ws.next()).await.unwrap().unwrap().unwrap();
    assert!(welcome.to_text().unwrap().contains("welcome"), "{welcome:?}");

    let pid = server.id().unwrap().to_string();
    let status = std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(status.success());
    let close = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(frame))) => return frame,
                Some(Ok(_)) => continue,
                other => panic!("socket ended without a close frame: {other:?}"),
            }
        }
    })
    .await
    .expect("closed within 5 s")
    .expect("a close frame with a code");
    assert_eq!(u16::from(close.code), 1012);
    assert!(close.reason.contains("reconnect"), "{}", close.reason);
    let exit = tokio::time::timeout(Duration::from_secs(10), server.wait()).await.expect("exits").unwrap();
    assert!(exit.success(), "clean exit: {exit:?}");
    assert!(http.get(format!("{base}/healthz")).send().await.is_err(), "no longer accepting");
    let _ = std::fs::remove_dir_all(&data_dir);
}
