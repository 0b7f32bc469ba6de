//! The visitor context panel (issue 22): what the visitor's widget reports (the page, referrer,
//! language, time zone, user agent) is stored per conversation, cleaned and cut, reaches the
//! watching dashboard live, and is read with the e-mail the visitor gave and their earlier
//! conversations; nothing of it reaches another organization; a flood is refused.
use crate::email::submit;
use crate::helpers::*;
use crate::on_both_databases;
use domain::visitor_context::{VisitorContext, CONTEXT_REFUSED, MAX_PAGES, MAX_URL};
use domain::wire::{ConversationDetail, ServerFrame};
use serde_json::{json, Value};
use std::time::Duration;

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0";

fn page(url: &str, title: &str) -> Value {
    json!({"type": "context", "env": {"url": url, "title": title, "referrer": "https://search.example/?q=shoes",
           "language": "de-DE", "time_zone": "Europe/Berlin", "utc_offset": 60, "user_agent": FIREFOX}})
}

async fn context(app: &TestApp, cookie: &str, conversation: &str) -> VisitorContext {
    serde_json::from_value(app.call("conversations/context", Some(cookie), &[("id", conversation)]).await.ok()).unwrap()
}

/// Waits until the stored context satisfies `done` (a context frame is stored, not answered).
async fn context_until(
    app: &TestApp,
    cookie: &str,
    conversation: &str,
    done: impl Fn(&VisitorContext) -> bool,
) -> VisitorContext {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let c = context(app, cookie, conversation).await;
        if done(&c) {
            return c;
        }
        assert!(tokio::time::Instant::now() < deadline, "the context never became as expected: {c:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn context_frame(agent: &mut Agent, conversation: &str) {
    agent
        .socket
        .until(|f| {
            matches!(f, ServerFrame::VisitorContext { conversation_id } if conversation_id == conversation)
                .then_some(())
        })
        .await;
}

/// A visitor moves from page to page: the watching agent is told each time and reads the pages in
/// order, the first referrer, the browser's language, time zone and user agent. A reconnect on the
/// same page adds nothing; a closed conversation and an e-mail form show up as the visitor's
/// previous conversation and address.
async fn the_visitors_pages_and_browser_reach_the_agent(db: Db) {
    let app = spawn_app(db).await;
    let mut ann = app.agent(ANN).await;
    ann.socket.ready().await;
    let mut v = app.visitor().await;
    let conv = v.conversation_id();
    ann.watch(&conv, 0).await;

    // Nothing told yet: an empty panel, not an error.
    let empty = context(&app, &ann.cookie, &conv).await;
    assert!(empty.pages.is_empty() && empty.language.is_empty() && empty.previous.is_empty(), "{empty:?}");

    v.socket.send_json(page("https://shop.example/pricing", "Pricing")).await;
    context_frame(&mut ann, &conv).await;
    let c = context(&app, &ann.cookie, &conv).await;
    assert_eq!(c.pages.len(), 1);
    assert_eq!((c.pages[0].url.as_str(), c.pages[0].title.as_str()), ("https://shop.example/pricing", "Pricing"));
    assert_eq!(
        (c.referrer.as_str(), c.language.as_str(), c.time_zone.as_str(), c.utc_offset, c.user_agent.as_str()),
        ("https://search.example/?q=shoes", "de-DE", "Europe/Berlin", 60, FIREFOX)
    );

    // Another page (a later referrer is the site's own previous page: the first one is kept).
    let mut next = page("https://shop.example/checkout", "Checkout");
    next["env"]["referrer"] = json!("https://shop.example/pricing");
    v.socket.send_json(next).await;
    context_frame(&mut ann, &conv).await;
    let c = context(&app, &ann.cookie, &conv).await;
    let urls: Vec<&str> = c.pages.iter().map(|p| p.url.as_str()).collect();
    assert_eq!(urls, ["https://shop.example/pricing", "https://shop.example/checkout"]);
    assert_eq!(c.referrer, "https://search.example/?q=shoes");

    // A reconnect on the same page: nothing new (a frame would only come with a change).
    let mut again = Socket::connect(&app, "/ws/visitor", None).await;
    again.send_json(json!({"type": "hello", "token": v.session.token, "last_seq": 0})).await;
    again.until(|f| matches!(f, ServerFrame::Welcome { .. }).then_some(())).await;
    let mut same = page("https://shop.example/checkout", "Checkout");
    same["env"]["referrer"] = json!("https://shop.example/pricing");
    again.send_json(same).await;
    again.send_json(json!({"type": "ping"})).await;
    again.until(|f| matches!(f, ServerFrame::Pong).then_some(())).await;
    assert_eq!(context(&app, &ann.cookie, &conv).await.pages.len(), 2);

    // The conversation's read carries the context too (the panel's first view).
    let detail: ConversationDetail =
        serde_json::from_value(app.call("conversations/get", Some(&ann.cookie), &[("id", &conv)]).await.ok()).unwrap();
    assert_eq!(detail.context.pages.len(), 2);

    // The visitor gives an address, the conversation is closed, they come back: the new
    // conversation lists the old one and knows the address.
    assert_eq!(submit(&app, &v.session.token, "s1", "vera@example.com", "Call me back", &[]).await.status, 200);
    assert_eq!(ann.act(&app, "handoff/close", &conv).await.status, 200);
    let back = app.visitor_session("demo", Some(&v.session.token)).await;
    assert_ne!(back.conversation_id, conv);
    let c = context(&app, &ann.cookie, &back.conversation_id).await;
    assert_eq!(c.email, "vera@example.com");
    assert_eq!(c.previous.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), [conv.as_str()]);
    assert!(c.pages.is_empty(), "pages belong to their conversation: {:?}", c.pages);
}
on_both_databases!(the_visitors_pages_and_browser_reach_the_agent);

