//! A platform admin's conversations tab per AI agent (issue 29): the same live list and the same
//! handoff buttons as a client dashboard, over every conversation one AI agent answers, whatever
//! its organization; handling a chat there is done, and recorded, in the admin's own name. Nobody
//! else reaches it.
use crate::admin::{perms, set_up_org, ADMIN, STRONG};
use crate::helpers::*;
use crate::on_both_databases;
use domain::handoff::HandoffState;
use domain::wire::{Author, ConversationSummary, ServerFrame};
use serde_json::json;
use std::time::Duration;

const DEMO_AGENT: &str = "demo-agent";

fn listed(app_answer: serde_json::Value) -> Vec<ConversationSummary> {
    serde_json::from_value(app_answer).unwrap()
}

async fn an_admin_handles_a_request_from_an_ai_agents_tab(db: Db) {
    let app = spawn_app(db).await;
    let admin = app.login(ADMIN).await;
    // Another organization with its own AI agent and a visitor: not in the demo agent's tab.
    let (_org, _agent, other_widget, _cookie) = set_up_org(&app, &admin, "Globex", "gus@globex.test").await;
    let mut other = app.visitor_on(&other_widget).await;
    other.send("o1", "Hello Globex").await;
    other.ack("o1").await;

    let mut tab = Socket::connect(&app, &format!("/ws/agent?ai_agent={DEMO_AGENT}"), Some(&admin)).await;
    tab.ready().await;
    let mut v = app.visitor().await;
    let conv = v.conversation_id();
    v.send("q1", "Where is my parcel?").await;
    v.ack("q1").await;
    v.socket.send_json(json!({"type": "request_human"})).await;
    // The request reaches the tab live, with its mark data (the visitor just wrote).
    let row =
        tab.until(|f| list_rows(f).iter().find(|s| s.id == conv && s.state == HandoffState::Requested).cloned()).await;
    assert_eq!(row.ai_agent_id, DEMO_AGENT);
    assert!(row.is_active(backend::ids::now_ms()), "{row:?}");

    // The tab's list: the demo agent's conversations only.
    let list = listed(app.call("admin/ai-agent-conversations", Some(&admin), &[("ai_agent", DEMO_AGENT)]).await.ok());
    assert!(list.iter().any(|s| s.id == conv));
    assert!(list.iter().all(|s| s.ai_agent_id == DEMO_AGENT), "{list:?}");
    assert!(!list.iter().any(|s| s.id == other.conversation_id()), "another agent's conversation is listed");

    // Handle chat, in the admin's name.
    let state = app.call("handoff/handle", Some(&admin), &[("id", &conv)]).await.ok();
    assert_eq!(state["kind"], "human");
    assert_eq!(state["agent"]["name"], "Demo Admin");
    let joined = v.message(|m| m.author == Author::System && m.text.ends_with("joined the chat.")).await;
    assert_eq!(joined.text, "Demo Admin joined the chat.");

    tab.send_json(json!({"type": "watch", "conversation_id": conv, "last_seq": 0})).await;
    let seen = tab
        .until(|f| match f {
            ServerFrame::Message { message } if message.client_msg_id.as_deref() == Some("q1") => Some(message.clone()),
            _ => None,
        })
        .await;
    assert_eq!(seen.text, "Where is my parcel?");
    app.call("chat/send", Some(&admin), &[("id", &conv), ("client_msg_id", "a1"), ("text", "Hi, I am here.")])
        .await
        .ok();
    let reply = v.message(|m| matches!(m.author, Author::Agent { .. })).await;
    assert_eq!(reply.author, Author::Agent { id: "demo-admin".into(), name: "Demo Admin".into() });

    let state = app.call("handoff/pass", Some(&admin), &[("id", &conv)]).await.ok();
    assert_eq!(state["kind"], "ai");
    let events: Vec<(String, Option<String>)> =
        app.control_events(&conv).await.into_iter().map(|(event, _, _, actor)| (event, actor)).collect();
    assert_eq!(
        events,
        vec![
            ("request_human".into(), None),
            ("handle_chat".into(), Some("Demo Admin".into())),
            ("pass_chat_to_ai".into(), Some("Demo Admin".into())),
        ]
    );

    // Nothing of the other agent's conversation reached the tab's list.
    other.send("o2", "Still there?").await;
    other.ack("o2").await;
    let other_id = other.conversation_id();
    while let Some(f) = tab.try_next(Duration::from_millis(700)).await {
        assert!(!list_rows(&f).iter().any(|s| s.id == other_id), "another agent's conversation reached the tab");
    }
}
on_both_databases!(an_admin_handles_a_request_from_an_ai_agents_tab);

async fn only_platform_admins_reach_an_ai_agents_tab(db: Db) {
    let app = spawn_app(db).await;
    let ann = app.login(ANN).await;
    // A client user, even with every permission of the agent's own organization.
    let refused = app.call("admin/ai-agent-conversations", Some(&ann), &[("ai_agent", DEMO_AGENT)]).await;
    assert_eq!(refused.err(403)["kind"], "forbidden", "{refused:?}");
    let socket =
        Socket::try_connect(&app, &format!("/ws/agent?ai_agent={DEMO_AGENT}"), Some(&ann), Some(&app.base)).await;
    assert!(socket.is_err(), "a client user opened an AI agent's tab socket");
    // Anonymous.
    let socket = Socket::try_connect(&app, &format!("/ws/agent?ai_agent={DEMO_AGENT}"), None, Some(&app.base)).await;
    assert!(socket.is_err());
    // An admin asking for an agent that does not exist.
    let admin = app.login(ADMIN).await;
    let socket = Socket::try_connect(&app, "/ws/agent?ai_agent=nope", Some(&admin), Some(&app.base)).await;
    assert!(socket.is_err());
    let none = listed(app.call("admin/ai-agent-conversations", Some(&admin), &[("ai_agent", "nope")]).await.ok());
    assert!(none.is_empty());
    // A client user cannot act on another organization's conversation through the admin's path:
    // their own organization scopes every action.
    let eve = app.other_org_user().await;
    let v = app.visitor().await;
    let conv = v.conversation_id();
    let answer = app.call("handoff/continue", Some(&eve), &[("id", &conv)]).await;
    assert_eq!(answer.err(404)["kind"], "not_found", "{answer:?}");

    // Revocation reaches an open tab: a second admin, made a client user, loses it at once.
    let zoe = json!({"user": {"email": "zoe@demo.test", "name": "Zoe", "password": STRONG, "role": "admin",
                              "org_id": null, "permissions": perms(true, true, true)}});
    let zoe = app.call_json("admin/users/create", &admin, zoe).await.ok();
    let zoe_cookie = app.sign_in("zoe@demo.test", STRONG).await.unwrap();
    let mut tab = Socket::connect(&app, &format!("/ws/agent?ai_agent={DEMO_AGENT}"), Some(&zoe_cookie)).await;
    tab.ready().await;
    let demoted = json!({"user_id": zoe["id"], "change": {"email": "zoe@demo.test", "name": "Zoe", "role": "client",
                         "org_id": "demo-org", "permissions": perms(true, true, true), "active": true}});
    app.call_json("admin/users/update", &admin, demoted).await.ok();
    assert!(tab.closes_within(Duration::from_secs(2)).await, "the demoted admin's tab stayed open");
}
on_both_databases!(only_platform_admins_reach_an_ai_agents_tab);
