//! Issue 20, secrets at rest: the LLM API key and the VAPID private key are stored encrypted with
//! the server's key (`HANDOFF_SECRET_KEY` or the key file beside the data dir); plain values left
//! by an older version are encrypted at the next start.
use crate::ai::{demo_agent, update_demo_agent};
use crate::helpers::*;
use crate::on_both_databases;
use serde_json::json;

async fn stored_api_key(app: &TestApp) -> String {
    let (key,): (Option<String>,) = sqlx::query_as("SELECT llm_api_key FROM agents WHERE id = 'demo-agent'")
        .fetch_one(&app.backend.db.pool)
        .await
        .unwrap();
    key.unwrap_or_default()
}

async fn secrets_are_encrypted_at_rest(db: Db) {
    let app = spawn_app(db).await;
    let ann = app.login(ANN).await;
    let secret = "sk-plaintext-probe-4711";
    update_demo_agent(&app, &ann, |u| u["api_key"] = json!({"set": secret})).await.ok();
    let stored = stored_api_key(&app).await;
    assert!(!stored.is_empty() && !stored.contains(secret), "the API key is stored as {stored:?}");

    // The VAPID private key: its plain form would be the 32 key bytes in base64 (43 characters).
    app.backend.vapid().await.expect("a VAPID key");
    let (vapid,): (String,) = sqlx::query_as("SELECT value FROM server_keys WHERE name = 'vapid'")
        .fetch_one(&app.backend.db.pool)
        .await
        .unwrap();
    assert!(backend::webpush::unb64(&vapid).is_none_or(|b| b.len() != 32), "the VAPID key is stored in plain text");

    // A plain key left by an older version is encrypted at the next start, and still works.
    let legacy = "sk-legacy-plain-0815";
    sqlx::query("UPDATE agents SET llm_api_key = $1 WHERE id = 'demo-agent'")
        .bind(legacy)
        .execute(&app.backend.db.pool)
        .await
        .unwrap();
    let restarted = spawn_node_sharing(&app, |_| {}).await;
    let stored = stored_api_key(&restarted).await;
    assert!(!stored.contains(legacy), "the legacy key is still stored in plain text: {stored:?}");
    let ann = restarted.login(ANN).await;
    assert_eq!(demo_agent(&restarted, &ann).await["api_key_set"], true);
}
on_both_databases!(secrets_are_encrypted_at_rest);

/// `handoff-server rotate-secret-key` (the command's function): every stored secret re-sealed
/// under a new key file, which replaces the old one; a restarted server opens them all.
async fn the_secret_key_can_be_rotated(db: Db) {
    let app = spawn_app(db).await;
    let ann = app.login(ANN).await;
    let secret = "sk-rotate-me-123";
    update_demo_agent(&app, &ann, |u| u["api_key"] = json!({"set": secret})).await.ok();
    app.backend.vapid().await.expect("a VAPID key");
    let old_key = std::fs::read_to_string(app.secret_key_file()).unwrap();
    let sealed_before = stored_api_key(&app).await;

    let report = backend::secrets::rotate(&app.storage_config()).await.expect("rotated");
    assert!(report.contains("re-sealed 2 secrets"), "{report}");
    assert_ne!(std::fs::read_to_string(app.secret_key_file()).unwrap(), old_key, "the key file is new");
    let sealed_after = stored_api_key(&app).await;
    assert_ne!(sealed_after, sealed_before);
    let new_box = backend::secrets::SecretBox::load(&app.storage_config()).unwrap();
    assert_eq!(new_box.open(backend::secrets::LLM_API_KEY, &sealed_after).unwrap(), secret);

    let restarted = spawn_node_sharing(&app, |_| {}).await;
    restarted.backend.vapid().await.expect("the VAPID key opens under the new key");
}
on_both_databases!(the_secret_key_can_be_rotated);
