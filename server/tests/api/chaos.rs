//! Forced disconnects during traffic: visitors and an agent whose connections are cut over and
//! over (more than a thousand times in all) while messages flow. Every message is stored exactly
//! once, and every connection receives each conversation's messages in order, without gaps or
//! repeats, resuming from the last sequence number it saw.
use crate::helpers::*;
use crate::on_both_databases;
use domain::wire::ServerFrame;
use rand::Rng;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const VISITORS: usize = 20;
const MESSAGES_EACH: usize = 50;
const MIN_RECONNECTS: usize = 1000;

/// One visitor: sends its messages, dropping the connection every few frames; resends what is
/// not acknowledged after each reconnect. Returns (conversation id, last seq seen).
async fn chatty_visitor(app: Arc<TestApp>, n: usize, reconnects: Arc<AtomicUsize>) -> (String, i64) {
    let session = app.visitor_session("demo", None).await;
    let ids: Vec<String> = (0..MESSAGES_EACH).map(|i| format!("v{n}-m{i}")).collect();
    let mut acked: BTreeMap<String, i64> = BTreeMap::new();
    let mut last_seq = 0i64;
    let mut next = 0usize;
    loop {
        let mut socket = Socket::connect(&app, "/ws/visitor", None).await;
        socket.send_json(json!({"type": "hello", "token": session.token, "last_seq": last_seq})).await;
        // Resend everything sent but not acknowledged, then a few new ones.
        for id in ids[..next].iter().filter(|id| !acked.contains_key(*id)) {
            socket.send_json(json!({"type": "send", "client_msg_id": id, "text": format!("text of {id}")})).await;
        }
        for _ in 0..3 {
            if next < MESSAGES_EACH {
                let id = &ids[next];
                socket.send_json(json!({"type": "send", "client_msg_id": id, "text": format!("text of {id}")})).await;
                next += 1;
            }
        }
        let cut_after = rand::thread_rng().gen_range(1..=6);
        let mut read = 0;
        while read < cut_after {
            let Some(frame) = socket.try_next(Duration::from_secs(2)).await else { break };
            read += 1;
            match frame {
                ServerFrame::Message { message } => {
                    assert_eq!(message.seq, last_seq + 1, "visitor {n}: in order, no gap, no repeat");
                    last_seq = message.seq;
                }
                ServerFrame::Ack { client_msg_id, seq } => {
                    if let Some(old) = acked.insert(client_msg_id.clone(), seq) {
                        assert_eq!(old, seq, "{client_msg_id} acknowledged with two seqs");
                    }
                }
                ServerFrame::Error { code, message, .. } => panic!("visitor {n}: {code}: {message}"),
                _ => {}
            }
        }
        if acked.len() == MESSAGES_EACH && read < cut_after {
            return (session.conversation_id, last_seq); // all done and quiet
        }
        drop(socket); // cut the connection without a goodbye
        reconnects.fetch_add(1, Ordering::SeqCst);
    }
}

