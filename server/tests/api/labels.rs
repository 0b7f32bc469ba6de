//! Conversation labels (issue 22): made and changed with the *settings* permission, put on and
//! taken off conversations with the *conversations* permission, shown live in the dashboard's
//! summaries, used as a filter of the list; bad input refused with nothing changed; concurrent
//! changes of one conversation's labels all kept; a dashboard that fell behind learns of them.
use crate::admin::field_error;
use crate::helpers::*;
use crate::on_both_databases;
use domain::inbox::ConversationPage;
use domain::labels::LabelDto;
use domain::wire::{ConversationDetail, ConversationSummary, ServerFrame};
use serde_json::{json, Value};
use std::time::Duration;

async fn make(app: &TestApp, cookie: &str, name: &str, color: &str) -> Answer {
    app.call_json("labels/save", cookie, json!({"label_id": null, "input": {"name": name, "color": color}})).await
}

async fn labels(app: &TestApp, cookie: &str) -> Vec<LabelDto> {
    serde_json::from_value(app.call_json("labels/list", cookie, json!({})).await.ok()).unwrap()
}

async fn label(app: &TestApp, cookie: &str, conversation: &str, label: &str, on: bool) -> Answer {
    app.call_json("labels/conversation", cookie, json!({"conversation_id": conversation, "label_id": label, "on": on}))
        .await
}

async fn summary(app: &TestApp, cookie: &str, id: &str) -> ConversationSummary {
    let detail = app.call("conversations/get", Some(cookie), &[("id", id)]).await.ok();
    serde_json::from_value::<ConversationDetail>(detail).unwrap().summary
}

/// The ids the list's first page under `label` holds (waiting requests aside: none here).
async fn listed_with(app: &TestApp, cookie: &str, label: &str) -> Vec<String> {
    let page = app.call("conversations/page", Some(cookie), &[("filter", "all"), ("label", label)]).await.ok();
    let page: ConversationPage = serde_json::from_value(page).unwrap();
    let mut ids: Vec<String> = page.conversations.into_iter().map(|c| c.id).collect();
    ids.sort();
    ids
}

