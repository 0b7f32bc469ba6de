//! The agent's inbox (issue 22): the list under each filter with every filter's count, pages
//! through any number of conversations (keyset, no cap), counts kept live over the agent socket,
//! and bad input refused.
use crate::helpers::*;
use crate::on_both_databases;
use domain::handoff::HandoffState;
use domain::inbox::{ConversationPage, ListCounts, ListFilter, SearchHit};
use domain::wire::ServerFrame;
use serde_json::json;
use std::collections::HashSet;

async fn page(app: &TestApp, cookie: &str, filter: &str, after: Option<(i64, &str)>) -> ConversationPage {
    let at = after.map(|(a, _)| a.to_string());
    let mut form = vec![("filter", filter)];
    if let (Some(at), Some((_, id))) = (&at, after) {
        form.push(("after[last_activity]", at));
        form.push(("after[id]", id));
    }
    serde_json::from_value(app.call("conversations/page", Some(cookie), &form).await.ok()).unwrap()
}

/// The ids of a first page that belong to its filter (a first page also carries every waiting
/// request, whatever the filter).
fn listed(p: &ConversationPage, filter: ListFilter, me: &str) -> HashSet<String> {
    p.conversations.iter().filter(|c| filter.contains(&c.state, me)).map(|c| c.id.clone()).collect()
}

async fn request_human(v: &mut Visitor) {
    v.socket.send_json(json!({"type": "request_human"})).await;
    v.socket.until(|f| matches!(f, ServerFrame::State { state: HandoffState::Requested, .. }).then_some(())).await;
}

/// One conversation in each state (two held: by Ann and by Bob): each filter lists exactly its
/// own, and the counts say so, for Ann and for Bob.
async fn each_filter_lists_and_counts_its_conversations(db: Db) {
    let app = spawn_app(db).await;
    let (ann, bob) = (app.agent(ANN).await, app.agent(BOB).await);
    let with_ai = app.visitor().await;
    let mut waiting = app.visitor().await;
    request_human(&mut waiting).await;
    let ann_holds = app.visitor().await;
    ann.act(&app, "handoff/continue", &ann_holds.conversation_id()).await.ok();
    let bob_holds = app.visitor().await;
    bob.act(&app, "handoff/continue", &bob_holds.conversation_id()).await.ok();
    let closed = app.visitor().await;
    ann.act(&app, "handoff/continue", &closed.conversation_id()).await.ok();
    ann.act(&app, "handoff/close", &closed.conversation_id()).await.ok();

    let ids = |vs: &[&Visitor]| vs.iter().map(|v| v.conversation_id()).collect::<HashSet<_>>();
    let ann_id = "demo-user-1";
    let expected = [
        (ListFilter::All, ids(&[&with_ai, &waiting, &ann_holds, &bob_holds, &closed])),
        (ListFilter::Requests, ids(&[&waiting])),
        (ListFilter::Mine, ids(&[&ann_holds])),
        (ListFilter::WithAi, ids(&[&with_ai])),
        (ListFilter::WithHuman, ids(&[&ann_holds, &bob_holds])),
        (ListFilter::Closed, ids(&[&closed])),
    ];
    let counts = ListCounts { requests: 1, mine: 1, with_ai: 1, with_human: 2, closed: 1, all: 5 };
    for (filter, want) in expected {
        let p = page(&app, &ann.cookie, filter.as_str(), None).await;
        assert_eq!(listed(&p, filter, ann_id), want, "{filter:?}");
        assert_eq!(p.counts, Some(counts), "{filter:?}");
        assert_eq!(p.next, None);
        let waiting_listed = p.conversations.iter().any(|c| c.id == waiting.conversation_id());
        assert!(waiting_listed, "{filter:?}: a first page carries the waiting request");
    }
    // Mine is Bob's for Bob.
    let p = page(&app, &bob.cookie, "mine", None).await;
    assert_eq!(listed(&p, ListFilter::Mine, "demo-user-2"), ids(&[&bob_holds]));
    assert_eq!(p.counts.unwrap().mine, 1);
}
on_both_databases!(each_filter_lists_and_counts_its_conversations);

