//! Item 4 of issue #20: revocation reaches open dashboard sockets. Deactivation, a password
//! reset, logout, a move to another organization and losing *conversations* close the user's
//! live socket within a second — on PostgreSQL across processes (the dashboard is connected to
//! a second server process, the real binary, and the change is made on the first); and every
//! `watch` re-checks the caller.
use crate::admin::{new_user, perms, ADMIN, STRONG};
use crate::helpers::*;
use crate::on_both_databases;
use crate::process::{sign_in_at, start_server, ServerProcess};
use domain::wire::ServerFrame;
use serde_json::json;
use std::time::Duration;

/// A second server process on the same PostgreSQL database (`None` on SQLite).
async fn second_process(app: &TestApp) -> Option<ServerProcess> {
    let url = app.database_url.as_deref()?;
    let dir = std::env::temp_dir().join(format!("handoff_revoke_{}_{}", std::process::id(), backend::new_id()));
    std::fs::create_dir_all(&dir).unwrap();
    Some(start_server(&dir, Some(url), &[]).await)
}

const CASES: [&str; 5] = ["deactivated", "reset", "logout", "moved", "demoted"];

async fn revocation_closes_live_sockets(db: Db) {
    let app = spawn_app(db).await;
    let node_b = second_process(&app).await;
    let b = node_b.as_ref().map_or(app.base.clone(), |p| p.base.clone());
    let admin = app.login(ADMIN).await;
    let org = app.call_json("admin/orgs/create", &admin, json!({"name": "Elsewhere"})).await.ok()["id"].clone();
    for case in CASES {
        let email = format!("{case}@demo.test");
        let made = app
            .call_json(
                "admin/users/create",
                &admin,
                new_user(&email, case, Some("demo-org"), perms(true, false, false)),
            )
            .await
            .ok();
        let id = made["id"].clone();
        let cookie = sign_in_at(&b, &email, STRONG).await.expect("signs in on the second process");
        let mut socket = Socket::connect_at(&b, "/ws/agent", Some(&cookie)).await;
        socket.ready().await;
        let change = |org: serde_json::Value, p: serde_json::Value, active: bool| {
            json!({"user_id": id, "change": {"email": email, "name": case, "role": "client", "org_id": org,
                   "permissions": p, "active": active}})
        };
        let answer = match case {
            "deactivated" => {
                app.call_json("admin/users/update", &admin, change(json!("demo-org"), perms(true, false, false), false))
                    .await
            }
            "reset" => {
                app.call_json("admin/users/password", &admin, json!({"user_id": id, "password": "another-pass-456"}))
                    .await
            }
            "logout" => app.call("auth/logout", Some(&cookie), &[]).await,
            "moved" => {
                app.call_json("admin/users/update", &admin, change(org.clone(), perms(true, false, false), true)).await
            }
            _ => {
                app.call_json("admin/users/update", &admin, change(json!("demo-org"), perms(false, false, false), true))
                    .await
            }
        };
        assert!(answer.status < 400, "{case}: {answer:?}");
        assert!(
            socket.closes_within(Duration::from_secs(1)).await,
            "{case}: the live socket must close within a second"
        );
    }
}
on_both_databases!(revocation_closes_live_sockets);

/// A `watch` re-checks the caller: a user who lost *conversations* (written straight to the
/// database, so no event tells the socket) gets no message of the conversation.
async fn every_watch_rechecks_the_caller(db: Db) {
    let app = spawn_app(db).await;
    let mut bob = app.agent(BOB).await;
    bob.socket.ready().await;
    let mut v = app.visitor().await;
    v.message(|_| true).await;
    sqlx::query("UPDATE users SET perm_conversations = 0 WHERE email = $1")
        .bind(BOB)
        .execute(&app.backend.db.pool)
        .await
        .unwrap();
    bob.watch(&v.conversation_id(), 0).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match bob.socket.try_next(left).await {
            None => break,
            Some(ServerFrame::Message { message }) => panic!("a revoked user received {message:?}"),
            Some(_) => continue,
        }
    }
}
on_both_databases!(every_watch_rechecks_the_caller);
