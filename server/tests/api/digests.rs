//! Notification e-mails are digests (one queued row per user, composed when sent from the user's
//! unread, not yet mailed notifications): batching, urgency, and the race between a digest being
//! sent and a notification arriving meanwhile.
use crate::email::mail_config;
use crate::helpers::*;
use crate::on_both_databases;
use crate::smtp::SmtpSink;
use serde_json::json;
use std::time::Duration;

/// Notification e-mails are digests: a burst of visitor messages makes one e-mail after the batch
/// window, a request is sent at once, read notifications are not mailed, and a user who turned
/// e-mail off gets nothing.
async fn notification_mails_are_batched(db: Db) {
    let smtp = SmtpSink::start().await;
    let app = spawn_app_with(db, |c| {
        mail_config(&smtp)(c);
        c.email_batch_ms = 600;
    })
    .await;
    let (ann, bob) = (app.login(ANN).await, app.login(BOB).await);
    for (cookie, events) in [(&ann, "all"), (&bob, "all")] {
        let prefs = json!({"prefs": {"via_email": true, "via_push": false, "events": events}});
        app.call_json("notifications/save_prefs", cookie, prefs).await.ok();
    }
    let mut v = app.visitor().await;
    for (i, text) in ["first", "second", "third"].iter().enumerate() {
        v.send(&format!("m{i}"), text).await;
        v.ack(&format!("m{i}")).await;
    }
    // Bob turns e-mail off before the window closes: nothing is sent to him.
    let off = json!({"prefs": {"via_email": false, "via_push": false, "events": "all"}});
    app.call_json("notifications/save_prefs", &bob, off).await.ok();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(smtp.mails().is_empty(), "still inside the batch window");
    let mail = smtp.wait_for(ANN, 1).await.remove(0);
    assert!(mail.body().contains(": third"), "{}", mail.body());
    assert!(!mail.body().contains(": first"), "one entry per conversation: {}", mail.body());

    // A request goes out at once, in a new mail (the earlier entry was already mailed).
    v.socket.send_json(json!({"type": "request_human"})).await;
    let mails = smtp.wait_for(ANN, 2).await;
    assert!(mails[1].body().contains("asked for a human"), "{}", mails[1].body());
    assert!(!mails[1].body().contains(": third"), "{}", mails[1].body());
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(smtp.mails_to(ANN).len(), 2);
    assert!(smtp.mails_to(BOB).is_empty());
}
on_both_databases!(notification_mails_are_batched);

/// A request that arrives while the previous digest is being sent (claimed by the worker, not yet
/// settled) still gets its own mail at once. The claimed row is still "queued", so the request
/// could neither queue a second digest nor move this one's due time; settling the row must queue
/// the next digest for what arrived meanwhile.
async fn a_request_during_a_digest_send_is_mailed(db: Db) {
    let smtp = SmtpSink::start().await;
    let app = spawn_app_with(db, |c| {
        mail_config(&smtp)(c);
        c.email_batch_ms = 100;
    })
    .await;
    let ann = app.login(ANN).await;
    let prefs = json!({"prefs": {"via_email": true, "via_push": false, "events": "all"}});
    app.call_json("notifications/save_prefs", &ann, prefs).await.ok();
    // The mail server keeps each mail at once but acknowledges it only after 800 ms.
    smtp.set_slow(Duration::from_millis(800));
    let mut v = app.visitor().await;
    v.send("m0", "hello").await;
    v.ack("m0").await;
    let first = smtp.wait_for(ANN, 1).await.remove(0);
    assert!(first.body().contains(": hello"), "{}", first.body());
    // The digest is on the wire, not yet settled: now the visitor asks for a human.
    v.socket.send_json(json!({"type": "request_human"})).await;
    smtp.set_slow(Duration::ZERO);
    let mails = smtp.wait_for(ANN, 2).await;
    assert!(mails[1].body().contains("asked for a human"), "{}", mails[1].body());
    assert!(!mails[1].body().contains(": hello"), "mailed once: {}", mails[1].body());
}
on_both_databases!(a_request_during_a_digest_send_is_mailed);
