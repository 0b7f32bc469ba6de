//! Invariants tested through their own mechanism, with the other mechanisms unable to help
//! (issue 28). `scripts/mutants.sh` removes each mechanism in turn and checks that its test here
//! (or elsewhere, as `scripts/mutants.txt` names it) fails.
use crate::ai::fake_llm::{app_with_llm, sse, FakeLlm, Reply};
use crate::ai::{greeted_visitor, is_ai, wait_for_no_generations};
use crate::helpers::*;
use crate::on_both_databases;
use domain::wire::ServerFrame;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Invariant 3 without the abort. Two server processes on one database: the visitor asks on node
/// A, whose model stalls mid-answer; Ann takes over on node B (and in the second round passes the
/// chat straight back to the AI). Node A never hears of it — SQLite has no relay between
/// processes, and on PostgreSQL node A runs without one — so its generation is not aborted: the
/// model finishes and node A tries to store the answer. Only the guard of the AI's append
/// (`state = 'ai' AND state_version = <version when generation started>`) stands in the way: the
/// answer is neither stored nor delivered — not to the visitor on A (who gets `DraftEnd`
/// instead), not to Ann's dashboard on B even when it re-reads the conversation from the database.
async fn a_reply_finished_after_an_unheard_takeover_is_dropped(db: Db) {
    let words = "Once upon a time there was a parcel that never arrived.";
    let fake = FakeLlm::start(Reply::Status(500)).await;
    let (a, _) = app_with_llm(db, &fake, |c| c.relay_events = false).await;
    let b = spawn_node_sharing(&a, |_| {}).await;
    let mut ann = b.agent(ANN).await;
    for (round, pass_back) in [false, true].into_iter().enumerate() {
        let release = Arc::new(Notify::new());
        fake.set(Reply::Held { pieces: sse(words, false), before: 3, release: release.clone() });
        let mut v = greeted_visitor(&a).await;
        let conv = v.conversation_id();
        ann.watch(&conv, 0).await;
        v.send("q", "Tell me a story").await;
        let asked = v.ack("q").await;
        // Node A streams the first words, then the model stalls.
        v.socket.until(|f| matches!(f, ServerFrame::Draft { .. }).then_some(())).await;
        ann.act(&b, "handoff/continue", &conv).await.ok();
        if pass_back {
            ann.act(&b, "handoff/pass", &conv).await.ok();
        }
        assert_eq!(a.backend.generations_running(), 1, "node A heard of the takeover; the test needs it not to");

        release.notify_one();
        v.socket
            .until(|f| match f {
                ServerFrame::DraftEnd { .. } => Some(()),
                ServerFrame::Message { message } if is_ai(message) => {
                    panic!("the stale answer was delivered (pass_back={pass_back}): {message:?}")
                }
                _ => None,
            })
            .await;
        wait_for_no_generations(&a).await;
        assert_eq!(fake.streamed_to_end.load(Ordering::SeqCst), round + 1, "the model finished its answer");

        let stored = a.stored(&conv).await;
        assert!(
            !stored.iter().any(|m| m.seq > asked && is_ai(m)),
            "the stale answer was stored (pass_back={pass_back}): {stored:#?}"
        );
        assert_gap_free(&stored);
        // Ann's dashboard reads what it missed from the database: still no answer.
        ann.watch(&conv, 0).await;
        while let Some(f) = ann.socket.try_next(Duration::from_millis(300)).await {
            if let ServerFrame::Message { message } = &f {
                assert!(!is_ai(message) || message.seq < asked, "the stale answer reached Ann: {message:?}");
            }
        }
        while let Some(f) = v.socket.try_next(Duration::from_millis(100)).await {
            if let ServerFrame::Message { message } = &f {
                assert!(!is_ai(message), "the stale answer reached the visitor: {message:?}");
            }
        }
    }
}
on_both_databases!(a_reply_finished_after_an_unheard_takeover_is_dropped);

