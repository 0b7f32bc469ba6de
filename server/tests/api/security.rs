//! Issue #20, tried as a hostile tenant would: no published admin password, no privilege
//! escalation among user managers, sign-in that does not reveal accounts, limits that hold
//! under parallel bursts, per IPv6 block and across processes, the e-mail form that checks the
//! visitor before reading files, organization-scoped notifications, purged sessions and visitor
//! tokens, and a `__Host-` cookie over https. (Revocation of live sockets: `revocation.rs`.)
use crate::admin::{new_user, perms, ADMIN, STRONG};
use crate::helpers::*;
use crate::on_both_databases;
use crate::process::{fresh_storage, sign_in_at, start_server};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The environment `scripts/serve.sh` exports (`export HANDOFF_…=…` lines).
fn serve_script_env() -> Vec<(String, String)> {
    let script = include_str!("../../../scripts/serve.sh");
    script
        .lines()
        .filter_map(|l| l.trim().strip_prefix("export "))
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| k.starts_with("HANDOFF_"))
        .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
        .collect()
}

/// Item 2: the server started with the shipped configuration seeds no demo and so has no
/// platform admin with a published password; it prints the `create-admin` hint instead. The
/// README's serve command (`scripts/serve.sh`) still seeds the demo and prints a login that works.
async fn no_published_admin_password_by_default(db: Db) {
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/../Leptos.toml");
    // The server's own defaults, without any config file.
    let (dir, url) = fresh_storage(db, "nofile").await;
    let no_file = dir.join("no-such-config.toml");
    let server = start_server(&dir, url.as_deref(), &[("HANDOFF_CONFIG", no_file.to_str().unwrap())]).await;
    assert_eq!(sign_in_at(&server.base, ADMIN, "handoff-demo").await, Err(401), "no demo admin by default");
    drop(server);
    // The shipped config file.
    let (dir, url) = fresh_storage(db, "noseed").await;
    let server = start_server(&dir, url.as_deref(), &[("HANDOFF_CONFIG", shipped)]).await;
    let printed = server.printed().await;
    assert_eq!(sign_in_at(&server.base, ADMIN, "handoff-demo").await, Err(401), "the demo admin must not exist");
    assert!(printed.contains("create-admin"), "the hint to create an admin: {printed}");
    assert!(!printed.contains("admin@demo.test"), "no demo login is advertised: {printed}");
    drop(server);

    let (dir, url) = fresh_storage(db, "serveseed").await;
    let env = serve_script_env();
    assert!(!env.is_empty(), "scripts/serve.sh exports the demo settings");
    let mut vars: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    vars.push(("HANDOFF_CONFIG", shipped));
    let server = start_server(&dir, url.as_deref(), &vars).await;
    let printed = server.printed().await;
    let password = printed.split("password: ").nth(1).and_then(|s| s.split(')').next()).expect("a demo login");
    assert!(sign_in_at(&server.base, ANN, password).await.is_ok(), "the printed demo login works: {printed}");
    assert!(sign_in_at(&server.base, ADMIN, password).await.is_ok());
}
on_both_databases!(no_published_admin_password_by_default);

