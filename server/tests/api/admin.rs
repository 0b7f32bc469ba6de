//! Organizations, users, permissions, agents and widgets through the server functions, as the
//! admin pages use them: the whole set-up of a new organization, what each role may do, bad
//! input (a field-level error and nothing changed), passwords and sessions, sign-in limits, and
//! the `create-admin` command.
use crate::helpers::*;
use crate::on_both_databases;
use serde_json::{json, Value};

pub const ADMIN: &str = "admin@demo.test";
pub const STRONG: &str = "blue-kettle-sings-42";

pub fn perms(conversations: bool, settings: bool, users: bool) -> Value {
    json!({"conversations": conversations, "settings": settings, "users": users})
}

pub fn new_user(email: &str, name: &str, org: Option<&str>, p: Value) -> Value {
    json!({"user": {"email": email, "name": name, "password": STRONG, "role": "client", "org_id": org, "permissions": p}})
}

/// Signs in Vic, a new user of Demo Org without any permission (made by the platform admin,
/// whose cookie is returned too).
pub async fn viewer_without_permissions(app: &TestApp) -> (String, String) {
    let admin = app.login(ADMIN).await;
    let vic = new_user(
        "vic@demo.test",
        "Vic",
        Some("demo-org"),
        json!({"conversations": false, "settings": false, "users": false}),
    );
    app.call_json("admin/users/create", &admin, vic).await.ok();
    (app.sign_in("vic@demo.test", STRONG).await.unwrap(), admin)
}

/// Asserts a field-level error on `field` and returns its message.
pub fn field_error(a: &Answer, field: &str) -> String {
    let body = a.err(400);
    assert_eq!(body["kind"], "field", "{body}");
    assert_eq!(body["field"], field, "{body}");
    body["message"].as_str().unwrap().to_string()
}

/// The agent settings form's body with handoff enabled/fixed as given.
pub fn agent_update(agent: &Value, enabled: bool, fixed: bool) -> Value {
    json!({"agent_id": agent["id"], "update": {
        "name": agent["name"], "greeting": agent["greeting"], "fallback_text": "", "handoff_text": "",
        "handoff_enabled": enabled, "handoff_fixed": fixed, "backend": "embedded", "llm": agent["llm"],
        "api_key": "keep"}})
}

/// An organization with an assigned agent, a widget and one client user with every
/// permission, created by the admin through the server functions: (org id, agent, widget id,
/// the user's cookie).
pub async fn set_up_org(app: &TestApp, admin: &str, name: &str, user_email: &str) -> (String, Value, String, String) {
    let org = app.call_json("admin/orgs/create", admin, json!({"name": name})).await.ok();
    let org_id = org["id"].as_str().unwrap().to_string();
    let agent = app
        .call_json("admin/agents/create", admin, json!({"name": format!("{name} Bot"), "org_id": org_id}))
        .await
        .ok();
    let widget = app
        .call_json(
            "widgets/save",
            admin,
            json!({"widget_id": null, "input": {"name": format!("{name} site"), "org_id": org_id,
                   "agent_id": agent["id"], "allowed_origins": ""}}),
        )
        .await
        .ok();
    app.call_json(
        "admin/users/create",
        admin,
        new_user(user_email, &format!("{name} User"), Some(&org_id), perms(true, true, true)),
    )
    .await
    .ok();
    let cookie = app.sign_in(user_email, STRONG).await.unwrap();
    (org_id, agent, widget["id"].as_str().unwrap().to_string(), cookie)
}