/// Reads Ann's dashboard socket until the conversation's summary carries exactly `want`.
async fn summary_shows(socket: &mut Socket, id: &str, want: &[&str]) {
    socket.until(|f| list_rows(f).iter().find(|s| s.id == id && s.labels == want).map(|_| ())).await;
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

async fn labels_are_made_put_on_conversations_and_filter_the_list(db: Db) {
    let app = spawn_app(db).await;
    let mut ann = app.agent(ANN).await; // every permission
    let bob = app.login(BOB).await; // conversations, not settings
    let (one, two) = (app.visitor().await.conversation_id(), app.visitor().await.conversation_id());

    let billing = id_of(&make(&app, &ann.cookie, "  Billing   question ", "red").await.ok());
    let vip = make(&app, &ann.cookie, "VIP", "blue").await.ok();
    assert_eq!(vip["color"], "blue");
    let vip = id_of(&vip);
    let names: Vec<String> = labels(&app, &bob).await.into_iter().map(|l| l.name).collect();
    assert_eq!(names, ["Billing question", "VIP"], "trimmed, by name, readable by every user");

    // Bad input: a clear error on its field, nothing made or changed.
    assert_eq!(field_error(&make(&app, &ann.cookie, "   ", "red").await, "name"), "enter a name");
    assert_eq!(
        field_error(&make(&app, &ann.cookie, &"x".repeat(33), "red").await, "name"),
        "must be at most 32 characters"
    );
    assert_eq!(field_error(&make(&app, &ann.cookie, "vip", "red").await, "name"), "a label with this name exists");
    assert!(field_error(&make(&app, &ann.cookie, "bell\u{7}", "red").await, "name").contains("control"));
    let rename = json!({"label_id": vip, "input": {"name": "BILLING QUESTION", "color": "red"}});
    assert_eq!(
        field_error(&app.call_json("labels/save", &ann.cookie, rename).await, "name"),
        "a label with this name exists"
    );
    assert_eq!(make(&app, &ann.cookie, "Red", "#ff0000").await.status, 400, "colours come from the palette");
    assert_eq!(make(&app, &bob, "Bob's", "red").await.status, 403, "making labels needs the settings permission");
    let delete = app.call_json("labels/delete", &bob, json!({"label_id": vip})).await;
    assert_eq!(delete.status, 403);
    assert_eq!(labels(&app, &ann.cookie).await.len(), 2);

    // Bob puts Billing on the first conversation: Ann's dashboard is sent its new summary.
    ann.socket.ready().await;
    label(&app, &bob, &one, &billing, true).await.ok();
    summary_shows(&mut ann.socket, &one, &[&billing]).await;
    label(&app, &bob, &one, &billing, true).await.ok(); // already on: nothing changes
    label(&app, &ann.cookie, &two, &vip, true).await.ok();
    label(&app, &ann.cookie, &two, &billing, true).await.ok();
    let mut both = vec![billing.clone(), vip.clone()];
    both.sort();
    assert_eq!(summary(&app, &bob, &two).await.labels, both);
    assert_eq!(listed_with(&app, &bob, &billing).await, {
        let mut v = vec![one.clone(), two.clone()];
        v.sort();
        v
    });
    assert_eq!(listed_with(&app, &bob, &vip).await, [two.clone()]);
    let counts: Vec<i64> = labels(&app, &bob).await.into_iter().map(|l| l.conversations).collect();
    assert_eq!(counts, [2, 1]);

    // Taken off: the list and the summary follow.
    label(&app, &bob, &one, &billing, false).await.ok();
    summary_shows(&mut ann.socket, &one, &[]).await;
    assert_eq!(listed_with(&app, &bob, &billing).await, [two.clone()]);

    // Renamed and recoloured; deleted: off every conversation, and the dashboards are told.
    let renamed = app
        .call_json(
            "labels/save",
            &ann.cookie,
            json!({"label_id": vip, "input": {"name": "Very important", "color": "purple"}}),
        )
        .await
        .ok();
    assert_eq!((renamed["name"].as_str(), renamed["color"].as_str()), (Some("Very important"), Some("purple")));
    app.call_json("labels/delete", &ann.cookie, json!({"label_id": vip})).await.ok();
    summary_shows(&mut ann.socket, &two, &[&billing]).await;
    assert!(listed_with(&app, &bob, &vip).await.is_empty());
    assert_eq!(labels(&app, &bob).await.len(), 1);

    // Refused: unknown ids, a user without the conversations permission, more than ten labels.
    assert_eq!(label(&app, &bob, &one, "no-such-label", true).await.status, 404);
    assert_eq!(label(&app, &bob, "no-such-conversation", &billing, true).await.status, 404);
    let (vic, admin) = crate::admin::viewer_without_permissions(&app).await;
    assert_eq!(label(&app, &vic, &one, &billing, true).await.status, 403);
    assert_eq!(
        app.call_json("labels/list", &admin, json!({})).await.status,
        403,
        "an admin without an organization has none"
    );
    let mut ids = Vec::new();
    for i in 0..10 {
        ids.push(id_of(&make(&app, &ann.cookie, &format!("Label {i}"), "gray").await.ok()));
    }
    for id in &ids {
        label(&app, &bob, &one, id, true).await.ok();
    }
    let eleventh = label(&app, &bob, &one, &billing, true).await;
    assert_eq!(field_error(&eleventh, "label_id"), "a conversation has at most 10 labels");
    assert_eq!(summary(&app, &bob, &one).await.labels.len(), 10, "the refused label was not added");
}
on_both_databases!(labels_are_made_put_on_conversations_and_filter_the_list);

/// Another organization neither sees Demo Org's labels nor puts them on anything, nor puts its own
/// on Demo Org's conversations; its list under Demo Org's label is empty.
async fn labels_stay_in_their_organization(db: Db) {
    let app = spawn_app(db).await;
    let ann = app.login(ANN).await;
    let demo = app.visitor().await.conversation_id();
    let billing = id_of(&make(&app, &ann, "Billing", "red").await.ok());
    label(&app, &ann, &demo, &billing, true).await.ok();
    let eve = app.other_org_user().await;
    assert!(labels(&app, &eve).await.is_empty());
    let own = id_of(&make(&app, &eve, "Billing", "green").await.ok()); // the same name is hers to use
    assert_eq!(label(&app, &eve, &demo, &own, true).await.status, 404);
    assert_eq!(label(&app, &eve, &demo, &billing, false).await.status, 404);
    let rename = json!({"label_id": billing, "input": {"name": "Mine", "color": "red"}});
    assert_eq!(app.call_json("labels/save", &eve, rename).await.status, 404);
    assert_eq!(app.call_json("labels/delete", &eve, json!({"label_id": billing})).await.status, 404);
    assert!(listed_with(&app, &eve, &billing).await.is_empty());
    // Demo Org's are as they were.
    assert_eq!(summary(&app, &ann, &demo).await.labels, [billing.clone()]);
    let names: Vec<String> = labels(&app, &ann).await.into_iter().map(|l| l.name).collect();
    assert_eq!(names, ["Billing"]);
}
on_both_databases!(labels_stay_in_their_organization);

/// The organization's dashboards are told when its labels change (made, renamed, deleted), so a
/// renamed label's chips change without a reload; another organization's are not.
async fn label_changes_reach_the_organizations_dashboards(db: Db) {
    let app = spawn_app(db).await;
    let mut bob = app.agent(BOB).await;
    bob.socket.ready().await;
    let eve = app.other_org_user().await;
    let mut outsider = Socket::connect(&app, "/ws/agent", Some(&eve)).await;
    outsider.ready().await;
    let ann = app.login(ANN).await;
    let billing = id_of(&make(&app, &ann, "Billing", "red").await.ok());
    told(&mut bob.socket).await;
    let rename = json!({"label_id": billing, "input": {"name": "Invoices", "color": "blue"}});
    app.call_json("labels/save", &ann, rename).await.ok();
    told(&mut bob.socket).await;
    app.call_json("labels/delete", &ann, json!({"label_id": billing})).await.ok();
    told(&mut bob.socket).await;
    while let Some(frame) = outsider.try_next(Duration::from_millis(300)).await {
        assert!(!matches!(frame, ServerFrame::LabelsChanged), "another organization was told");
    }
}
on_both_databases!(label_changes_reach_the_organizations_dashboards);

/// Eight labels put on one conversation at once, by eight requests: every one is kept, in the
/// label rows and in the conversation's summary (each change locks the conversation's row first,
/// so none is written from a stale read of the others). The guarantee is PostgreSQL's to prove:
/// SQLite runs one write at a time anyway.
async fn labels_put_on_at_once_are_all_kept(db: Db) {
    let app = spawn_app(db).await;
    let ann = app.login(ANN).await;
    let one = app.visitor().await.conversation_id();
    let mut ids = Vec::new();
    for i in 0..8 {
        ids.push(id_of(&make(&app, &ann, &format!("L{i}"), "teal").await.ok()));
    }
    let puts = ids.iter().map(|id| label(&app, &ann, &one, id, true));
    for answer in futures::future::join_all(puts).await {
        answer.ok();
    }
    ids.sort();
    assert_eq!(summary(&app, &ann, &one).await.labels, ids);
    let listed: Vec<i64> = labels(&app, &ann).await.into_iter().map(|l| l.conversations).collect();
    assert_eq!(listed, [1; 8]);
}
on_both_databases!(labels_put_on_at_once_are_all_kept);

/// A label put on an old conversation (last active an hour ago) on another node, which this node
/// does not hear: Ann's dashboard socket falls behind and catches up from the database, and its
/// list then shows the label (the catch-up reads label changes, not only activity). Several
/// processes share a database on PostgreSQL only (two SQLite servers on one file race for its
/// write lock: `list::a_lagging_dashboard_is_resent_every_changed_conversation` shows it now and
/// then), so this runs there.
async fn a_lagging_dashboard_learns_label_changes(db: Db) {
    let a = spawn_app_with(db, |c| c.relay_events = false).await;
    let b = spawn_node_sharing(&a, |_| {}).await;
    let ann_b = b.login(ANN).await;
    let old = a.visitor().await.conversation_id();
    sqlx::query("UPDATE conversations SET last_activity = last_activity - 3600000 WHERE id = $1")
        .bind(&old)
        .execute(&a.backend.db.writer)
        .await
        .unwrap();
    let billing = id_of(&make(&b, &ann_b, "Billing", "red").await.ok());
    let mut ann = a.agent(ANN).await;
    ann.socket.ready().await;
    label(&b, &ann_b, &old, &billing, true).await.ok();
    // Far more frames than a receiver buffers, published without yielding: the socket lags.
    for _ in 0..2 * backend::hub::ORG_CAPACITY {
        a.backend.hub.publish_org("demo-org", ServerFrame::Notifications);
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while std::time::Instant::now() < deadline {
        if let Some(f) = ann.socket.try_next(Duration::from_millis(200)).await {
            if list_rows(&f).iter().any(|s| s.id == old && s.labels == [billing.clone()]) {
                return;
            }
        }
    }
    panic!("the label put on while the socket lagged never reached it");
}
mod a_lagging_dashboard_learns_label_changes {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        if crate::helpers::postgres_available().await {
            super::a_lagging_dashboard_learns_label_changes(crate::helpers::Db::Postgres).await
        }
    }
}

async fn told(socket: &mut Socket) {
    socket.until(|f| matches!(f, ServerFrame::LabelsChanged).then_some(())).await
}