/// Item 3: a client with only the *users* permission cannot take over a colleague who holds
/// *settings*: no password, e-mail, deactivation or permission change; users whose permissions
/// are a subset of the manager's stay manageable.
async fn user_managers_cannot_take_over_stronger_colleagues(db: Db) {
    let app = spawn_app(db).await;
    let ann = app.login(ANN).await;
    let create = |email: &'static str, p: Value| {
        let (app, ann) = (&app, &ann);
        async move { app.call_json("admin/users/create", ann, new_user(email, email, None, p)).await.ok()["id"].clone() }
    };
    create("uma@demo.test", perms(false, false, true)).await;
    let sid = create("sid@demo.test", perms(false, true, false)).await;
    let ula = create("ula@demo.test", perms(false, false, true)).await;
    let uma = app.sign_in("uma@demo.test", STRONG).await.unwrap();
    let taken = "taken-over-pass-99";

    let password = app.call_json("admin/users/password", &uma, json!({"user_id": sid, "password": taken})).await;
    assert_eq!(password.err(403)["kind"], "forbidden");
    let change = |email: &str, p: Value, active: bool| {
        json!({"user_id": sid, "change": {"email": email, "name": "sid@demo.test", "role": "client", "org_id": null,
               "permissions": p, "active": active}})
    };
    for body in [
        change("uma-owns@demo.test", perms(false, true, false), true),
        change("sid@demo.test", perms(false, true, false), false),
        change("sid@demo.test", perms(false, false, false), true),
    ] {
        assert_eq!(app.call_json("admin/users/update", &uma, body).await.status, 403);
    }
    assert_eq!(app.sign_in("sid@demo.test", taken).await.unwrap_err().status, 401);
    app.sign_in("sid@demo.test", STRONG).await.expect("Sid is untouched");
    assert_eq!(app.sign_in("uma-owns@demo.test", STRONG).await.unwrap_err().status, 401);

    // A colleague with a subset of Uma's permissions (users only) stays manageable.
    app.call_json("admin/users/password", &uma, json!({"user_id": ula, "password": taken})).await.ok();
    app.sign_in("ula@demo.test", taken).await.unwrap();
}
on_both_databases!(user_managers_cannot_take_over_stronger_colleagues);

/// Item 5: signing in with an unknown address takes as long as with a known one (a real Argon2
/// verification runs for both): medians of alternating attempts, generous bounds.
async fn sign_in_takes_as_long_for_unknown_addresses(db: Db) {
    let app = spawn_app_with(db, |c| {
        c.sign_in_failures_per_account = 0;
        c.sign_in_failures_per_ip = 0;
    })
    .await;
    let before = app.backend.password_verifications();
    let time = |email: String| {
        let app = &app;
        async move {
            let t = Instant::now();
            assert_eq!(app.sign_in(&email, "wrong-guess-123").await.unwrap_err().status, 401);
            t.elapsed()
        }
    };
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for i in 0..7 {
        known.push(time(BOB.to_string()).await);
        unknown.push(time(format!("nobody{i}@demo.test")).await);
    }
    assert_eq!(app.backend.password_verifications() - before, 14, "every attempt ran the password verifier");
    known.sort();
    unknown.sort();
    let (k, u) = (known[3], unknown[3]);
    assert!(u * 2 >= k, "unknown addresses answer much faster ({u:?}) than known ones ({k:?})");
}
on_both_databases!(sign_in_takes_as_long_for_unknown_addresses);

/// Item 6: a parallel burst of wrong passwords gets exactly the per-account limit of tries.
async fn parallel_sign_ins_cannot_pass_the_account_limit(db: Db) {
    let app = spawn_app_with(db, |c| {
        c.sign_in_failures_per_account = 3;
        c.sign_in_failures_per_ip = 1000;
    })
    .await;
    let burst = (0..12).map(|_| app.sign_in(BOB, "wrong-guess-123"));
    let statuses: Vec<u16> =
        futures::future::join_all(burst).await.into_iter().map(|r| r.unwrap_err().status).collect();
    let wrong = statuses.iter().filter(|s| **s == 401).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((wrong, limited), (3, 9), "{statuses:?}");
    // Keys are bounded: a huge "address" is stored as a fixed-size key.
    let huge = "x".repeat(20_000) + "@demo.test";
    assert_eq!(app.sign_in(&huge, "wrong-guess-123").await.unwrap_err().status, 401);
    let (longest,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(LENGTH(limit_key)), 0) FROM sign_in_attempts")
        .fetch_one(&app.backend.db.pool)
        .await
        .unwrap();
    assert!((1..=80).contains(&longest), "stored key length {longest}");
}
on_both_databases!(parallel_sign_ins_cannot_pass_the_account_limit);

async fn sign_in_from(app: &TestApp, ip: &str, email: &str) -> u16 {
    let res = app
        .http
        .post(format!("{}/api/auth/login", app.base))
        .header("x-real-ip", ip)
        .form(&[("email", email), ("password", "wrong-guess-123")])
        .send()
        .await
        .unwrap();
    res.status().as_u16()
}

