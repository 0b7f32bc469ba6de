//! Rate limits: too many visitor messages or new chats get a clear error (a WebSocket error
//! frame naming the message, HTTP 429 saying when to try again), store nothing, and crash
//! nothing; resends of stored messages and returning visitors are not limited.
use crate::helpers::*;
use crate::on_both_databases;
use domain::wire::ServerFrame;

async fn visitors_are_rate_limited(db: Db) {
    let app = spawn_app_with(db, |c| {
        c.visitor_messages_per_minute = 3;
        c.new_chats_per_ip_per_hour = 2;
    })
    .await;
    let mut v = app.visitor().await; // the first new chat from 127.0.0.1
    let conv = v.conversation_id();
    let mut acked = Vec::new();
    for i in 0..3 {
        v.send(&format!("m{i}"), "hello").await;
        acked.push(v.ack(&format!("m{i}")).await);
    }
    v.send("m3", "one too many").await;
    let refused = v
        .socket
        .until(|f| match f {
            ServerFrame::Error { code, message, client_msg_id } => {
                Some((code.clone(), message.clone(), client_msg_id.clone()))
            }
            _ => None,
        })
        .await;
    assert_eq!(refused.0, "rate_limited");
    assert!(refused.1.contains("too fast"), "{}", refused.1);
    assert_eq!(refused.2.as_deref(), Some("m3"), "the widget can mark that message as not sent");
    // A resend of a stored message is answered (not limited), and the socket still works.
    v.send("m1", "hello").await;
    assert_eq!(v.ack("m1").await, acked[1]);
    let stored = app.stored(&conv).await;
    assert!(!stored.iter().any(|m| m.client_msg_id.as_deref() == Some("m3")), "nothing stored");

    // New chats per address: the second is allowed, the third is refused; a returning visitor
    // (with the token) is not a new chat.
    let second = app.call("widget/session", None, &[("widget_id", "demo")]).await;
    assert_eq!(second.status, 200);
    let third = app.call("widget/session", None, &[("widget_id", "demo")]).await;
    assert_eq!(third.err(429)["kind"], "rate_limited");
    assert!(third.body["message"].as_str().unwrap().contains("try again in"), "{}", third.body);
    let token = v.session.token.clone();
    assert_eq!(app.visitor_session("demo", Some(&token)).await.conversation_id, conv);
}
on_both_databases!(visitors_are_rate_limited);
