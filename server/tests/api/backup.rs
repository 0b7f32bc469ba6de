//! `handoff-server backup` and `restore` (SQLite), with the real binary: an online backup taken
//! during traffic restores to a database holding every acknowledged message; bad input is a
//! clear error and changes nothing.
use crate::helpers::*;
use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Runs `handoff-server <args>` on `data_dir` (SQLite); returns whether it succeeded and what
/// it printed (standard output and error together).
pub async fn cli(data_dir: &Path, args: &[&str], extra: &[(&str, &str)]) -> (bool, String) {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_handoff-server"));
    cmd.args(args)
        .env("HANDOFF_DATA_DIR", data_dir)
        .env("RUST_LOG", "warn")
        .env_remove("DATABASE_URL")
        .env_remove("HANDOFF_CONFIG")
        .env_remove("HANDOFF_SEED_DEMO");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let out = tokio::time::timeout(Duration::from_secs(60), cmd.output()).await.expect("command finished").unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// Every (conversation, seq, text) stored in the SQLite file at `path`.
async fn stored_in(path: &Path) -> HashSet<(String, i64, String)> {
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=ro", path.display())).await.unwrap();
    let rows: Vec<(String, i64, String)> =
        sqlx::query_as("SELECT conversation_id, seq, body FROM messages").fetch_all(&mut conn).await.unwrap();
    rows.into_iter().collect()
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("handoff_{name}_{}_{}", std::process::id(), backend::new_id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Four visitors write without pause while the backup runs in another process; every message
/// acknowledged before the backup started is in it (same conversation, seq and text), and the
/// restored database serves: the real server starts on it, ready, and a visitor of the backup
/// continues their chat with the next seq.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_during_traffic_restores_every_acknowledged_message() {
    // No per-minute cap on the visitors' messages: they write as fast as they are answered.
    let app = Arc::new(spawn_app_with(Db::Sqlite, |c| c.visitor_messages_per_minute = 0).await);
    let acked: Arc<Mutex<Vec<(String, i64, String)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    let mut tokens = Vec::new();
    for w in 0..4 {
        let mut v = app.visitor().await;
        tokens.push((v.session.token.clone(), v.conversation_id()));
        let (acked, stop) = (acked.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let (id, text) = (format!("w{w}-{n}"), format!("message {n} of writer {w}"));
                v.send(&id, &text).await;
                let seq = v.ack(&id).await;
                acked.lock().unwrap().push((v.conversation_id(), seq, text));
                n += 1;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    let before: Vec<_> = acked.lock().unwrap().clone();
    let dir = scratch("backup");
    let file = dir.join("handoff-backup.sqlite3");
    let (ok, said) = cli(&app.data_dir, &["backup", file.to_str().unwrap()], &[]).await;
    assert!(ok, "{said}");
    assert!(said.contains("backup written to"), "{said}");
    assert!(said.contains("keep the server's key"), "{said}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    let during = acked.lock().unwrap().len() - before.len();
    assert!(
        before.len() >= 20 && during >= 10,
        "traffic ran before ({}) and during ({during}) the backup",
        before.len()
    );

    let in_backup = stored_in(&file).await;
    for m in &before {
        assert!(in_backup.contains(m), "acknowledged before the backup but missing from it: {m:?}");
    }

    // Restore into a new data directory and serve it with the real binary.
    let restored = scratch("restored");
    let (ok, said) = cli(&restored, &["restore", file.to_str().unwrap()], &[]).await;
    assert!(ok, "{said}");
    assert!(said.contains("restored") && said.contains("messages"), "{said}");
    let key = backend::secrets::key_file(&backend::Config { data_dir: app.data_dir.clone(), ..Default::default() });
    let env = [("HANDOFF_SECRET_KEY_FILE", key.to_str().unwrap()), ("HANDOFF_VISITOR_MESSAGES_PER_MINUTE", "0")];
    let server = crate::process::start_server(&restored, None, &env).await;
    let http = reqwest::Client::new();
    let ready = http.get(format!("{}/readyz", server.base)).send().await.unwrap();
    assert_eq!(ready.status(), 200, "{}", ready.text().await.unwrap());
    let (token, conversation) = &tokens[0];
    let mut socket = Socket::connect_at(&server.base, "/ws/visitor", None).await;
    socket.send_json(serde_json::json!({"type": "hello", "token": token, "last_seq": 0})).await;
    socket
        .send_json(serde_json::json!({"type": "send", "client_msg_id": "after-restore", "text": "still there?"}))
        .await;
    let seq = socket
        .until(|f| match f {
            domain::wire::ServerFrame::Ack { client_msg_id, seq } if client_msg_id == "after-restore" => Some(*seq),
            _ => None,
        })
        .await;
    let in_backup_last = in_backup.iter().filter(|(c, ..)| c == conversation).map(|(_, s, _)| *s).max();
    assert_eq!(Some(seq - 1), in_backup_last, "the chat goes on after the backup's last message");
}

/// An existing backup file is kept without `--force`; a restore onto a running server, of a file
/// that is not a Handoff database, or over an existing database without `--force` is refused;
/// nothing is changed by a refusal. On PostgreSQL the commands point to `pg_dump`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_and_restore_refuse_bad_input_and_change_nothing() {
    let app = spawn_app(Db::Sqlite).await;
    let mut v = app.visitor().await;
    v.send("one", "the first message").await;
    v.ack("one").await;
    let dir = scratch("backup_refusals");
    let file = dir.join("b.sqlite3");
    std::fs::write(&file, "an older file").unwrap();
    let (ok, said) = cli(&app.data_dir, &["backup", file.to_str().unwrap()], &[]).await;
    assert!(!ok && said.contains("exists; add --force to replace it"), "{said}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "an older file", "the existing file is kept");
    let (ok, said) = cli(&app.data_dir, &["backup", file.to_str().unwrap(), "--force"], &[]).await;
    assert!(ok, "{said}");
    assert!(stored_in(&file).await.iter().any(|(_, _, t)| t == "the first message"));
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "no partial file left behind");
    // Never over the live database or its WAL.
    for own in ["handoff.sqlite3", "handoff.sqlite3-wal"] {
        let (ok, said) =
            cli(&app.data_dir, &["backup", app.data_dir.join(own).to_str().unwrap(), "--force"], &[]).await;
        assert!(!ok && said.contains("is the server's own database"), "{said}");
    }

    // Onto the running server: refused, its database untouched.
    let live = app.data_dir.join("handoff.sqlite3");
    let before = std::fs::metadata(&live).unwrap().modified().unwrap();
    let (ok, said) = cli(&app.data_dir, &["restore", file.to_str().unwrap(), "--force"], &[]).await;
    assert!(!ok && said.contains("a server is running on"), "{said}");
    assert_eq!(std::fs::metadata(&live).unwrap().modified().unwrap(), before);
    v.send("two", "after the refused restore").await;
    assert!(v.ack("two").await > 2, "the server goes on serving");

    // Not a database, a missing file, over an existing database without --force.
    let fresh = scratch("restore_refusals");
    let junk = dir.join("junk.sqlite3");
    std::fs::write(&junk, "SQLite format 3? no").unwrap();
    let (ok, said) = cli(&fresh, &["restore", junk.to_str().unwrap()], &[]).await;
    assert!(!ok && said.contains("is not a Handoff database backup"), "{said}");
    let (ok, said) = cli(&fresh, &["restore", dir.join("missing").to_str().unwrap()], &[]).await;
    assert!(!ok && said.contains("there is no backup file at"), "{said}");
    assert!(!fresh.join("handoff.sqlite3").exists(), "nothing restored");
    let (ok, said) = cli(&fresh, &["restore", file.to_str().unwrap()], &[]).await;
    assert!(ok, "{said}");
    let (ok, said) = cli(&fresh, &["restore", file.to_str().unwrap()], &[]).await;
    assert!(!ok && said.contains("already has a database; add --force"), "{said}");
    let (ok, said) = cli(&fresh, &["restore", file.to_str().unwrap(), "--force"], &[]).await;
    assert!(ok && said.contains("is kept as"), "{said}");
    let kept: Vec<_> = std::fs::read_dir(&fresh)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("handoff.sqlite3.before-restore-"))
        .collect();
    assert_eq!(kept.len(), 1, "the replaced database is kept beside");

    // Usage errors and PostgreSQL.
    let (ok, said) = cli(&fresh, &["backup"], &[]).await;
    assert!(!ok && said.contains("usage"), "{said}");
    let (ok, said) = cli(&fresh, &["backup", "x", "--forcee"], &[]).await;
    assert!(!ok && said.contains("unknown option `--forcee`"), "{said}");
    let pg = [("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")];
    let (ok, said) = cli(&fresh, &["backup", dir.join("pg").to_str().unwrap()], &pg).await;
    assert!(!ok && said.contains("pg_dump"), "{said}");
}
