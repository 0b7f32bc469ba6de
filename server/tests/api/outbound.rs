//! Issue 20, item 1: what a client user with the *settings* permission can make the server send,
//! and where. The AI backend's base URL may not point into the server's own network (loopback,
//! link-local and the metadata address, private ranges, …): refused with a field error when saved,
//! and never contacted when a visitor writes, even if such a URL got into the database. API keys
//! come only from environment variables the operator allows; a stored key does not follow the
//! agent to another host.
use crate::ai::{ask, demo_agent, greeted_visitor, update_demo_agent};
use crate::helpers::*;
use crate::on_both_databases;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::net::TcpListener;

/// A listener on 127.0.0.1 that counts the connections made to it and answers nothing.
struct Recorder {
    port: u16,
    connections: Arc<AtomicUsize>,
}

impl Recorder {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let seen = connections.clone();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                seen.fetch_add(1, Ordering::SeqCst);
                drop(sock);
            }
        });
        Self { port, connections }
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

/// Base URLs that reach the server's own machine or network, in the spellings that resolve there.
fn internal_urls(port: u16) -> Vec<String> {
    vec![
        format!("http://127.0.0.1:{port}/v1"),
        format!("http://localhost:{port}/v1"),
        format!("http://[::1]:{port}/v1"),
        format!("http://[::ffff:127.0.0.1]:{port}/v1"),
        format!("http://2130706433:{port}/v1"),
        format!("http://0.0.0.0:{port}/v1"),
        "http://169.254.169.254/latest/meta-data".into(),
        "http://10.1.2.3/v1".into(),
        "http://172.16.0.1/v1".into(),
        "http://192.168.1.10/v1".into(),
        "http://100.64.0.1/v1".into(),
        "http://[fd00::1]/v1".into(),
        "http://[fe80::1]/v1".into(),
        format!("http://0x7f.1:{port}/v1"),
    ]
}

/// Saving such a base URL is refused with a `base_url` field error and changes nothing.
async fn internal_base_urls_are_refused_when_saved(db: Db) {
    let app = spawn_app(db).await;
    let ann = app.login(ANN).await;
    let rec = Recorder::start().await;
    let before = demo_agent(&app, &ann).await;
    for url in internal_urls(rec.port) {
        let bad = update_demo_agent(&app, &ann, |u| {
            u["backend"] = json!("open_ai");
            u["llm"]["base_url"] = json!(url);
            u["llm"]["model"] = json!("m");
        })
        .await;
        assert_eq!(bad.status, 400, "{url} was accepted: {:?}", bad.body);
        assert_eq!((bad.body["kind"].as_str(), bad.body["field"].as_str()), (Some("field"), Some("base_url")), "{url}");
    }
    assert_eq!(demo_agent(&app, &ann).await, before, "a refused update changed the agent");
    assert_eq!(rec.connections(), 0, "the server connected while checking");
}
on_both_databases!(internal_base_urls_are_refused_when_saved);

/// A base URL into the internal network that is already stored (saved before the rule, or a name
/// that resolved elsewhere when it was saved) is never contacted: the visitor gets the fallback.
async fn internal_addresses_are_never_contacted_when_a_visitor_writes(db: Db) {
    let app = spawn_app(db).await;
    let rec = Recorder::start().await;
    let mut v = greeted_visitor(&app).await;
    for (i, url) in [format!("http://127.0.0.1:{}/v1", rec.port), format!("http://localhost:{}/v1", rec.port)]
        .into_iter()
        .enumerate()
    {
        sqlx::query(
            "UPDATE agents SET ai_backend = 'openai', llm_base_url = $1, llm_model = 'm', llm_api_key = NULL
             WHERE id = 'demo-agent'",
        )
        .bind(&url)
        .execute(&app.backend.db.pool)
        .await
        .unwrap();
        let answer = ask(&mut v, &format!("q{i}"), "What does shipping cost?").await;
        assert!(answer.text.contains("not sure"), "{url}: {}", answer.text);
    }
    assert_eq!(rec.connections(), 0, "the server connected to an internal address");
}
on_both_databases!(internal_addresses_are_never_contacted_when_a_visitor_writes);

/// Only the environment variables the operator allows (by default `HANDOFF_AI_KEY_*`) may be named
/// as the key's source: `DATABASE_URL` and friends are refused with a field error.
async fn key_variables_outside_the_allowlist_are_refused(db: Db) {
    let app = spawn_app(db).await;
    let ann = app.login(ANN).await;
    let before = demo_agent(&app, &ann).await;
    for name in ["DATABASE_URL", "HANDOFF_SMTP_URL", "HOME", "HANDOFF_SECRET_KEY"] {
        let bad = update_demo_agent(&app, &ann, |u| u["llm"]["api_key_env"] = json!(name)).await;
        assert_eq!(bad.status, 400, "{name} was accepted: {:?}", bad.body);
        assert_eq!(bad.body["field"], "api_key_env", "{name}");
    }
    assert_eq!(demo_agent(&app, &ann).await, before, "a refused update changed the agent");
    let ok = update_demo_agent(&app, &ann, |u| u["llm"]["api_key_env"] = json!("HANDOFF_AI_KEY_SUPPORT")).await.ok();
    assert_eq!(ok["llm"]["api_key_env"], "HANDOFF_AI_KEY_SUPPORT");
}
on_both_databases!(key_variables_outside_the_allowlist_are_refused);

/// A stored key is for the host it was given for: moving the base URL to another host clears it,
/// unless a new key comes with the change; another path on the same host keeps it.
async fn a_stored_key_is_cleared_when_the_host_changes(db: Db) {
    let app = spawn_app(db).await;
    let ann = app.login(ANN).await;
    let set = |url: &'static str, key: serde_json::Value| {
        move |u: &mut serde_json::Value| {
            u["backend"] = json!("open_ai");
            u["llm"]["base_url"] = json!(url);
            u["llm"]["model"] = json!("m");
            u["api_key"] = key;
        }
    };
    let a = update_demo_agent(&app, &ann, set("https://93.184.215.14/v1", json!({"set": "sk-for-a"}))).await.ok();
    assert_eq!(a["api_key_set"], true);
    let same_host = update_demo_agent(&app, &ann, set("https://93.184.215.14/v2", json!("keep"))).await.ok();
    assert_eq!(same_host["api_key_set"], true, "another path on the same host keeps the key");
    let moved = update_demo_agent(&app, &ann, set("https://93.184.215.15/v1", json!("keep"))).await.ok();
    assert_eq!(moved["api_key_set"], false, "the key followed the agent to another host");
    let (key,): (Option<String>,) = sqlx::query_as("SELECT llm_api_key FROM agents WHERE id = 'demo-agent'")
        .fetch_one(&app.backend.db.pool)
        .await
        .unwrap();
    assert!(key.unwrap_or_default().is_empty(), "the old key is still stored");
    let with_key =
        update_demo_agent(&app, &ann, set("https://93.184.215.16/v1", json!({"set": "sk-for-c"}))).await.ok();
    assert_eq!(with_key["api_key_set"], true, "a new key given with the move is kept");
}
on_both_databases!(a_stored_key_is_cleared_when_the_host_changes);