async fn connections_cut_during_traffic_lose_and_repeat_nothing(db: Db) {
    let app = Arc::new(
        spawn_app_with(db, |c| {
            c.visitor_messages_per_minute = 0;
            c.new_chats_per_ip_per_hour = 0;
            c.ai_typing_delay_ms = 0;
        })
        .await,
    );
    let reconnects = Arc::new(AtomicUsize::new(0));
    let cookie = app.login(ANN).await;

    // The agent: watches every conversation it hears of, reconnecting every few frames.
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let followed = Arc::new(std::sync::Mutex::new(BTreeMap::<String, i64>::new()));
    let agent = {
        let (app, reconnects, done, followed) = (app.clone(), reconnects.clone(), done.clone(), followed.clone());
        tokio::spawn(async move {
            let mut last: BTreeMap<String, i64> = BTreeMap::new();
            while !done.load(Ordering::SeqCst) {
                let mut socket = Socket::connect(&app, "/ws/agent", Some(&cookie)).await;
                // As the dashboard does after (re)connecting: the list, then the open threads.
                let list = app.call("conversations/list", Some(&cookie), &[]).await.ok();
                for summary in list.as_array().expect("a list") {
                    last.entry(summary["id"].as_str().unwrap().to_string()).or_insert(0);
                }
                for (conversation_id, last_seq) in &last {
                    socket
                        .send_json(json!({"type": "watch", "conversation_id": conversation_id, "last_seq": last_seq}))
                        .await;
                }
                let cut_after = rand::thread_rng().gen_range(1..=10);
                for _ in 0..cut_after {
                    let Some(frame) = socket.try_next(Duration::from_millis(300)).await else { break };
                    for summary in list_rows(&frame) {
                        if !last.contains_key(&summary.id) {
                            last.insert(summary.id.clone(), 0);
                            socket
                                .send_json(json!({"type": "watch", "conversation_id": summary.id, "last_seq": 0}))
                                .await;
                        }
                    }
                    if let ServerFrame::Message { message } = frame {
                        let seen = last.get_mut(&message.conversation_id).expect("only watched conversations");
                        assert_eq!(message.seq, *seen + 1, "agent: in order, no gap, no repeat");
                        *seen = message.seq;
                    }
                }
                drop(socket);
                reconnects.fetch_add(1, Ordering::SeqCst);
                *followed.lock().unwrap() = last.clone();
            }
        })
    };

    let visitors: Vec<_> =
        (0..VISITORS).map(|n| tokio::spawn(chatty_visitor(app.clone(), n, reconnects.clone()))).collect();
    let mut conversations = Vec::new();
    for v in visitors {
        conversations.push(v.await.expect("visitor task"));
    }
    // The agent catches up on every conversation's last message (AI replies may still come).
    // Reading at most ten frames a connection, it catches up at the speed of its reconnects,
    // which a machine loaded by the rest of the suite slows down: the wait lasts while it makes
    // progress (a stuck agent fails after 15 s without any), 3 minutes at most, and stops as
    // soon as it has caught up.
    let mut stored_len = BTreeMap::new();
    let (started, mut progress_at, mut seen_total) = (Instant::now(), Instant::now(), 0);
    while started.elapsed() < Duration::from_secs(180) && progress_at.elapsed() < Duration::from_secs(15) {
        for (conversation_id, _) in &conversations {
            stored_len.insert(conversation_id.clone(), app.stored(conversation_id).await.len() as i64);
        }
        let seen = followed.lock().unwrap().clone();
        if stored_len.iter().all(|(c, n)| seen.get(c) == Some(n)) {
            break;
        }
        let total: i64 = seen.values().sum();
        if total > seen_total {
            (seen_total, progress_at) = (total, Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    done.store(true, Ordering::SeqCst);
    agent.await.expect("agent task");
    let agent_saw = followed.lock().unwrap().clone();

    let total = reconnects.load(Ordering::SeqCst);
    assert!(total >= MIN_RECONNECTS, "only {total} forced reconnects");
    for (n, (conversation_id, visitor_last)) in conversations.iter().enumerate() {
        let stored = app.stored(conversation_id).await;
        assert_gap_free(&stored);
        let mine: Vec<&str> = stored.iter().filter_map(|m| m.client_msg_id.as_deref()).collect();
        let unique: BTreeSet<&str> = mine.iter().copied().collect();
        assert_eq!(mine.len(), unique.len(), "visitor {n}: a message stored twice");
        assert_eq!(unique.len(), MESSAGES_EACH, "visitor {n}: a message lost");
        assert!(*visitor_last <= stored.len() as i64);
        assert_eq!(
            agent_saw.get(conversation_id),
            Some(&(stored.len() as i64)),
            "the agent saw all of conversation {n}"
        );
    }
    eprintln!("{total} forced reconnects; {} messages stored", VISITORS * MESSAGES_EACH);
}
on_both_databases!(connections_cut_during_traffic_lose_and_repeat_nothing);
