//! The dashboard's conversation list over the agent socket (issue 21): a conversation's
//! summaries arrive in order, a socket that fell behind is re-sent every conversation that changed
//! (not only the newest 200), and list updates are coalesced per socket.
use crate::helpers::*;
use crate::on_both_databases;
use domain::wire::{ConversationDetail, ConversationSummary, ServerFrame};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The list a dashboard keeps: every summary replaces its row.
#[derive(Default)]
struct ListClient {
    rows: HashMap<String, ConversationSummary>,
    /// Frames that carried list rows.
    frames: usize,
    /// Summaries older (lower `last_seq`) than the row they replaced.
    backwards: Vec<(i64, i64)>,
}

impl ListClient {
    fn apply(&mut self, frame: &ServerFrame) {
        let rows = list_rows(frame);
        if rows.is_empty() {
            return;
        }
        self.frames += 1;
        for row in rows {
            if let Some(old) = self.rows.get(&row.id) {
                if old.last_seq > row.last_seq {
                    self.backwards.push((old.last_seq, row.last_seq));
                }
            }
            self.rows.insert(row.id.clone(), row.clone());
        }
    }

    /// Reads frames until every row of `truth` is in the list as it is there (or 15 s pass),
    /// then whatever arrives within the next 500 ms.
    async fn follow(&mut self, socket: &mut Socket, truth: &[ConversationSummary]) {
        let until = Instant::now() + Duration::from_secs(15);
        while Instant::now() < until && !truth.iter().all(|t| self.rows.get(&t.id) == Some(t)) {
            match socket.try_next(Duration::from_millis(200)).await {
                Some(f) => self.apply(&f),
                None => continue,
            }
        }
        while let Some(f) = socket.try_next(Duration::from_millis(500)).await {
            self.apply(&f);
        }
    }

    fn assert_matches(&self, truth: &[ConversationSummary]) {
        let stale: Vec<_> = truth.iter().filter(|t| self.rows.get(&t.id) != Some(t)).collect();
        assert!(
            stale.is_empty(),
            "{} of {} rows differ from the database; first: {:?} where the database has {:?}",
            stale.len(),
            truth.len(),
            self.rows.get(&stale[0].id),
            stale[0]
        );
    }
}

/// Each conversation's summary as the server reads it from the database now.
async fn truth(app: &TestApp, cookie: &str, ids: &[String]) -> Vec<ConversationSummary> {
    let mut out = Vec::new();
    for id in ids {
        let detail = app.call("conversations/get", Some(cookie), &[("id", id)]).await.ok();
        out.push(serde_json::from_value::<ConversationDetail>(detail).unwrap().summary);
    }
    out
}

/// Issue 21 (1). Ann sends bursts of messages into one conversation at once: on SQLite they
/// share a group commit, on PostgreSQL they queue on the row's lock; either way the requests
/// publish their summaries in whatever order their tasks resume. Her dashboard socket must never
/// hand her a summary older than one it gave before, and her list ends on the newest.
async fn a_conversations_summaries_reach_the_dashboard_in_order(db: Db) {
    const ROUNDS: usize = 15;
    const BURST: usize = 12;
    let app = Arc::new(spawn_app(db).await);
    let mut ann = app.agent(ANN).await;
    let mut v = app.visitor().await;
    let conv = v.conversation_id();
    v.message(|_| true).await;
    ann.act(&app, "handoff/continue", &conv).await.ok();
    for round in 0..ROUNDS {
        let sends: Vec<_> = (0..BURST)
            .map(|i| {
                let (app, cookie, conv) = (app.clone(), ann.cookie.clone(), conv.clone());
                tokio::spawn(async move {
                    let id = format!("r{round}-{i}");
                    let form = [("id", conv.as_str()), ("client_msg_id", id.as_str()), ("text", id.as_str())];
                    app.call("chat/send", Some(&cookie), &form).await.ok();
                })
            })
            .collect();
        for s in sends {
            s.await.unwrap();
        }
    }
    let truth = truth(&app, &ann.cookie, std::slice::from_ref(&conv)).await;
    let mut list = ListClient::default();
    list.follow(&mut ann.socket, &truth).await;
    assert!(list.backwards.is_empty(), "summaries went backwards (from seq, to seq): {:?}", list.backwards);
    list.assert_matches(&truth);
}
on_both_databases!(a_conversations_summaries_reach_the_dashboard_in_order);

/// Issue 21 (2). More than 200 conversations change while Ann's dashboard socket is not told
/// (they start on node B, which node A does not hear); then node A's socket falls behind its
/// live frames (a burst larger than its buffer). Catching up, it must send every conversation
/// that changed since it connected, not only the newest 200.
async fn a_lagging_dashboard_is_resent_every_changed_conversation(db: Db) {
    const MANY: usize = 230;
    let a = spawn_app_with(db, |c| c.relay_events = false).await;
    let b = spawn_node_sharing(&a, |_| {}).await;
    let mut ann = a.agent(ANN).await;
    ann.socket.ready().await;
    let mut ids = Vec::new();
    for _ in 0..MANY {
        ids.push(b.backend.visitor_session("demo", None, None).await.unwrap().conversation_id);
    }
    // Far more frames than a receiver buffers, published without yielding: the socket lags.
    for _ in 0..2 * backend::hub::ORG_CAPACITY {
        a.backend.hub.publish_org("demo-org", ServerFrame::Notifications);
    }
    let truth = truth(&a, &ann.cookie, &ids).await;
    let mut list = ListClient::default();
    list.follow(&mut ann.socket, &truth).await;
    list.assert_matches(&truth);
}
on_both_databases!(a_lagging_dashboard_is_resent_every_changed_conversation);

/// Issue 21 (4). Twenty visitors send ten messages each, all at once, in conversations Ann has
/// taken over. Her dashboard socket sends far fewer list frames than there are messages, and
/// her list ends equal to the database.
async fn list_updates_are_coalesced_per_socket(db: Db) {
    const VISITORS: usize = 20;
    const EACH: usize = 10;
    let app = spawn_app(db).await;
    let mut ann = app.agent(ANN).await;
    let mut visitors = Vec::new();
    for _ in 0..VISITORS {
        let mut v = app.visitor().await;
        v.message(|_| true).await;
        ann.act(&app, "handoff/continue", &v.conversation_id()).await.ok();
        visitors.push(v);
    }
    let ids: Vec<String> = visitors.iter().map(|v| v.conversation_id()).collect();
    let mut list = ListClient::default();
    list.follow(&mut ann.socket, &truth(&app, &ann.cookie, &ids).await).await;
    list.frames = 0;

    for i in 0..EACH {
        for v in visitors.iter_mut() {
            v.send(&format!("m{i}"), &format!("message {i}")).await;
        }
    }
    for v in visitors.iter_mut() {
        v.ack(&format!("m{}", EACH - 1)).await;
    }
    let truth = truth(&app, &ann.cookie, &ids).await;
    list.follow(&mut ann.socket, &truth).await;
    list.assert_matches(&truth);
    let messages = VISITORS * EACH;
    eprintln!("{} list frames for {messages} messages", list.frames);
    assert!(list.frames * 5 < messages, "{} list frames for {messages} messages: not coalesced", list.frames);
}
on_both_databases!(list_updates_are_coalesced_per_socket);