/// Issue #4's "done when": the admin creates an organization, a client user with and one without
/// *settings*, an agent assigned to it with handoff enabled and fixed, and a widget; each client
/// signs in and sees only its organization; the one without *settings* cannot change anything.
async fn admin_sets_up_an_organization(db: Db) {
    let app = spawn_app(db).await;
    let admin = app.login(ADMIN).await;
    let me = app.call("auth/me", Some(&admin), &[]).await.ok();
    assert_eq!((me["is_admin"].as_bool(), me["can_users"].as_bool()), (Some(true), Some(true)));

    let org = app.call_json("admin/orgs/create", &admin, json!({"name": "  Acme  "})).await.ok();
    assert_eq!(org["name"], "Acme");
    let acme = org["id"].as_str().unwrap().to_string();
    let dup = app.call_json("admin/orgs/create", &admin, json!({"name": "acme"})).await;
    assert!(field_error(&dup, "name").contains("already exists"));

    // An agent without an organization cannot have a fixed popup; once assigned it can.
    let agent = app.call_json("admin/agents/create", &admin, json!({"name": "Max", "org_id": null})).await.ok();
    assert_eq!(agent["org_id"], Value::Null);
    let agents = app.call_json("agents/list", &admin, json!({})).await.ok();
    let full = agents.as_array().unwrap().iter().find(|a| a["id"] == agent["id"]).unwrap().clone();
    let refused = app.call_json("agents/update", &admin, agent_update(&full, true, true)).await;
    assert!(field_error(&refused, "handoff_fixed").contains("organization"));
    let assigned =
        app.call_json("admin/agents/assign", &admin, json!({"agent_id": agent["id"], "org_id": acme})).await.ok();
    assert_eq!(assigned["org_name"], "Acme");
    let fixed = app.call_json("agents/update", &admin, agent_update(&full, true, true)).await.ok();
    assert_eq!((fixed["handoff_enabled"].as_bool(), fixed["handoff_fixed"].as_bool()), (Some(true), Some(true)));
    // Fixed needs the organization: unassigning is refused and changes nothing.
    let unassign = app.call_json("admin/agents/assign", &admin, json!({"agent_id": agent["id"], "org_id": null})).await;
    assert!(field_error(&unassign, "org_id").contains("Fixed handoff popup"));

    let widget = app
        .call_json(
            "widgets/save",
            &admin,
            json!({"widget_id": null, "input": {"name": "Acme shop", "org_id": acme, "agent_id": agent["id"],
                   "allowed_origins": "https://shop.acme.test\nhttps://www.acme.test/"}}),
        )
        .await
        .ok();
    assert_eq!(widget["allowed_origins"], json!(["https://shop.acme.test", "https://www.acme.test"]));
    assert_eq!(widget["agent_name"], "Max");
    let wid = widget["id"].as_str().unwrap().to_string();
    // The agent now serves a widget: it stays with its organization.
    let moving =
        app.call_json("admin/agents/assign", &admin, json!({"agent_id": agent["id"], "org_id": "demo-org"})).await;
    assert!(field_error(&moving, "org_id").contains("widget"));

    for (email, p) in [("sam@acme.test", perms(true, true, false)), ("nia@acme.test", perms(true, false, false))] {
        let u = app
            .call_json("admin/users/create", &admin, new_user(email, "Acme person", Some(&acme), p.clone()))
            .await
            .ok();
        assert_eq!((u["org_name"].as_str(), &u["permissions"], u["active"].as_bool()), (Some("Acme"), &p, Some(true)));
    }
    let sam = app.sign_in("sam@acme.test", STRONG).await.unwrap();
    let nia = app.sign_in("nia@acme.test", STRONG).await.unwrap();

    // Each sees only Acme.
    for cookie in [&sam, &nia] {
        let me = app.call("auth/me", Some(cookie), &[]).await.ok();
        assert_eq!(me["org_name"], "Acme");
        assert_eq!(app.call("conversations/list", Some(cookie), &[]).await.ok(), json!([]));
        let agents = app.call_json("agents/list", cookie, json!({})).await.ok();
        let names: Vec<&str> = agents.as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["Max"]);
        let (widgets, base) = {
            let w = app.call_json("widgets/list", cookie, json!({})).await.ok();
            (w[0].clone(), w[1].as_str().unwrap().to_string())
        };
        assert_eq!(widgets.as_array().unwrap().len(), 1);
        assert_eq!(widgets[0]["id"], wid.as_str());
        assert!(base.starts_with("http://127.0.0.1:"), "{base}");
        let orgs = app.call_json("admin/orgs/list", cookie, json!({})).await.ok();
        assert_eq!(orgs.as_array().unwrap().len(), 1);
        assert_eq!(app.call_json("admin/agents/list", cookie, json!({})).await.status, 403);
        assert_eq!(app.call_json("admin/orgs/create", cookie, json!({"name": "Mine"})).await.status, 403);
    }
    // Sam (settings) edits; Nia (no settings) sees everything read-only and the server refuses.
    let sam_agent = app.call_json("agents/list", &sam, json!({})).await.ok()[0].clone();
    assert_eq!(sam_agent["editable"], true);
    app.call_json("agents/update", &sam, agent_update(&sam_agent, true, false)).await.ok();
    let nia_view = app.call_json("agents/list", &nia, json!({})).await.ok()[0].clone();
    assert_eq!(nia_view["editable"], false);
    assert_eq!(app.call_json("agents/update", &nia, agent_update(&nia_view, false, false)).await.status, 403);
    let w = json!({"widget_id": wid, "input": {"name": "Renamed", "org_id": null, "agent_id": agent["id"], "allowed_origins": ""}});
    assert_eq!(app.call_json("widgets/save", &nia, w.clone()).await.status, 403);
    assert_eq!(app.call_json("widgets/list", &nia, json!({})).await.ok()[0][0]["editable"], false);
    assert_eq!(app.call_json("widgets/save", &sam, w).await.ok()["name"], "Renamed");
    let settings = app.call_json("org/settings", &nia, json!({})).await.ok();
    assert_eq!(app.call_json("org/save_settings", &nia, json!({"settings": settings})).await.status, 403);
    // Neither manages users.
    assert_eq!(app.call_json("admin/users/list", &sam, json!({"org_id": null})).await.status, 403);

    // The widget serves visitors with Acme's agent, fixed popup off now (Sam's change).
    let session = app.visitor_session(&wid, None).await;
    assert_eq!(session.widget.agent_name, "Max");
    assert!(session.widget.handoff_enabled && !session.widget.handoff_fixed);
    // An Acme conversation is Acme's only.
    let mut v = app.visitor_on(&wid).await;
    v.send("c1", "Hello Acme").await;
    v.ack("c1").await;
    let list = app.call("conversations/list", Some(&nia), &[]).await.ok();
    assert!(list.as_array().unwrap().iter().any(|c| c["id"] == v.conversation_id().as_str()));
    let ann = app.login(ANN).await;
    let demo_list = app.call("conversations/list", Some(&ann), &[]).await.ok();
    assert!(demo_list.as_array().unwrap().iter().all(|c| c["id"] != v.conversation_id().as_str()));
}
on_both_databases!(admin_sets_up_an_organization);