/// What the widget reports is the visitor's to choose: long addresses are cut to 2 KB, control
/// characters dropped, a language or time zone that is not one is left out, an offset beyond
/// ±14 h is clamped; a malformed frame is refused and changes nothing. A conversation keeps its
/// newest 50 pages.
async fn bad_reports_are_cleaned_or_refused(db: Db) {
    let app = spawn_app_with(db, |c| c.visitor_context_per_minute = 0).await;
    let ann = app.login(ANN).await;
    let mut v = app.visitor().await;
    let conv = v.conversation_id();

    let long = format!("https://shop.example/{}", "a".repeat(3000));
    v.socket
        .send_json(
            json!({"type": "context", "env": {"url": long, "title": "Cart\u{0}\u{7}<script>", "language": "<b>en</b>",
                          "time_zone": "Europe/Berlin'; DROP TABLE x", "utc_offset": 99999, "user_agent": "x\ny"}}),
        )
        .await;
    // (Both parts: the context row and the pages are read by two statements, which a poll can
    // see on either side of the commit that wrote them.)
    let c = context_until(&app, &ann, &conv, |c| !c.pages.is_empty() && !c.user_agent.is_empty()).await;
    assert_eq!(c.pages[0].url.len(), MAX_URL);
    assert_eq!(c.pages[0].title, "Cart<script>");
    assert_eq!((c.language.as_str(), c.time_zone.as_str(), c.utc_offset, c.user_agent.as_str()), ("", "", 840, "xy"));

    // Malformed: refused with a clear error, nothing stored.
    v.socket
        .send_json(json!({"type": "context", "env": {"url": "https://shop.example/x", "utc_offset": "soon"}}))
        .await;
    let (code, message) = v.error().await;
    assert_eq!(code, "bad_frame", "{message}");
    assert_eq!(context(&app, &ann, &conv).await.pages.len(), 1);

    // A script address is stored as the text it is (the panel shows it, never as a link).
    v.socket.send_json(json!({"type": "context", "env": {"url": "javascript:alert(1)"}})).await;
    let c = context_until(&app, &ann, &conv, |c| c.pages.len() == 2).await;
    assert_eq!(c.pages[1].url, "javascript:alert(1)");

    for i in 0..MAX_PAGES + 5 {
        v.socket.send_json(json!({"type": "context", "env": {"url": format!("https://shop.example/p{i}")}})).await;
    }
    let last = format!("https://shop.example/p{}", MAX_PAGES + 4);
    let c = context_until(&app, &ann, &conv, |c| c.pages.last().is_some_and(|p| p.url == last)).await;
    assert_eq!(c.pages.len(), MAX_PAGES);
    assert_eq!(c.pages[0].url, "https://shop.example/p5", "the oldest go first");
    let (stored,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM visitor_pages WHERE conversation_id = $1")
        .bind(&conv)
        .fetch_one(&app.backend.db.pool)
        .await
        .unwrap();
    assert_eq!(stored, MAX_PAGES as i64, "only the newest pages are kept");
}
on_both_databases!(bad_reports_are_cleaned_or_refused);

/// More reports in a minute than `visitor_context_per_minute` are refused (the widget keeps this
/// code from the visitor) and not stored.
async fn a_flood_of_reports_is_refused(db: Db) {
    let app = spawn_app_with(db, |c| c.visitor_context_per_minute = 3).await;
    let ann = app.login(ANN).await;
    let mut v = app.visitor().await;
    let conv = v.conversation_id();
    for i in 0..4 {
        v.socket.send_json(json!({"type": "context", "env": {"url": format!("https://shop.example/{i}")}})).await;
    }
    let (code, message) = v.error().await;
    assert_eq!(code, CONTEXT_REFUSED);
    assert!(message.contains("too many"), "{message}");
    let c = context_until(&app, &ann, &conv, |c| c.pages.len() >= 3).await;
    assert_eq!(c.pages.len(), 3, "{:?}", c.pages);
}
on_both_databases!(a_flood_of_reports_is_refused);

/// Another organization's user reads no context and hears no context frame; a colleague's
/// dashboard that does not show the conversation is not sent one either, nor is a visitor's socket.
async fn the_context_stays_in_its_organization(db: Db) {
    let app = spawn_app(db).await;
    let mut v = app.visitor().await;
    let conv = v.conversation_id();
    let outsider = app.other_org_user().await;
    let mut zed = Socket::connect(&app, "/ws/agent", Some(&outsider)).await;
    zed.ready().await;
    zed.send_json(json!({"type": "watch", "conversation_id": conv, "last_seq": 0})).await;
    let mut bob = app.agent(BOB).await;
    bob.socket.ready().await;

    v.socket.send_json(page("https://shop.example/secret-offer", "Secret")).await;
    let ann = app.login(ANN).await;
    context_until(&app, &ann, &conv, |c| c.pages.len() == 1).await;

    let answer = app.call("conversations/context", Some(&outsider), &[("id", &conv)]).await;
    assert_eq!(answer.status, 404, "{:?}", answer.body);
    assert!(!answer.body.to_string().contains("secret-offer"));
    while let Some(frame) = zed.try_next(Duration::from_millis(300)).await {
        assert!(!matches!(frame, ServerFrame::VisitorContext { .. }), "another organization heard {frame:?}");
    }
    while let Some(frame) = bob.socket.try_next(Duration::from_millis(300)).await {
        assert!(!matches!(frame, ServerFrame::VisitorContext { .. }), "a dashboard not watching got {frame:?}");
    }
    v.socket.send_json(json!({"type": "ping"})).await;
    v.socket
        .until(|f| {
            assert!(!matches!(f, ServerFrame::VisitorContext { .. }), "the visitor got {f:?}");
            matches!(f, ServerFrame::Pong).then_some(())
        })
        .await;
}
on_both_databases!(the_context_stays_in_its_organization);
