//! Typing both ways (issue 23): the visitor's typing reaches the dashboards watching the
//! conversation (the unsent text only where the organization shows it), the holder's typing
//! reaches the visitor and the watching dashboards; at most one frame a second per side counts
//! (more are dropped without an answer); nothing is stored; another organization hears nothing;
//! only the agent holding the chat is announced.
use crate::helpers::*;
use crate::on_both_databases;
use domain::wire::ServerFrame;
use serde_json::json;
use std::time::Duration;

/// Frames `socket` receives until `last` picks one, as JSON text.
async fn frames_until(socket: &mut Socket, last: impl Fn(&ServerFrame) -> bool) -> Vec<String> {
    let mut seen = Vec::new();
    socket
        .until(|f| {
            seen.push(serde_json::to_string(f).unwrap());
            last(f).then_some(())
        })
        .await;
    seen
}

fn count(frames: &[String], kind: &str) -> usize {
    frames.iter().filter(|f| f.contains(&format!(r#""type":"{kind}""#))).count()
}

async fn typing_reaches_the_other_side_and_is_never_stored(db: Db) {
    let app = spawn_app(db).await;
    let mut ann = app.agent(ANN).await;
    let mut bob = app.agent(BOB).await;
    let eve = app.other_org_user().await;
    let mut eve_ws = Socket::connect(&app, "/ws/agent", Some(&eve)).await;
    let mut v = app.visitor().await;
    let conv = v.conversation_id();
    v.message(|m| m.seq == 1).await;
    ann.watch(&conv, 0).await;
    bob.watch(&conv, 0).await;
    ann.socket.ready().await;
    bob.socket.ready().await;

    // Two typing frames at once (the second over the rate: dropped, unanswered), then a message.
    v.socket.send_json(json!({"type": "typing", "preview": "Where is my secret draft"})).await;
    v.socket.send_json(json!({"type": "typing", "preview": "Where is my secret draft 2"})).await;
    v.send("m1", "Hello?").await;
    let seen =
        frames_until(&mut ann.socket, |f| matches!(f, ServerFrame::Message { message } if message.text == "Hello?"))
            .await;
    assert_eq!(count(&seen, "visitor_typing"), 1, "{seen:#?}");
    let hint = seen.iter().find(|f| f.contains("visitor_typing")).unwrap();
    assert!(!hint.contains("secret draft"), "the preview is off by default: {hint}");
    let acked = frames_until(&mut v.socket, |f| matches!(f, ServerFrame::Ack { .. })).await;
    assert_eq!(count(&acked, "error"), 0, "{acked:#?}");

    // The organization shows the unsent text: cleaned, on one line.
    let settings = json!({"settings": {"handoff_timeout_secs": 90, "reply_to": "", "typing_preview": true}});
    app.call_json("org/save_settings", &ann.cookie, settings).await.ok();
    tokio::time::sleep(Duration::from_millis(1100)).await; // the visitor's rate
    v.socket.send_json(json!({"type": "typing", "preview": "  Where is\nmy\u{7} secret draft "})).await;
    let preview = ann
        .socket
        .until(|f| match f {
            ServerFrame::VisitorTyping { conversation_id, preview } if *conversation_id == conv => {
                Some(preview.clone())
            }
            _ => None,
        })
        .await;
    assert_eq!(preview, "Where is my secret draft");

    // Ann takes the chat and types (twice: one frame); Bob, who does not hold it, types too.
    ann.act(&app, "handoff/continue", &conv).await.ok();
    for _ in 0..2 {
        ann.socket.send_json(json!({"type": "typing", "conversation_id": conv})).await;
    }
    bob.socket.send_json(json!({"type": "typing", "conversation_id": conv})).await;
    // Both typing frames handled (each socket answers in order) before Ann's message.
    bob.socket.send_json(json!({"type": "ping"})).await;
    let mut to_bob = frames_until(&mut bob.socket, |f| matches!(f, ServerFrame::Pong)).await;
    ann.socket.ready().await;
    ann.say(&app, &conv, "a1", "It left today.").await.ok();
    let to_visitor = frames_until(
        &mut v.socket,
        |f| matches!(f, ServerFrame::Message { message } if message.text == "It left today."),
    )
    .await;
    assert_eq!(count(&to_visitor, "human_typing"), 1, "{to_visitor:#?}");
    let hint = to_visitor.iter().find(|f| f.contains("human_typing")).unwrap();
    assert!(hint.contains("Ann Agent") && !hint.contains("Bob"), "{hint}");
    assert!(!to_visitor.iter().any(|f| f.contains("secret draft")), "the visitor's own preview never comes back");
    to_bob.extend(
        frames_until(
            &mut bob.socket,
            |f| matches!(f, ServerFrame::Message { message } if message.text == "It left today."),
        )
        .await,
    );
    assert!(to_bob.iter().any(|f| f.contains("human_typing") && f.contains("Ann Agent")), "{to_bob:#?}");

    // Nothing stored; another organization heard nothing.
    assert!(app.stored(&conv).await.iter().all(|m| !m.text.contains("secret draft")));
    eve_ws.hears_nothing_of(&conv, "typing").await;
}
on_both_databases!(typing_reaches_the_other_side_and_is_never_stored);

/// A typing frame of the wrong shape gets an error frame; the socket keeps working. An agent's
/// typing in another organization's conversation is "not found".
async fn bad_typing_frames_change_nothing(db: Db) {
    let app = spawn_app(db).await;
    let mut v = app.visitor().await;
    let conv = v.conversation_id();
    v.socket.send_json(json!({"type": "typing", "preview": 5})).await;
    let (code, _) = v.error().await;
    assert_eq!(code, "bad_frame");
    v.send("m1", "still here").await;
    v.ack("m1").await;
    let eve = app.other_org_user().await;
    let mut eve_ws = Socket::connect(&app, "/ws/agent", Some(&eve)).await;
    eve_ws.send_json(json!({"type": "typing", "conversation_id": conv})).await;
    let code = eve_ws
        .until(|f| match f {
            ServerFrame::Error { code, .. } => Some(code.clone()),
            _ => None,
        })
        .await;
    assert!(code == "not_found" || code == "forbidden", "{code}");
}
on_both_databases!(bad_typing_frames_change_nothing);