/// Item 6: IPv6 clients are limited per /64 block (one subscriber), not per address.
async fn ipv6_clients_are_limited_per_64_block(db: Db) {
    let app = spawn_app_with(db, |c| {
        c.client_ip_header = "x-real-ip".into();
        c.sign_in_failures_per_ip = 3;
        c.sign_in_failures_per_account = 0;
        c.new_chats_per_ip_per_hour = 2;
    })
    .await;
    for i in 1..=3 {
        assert_eq!(sign_in_from(&app, &format!("2001:db8:1:2::{i}"), &format!("n{i}@demo.test")).await, 401);
    }
    assert_eq!(sign_in_from(&app, "2001:db8:1:2:ffff:1:2:3", "n4@demo.test").await, 429, "same /64");
    assert_eq!(sign_in_from(&app, "2001:db8:1:3::1", "n5@demo.test").await, 401, "another /64");
    let chat = |ip: &'static str| {
        let app = &app;
        async move {
            let res = app
                .http
                .post(format!("{}/api/widget/session", app.base))
                .header("x-real-ip", ip)
                .form(&[("widget_id", "demo")])
                .send()
                .await
                .unwrap();
            res.status().as_u16()
        }
    };
    assert_eq!(chat("2001:db8:5:5::1").await, 200);
    assert_eq!(chat("2001:db8:5:5::2").await, 200);
    assert_eq!(chat("2001:db8:5:5:abcd::3").await, 429, "same /64");
}
on_both_databases!(ipv6_clients_are_limited_per_64_block);

/// Item 6: on PostgreSQL the sign-in counts are shared by every server process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_limits_hold_across_processes_on_postgres() {
    if !postgres_available().await {
        return;
    }
    let a = spawn_app_with(Db::Postgres, |c| c.sign_in_failures_per_account = 3).await;
    let b = spawn_node_sharing(&a, |c| c.sign_in_failures_per_account = 3).await;
    assert_eq!(a.sign_in(BOB, "wrong-guess-123").await.unwrap_err().status, 401);
    assert_eq!(a.sign_in(BOB, "wrong-guess-123").await.unwrap_err().status, 401);
    assert_eq!(b.sign_in(BOB, "wrong-guess-123").await.unwrap_err().status, 401);
    assert_eq!(b.sign_in(BOB, PASSWORD).await.unwrap_err().status, 429, "node B knows node A's failures");
    assert_eq!(a.sign_in(BOB, PASSWORD).await.unwrap_err().status, 429);
}

/// Sends `head` as the start of a request whose body is `length` bytes, never sends the rest,
/// and returns the status line the server answers within `wait` (`None`: it kept waiting).
async fn stalled_upload(app: &TestApp, body_start: &str, length: usize, wait: Duration) -> Option<String> {
    let addr = app.base.trim_start_matches("http://");
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/widget/email HTTP/1.1\r\nHost: {addr}\r\nContent-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: {length}\r\n\r\n{body_start}"
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(wait, tcp.read(&mut buf)).await.ok()?.ok()?;
    String::from_utf8_lossy(&buf[..n]).lines().next().map(str::to_owned)
}