/// Bad input gets a field-level error and changes nothing.
async fn bad_input_is_refused_field_by_field(db: Db) {
    let app = spawn_app(db).await;
    let admin = app.login(ADMIN).await;
    let users_before = app.call_json("admin/users/list", &admin, json!({"org_id": null})).await.ok();
    let long = "x".repeat(101);
    let cases: Vec<(Value, &str)> = vec![
        (new_user("ann@demo.test", "Ann again", Some("demo-org"), perms(true, false, false)), "email"),
        (new_user("ANN@Demo.Test", "Ann again", Some("demo-org"), perms(true, false, false)), "email"),
        (new_user("not-an-address", "X", Some("demo-org"), perms(true, false, false)), "email"),
        (new_user("", "X", Some("demo-org"), perms(true, false, false)), "email"),
        (new_user("x@y.test", "", Some("demo-org"), perms(true, false, false)), "name"),
        (new_user("x@y.test", &long, Some("demo-org"), perms(true, false, false)), "name"),
        (new_user("x@y.test", "X", Some("no-such-org"), perms(true, false, false)), "org_id"),
        (new_user("x@y.test", "X", None, perms(true, false, false)), "org_id"),
    ];
    for (body, field) in cases {
        field_error(&app.call_json("admin/users/create", &admin, body).await, field);
    }
    for weak in ["", "short", "password123", "aaaaaaaaaaaa", "12345678901"] {
        let mut body = new_user("x@y.test", "X", Some("demo-org"), perms(true, false, false));
        body["user"]["password"] = json!(weak);
        field_error(&app.call_json("admin/users/create", &admin, body).await, "password");
    }
    // Malformed bodies and unknown ids: typed errors.
    assert_eq!(
        app.call_json("admin/users/create", &admin, json!({"user": {"email": 5}})).await.err(400)["kind"],
        "validation"
    );
    let change = json!({"email": "ghost@demo.test", "name": "Ghost", "role": "client", "org_id": "demo-org",
                        "permissions": perms(true, false, false), "active": true});
    assert_eq!(
        app.call_json("admin/users/update", &admin, json!({"user_id": "nope", "change": change})).await.err(404)
            ["kind"],
        "not_found"
    );
    assert_eq!(
        app.call_json("admin/users/password", &admin, json!({"user_id": "nope", "password": STRONG})).await.status,
        404
    );
    assert_eq!(
        app.call_json("admin/agents/assign", &admin, json!({"agent_id": "nope", "org_id": null})).await.status,
        404
    );
    field_error(
        &app.call_json("admin/agents/assign", &admin, json!({"agent_id": "demo-agent", "org_id": "nope"})).await,
        "org_id",
    );
    field_error(&app.call_json("admin/agents/create", &admin, json!({"name": " ", "org_id": null})).await, "name");
    field_error(&app.call_json("admin/orgs/create", &admin, json!({"name": long})).await, "name");
    assert_eq!(app.call_json("admin/orgs/rename", &admin, json!({"org_id": "nope", "name": "X"})).await.status, 404);
    let widget = |origins: &str, agent: &str| json!({"widget_id": null, "input": {"name": "W", "org_id": "demo-org", "agent_id": agent, "allowed_origins": origins}});
    for bad in
        ["shop.example.com", "https://x.test/path", "javascript://x.test", "https://*.x.test", "https://x.test:99999"]
    {
        let msg =
            field_error(&app.call_json("widgets/save", &admin, widget(bad, "demo-agent")).await, "allowed_origins");
        assert!(msg.contains("is not an origin"), "{msg}");
    }
    field_error(&app.call_json("widgets/save", &admin, widget("", "nope")).await, "agent_id");
    assert_eq!(
        app.call_json("widgets/save", &admin, json!({"widget_id": "nope", "input": widget("", "demo-agent")["input"]}))
            .await
            .status,
        404
    );

    // Nothing was stored.
    assert_eq!(app.call_json("admin/users/list", &admin, json!({"org_id": null})).await.ok(), users_before);
    let widgets = app.call_json("widgets/list", &admin, json!({})).await.ok();
    assert_eq!(widgets[0].as_array().unwrap().len(), 1);
    let orgs = app.call_json("admin/orgs/list", &admin, json!({})).await.ok();
    assert_eq!(orgs.as_array().unwrap().len(), 1);
}
on_both_databases!(bad_input_is_refused_field_by_field);

