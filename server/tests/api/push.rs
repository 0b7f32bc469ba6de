//! Browser push end to end: a dashboard subscribes, a handoff request is pushed — encrypted
//! (RFC 8291) and signed (VAPID, RFC 8292) — to a push service on 127.0.0.1 that decrypts it as
//! a browser would; expired subscriptions are removed, failing services are retried, and
//! endpoints outside the configured push services are refused.
use crate::helpers::*;
use crate::on_both_databases;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use backend::webpush::{decrypt, public_bytes, unb64};
use domain::handoff::HandoffState;
use domain::wire::ServerFrame;
use p256::ecdsa::signature::Verifier;
use p256::SecretKey;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Debug)]
struct Received {
    path: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

/// A push service: `/ok/*` accepts (201), `/gone/*` answers 410, `/flaky/*` fails (503) on its
/// first request and accepts afterwards.
#[derive(Clone, Default)]
struct PushService {
    received: Arc<Mutex<Vec<Received>>>,
}

async fn accept(
    State(service): State<PushService>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    let mut received = service.received.lock().unwrap();
    let earlier = received.iter().filter(|r| r.path == path).count();
    received.push(Received { path: path.clone(), headers, body: body.to_vec() });
    match path.split('/').next().unwrap_or("") {
        "ok" => StatusCode::CREATED,
        "gone" => StatusCode::GONE,
        "flaky" if earlier == 0 => StatusCode::SERVICE_UNAVAILABLE,
        "flaky" => StatusCode::CREATED,
        _ => StatusCode::NOT_FOUND,
    }
}

impl PushService {
    async fn start() -> (Self, String) {
        let service = Self::default();
        let app = axum::Router::new().route("/{*path}", axum::routing::post(accept)).with_state(service.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (service, base)
    }

    fn to(&self, path: &str) -> Vec<Received> {
        self.received.lock().unwrap().iter().filter(|r| r.path == path).cloned().collect()
    }

    async fn wait_for(&self, path: &str, count: usize) -> Vec<Received> {
        for _ in 0..400 {
            let got = self.to(path);
            if got.len() >= count {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("timed out waiting for {count} push(es) to /{path}; got {}", self.to(path).len());
    }
}

/// A browser's side of a subscription: its key pair and auth secret.
struct Browser {
    key: SecretKey,
    auth: [u8; 16],
    endpoint: String,
}

impl Browser {
    fn new(endpoint: String) -> Self {
        Self { key: SecretKey::random(&mut rand::rngs::OsRng), auth: rand::random(), endpoint }
    }

    fn subscription(&self) -> Value {
        json!({"subscription": {
            "endpoint": self.endpoint,
            "p256dh": backend::webpush::b64(&public_bytes(&self.key.public_key())),
            "auth": backend::webpush::b64(&self.auth),
        }})
    }

    /// Checks the push's headers and VAPID signature, and decrypts its payload.
    fn open(&self, push: &Received, server_key: &str, audience: &str) -> Value {
        let header = |name: &str| push.headers.get(name).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        assert_eq!(header("content-encoding"), "aes128gcm");
        assert_eq!(header("ttl"), "86400");
        let authorization = header("authorization");
        let (jwt, k) = authorization.strip_prefix("vapid t=").unwrap().split_once(", k=").unwrap();
        assert_eq!(k, server_key, "signed with the server's VAPID key");
        let parts: Vec<&str> = jwt.split('.').collect();
        let claims: Value = serde_json::from_slice(&unb64(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["aud"], audience);
        assert_eq!(claims["sub"], "mailto:handoff@localhost");
        let verifier = p256::ecdsa::VerifyingKey::from_sec1_bytes(&unb64(k).unwrap()).unwrap();
        let signature = p256::ecdsa::Signature::from_slice(&unb64(parts[2]).unwrap()).unwrap();
        verifier.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature).expect("valid VAPID signature");
        let plain = decrypt(&self.key, &self.auth, &push.body).expect("decrypts with the browser's keys");
        serde_json::from_slice(&plain).unwrap()
    }
}

async fn subscriptions(app: &TestApp, cookie: &str) -> i64 {
    app.call_json("push/info", cookie, json!({})).await.ok()["subscriptions"].as_i64().unwrap()
}

async fn push_reaches_subscribed_browsers(db: Db) {
    let (service, base) = PushService::start().await;
    let allowed = format!("{base}/");
    let app = spawn_app_with(db, move |c| {
        c.push_endpoints = vec![allowed];
        c.outbox_poll_ms = 40;
        c.outbox_retry_ms = 100;
    })
    .await;
    let (ann, bob) = (app.login(ANN).await, app.login(BOB).await);
    let info = app.call_json("push/info", &ann, json!({})).await.ok();
    let server_key = info["public_key"].as_str().unwrap().to_string();
    assert_eq!(unb64(&server_key).unwrap().len(), 65, "an uncompressed P-256 point");
    assert_eq!(info["subscriptions"], 0);
    assert_eq!(app.call_json("push/info", &bob, json!({})).await.ok()["public_key"], server_key, "one key per server");

    // Endpoints outside the configured push services, and malformed keys, are refused.
    let laptop = Browser::new(format!("{base}/ok/ann-laptop"));
    for (endpoint, p256dh, auth, field) in [
        ("https://evil.example/collect".to_string(), None, None, "endpoint"),
        ("http://169.254.169.254/latest".to_string(), None, None, "endpoint"),
        (laptop.endpoint.clone(), Some("bm90IGEga2V5"), None, "p256dh"),
        (laptop.endpoint.clone(), None, Some("c2hvcnQ"), "auth"),
    ] {
        let mut body = laptop.subscription();
        body["subscription"]["endpoint"] = json!(endpoint);
        if let Some(k) = p256dh {
            body["subscription"]["p256dh"] = json!(k);
        }
        if let Some(a) = auth {
            body["subscription"]["auth"] = json!(a);
        }
        let answer = app.call_json("push/subscribe", &ann, body).await;
        assert_eq!(answer.err(400)["field"], field, "{}", answer.body);
    }
    assert_eq!(subscriptions(&app, &ann).await, 0, "nothing stored");

    let old_phone = Browser::new(format!("{base}/gone/ann-phone"));
    let bob_desktop = Browser::new(format!("{base}/flaky/bob-desktop"));
    for (cookie, browser) in [(&ann, &laptop), (&ann, &old_phone), (&bob, &bob_desktop)] {
        app.call_json("push/subscribe", cookie, browser.subscription()).await.ok();
    }
    assert_eq!(subscriptions(&app, &ann).await, 2);
    for cookie in [&ann, &bob] {
        let prefs = json!({"prefs": {"via_email": false, "via_push": true, "events": "requests"}});
        app.call_json("notifications/save_prefs", cookie, prefs).await.ok();
    }

    let mut v = app.visitor().await;
    let conv = v.conversation_id();
    v.socket.send_json(json!({"type": "request_human"})).await;
    v.socket.until(|f| matches!(f, ServerFrame::State { state: HandoffState::Requested, .. }).then_some(())).await;

    let push = service.wait_for("ok/ann-laptop", 1).await.remove(0);
    assert_eq!(push.headers.get("urgency").unwrap(), "high", "requests are urgent");
    let payload = laptop.open(&push, &server_key, &base);
    assert_eq!(payload["title"], "Handoff request");
    assert!(payload["body"].as_str().unwrap().contains("asked for a human"), "{payload}");
    assert_eq!(payload["url"], format!("/conversations/{conv}"));

    // The expired subscription was tried once and removed.
    service.wait_for("gone/ann-phone", 1).await;
    let mut left = 0;
    for _ in 0..100 {
        left = subscriptions(&app, &ann).await;
        if left == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(left, 1, "the gone subscription is removed");

    // Bob's push service failed once; the outbox retried.
    let pushes = service.wait_for("flaky/bob-desktop", 2).await;
    let payload = bob_desktop.open(&pushes[1], &server_key, &base);
    assert_eq!(payload["url"], format!("/conversations/{conv}"));

    // Another user cannot remove Ann's subscription; Ann can.
    app.call_json("push/unsubscribe", &bob, json!({"endpoint": laptop.endpoint})).await.ok();
    assert_eq!(subscriptions(&app, &ann).await, 1);
    app.call_json("push/unsubscribe", &ann, json!({"endpoint": laptop.endpoint})).await.ok();
    assert_eq!(subscriptions(&app, &ann).await, 0);

    // Pushed once: nothing more arrives for the same notification.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(service.to("ok/ann-laptop").len(), 1);
    assert_eq!(service.to("flaky/bob-desktop").len(), 2);
    assert_eq!(app.call_anonymous("push/info").await, 401);
}
on_both_databases!(push_reaches_subscribed_browsers);