/// 130 conversations (more than two pages): reading on with each page's cursor reaches every one
/// exactly once, newest activity first, and stops; the Closed filter pages the same way.
async fn pages_reach_every_conversation_once(db: Db) {
    const MANY: usize = 130;
    let app = spawn_app(db).await;
    let ann = app.agent(ANN).await;
    let mut made = HashSet::new();
    for _ in 0..MANY {
        made.insert(app.backend.visitor_session("demo", None, None).await.unwrap().conversation_id);
    }
    let mut seen = Vec::new();
    let mut after: Option<(i64, String)> = None;
    let mut pages = 0;
    loop {
        let p = page(&app, &ann.cookie, "all", after.as_ref().map(|(a, id)| (*a, id.as_str()))).await;
        pages += 1;
        assert!(p.conversations.len() <= domain::inbox::PAGE_SIZE);
        assert_eq!(p.counts.is_some(), pages == 1, "counts come with the first page only");
        seen.extend(p.conversations.iter().map(|c| (c.last_activity, c.id.clone())));
        match p.next {
            Some(c) => after = Some((c.last_activity, c.id)),
            None => break,
        }
        assert!(pages < 10, "paging does not end");
    }
    let ids: HashSet<String> = seen.iter().map(|(_, id)| id.clone()).collect();
    assert_eq!(ids.len(), seen.len(), "a conversation on two pages");
    assert!(made.is_subset(&ids), "{} of {MANY} conversations never listed", made.difference(&ids).count());
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "newest activity first, then id");
    assert_eq!(pages, MANY.div_ceil(domain::inbox::PAGE_SIZE));

    // Closed conversations are reachable too, however many there are.
    for id in made.iter().take(3) {
        ann.act(&app, "handoff/continue", id).await.ok();
        ann.act(&app, "handoff/close", id).await.ok();
    }
    let p = page(&app, &ann.cookie, "closed", None).await;
    assert_eq!(p.conversations.len(), 3);
    assert_eq!(p.counts.unwrap().closed, 3);
    // A closed conversation still opens with its whole transcript.
    let detail = app.call("conversations/get", Some(&ann.cookie), &[("id", &p.conversations[0].id)]).await.ok();
    assert_eq!(detail["summary"]["state"]["kind"], "closed");
    assert!(!detail["messages"].as_array().unwrap().is_empty());
}
on_both_databases!(pages_reach_every_conversation_once);

/// Ann's dashboard socket is sent the counts again when a conversation appears or changes
/// state, not for messages.
async fn counts_follow_over_the_agent_socket(db: Db) {
    let app = spawn_app(db).await;
    let mut ann = app.agent(ANN).await;
    ann.socket.ready().await;
    let counts = |f: &ServerFrame| match f {
        ServerFrame::Counts { counts } => Some(*counts),
        _ => None,
    };
    let mut v = app.visitor().await;
    let c = ann.socket.until(|f| counts(f).filter(|c| c.with_ai == 1)).await;
    assert_eq!(c, ListCounts { with_ai: 1, all: 1, ..Default::default() });
    request_human(&mut v).await;
    let c = ann.socket.until(|f| counts(f).filter(|c| c.requests == 1)).await;
    assert_eq!(c, ListCounts { requests: 1, all: 1, ..Default::default() });
    ann.act(&app, "handoff/handle", &v.conversation_id()).await.ok();
    let c = ann.socket.until(|f| counts(f).filter(|c| c.mine == 1)).await;
    assert_eq!(c, ListCounts { mine: 1, with_human: 1, all: 1, ..Default::default() });
    // A message changes no count: its list frame comes alone.
    v.send("m1", "hello").await;
    v.ack("m1").await;
    let mut frames = Vec::new();
    while let Some(f) = ann.socket.try_next(std::time::Duration::from_millis(700)).await {
        frames.push(f);
    }
    assert!(frames.iter().any(|f| !list_rows(f).is_empty()), "the message's list frame");
    assert!(!frames.iter().any(|f| counts(f).is_some()), "counts for a message: {frames:?}");
}
on_both_databases!(counts_follow_over_the_agent_socket);

/// Unknown filters and malformed cursors are refused with 400, nothing else; signed-out callers
/// get 401, a client user asking for an AI agent's tab 403, and another organization's user
/// never sees a demo conversation.
async fn bad_inbox_input_is_refused(db: Db) {
    let app = spawn_app(db).await;
    let ann = app.agent(ANN).await;
    let v = app.visitor().await;
    let call = |form: Vec<(&'static str, &'static str)>, cookie: Option<String>| {
        let app = &app;
        async move { app.call("conversations/page", cookie.as_deref(), &form).await }
    };
    let me = Some(ann.cookie.clone());
    for form in [
        vec![("filter", "everything")],
        vec![("filter", "all'; DROP TABLE conversations; --")],
        vec![("filter", "all"), ("after[last_activity]", "soon"), ("after[id]", "x")],
    ] {
        let a = call(form.clone(), me.clone()).await;
        assert_eq!(a.status, 400, "{form:?}: {:?}", a.body);
        assert_eq!(a.body["kind"], "validation");
    }
    // A cursor naming no conversation is just a position: the page after it.
    let a =
        call(vec![("filter", "all"), ("after[last_activity]", "0"), ("after[id]", "' OR 1=1 --")], me.clone()).await;
    assert_eq!(a.ok()["conversations"], json!([]));
    assert_eq!(call(vec![("filter", "all")], None).await.status, 401);
    let tab = app.call("conversations/page", Some(&ann.cookie), &[("filter", "all"), ("ai_agent", "demo-agent")]).await;
    assert_eq!(tab.status, 403, "{:?}", tab.body);
    let other = app.other_org_user().await;
    let p = page(&app, &other, "all", None).await;
    assert!(!p.conversations.iter().any(|c| c.id == v.conversation_id()), "another organization's conversation");
    assert_eq!(p.counts.unwrap().all, 0);
    // The list is unchanged by all that.
    assert_eq!(page(&app, &ann.cookie, "all", None).await.counts.unwrap().all, 1);
}
on_both_databases!(bad_inbox_input_is_refused);