/// A client user manager manages only their organization's users and grants only what they
/// have; nobody changes their own role, permissions or status.
async fn user_managers_grant_only_what_they_have(db: Db) {
    let app = spawn_app(db).await;
    let ann = app.login(ANN).await;
    // Ann (every permission) makes Uma, who manages users but has no settings permission.
    let uma = app
        .call_json("admin/users/create", &ann, new_user("uma@demo.test", "Uma", None, perms(true, false, true)))
        .await
        .ok();
    assert_eq!(uma["org_id"], "demo-org", "a manager's users join the manager's organization");
    let uma_cookie = app.sign_in("uma@demo.test", STRONG).await.unwrap();
    let me = app.call("auth/me", Some(&uma_cookie), &[]).await.ok();
    assert_eq!((me["can_users"].as_bool(), me["can_settings"].as_bool()), (Some(true), Some(false)));

    let listed = app.call_json("admin/users/list", &uma_cookie, json!({"org_id": null})).await.ok();
    let emails: Vec<&str> = listed.as_array().unwrap().iter().map(|u| u["email"].as_str().unwrap()).collect();
    assert!(emails.contains(&ANN) && emails.contains(&"uma@demo.test") && !emails.contains(&ADMIN), "{emails:?}");

    let msg = field_error(
        &app.call_json("admin/users/create", &uma_cookie, new_user("s@demo.test", "S", None, perms(true, true, false)))
            .await,
        "permissions",
    );
    assert!(msg.contains("permissions you have"));
    let mut admin_body = new_user("root@demo.test", "Root", None, perms(true, true, true));
    admin_body["user"]["role"] = json!("admin");
    field_error(&app.call_json("admin/users/create", &uma_cookie, admin_body).await, "role");
    field_error(
        &app.call_json(
            "admin/users/create",
            &uma_cookie,
            new_user("o@demo.test", "O", Some("elsewhere"), perms(true, false, false)),
        )
        .await,
        "org_id",
    );
    let made = app
        .call_json("admin/users/create", &uma_cookie, new_user("cal@demo.test", "Cal", None, perms(true, false, false)))
        .await
        .ok();

    // Ann has *settings*, which Uma lacks: Uma may not change Ann at all (not even her name), so
    // she cannot take Ann's account over (see security::user_managers_cannot_take_over_…).
    let ann_id = emails.iter().position(|e| *e == ANN).map(|i| listed[i]["id"].clone()).unwrap();
    let change = |name: &str, p: Value, active: bool| json!({"user_id": ann_id, "change": {"email": ANN, "name": name, "role": "client", "org_id": null, "permissions": p, "active": active}});
    for p in [perms(true, true, true), perms(true, false, true)] {
        let refused = app.call_json("admin/users/update", &uma_cookie, change("Ann A.", p, true)).await;
        assert_eq!(refused.err(403)["kind"], "forbidden");
    }
    // Nobody changes their own permissions or deactivates themselves.
    let own = json!({"user_id": uma["id"], "change": {"email": "uma@demo.test", "name": "Uma", "role": "client", "org_id": null,
                     "permissions": perms(true, false, false), "active": true}});
    assert!(
        field_error(&app.call_json("admin/users/update", &uma_cookie, own).await, "permissions").contains("your own")
    );

    // Bob has no *users* permission.
    let bob = app.login(BOB).await;
    assert_eq!(app.call_json("admin/users/list", &bob, json!({"org_id": null})).await.err(403)["kind"], "forbidden");
    let cal_change = json!({"user_id": made["id"], "change": {"email": "cal@demo.test", "name": "Cal", "role": "client",
                            "org_id": null, "permissions": perms(true, false, false), "active": false}});
    assert_eq!(app.call_json("admin/users/update", &bob, cal_change.clone()).await.status, 403);
    // Managers never see or touch admins.
    let admin = app.login(ADMIN).await;
    let admin_id = app.call("auth/me", Some(&admin), &[]).await.ok()["id"].clone();
    assert_eq!(
        app.call_json("admin/users/password", &uma_cookie, json!({"user_id": admin_id, "password": STRONG}))
            .await
            .status,
        404
    );
    // Uma deactivates Cal.
    app.call_json("admin/users/update", &uma_cookie, cal_change).await.ok();
    assert_eq!(app.sign_in("cal@demo.test", STRONG).await.unwrap_err().status, 401);
}
on_both_databases!(user_managers_grant_only_what_they_have);