fn part(name: &str, value: &str) -> String {
    format!("--XyZ\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
}

const FILE_START: &str =
    "--XyZ\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\n";

/// Item 7: the e-mail form checks the visitor token before it reads any file: a forged token (or
/// a file sent before the token) is refused while the upload is still under way.
async fn email_form_checks_the_visitor_before_reading_files(db: Db) {
    let app = spawn_app(db).await;
    let forged = format!("{}{FILE_START}", part("token", "forged-token"));
    let status = stalled_upload(&app, &forged, 1_000_000, Duration::from_secs(3)).await;
    assert!(status.as_deref().is_some_and(|s| s.contains(" 403")), "refused before the file is read: {status:?}");
    let v = app.visitor().await;
    let file_first = format!("{FILE_START}\r\n{}", part("token", &v.session.token));
    let status = stalled_upload(&app, &file_first, 1_000_000, Duration::from_secs(3)).await;
    assert!(status.as_deref().is_some_and(|s| s.contains(" 403")), "the token comes first: {status:?}");
    // A real visitor streaming a file over the limit is cut off with 413 (read no further).
    let over = format!("{}{FILE_START}{}", part("token", &v.session.token), "A".repeat(64 * 1024));
    let status = stalled_upload(&app, &over, domain::email::MAX_TOTAL_BYTES + 200_000, Duration::from_secs(3)).await;
    assert!(status.is_none(), "a visitor's upload within the declared size is read: {status:?}");
}
on_both_databases!(email_form_checks_the_visitor_before_reading_files);

/// Item 9: after moving to another organization a user's bell shows nothing of the old one.
async fn notifications_stay_in_their_organization(db: Db) {
    let app = spawn_app(db).await;
    let admin = app.login(ADMIN).await;
    let ann = app.login(ANN).await;
    let mut v = app.visitor().await;
    v.socket.send_json(json!({"type": "request_human"})).await;
    v.socket
        .until(|f| {
            matches!(f, domain::wire::ServerFrame::State { state: domain::handoff::HandoffState::Requested, .. })
                .then_some(())
        })
        .await;
    let bell = app.call_json("notifications/list", &ann, json!({})).await.ok();
    assert_eq!(bell["unread"], 1, "{bell}");
    let org = app.call_json("admin/orgs/create", &admin, json!({"name": "Elsewhere"})).await.ok();
    let ann_id = app.call("auth/me", Some(&ann), &[]).await.ok()["id"].clone();
    let moved = json!({"user_id": ann_id, "change": {"email": ANN, "name": "Ann Agent", "role": "client",
                       "org_id": org["id"], "permissions": perms(true, true, true), "active": true}});
    app.call_json("admin/users/update", &admin, moved).await.ok();
    let ann = app.login(ANN).await;
    let bell = app.call_json("notifications/list", &ann, json!({})).await.ok();
    assert_eq!((bell["unread"].clone(), bell["items"].clone()), (json!(0), json!([])), "{bell}");
}
on_both_databases!(notifications_stay_in_their_organization);

/// Item 9: with an https `public_url` the session cookie is `Secure` and named `__Host-…`, even
/// without a proxy's `X-Forwarded-Proto`; the server reads it back under that name.
async fn session_cookie_is_secure_when_public_url_is_https(db: Db) {
    let app = spawn_app_with(db, |c| c.public_url = "https://chat.example.test".into()).await;
    let res = app
        .http
        .post(format!("{}/api/auth/login", app.base))
        .form(&[("email", ANN), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let set = res.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(set.starts_with("__Host-handoff_session=") && set.contains("; Secure") && set.contains("Path=/"), "{set}");
    assert!(!set.contains("Domain"), "{set}");
    let cookie = set.split(';').next().unwrap();
    assert_eq!(app.call("auth/me", Some(cookie), &[]).await.ok()["email"], ANN);
    let mut socket = Socket::connect(&app, "/ws/agent", Some(cookie)).await;
    socket.ready().await;
}
on_both_databases!(session_cookie_is_secure_when_public_url_is_https);

/// Item 9: expired sessions and old visitor tokens are purged by a worker; an old visitor token
/// no longer opens its chat.
async fn expired_sessions_and_old_visitor_tokens_are_purged(db: Db) {
    let app = spawn_app_with(db, |c| {
        c.visitor_token_days = 30;
        c.purge_every_ms = 200;
    })
    .await;
    let v = app.visitor().await;
    let token = v.session.token.clone();
    let pool = &app.backend.db.pool;
    let old = backend::now_ms() - 31 * 86_400_000;
    sqlx::query("UPDATE visitors SET created_at = $1").bind(old).execute(pool).await.unwrap();
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ('gone', 'demo-user-1', 0, 1)",
    )
    .execute(pool)
    .await
    .unwrap();
    assert!(app.backend.visitor_by_token(&token).await.is_err(), "an old token expired");
    tokio::time::sleep(Duration::from_millis(800)).await;
    let (sessions,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM sessions WHERE expires_at < 10").fetch_one(pool).await.unwrap();
    let (tokens,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM visitors WHERE token_hash = $1")
        .bind(backend::auth::token_hash(&token))
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!((sessions, tokens), (0, 0), "purged");
    let fresh = app.visitor_session("demo", Some(&token)).await;
    assert_ne!(fresh.conversation_id, v.conversation_id(), "the old token starts a new chat");
}
on_both_databases!(expired_sessions_and_old_visitor_tokens_are_purged);
