//! Tenant isolation: a user of organization A (with every permission) reuses or guesses the ids
//! of organization B's conversations, messages, notifications, attachments, agents, knowledge,
//! labels, widgets, users and settings through every server function and WebSocket subscription. Every
//! attempt is refused, no answer names anything of B's, and B's data is unchanged afterwards.
use crate::admin::{field_error, set_up_org, ADMIN, STRONG};
use crate::email::{download, submit, PNG};
use crate::helpers::*;
use crate::on_both_databases;
use domain::wire::ServerFrame;
use serde_json::{json, Value};
use std::time::Duration;

/// What B has that A must never learn.
const SECRETS: [&str; 6] = ["Beta", "Zed", "zed@beta.test", "beta secret question", "beta secret note", "beta-file"];

fn assert_no_leak(what: &str, body: &Value) {
    let text = body.to_string();
    for s in SECRETS {
        assert!(!text.contains(s), "{what} leaked {s:?}: {text}");
    }
}

/// Refused (403/404, or 400 where the id is an input field) and silent about B.
fn assert_refused(what: &str, a: &Answer) {
    assert!([400, 403, 404].contains(&a.status), "{what} was not refused: {} {}", a.status, a.body);
    assert_no_leak(what, &a.body);
}

async fn organizations_cannot_reach_each_other(db: Db) {
    let app = spawn_app(db).await;
    let admin = app.login(ADMIN).await;
    let (beta, beta_agent, beta_widget, zed) = set_up_org(&app, &admin, "Beta", "zed@beta.test").await;
    let beta_agent_id = beta_agent["id"].as_str().unwrap().to_string();
    let zed_id = app.call("auth/me", Some(&zed), &[]).await.ok()["id"].as_str().unwrap().to_string();
    let entry = app
        .call_json(
            "knowledge/save",
            &zed,
            json!({"agent_id": beta_agent_id, "entry_id": null,
                   "input": {"kind": "qa", "title": "beta secret question", "body": "beta answer"}}),
        )
        .await
        .ok();
    let entry_id = entry["id"].as_str().unwrap().to_string();
    let beta_label = app
        .call_json("labels/save", &zed, json!({"label_id": null, "input": {"name": "Beta label", "color": "red"}}))
        .await
        .ok();
    let beta_label = beta_label["id"].as_str().unwrap().to_string();

    // B's visitor talks, asks for a human (Zed is notified) and sends the e-mail form with a file.
    let mut bv = app.visitor_on(&beta_widget).await;
    let conv = bv.conversation_id();
    bv.send("b1", "beta secret question").await;
    bv.ack("b1").await;
    bv.socket.send_json(json!({"type": "request_human"})).await;
    let form = submit(&app, &bv.session.token, "s1", "v@beta.test", "beta secret question", &[("beta-file.png", PNG)])
        .await
        .ok();
    let form_seq = form["seq"].as_i64().unwrap();
    let attachment = match &app.stored(&conv).await[(form_seq - 1) as usize].extra {
        domain::wire::MessageExtra::EmailForm { attachments, .. } => attachments[0].id.clone(),
        other => panic!("expected the form, got {other:?}"),
    };
    let zed_bell = app.call_json("notifications/list", &zed, json!({})).await.ok();
    let notification = zed_bell["items"][0]["id"].as_str().unwrap().to_string();
    app.call_json("labels/conversation", &zed, json!({"conversation_id": conv, "label_id": beta_label, "on": true}))
        .await
        .ok();
    let beta_canned = app
        .call_json(
            "canned/save",
            &zed,
            json!({"canned_id": null, "input": {"title": "Beta canned", "shortcut": "beta", "text": "beta secret question"}}),
        )
        .await
        .ok();
    let beta_canned = beta_canned["id"].as_str().unwrap().to_string();
    app.call(
        "conversations/note",
        Some(&zed),
        &[("id", &conv), ("client_note_id", "z1"), ("text", "beta secret note")],
    )
    .await
    .ok();
    let stored_before = app.stored(&conv).await;

    // Ann: organization A, every permission. Every call with B's ids.
    let ann = app.login(ANN).await;
    let a_label = app
        .call_json("labels/save", &ann, json!({"label_id": null, "input": {"name": "Mine", "color": "blue"}}))
        .await
        .ok();
    let a_label = a_label["id"].as_str().unwrap().to_string();
    let a_conv = app.visitor().await.conversation_id();
    let bob = app.login(BOB).await;
    let bob_id = app.call("auth/me", Some(&bob), &[]).await.ok()["id"].as_str().unwrap().to_string();
    app.backend.touch_presence(&bob_id).await.unwrap();
    let form_calls: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("conversations/get", vec![("id", &conv)]),
        ("conversations/context", vec![("id", &conv)]),
        ("conversations/notes", vec![("id", &conv)]),
        ("conversations/note", vec![("id", &conv), ("client_note_id", "n1"), ("text", "spy")]),
        ("handoff/handle", vec![("id", &conv)]),
        ("handoff/continue", vec![("id", &conv)]),
        ("handoff/pass", vec![("id", &conv)]),
        ("handoff/close", vec![("id", &conv)]),
        ("handoff/colleagues", vec![("id", &conv)]),
        // To a colleague of A who is online: B's conversation stays B's.
        ("handoff/transfer", vec![("id", &conv), ("to", &bob_id), ("note", "spy")]),
        // B's conversation id is no visitor token: B's transcript cannot be asked for.
        ("widget/transcript", vec![("token", &conv), ("id", &conv), ("email", "a@example.com")]),
        ("chat/send", vec![("id", &conv), ("client_msg_id", "x1"), ("text", "hi")]),
    ];
    for (endpoint, form) in &form_calls {
        assert_refused(endpoint, &app.call(endpoint, Some(&ann), form).await);
    }
    // A file into B's conversation (the multipart route of the chat's files).
    let file = crate::chat_files::agent_file(&app, &ann, &conv, "f1", "spy.txt", b"spy").await;
    assert_refused("chat/file", &file);
    // Ann's own chat: B's user is neither listed as a colleague nor reachable by a transfer.
    app.call("handoff/continue", Some(&ann), &[("id", &a_conv)]).await.ok();
    let colleagues = app.call("handoff/colleagues", Some(&ann), &[("id", &a_conv)]).await.ok();
    assert_no_leak("handoff/colleagues", &colleagues);
    let to_zed = app.call("handoff/transfer", Some(&ann), &[("id", &a_conv), ("to", &zed_id), ("note", "")]).await;
    assert_refused("handoff/transfer to B's user", &to_zed);
    field_error(&to_zed, "to");
    let (state, _) = app.backend.conversation_state(&a_conv, "demo-org").await.unwrap();
    assert!(matches!(state, domain::handoff::HandoffState::Human { agent } if agent.name == "Ann Agent"));
    let change = json!({"email": "zed@beta.test", "name": "Zed", "role": "client", "org_id": beta,
                        "permissions": {"conversations": false, "settings": false, "users": false}, "active": false});
    let json_calls: Vec<(&str, Value)> = vec![
        ("email/reply", json!({"conversation_id": conv, "form_seq": form_seq, "client_msg_id": "r1", "text": "hi"})),
        ("email/retry", json!({"conversation_id": conv, "seq": form_seq})),
        ("notifications/read", json!({"id": notification})),
        (
            "agents/update",
            crate::admin::agent_update(
                &json!({"id": beta_agent_id, "name": "X", "greeting": "X",
            "llm": {"base_url": "", "model": "", "api_key_env": "", "system_prompt": "", "temperature": 0.2, "max_tokens": 500}}),
                false,
                false,
            ),
        ),
        ("knowledge/list", json!({"agent_id": beta_agent_id})),
        (
            "knowledge/save",
            json!({"agent_id": beta_agent_id, "entry_id": entry_id, "input": {"kind": "qa", "title": "t", "body": "b"}}),
        ),
        (
            "knowledge/save",
            json!({"agent_id": beta_agent_id, "entry_id": null, "input": {"kind": "qa", "title": "t", "body": "b"}}),
        ),
        ("knowledge/delete", json!({"agent_id": beta_agent_id, "entry_id": entry_id})),
        ("knowledge/delete", json!({"agent_id": "demo-agent", "entry_id": entry_id})),
        ("knowledge/import", json!({"agent_id": beta_agent_id, "file_name": "a.md", "text": "Q: a\nA: b"})),
        ("knowledge/preview", json!({"agent_id": beta_agent_id, "question": "beta secret question"})),
        ("admin/users/update", json!({"user_id": zed_id, "change": change})),
        ("admin/users/password", json!({"user_id": zed_id, "password": STRONG})),
        ("admin/orgs/rename", json!({"org_id": beta, "name": "Mine"})),
        ("admin/agents/assign", json!({"agent_id": beta_agent_id, "org_id": "demo-org"})),
        ("admin/agents/list", json!({})),
        ("admin/agents/create", json!({"name": "Spy", "org_id": beta})),
        ("admin/orgs/create", json!({"name": "Spy"})),
        ("labels/save", json!({"label_id": beta_label, "input": {"name": "Taken", "color": "gray"}})),
        ("labels/delete", json!({"label_id": beta_label})),
        ("visitor/erasure", json!({"conversation_id": conv})),
        ("visitor/erase", json!({"conversation_id": conv, "confirm": true})),
        ("canned/save", json!({"canned_id": beta_canned, "input": {"title": "Mine", "shortcut": "mine", "text": "x"}})),
        ("canned/delete", json!({"canned_id": beta_canned})),
        ("labels/conversation", json!({"conversation_id": conv, "label_id": beta_label, "on": false})),
        ("labels/conversation", json!({"conversation_id": conv, "label_id": a_label, "on": true})),
        ("labels/conversation", json!({"conversation_id": a_conv, "label_id": beta_label, "on": true})),
        (
            "widgets/save",
            json!({"widget_id": beta_widget, "input": {"name": "Mine", "org_id": null, "agent_id": "demo-agent", "allowed_origins": ""}}),
        ),
        (
            "widgets/save",
            json!({"widget_id": null, "input": {"name": "Mine", "org_id": beta, "agent_id": "demo-agent", "allowed_origins": ""}}),
        ),
        (
            "widgets/save",
            json!({"widget_id": null, "input": {"name": "Mine", "org_id": null, "agent_id": beta_agent_id, "allowed_origins": ""}}),
        ),
        (
            "admin/users/create",
            json!({"user": {"email": "spy@demo.test", "name": "Spy", "password": STRONG, "role": "client",
            "org_id": beta, "permissions": {"conversations": true, "settings": true, "users": true}}}),
        ),
    ];
    for (endpoint, body) in &json_calls {
        assert_refused(endpoint, &app.call_json(endpoint, &ann, body.clone()).await);
    }
    // A widget of A's cannot be pointed at B's agent: the error names the field, not the agent.
    let msg = field_error(
        &app.call_json(
            "widgets/save",
            &ann,
            json!({"widget_id": "demo", "input": {"name": "Demo website", "org_id": null,
            "agent_id": beta_agent_id, "allowed_origins": ""}}),
        )
        .await,
        "agent_id",
    );
    assert!(!msg.contains("Beta"));

    // Lists show A's rows only, whatever is asked for.
    let lists: Vec<(&str, Value)> = vec![
        ("admin/orgs/list", json!({})),
        ("admin/users/list", json!({"org_id": beta})),
        ("agents/list", json!({})),
        ("widgets/list", json!({})),
        ("notifications/list", json!({})),
        ("org/settings", json!({})),
        ("labels/list", json!({})),
        ("canned/list", json!({})),
        ("org/retention", json!({})),
        ("org/audit", json!({})),
    ];
    for (endpoint, body) in &lists {
        assert_no_leak(endpoint, &app.call_json(endpoint, &ann, body.clone()).await.ok());
    }
    let list = app.call("conversations/list", Some(&ann), &[]).await.ok();
    assert!(list.as_array().unwrap().iter().all(|c| c["id"] != conv.as_str()));
    let labelled = app.call("conversations/page", Some(&ann), &[("filter", "all"), ("label", &beta_label)]).await.ok();
    assert_eq!(labelled["conversations"], json!([]), "B's label filters A's list to nothing");
    // Marking "all of B's conversation" read touches nothing of Zed's.
    app.call_json("notifications/read_all", &ann, json!({"conversation_id": conv})).await.ok();

    // B's visitor's data cannot be exported by A (the same 404 as a missing conversation).
    let exported = app
        .http
        .get(format!("{}/api/visitor/export?conversation_id={conv}", app.base))
        .header("cookie", &ann)
        .send()
        .await;
    assert_eq!(exported.unwrap().status().as_u16(), 404);

    // The attachment: not for A's users, not for A's visitors.
    assert_eq!(download(&app, &attachment, Some(&ann), None).await.status(), 404);
    let av = app.visitor().await;
    assert_eq!(download(&app, &attachment, None, Some(&av.session.token)).await.status(), 404);
    assert_eq!(download(&app, &attachment, Some(&zed), None).await.status(), 200, "B's own user may");

    // WebSockets: watching B's conversation is refused; B's live events never reach A's socket.
    let mut ann_ws = app.agent(ANN).await;
    ann_ws.watch(&conv, 0).await;
    let refusal = ann_ws.socket.next().await;
    assert!(matches!(&refusal, ServerFrame::Error { code, .. } if code == "not_found"), "{refusal:?}");
    assert_no_leak("watch", &serde_json::to_value(&refusal).unwrap());
    bv.send("b2", "beta secret question again").await;
    bv.ack("b2").await;
    while let Some(frame) = ann_ws.socket.try_next(Duration::from_millis(700)).await {
        let v = serde_json::to_value(&frame).unwrap();
        assert!(!v.to_string().contains(&conv), "B's event reached A: {v}");
        assert_no_leak("agent socket", &v);
    }
    // A visitor token is good for its own widget and conversation only.
    let reused = app.visitor_session("demo", Some(&bv.session.token)).await;
    assert_ne!(reused.conversation_id, conv, "B's visitor token opens nothing on A's widget");
    let mut sock = Socket::connect(&app, "/ws/visitor", None).await;
    sock.send_json(json!({"type": "hello", "token": av.session.token, "last_seq": 0})).await;
    match sock.next().await {
        ServerFrame::Welcome { conversation_id, .. } => assert_eq!(conversation_id, av.conversation_id()),
        other => panic!("expected welcome, got {other:?}"),
    }

    // B is unchanged.
    let mut stored = app.stored(&conv).await;
    stored.truncate(stored_before.len());
    assert_eq!(stored, stored_before);
    assert!(app.stored(&conv).await.iter().all(|m| !matches!(m.author, domain::wire::Author::Agent { .. })));
    let canned = app.call_json("canned/list", &zed, json!({})).await.ok();
    assert_eq!((canned.as_array().map(Vec::len), canned[0]["title"].as_str()), (Some(1), Some("Beta canned")));
    let notes = app.call("conversations/notes", Some(&zed), &[("id", &conv)]).await.ok();
    assert_eq!(notes.as_array().map(|n| (n.len(), n[0]["text"].clone())), Some((1, json!("beta secret note"))));
    let (state, _) = app.backend.conversation_state(&conv, &beta).await.unwrap();
    assert_eq!(state, domain::handoff::HandoffState::Requested);
    let bell = app.call_json("notifications/list", &zed, json!({})).await.ok();
    assert!(bell["items"].as_array().unwrap().iter().any(|n| n["id"] == notification.as_str() && n["read"] == false));
    let beta_labels = app.call_json("labels/list", &zed, json!({})).await.ok();
    assert_eq!(
        (beta_labels[0]["name"].as_str(), beta_labels[0]["conversations"].as_i64()),
        (Some("Beta label"), Some(1))
    );
    assert_eq!(beta_labels.as_array().unwrap().len(), 1);
    let knowledge = app.call_json("knowledge/list", &zed, json!({"agent_id": beta_agent_id})).await.ok();
    assert_eq!(knowledge.as_array().unwrap().len(), 1);
    assert_eq!(knowledge[0]["title"], "beta secret question");
    let agents = app.call_json("agents/list", &zed, json!({})).await.ok();
    assert_eq!(agents[0]["name"], "Beta Bot");
    let widgets = app.call_json("widgets/list", &zed, json!({})).await.ok();
    assert_eq!(
        (widgets[0][0]["name"].as_str(), widgets[0][0]["agent_id"].as_str()),
        (Some("Beta site"), Some(beta_agent_id.as_str()))
    );
    let orgs = app.call_json("admin/orgs/list", &admin, json!({})).await.ok();
    assert!(orgs.as_array().unwrap().iter().any(|o| o["name"] == "Beta"));
    assert!(!orgs.as_array().unwrap().iter().any(|o| o["name"] == "Spy"));
    app.sign_in("zed@beta.test", STRONG).await.expect("Zed's password and account are untouched");
    assert_eq!(app.call("auth/me", Some(&zed), &[]).await.ok()["email"], "zed@beta.test", "and so is her session");
}
on_both_databases!(organizations_cannot_reach_each_other);