/// Changing a password ends every other session; an admin's reset or a deactivation ends all of
/// the user's sessions, and conversations a deactivated agent held go back to the AI.
async fn passwords_and_deactivation_end_sessions(db: Db) {
    let app = spawn_app(db).await;
    let (ann1, ann2) = (app.login(ANN).await, app.login(ANN).await);
    let wrong = app.call_json("auth/password", &ann1, json!({"current_password": "nope", "password": STRONG})).await;
    field_error(&wrong, "current_password");
    field_error(
        &app.call_json("auth/password", &ann1, json!({"current_password": PASSWORD, "password": "weak"})).await,
        "password",
    );
    let res = app
        .http
        .post(format!("{}/api/auth/password", app.base))
        .header("cookie", &ann1)
        .header("content-type", "application/json")
        .body(json!({"current_password": PASSWORD, "password": STRONG}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let fresh = res.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    for old in [&ann1, &ann2] {
        assert_eq!(app.call("auth/me", Some(old), &[]).await.ok(), Value::Null, "old sessions are gone");
    }
    assert_eq!(app.call("auth/me", Some(&fresh), &[]).await.ok()["email"], ANN);
    assert_eq!(app.sign_in(ANN, PASSWORD).await.unwrap_err().status, 401);
    app.sign_in(ANN, STRONG).await.unwrap();

    // Bob holds a conversation; the admin resets his password, then deactivates him.
    let bob = app.agent(BOB).await;
    let mut v = app.visitor().await;
    let conv = v.conversation_id();
    v.send("m1", "hello").await;
    v.ack("m1").await;
    bob.act(&app, "handoff/continue", &conv).await.ok();
    let admin = app.login(ADMIN).await;
    let bob_id = app.call("auth/me", Some(&bob.cookie), &[]).await.ok()["id"].clone();
    app.call_json("admin/users/password", &admin, json!({"user_id": bob_id, "password": "green-lamp-reads-77"}))
        .await
        .ok();
    assert_eq!(app.call("conversations/list", Some(&bob.cookie), &[]).await.status, 401);
    let bob_cookie = app.sign_in(BOB, "green-lamp-reads-77").await.unwrap();
    let off = json!({"user_id": bob_id, "change": {"email": BOB, "name": "Bob Agent", "role": "client", "org_id": "demo-org",
                     "permissions": perms(true, false, false), "active": false}});
    let entry = app.call_json("admin/users/update", &admin, off).await.ok();
    assert_eq!(entry["active"], false);
    assert_eq!(app.call("conversations/list", Some(&bob_cookie), &[]).await.status, 401);
    assert_eq!(app.sign_in(BOB, "green-lamp-reads-77").await.unwrap_err().status, 401);
    // The visitor is told, and the AI answers again.
    let announced = v.message(|m| m.author == domain::wire::Author::System && m.text.contains("back to the AI")).await;
    assert!(announced.text.starts_with("Bob Agent"), "{}", announced.text);
    let (state, _) = app.backend.conversation_state(&conv, "demo-org").await.unwrap();
    assert_eq!(state, domain::handoff::HandoffState::Ai);
}
on_both_databases!(passwords_and_deactivation_end_sessions);

/// Failed sign-ins are limited per account and per address; over the limit even the right
/// password waits, with a clear "try again in N s".
async fn sign_in_attempts_are_limited(db: Db) {
    let app = spawn_app_with(db, |c| {
        c.sign_in_failures_per_account = 3;
        c.sign_in_failures_per_ip = 6;
    })
    .await;
    for _ in 0..3 {
        assert_eq!(app.sign_in(BOB, "wrong-guess").await.unwrap_err().status, 401);
    }
    let limited = app.sign_in(BOB, PASSWORD).await.unwrap_err();
    assert_eq!(limited.status, 429);
    assert_eq!(limited.body["kind"], "rate_limited");
    let msg = limited.body["message"].as_str().unwrap();
    assert!(msg.contains("try again in") && (msg.ends_with(" s") || msg.ends_with(" min")), "{msg}");
    // Another account from the same address still signs in; a success clears its own count.
    app.sign_in(ANN, "wrong-guess").await.unwrap_err();
    app.sign_in(ANN, PASSWORD).await.unwrap();
    // Unknown accounts count against the address too: 6 failures in all, then everyone waits.
    app.sign_in("nobody@demo.test", "x").await.unwrap_err();
    app.sign_in("nobody2@demo.test", "x").await.unwrap_err();
    assert_eq!(app.sign_in(ADMIN, PASSWORD).await.unwrap_err().status, 429);
}
on_both_databases!(sign_in_attempts_are_limited);

/// `handoff-server create-admin` makes the first admin of an empty installation (no demo seed)
/// and refuses weak passwords.
#[test]
fn create_admin_command() {
    let dir = std::env::temp_dir().join(format!("handoff_cli_{}", std::process::id()));
    let run = |password: &str, email: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_handoff-server"))
            .args(["create-admin", "--email", email, "--name", "Root Admin"])
            .env("HANDOFF_DATA_DIR", &dir)
            .env("HANDOFF_ADMIN_PASSWORD", password)
            .env("RUST_LOG", "warn")
            .env_remove("DATABASE_URL")
            .output()
            .unwrap()
    };
    let weak = run("short", "root@example.test");
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("password"), "{weak:?}");
    let ok = run(STRONG, "Root@Example.test");
    assert!(ok.status.success(), "{ok:?}");
    assert!(String::from_utf8_lossy(&ok.stdout).contains("created admin root@example.test"));
    let again = run(STRONG, "root@example.test");
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"), "{again:?}");
    let usage = std::process::Command::new(env!("CARGO_BIN_EXE_handoff-server")).arg("frobnicate").output().unwrap();
    assert!(!usage.status.success() && String::from_utf8_lossy(&usage.stderr).contains("create-admin"));

    // The admin signs in to that installation, which has no demo organization.
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let config = backend::Config {
            data_dir: dir.clone(),
            seed_demo: false,
            outbox_poll_ms: 0,
            email_offer_check_ms: 0,
            ..Default::default()
        };
        let b = backend::Backend::start(config).await.unwrap();
        assert_eq!(b.admin_count().await.unwrap(), 1);
        let (_, user) = b.login("root@example.test", STRONG, None).await.unwrap();
        assert_eq!((user.role.as_str(), user.org_id.as_deref()), ("admin", None));
        assert!(b.list_orgs(&user).await.unwrap().is_empty());
    });
    let _ = std::fs::remove_dir_all(&dir);
}
