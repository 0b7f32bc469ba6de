//! "Seen" both ways (issue 23): the holder's dashboard reports how far it showed a conversation
//! and its visitor is told; the widget reports how far it showed it and the dashboards watching
//! it are told. One number per side, stored on the conversation (a reconnect and a fresh read
//! get it), only forward, never past the last message, the agent's only while they hold the
//! chat; another organization hears and changes nothing; reports over the rate change nothing.
use crate::helpers::*;
use crate::on_both_databases;
use domain::wire::{ConversationDetail, ServerFrame};
use serde_json::json;
use std::time::Duration;

/// Past the rate of reports a side counts (two a second).
const PAUSE: Duration = Duration::from_millis(1100);

async fn detail(app: &TestApp, cookie: &str, conv: &str) -> ConversationDetail {
    serde_json::from_value(app.call("conversations/get", Some(cookie), &[("id", conv)]).await.ok()).unwrap()
}

/// The "seen" frames `socket` receives until it answers a ping and a while after (a live frame
/// may trail the pong).
async fn seen_frames(socket: &mut Socket) -> Vec<ServerFrame> {
    let is_seen = |f: &ServerFrame| matches!(f, ServerFrame::VisitorSeen { .. } | ServerFrame::HumanSeen { .. });
    socket.send_json(json!({"type": "ping"})).await;
    let mut frames = Vec::new();
    socket
        .until(|f| {
            if is_seen(f) {
                frames.push(f.clone());
            }
            matches!(f, ServerFrame::Pong).then_some(())
        })
        .await;
    while let Some(f) = socket.try_next(Duration::from_millis(300)).await {
        if is_seen(&f) {
            frames.push(f);
        }
    }
    frames
}

async fn seen_is_told_both_ways_and_kept(db: Db) {
    let app = spawn_app(db).await;
    let mut ann = app.agent(ANN).await;
    let mut bob = app.agent(BOB).await;
    let eve = app.other_org_user().await;
    let mut eve_ws = Socket::connect(&app, "/ws/agent", Some(&eve)).await;
    let mut v = app.visitor().await;
    let conv = v.conversation_id();
    v.message(|m| m.seq == 1).await;
    ann.act(&app, "handoff/continue", &conv).await.ok();
    ann.watch(&conv, 0).await;
    bob.watch(&conv, 0).await;
    v.send("m1", "Is my parcel late?").await;
    let asked = v.ack("m1").await;

    // Bob reads it (he does not hold the chat: not the visitor's business), then Ann does.
    bob.socket.send_json(json!({"type": "seen", "conversation_id": conv, "seq": asked})).await;
    bob.socket.ready().await;
    assert_eq!(seen_frames(&mut v.socket).await, vec![], "Bob's reading is not told");
    ann.socket.send_json(json!({"type": "seen", "conversation_id": conv, "seq": asked})).await;
    let told = v
        .socket
        .until(|f| match f {
            ServerFrame::HumanSeen { conversation_id, seq } if *conversation_id == conv => Some(*seq),
            ServerFrame::VisitorSeen { .. } => panic!("the visitor is told their own mark: {f:?}"),
            _ => None,
        })
        .await;
    assert_eq!(told, asked);
    assert_eq!(seen_frames(&mut v.socket).await, vec![], "one mark");

    // Ann answers; the widget shows it and reports; both watching dashboards are told.
    ann.say(&app, &conv, "a1", "It left today.").await.ok();
    let answer = v.message(|m| m.text == "It left today.").await.seq;
    v.socket.send_json(json!({"type": "seen", "seq": answer})).await;
    for agent in [&mut ann, &mut bob] {
        let seq = agent
            .socket
            .until(|f| match f {
                ServerFrame::VisitorSeen { conversation_id, seq } if *conversation_id == conv => Some(*seq),
                _ => None,
            })
            .await;
        assert_eq!(seq, answer);
    }

    // Kept: a fresh read and a reconnecting widget get both marks.
    let d = detail(&app, &bob.cookie, &conv).await;
    assert_eq!((d.visitor_seen_seq, d.human_seen_seq), (answer, asked));
    let mut again = Socket::connect(&app, "/ws/visitor", None).await;
    again.send_json(json!({"type": "hello", "token": v.session.token, "last_seq": answer})).await;
    match again.next().await {
        ServerFrame::Welcome { human_seen_seq, .. } => assert_eq!(human_seen_seq, asked),
        other => panic!("expected welcome, got {other:?}"),
    }

    // Another organization heard nothing.
    eve_ws.hears_nothing_of(&conv, "seen").await;
}
on_both_databases!(seen_is_told_both_ways_and_kept);