async fn search(app: &TestApp, cookie: &str, q: &str) -> Vec<SearchHit> {
    let a = app.call("conversations/search", Some(cookie), &[("q", q)]).await;
    assert_eq!(a.status, 200, "{q:?}: {:?}", a.body);
    serde_json::from_value(a.body).unwrap()
}

/// Search finds a message's words (any case, every word), the e-mail address a visitor left in
/// the e-mail form and a visitor's name, in open and closed conversations, only in the caller's
/// organization; search text that would be syntax anywhere is only words.
async fn search_finds_messages_addresses_and_names(db: Db) {
    let app = spawn_app(db).await;
    let ann = app.agent(ANN).await;
    let mut iceland = app.visitor().await;
    iceland.send("q1", "Do you ship parcels to Iceland?").await;
    let seq = iceland.ack("q1").await;
    let mut refund = app.visitor().await;
    refund.send("q1", "I would like a refund please").await;
    refund.ack("q1").await;
    crate::email::submit(&app, &refund.session.token, "form-1", "zed.quill@example.org", "Still waiting", &[])
        .await
        .ok();
    // Older and closed: still found.
    ann.act(&app, "handoff/continue", &iceland.conversation_id()).await.ok();
    ann.act(&app, "handoff/close", &iceland.conversation_id()).await.ok();

    let hits = search(&app, &ann.cookie, "ICELAND parcels").await;
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!((hits[0].summary.id.as_str(), hits[0].seq), (iceland.conversation_id().as_str(), Some(seq)));
    assert_eq!(hits[0].text, "Do you ship parcels to Iceland?");
    assert_eq!(hits[0].summary.state, HandoffState::Closed);
    assert!(search(&app, &ann.cookie, "iceland refund").await.is_empty(), "every word must match");
    let by_mail = search(&app, &ann.cookie, "zed.quill@example.org").await;
    assert!(by_mail.iter().any(|h| h.summary.id == refund.conversation_id()), "{by_mail:?}");
    let name = refund.session.visitor_name.clone();
    let by_name = search(&app, &ann.cookie, &name.to_uppercase()).await;
    assert!(by_name.iter().any(|h| h.summary.id == refund.conversation_id() && h.seq.is_none()), "{name}: {by_name:?}");
    // A word's beginning is enough (a name is found by what the agent remembers of it).
    let start: String = name.split_whitespace().last().unwrap().chars().take(2).collect();
    let by_start = search(&app, &ann.cookie, &start).await;
    assert!(
        by_start.iter().any(|h| h.summary.id == refund.conversation_id() && h.seq.is_none()),
        "{start}: {by_start:?}"
    );

    // Syntax of either engine's query language is only words here: every search answers.
    let long = "refund ".repeat(1500);
    for q in [
        "\"",
        "*",
        "refund*",
        "NEAR(refund iceland)",
        "((refund",
        "refund OR iceland",
        "' OR 1=1 --",
        "-refund",
        "%",
        "_",
        &long,
    ] {
        search(&app, &ann.cookie, q).await;
    }
    assert!(!search(&app, &ann.cookie, "((refund\"").await.is_empty(), "the words of broken syntax still match");
    assert!(search(&app, &ann.cookie, "%").await.is_empty(), "a LIKE wildcard is not a word");
    assert!(search(&app, &ann.cookie, "").await.is_empty());

    // Another organization finds nothing of Demo Org's; signed out: 401.
    let eve = app.other_org_user().await;
    assert!(search(&app, &eve, "iceland").await.is_empty());
    assert!(search(&app, &eve, &name).await.is_empty());
    assert_eq!(app.call("conversations/search", None, &[("q", "iceland")]).await.status, 401);
    // A new message is found at once (the index is written with it).
    refund.send("q2", "Quokka").await;
    refund.ack("q2").await;
    assert_eq!(search(&app, &ann.cookie, "quokka").await.len(), 1);
}
on_both_databases!(search_finds_messages_addresses_and_names);