/// Invariant 6, "nothing lost", without the relay: live frames are hints, and a frame whose seq
/// is not the next one makes the socket read the missing messages from the database. Two
/// processes on one database that never hear each other (as in the test above): the visitor
/// writes on node A, Ann on node B. Each side's next live frame shows a gap, and each socket
/// fills it from the database, in order.
async fn a_gap_in_live_frames_is_filled_from_the_database(db: Db) {
    let a = spawn_app_with(db, |c| c.relay_events = false).await;
    let b = spawn_node_sharing(&a, |_| {}).await;
    let mut ann = b.agent(ANN).await;
    let mut v = a.visitor().await;
    let conv = v.conversation_id();
    v.message(is_ai).await;
    ann.act(&b, "handoff/continue", &conv).await.ok();
    let joined = a.stored(&conv).await.last().unwrap().seq;
    ann.watch(&conv, 0).await;
    ann.message(|m| m.seq == joined).await;

    // Node B hears nothing of these two.
    v.send("v1", "first").await;
    let s1 = v.ack("v1").await;
    v.send("v2", "second").await;
    let s2 = v.ack("v2").await;
    let said = ann.say(&b, &conv, "a1", "Ann here").await.ok()["seq"].as_i64().unwrap();
    assert_eq!((s2, said), (s1 + 1, s1 + 2));
    let mut got = Vec::new();
    while got.last() != Some(&said) {
        got.push(ann.message(|_| true).await.seq);
    }
    assert_eq!(got, [s1, s2, said], "Ann's dashboard filled the gap from the database, in order");

    // Node A hears nothing of Ann's message; the visitor's next message shows the gap.
    v.send("v3", "third").await;
    let s3 = v.ack("v3").await;
    let mut got: Vec<i64> = v.seen.iter().map(|m| m.seq).filter(|s| *s > s2).collect();
    while got.last() != Some(&s3) {
        got.push(v.message(|m| m.seq > s2).await.seq);
    }
    assert_eq!(got, [said, s3], "the visitor's socket filled the gap from the database, in order");
    assert_gap_free(&a.stored(&conv).await);
}
on_both_databases!(a_gap_in_live_frames_is_filled_from_the_database);

/// Invariant 6, "a lagging receiver re-reads", for a dashboard: a watched conversation's messages
/// reach it on that conversation's own channel (not the organization's, `backend::hub::
/// watched_only`), so a lag there must make it read the conversation again. Node A never hears
/// the visitor's message (stored through node B); then far more frames than a channel holds are
/// published on the conversation's channel at A without yielding: Ann's socket lags on it and
/// reads the message from the database, with nothing else to tell her of it.
async fn a_dashboard_lagging_on_a_watched_conversation_reads_it_again(db: Db) {
    let a = spawn_app_with(db, |c| c.relay_events = false).await;
    let b = spawn_node_sharing(&a, |_| {}).await;
    let mut ann = a.agent(ANN).await;
    let mut v = b.visitor().await;
    let conv = v.conversation_id();
    v.message(is_ai).await;
    ann.act(&a, "handoff/continue", &conv).await.ok();
    let joined = a.stored(&conv).await.last().unwrap().seq;
    ann.watch(&conv, 0).await;
    ann.message(|m| m.seq == joined).await;

    v.send("v1", "unheard at A").await;
    let s1 = v.ack("v1").await;
    for _ in 0..2000 {
        a.backend.hub.publish("demo-org", &conv, ServerFrame::Typing { conversation_id: conv.clone() });
    }
    let got = ann.message(|m| m.seq >= s1).await;
    assert_eq!((got.seq, got.text.as_str()), (s1, "unheard at A"), "read again after the lag");
}
on_both_databases!(a_dashboard_lagging_on_a_watched_conversation_reads_it_again);

/// Invariant 10, "sent by one process at a time": two processes send from one outbox, through a
/// slow mail server (each mail takes 400 ms, ten times the workers' polling interval). Each mail
/// is claimed with a lease (`UPDATE … WHERE lease_until < now`), so the other process skips it
/// while it is being sent: every reply reaches the visitor exactly once.
async fn two_processes_send_each_queued_mail_once(db: Db) {
    use crate::email::{mail_config, submit, VISITOR_MAIL};
    let smtp = crate::smtp::SmtpSink::start().await;
    smtp.set_slow(Duration::from_millis(400));
    let first = spawn_app(db).await; // queues only: its worker is off
    let ann = first.login(ANN).await;
    let v = first.visitor().await;
    let conv = v.conversation_id();
    submit(&first, &v.session.token, "form-1", VISITOR_MAIL, "Hello?", &[]).await.ok();
    for i in 0..3 {
        let body = serde_json::json!({"conversation_id": conv, "form_seq": 2, "client_msg_id": format!("r{i}"), "text": format!("Reply {i}")});
        first.call_json("email/reply", &ann, body).await.ok();
    }
    let second = spawn_node_sharing(&first, mail_config(&smtp)).await;
    let third = spawn_node_sharing(&first, mail_config(&smtp)).await;
    smtp.wait_for(VISITOR_MAIL, 3).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut bodies: Vec<String> = smtp.mails_to(VISITOR_MAIL).iter().map(|m| m.body()).collect();
    bodies.sort();
    assert_eq!(bodies.len(), 3, "each reply sent once, by one of the two processes: {bodies:#?}");
    drop((second, third));
}
on_both_databases!(two_processes_send_each_queued_mail_once);