/// Marks move only forward and never past the last message; an agent's counts only while they
/// hold the chat; another organization's report changes nothing; more than two reports a second
/// change nothing; a malformed report is a clear error and the socket goes on.
async fn seen_only_moves_forward_and_only_for_the_holder(db: Db) {
    let app = spawn_app(db).await;
    let mut ann = app.agent(ANN).await;
    let mut bob = app.agent(BOB).await;
    let mut v = app.visitor().await;
    let conv = v.conversation_id();
    v.message(|m| m.seq == 1).await;
    v.send("m1", "one").await;
    v.ack("m1").await;
    v.send("m2", "two").await;
    let last = v.ack("m2").await;
    let marks = |d: ConversationDetail| (d.visitor_seen_seq, d.human_seen_seq);

    // The visitor: past the last message, then 2, then back to 1.
    v.socket.send_json(json!({"type": "seen", "seq": last + 5})).await;
    v.socket.ready().await;
    assert_eq!(marks(detail(&app, &ann.cookie, &conv).await), (0, 0), "past the last message");
    tokio::time::sleep(PAUSE).await;
    v.socket.send_json(json!({"type": "seen", "seq": 2})).await;
    v.socket.ready().await;
    tokio::time::sleep(PAUSE).await;
    v.socket.send_json(json!({"type": "seen", "seq": 1})).await;
    v.socket.ready().await;
    assert_eq!(marks(detail(&app, &ann.cookie, &conv).await), (2, 0), "only forward");

    // Over the rate: the third report within a second (the only one that would move the mark)
    // changes nothing.
    tokio::time::sleep(PAUSE).await;
    for seq in [1, 2, last] {
        v.socket.send_json(json!({"type": "seen", "seq": seq})).await;
    }
    v.socket.ready().await;
    assert_eq!(marks(detail(&app, &ann.cookie, &conv).await), (2, 0), "the third report is over the rate");

    // Agents: nobody holds it (the AI answers), then Ann does and Bob reports, then Ann passes it
    // back to the AI and reports; Eve, of another organization, reports too.
    ann.socket.send_json(json!({"type": "seen", "conversation_id": conv, "seq": 2})).await;
    ann.socket.ready().await;
    ann.act(&app, "handoff/continue", &conv).await.ok();
    bob.socket.send_json(json!({"type": "seen", "conversation_id": conv, "seq": 3})).await;
    bob.socket.ready().await;
    assert_eq!(marks(detail(&app, &ann.cookie, &conv).await).1, 0, "only the holder's reading counts");
    ann.act(&app, "handoff/pass", &conv).await.ok();
    tokio::time::sleep(PAUSE).await;
    ann.socket.send_json(json!({"type": "seen", "conversation_id": conv, "seq": 3})).await;
    ann.socket.ready().await;
    let eve = app.other_org_user().await;
    let mut eve_ws = Socket::connect(&app, "/ws/agent", Some(&eve)).await;
    eve_ws.send_json(json!({"type": "seen", "conversation_id": conv, "seq": 3})).await;
    eve_ws.ready().await;
    assert_eq!(marks(detail(&app, &ann.cookie, &conv).await).1, 0, "nobody holds it any more");

    // Ann holds it again and reads; when she passes it on, the next holder has read nothing.
    ann.act(&app, "handoff/continue", &conv).await.ok();
    tokio::time::sleep(PAUSE).await;
    ann.socket.send_json(json!({"type": "seen", "conversation_id": conv, "seq": 3})).await;
    ann.socket.ready().await;
    assert_eq!(marks(detail(&app, &ann.cookie, &conv).await).1, 3);
    ann.act(&app, "handoff/pass", &conv).await.ok();
    assert_eq!(marks(detail(&app, &ann.cookie, &conv).await).1, 0, "reset with the holder");

    // Malformed: a clear error, the socket goes on.
    v.socket.send_json(json!({"type": "seen", "seq": "all"})).await;
    assert_eq!(v.error().await.0, "bad_frame");
    v.send("m3", "still here").await;
    v.ack("m3").await;
}
on_both_databases!(seen_only_moves_forward_and_only_for_the_holder);
