//! The "send email" fallback and the outbox, end to end: the visitor's multipart form (checked
//! before anything is stored, idempotent, rate limited), attachments and who may download them,
//! the team's notification e-mails and the agent's e-mail reply over real SMTP (a local SMTP
//! server, see smtp.rs), retries through an outage and across a restart, the automatic offer of
//! the form, and the organization's handoff settings.
use crate::helpers::*;
use crate::on_both_databases;
use crate::smtp::SmtpSink;
use backend::Config;
use domain::handoff::HandoffState;
use domain::wire::{Author, DeliveryStatus, MessageDto, MessageExtra, ServerFrame};
use serde_json::{json, Value};
use std::time::Duration;

pub(crate) const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
pub(crate) const VISITOR_MAIL: &str = "visitor@example.test";

pub(crate) fn mail_config(smtp: &SmtpSink) -> impl FnOnce(&mut Config) {
    let url = smtp.url();
    move |c: &mut Config| {
        c.smtp_url = url;
        c.outbox_poll_ms = 40;
        c.outbox_retry_ms = 100;
        c.public_url = "https://support.example".into();
    }
}

/// POSTs the visitor's form as the widget does.
pub(crate) async fn submit(
    app: &TestApp,
    token: &str,
    submission_id: &str,
    email: &str,
    message: &str,
    files: &[(&str, &[u8])],
) -> Answer {
    let mut form = reqwest::multipart::Form::new()
        .text("token", token.to_string())
        .text("submission_id", submission_id.to_string())
        .text("email", email.to_string())
        .text("message", message.to_string());
    for (name, bytes) in files {
        form = form.part("files", reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_string()));
    }
    let res = app.http.post(format!("{}/api/widget/email", app.base)).multipart(form).send().await.expect("upload");
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    Answer { status, body: serde_json::from_str(&text).unwrap_or(Value::String(text)) }
}

/// GETs an attachment with a session cookie and/or a visitor token.
pub(crate) async fn download(
    app: &TestApp,
    id: &str,
    cookie: Option<&str>,
    visitor_token: Option<&str>,
) -> reqwest::Response {
    let mut req = app.http.get(format!("{}/attachments/{id}", app.base));
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    if let Some(t) = visitor_token {
        req = req.header("x-visitor-token", t);
    }
    req.send().await.expect("download")
}

fn form_of(m: &MessageDto) -> Option<(String, Vec<domain::wire::AttachmentDto>)> {
    match &m.extra {
        MessageExtra::EmailForm { email, attachments } => Some((email.clone(), attachments.clone())),
        _ => None,
    }
}

fn delivery_of(m: &MessageDto) -> Option<DeliveryStatus> {
    match &m.extra {
        MessageExtra::EmailReply { delivery, .. } => Some(delivery.status),
        _ => None,
    }
}

/// Waits until the worker has recorded the outcome of the e-mail reply at `seq` (the mail can
/// reach the SMTP server a moment before its status is written).
async fn settled(app: &TestApp, conversation_id: &str, seq: i64) {
    for _ in 0..400 {
        let stored = app.stored(conversation_id).await;
        if stored.get((seq - 1) as usize).and_then(delivery_of).is_some_and(|s| s != DeliveryStatus::Queued) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the reply at seq {seq} was never settled");
}

async fn attachment_rows(app: &TestApp) -> i64 {
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM attachments").fetch_one(&app.backend.db.pool).await.unwrap();
    n
}

/// The whole thread: the visitor's form with two files lands in the conversation (live for the
/// visitor and the watching agent), the team is notified in the bell and by e-mail, the files
/// are downloadable by the organization and the visitor only, and the agent's e-mail reply
/// reaches the visitor's address with the organization's reply-to, quoting the original, while
/// its delivery status follows live.
async fn form_reaches_the_team_and_the_reply_reaches_the_visitor(db: Db) {
    let smtp = SmtpSink::start().await;
    let app = spawn_app_with(db, mail_config(&smtp)).await;
    let mut ann = app.agent(ANN).await;
    let bob = app.login(BOB).await;
    app.call_json(
        "notifications/save_prefs",
        &ann.cookie,
        json!({"prefs": {"via_email": true, "via_push": false, "events": "requests"}}),
    )
    .await
    .ok();
    let settings = app
        .call_json(
            "org/save_settings",
            &ann.cookie,
            json!({"settings": {"handoff_timeout_secs": 90, "reply_to": " help@Demo.TEST "}}),
        )
        .await
        .ok();
    assert_eq!(settings, json!({"handoff_timeout_secs": 90, "reply_to": "help@demo.test", "typing_preview": false}));

    let mut v = app.visitor().await;
    let conv = v.conversation_id();
    v.message(|_| true).await; // greeting
    ann.watch(&conv, 0).await;
    let text = "My order #1234 never arrived.\n<img src=x onerror=alert(1)>";
    // (The subject of the team's mail quotes it on one line: no header injection.)
    let answer = submit(
        &app,
        &v.session.token,
        "form-1",
        VISITOR_MAIL,
        text,
        &[("notes.txt", b"order 1234"), ("shot.png", PNG)],
    )
    .await;
    let seq = answer.ok()["seq"].as_i64().unwrap();
    assert_eq!(seq, 2);

    let live = v.message(|m| m.seq == 2).await;
    assert_eq!(live.author, Author::Visitor);
    assert_eq!(live.text, text, "stored as typed; rendering escapes it");
    let (email, files) = form_of(&live).expect("an e-mail form message");
    assert_eq!(email, VISITOR_MAIL);
    let names: Vec<_> = files.iter().map(|f| (f.name.as_str(), f.content_type.as_str(), f.size)).collect();
    assert_eq!(
        names,
        vec![("notes.txt", "text/plain; charset=utf-8", 10), ("shot.png", "image/png", PNG.len() as i64)]
    );
    let seen_by_ann = ann.message(|m| m.seq == 2).await;
    assert_eq!(form_of(&seen_by_ann), form_of(&live));

    // Sending the same form again (a retry after a lost answer) stores nothing new.
    let again = submit(
        &app,
        &v.session.token,
        "form-1",
        VISITOR_MAIL,
        text,
        &[("notes.txt", b"order 1234"), ("shot.png", PNG)],
    )
    .await
    .ok();
    assert_eq!((again["seq"].as_i64(), again["duplicate"].as_bool()), (Some(2), Some(true)));
    assert_eq!(app.stored(&conv).await.len(), 2);
    assert_eq!(attachment_rows(&app).await, 2);

    // The bell of everyone who handles conversations, whatever their events choice.
    for cookie in [&ann.cookie, &bob] {
        let bell = app.call_json("notifications/list", cookie, json!({})).await.ok();
        let item = bell["items"].as_array().unwrap().iter().find(|n| n["kind"] == "email_form").cloned();
        let item = item.unwrap_or_else(|| panic!("no e-mail form notification: {bell}"));
        assert!(item["text"].as_str().unwrap().contains("sent an e-mail (2 files): My order #1234"), "{item}");
        assert_eq!(item["conversation_id"], conv.as_str());
    }
    // Ann chose e-mail: one notification mail, with a link to the conversation. Bob did not.
    let mail = smtp.wait_for(ANN, 1).await.remove(0);
    let subject = mail.header("Subject").unwrap();
    assert!(subject.contains("sent an e-mail (2 files): My order #1234 never arrived. <img"), "{}", mail.raw);
    let head = mail.raw.split("\r\n\r\n").next().unwrap();
    assert!(!head.contains("\r\n<img"), "{}", mail.raw);
    assert!(mail.body().contains(&format!("https://support.example/conversations/{conv}")), "{}", mail.body());
    assert!(smtp.mails_to(BOB).is_empty());

    // Attachments: the organization and the uploading visitor; nobody else, not even by id.
    let (txt, png) = (&files[0], &files[1]);
    let res = download(&app, &png.id, Some(&ann.cookie), None).await;
    assert_eq!(res.status(), 200);
    let header = |name: &str| res.headers().get(name).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    assert_eq!(header("content-type"), "image/png");
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert!(header("content-disposition").starts_with("attachment;"), "{}", header("content-disposition"));
    assert!(header("content-disposition").contains("shot.png"));
    assert!(header("content-security-policy").contains("sandbox"), "{}", header("content-security-policy"));
    assert_eq!(&res.bytes().await.unwrap()[..], PNG);
    let res = download(&app, &txt.id, None, Some(&v.session.token)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(&res.bytes().await.unwrap()[..], b"order 1234");
    let stranger = app.visitor_session("demo", None).await;
    let eve = app.other_org_user().await;
    for (cookie, token) in [(None, None), (None, Some(stranger.token.as_str())), (Some(eve.as_str()), None)] {
        let res = download(&app, &txt.id, cookie, token).await;
        assert_eq!(res.status(), 404, "{cookie:?} {token:?}");
        assert!(!res.text().await.unwrap().contains("order 1234"));
    }
    assert_eq!(download(&app, "no-such-id", Some(&ann.cookie), None).await.status(), 404);
    // Another organization cannot answer the form either.
    let foreign = app
        .call_json(
            "email/reply",
            &eve,
            json!({"conversation_id": conv, "form_seq": 2, "client_msg_id": "x1", "text": "Hi"}),
        )
        .await;
    assert_eq!(foreign.err(404)["kind"], "not_found");

    // The agent answers by e-mail (without taking the chat over).
    let reply = app
        .call_json(
            "email/reply",
            &ann.cookie,
            json!({"conversation_id": conv, "form_seq": 2, "client_msg_id": "r1", "text": "Sorry! It ships today.\nTracking follows."}),
        )
        .await
        .ok();
    let reply: MessageDto = serde_json::from_value(reply).unwrap();
    assert_eq!(reply.seq, 3);
    assert!(matches!(&reply.author, Author::Agent { name, .. } if name == "Ann Agent"));
    assert!(matches!(&reply.extra, MessageExtra::EmailReply { to, .. } if to == VISITOR_MAIL));
    let resent = app
        .call_json(
            "email/reply",
            &ann.cookie,
            json!({"conversation_id": conv, "form_seq": 2, "client_msg_id": "r1", "text": "Sorry! It ships today.\nTracking follows."}),
        )
        .await
        .ok();
    assert_eq!(resent["seq"], 3, "the same reply is stored and sent once");

    let mail = smtp.wait_for(VISITOR_MAIL, 1).await.remove(0);
    assert_eq!(mail.from, "handoff@localhost", "the configured sender");
    assert_eq!(mail.header("Reply-To").as_deref(), Some("help@demo.test"));
    assert_eq!(mail.header("Subject").as_deref(), Some("Re: your message to Demo Org"));
    let body = mail.body();
    assert!(body.starts_with("Sorry! It ships today.\nTracking follows.\n"), "{body}");
    assert!(body.contains("Ann Agent"), "{body}");
    assert!(body.contains("> My order #1234 never arrived.\n> <img src=x onerror=alert(1)>"), "{body}");

    // The delivery status follows live, for the visitor and the agent.
    let sent = v
        .socket
        .until(|f| match f {
            ServerFrame::MessageUpdated { message } if delivery_of(message) == Some(DeliveryStatus::Sent) => {
                Some(message.clone())
            }
            _ => None,
        })
        .await;
    assert_eq!(sent.seq, 3);
    ann.socket
        .until(|f| match f {
            ServerFrame::MessageUpdated { message } if delivery_of(message) == Some(DeliveryStatus::Sent) => Some(()),
            _ => None,
        })
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.mails_to(VISITOR_MAIL).len(), 1, "sent exactly once");
    let stored = app.stored(&conv).await;
    assert_gap_free(&stored);
    assert_eq!(delivery_of(&stored[2]), Some(DeliveryStatus::Sent));
}
on_both_databases!(form_reaches_the_team_and_the_reply_reaches_the_visitor);

/// While the SMTP server refuses mail the reply stays queued and is retried with backoff; it is
/// sent once the server is back. After the last attempt it is marked failed (with the reason, for
/// agents only) and an agent's retry sends it.
async fn replies_survive_an_smtp_outage(db: Db) {
    let smtp = SmtpSink::start().await;
    smtp.set_down(true);
    let app = spawn_app_with(db, |c| {
        mail_config(&smtp)(c);
        c.outbox_max_attempts = 3;
    })
    .await;
    let mut ann = app.agent(ANN).await;
    let mut v = app.visitor().await;
    let conv = v.conversation_id();
    submit(&app, &v.session.token, "form-1", VISITOR_MAIL, "Where is my order?", &[]).await.ok();
    ann.watch(&conv, 0).await;
    let reply = |id: &'static str| {
        let (app, cookie, conv) = (&app, ann.cookie.clone(), conv.clone());
        async move {
            let body =
                json!({"conversation_id": conv, "form_seq": 2, "client_msg_id": id, "text": format!("Answer {id}")});
            serde_json::from_value::<MessageDto>(app.call_json("email/reply", &cookie, body).await.ok()).unwrap()
        }
    };
    let first = reply("r1").await;

    // Three refused attempts (100 ms, then 200 ms apart), then failed.
    let failed = ann
        .socket
        .until(|f| match f {
            ServerFrame::MessageUpdated { message } if message.seq == first.seq => match &message.extra {
                MessageExtra::EmailReply { delivery, .. } if delivery.status == DeliveryStatus::Failed => {
                    Some(delivery.clone())
                }
                _ => None,
            },
            _ => None,
        })
        .await;
    assert_eq!(failed.attempts, 3);
    assert!(failed.error.as_deref().unwrap_or("").contains("busy"), "{failed:?}");
    assert_eq!(smtp.refused(), 3);
    // The visitor learns it was not delivered, without the server's error text.
    let for_visitor = v
        .socket
        .until(|f| match f {
            ServerFrame::MessageUpdated { message } if delivery_of(message) == Some(DeliveryStatus::Failed) => {
                Some(message.clone())
            }
            _ => None,
        })
        .await;
    assert!(matches!(&for_visitor.extra, MessageExtra::EmailReply { delivery, .. } if delivery.error.is_none()));

    // Only failed replies can be retried, and only by the organization.
    let retry = json!({"conversation_id": conv, "seq": first.seq});
    let eve = app.other_org_user().await;
    assert_eq!(app.call_json("email/retry", &eve, retry.clone()).await.err(404)["kind"], "not_found");
    assert_eq!(app.call_json("email/retry", &ann.cookie, json!({"conversation_id": conv, "seq": 2})).await.status, 404);

    // A second reply during the outage waits; both go out when the server is back.
    let second = reply("r2").await;
    tokio::time::sleep(Duration::from_millis(250)).await;
    smtp.set_down(false);
    app.call_json("email/retry", &ann.cookie, retry.clone()).await.ok();
    let mails = smtp.wait_for(VISITOR_MAIL, 2).await;
    let mut bodies: Vec<String> = mails.iter().map(|m| m.body().lines().next().unwrap().to_string()).collect();
    bodies.sort();
    assert_eq!(bodies, ["Answer r1", "Answer r2"]);
    settled(&app, &conv, first.seq).await;
    settled(&app, &conv, second.seq).await;
    let stored = app.stored(&conv).await;
    assert_eq!(delivery_of(&stored[(first.seq - 1) as usize]), Some(DeliveryStatus::Sent));
    assert_eq!(delivery_of(&stored[(second.seq - 1) as usize]), Some(DeliveryStatus::Sent));
    assert_eq!(smtp.mails_to(VISITOR_MAIL).len(), 2, "nothing sent twice");
    // Sent replies cannot be "retried" into a second mail.
    assert_eq!(app.call_json("email/retry", &ann.cookie, retry).await.status, 404);
}
on_both_databases!(replies_survive_an_smtp_outage);

/// A reply queued by a process that stops before sending it is sent by the next process on the
/// same database: the outbox is in the database, not in memory.
async fn queued_mail_survives_a_restart(db: Db) {
    let smtp = SmtpSink::start().await;
    // The first process never sends (its worker is off): as if it crashed right after queueing.
    let first = spawn_app(db).await;
    let ann = first.login(ANN).await;
    let v = first.visitor().await;
    let conv = v.conversation_id();
    submit(&first, &v.session.token, "form-1", VISITOR_MAIL, "Hello?", &[("a.txt", b"one")]).await.ok();
    let body = json!({"conversation_id": conv, "form_seq": 2, "client_msg_id": "r1", "text": "Hello from the team"});
    first.call_json("email/reply", &ann, body).await.ok();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(smtp.mails().is_empty());

    let second = spawn_node_sharing(&first, mail_config(&smtp)).await;
    let mail = smtp.wait_for(VISITOR_MAIL, 1).await.remove(0);
    assert!(mail.body().starts_with("Hello from the team"), "{}", mail.body());
    settled(&second, &conv, 3).await;
    assert_eq!(delivery_of(&second.stored(&conv).await[2]), Some(DeliveryStatus::Sent));
    assert_eq!(smtp.mails_to(VISITOR_MAIL).len(), 1);
}
on_both_databases!(queued_mail_survives_a_restart);

/// Every kind of bad form gets a clear error naming the field, and stores nothing: no message, no
/// file, no notification.
async fn bad_forms_are_refused_and_store_nothing(db: Db) {
    let app = spawn_app(db).await;
    let ann = app.login(ANN).await;
    let v = app.visitor().await;
    let conv = v.conversation_id();
    let token = v.session.token.clone();
    let big = vec![b'a'; 5 * 1024 * 1024 + 1];
    let part = vec![b'a'; 4 * 1024 * 1024];
    let long = "x".repeat(5001);
    let six: Vec<(String, Vec<u8>)> = (0..6).map(|i| (format!("{i}.txt"), b"x".to_vec())).collect();
    let six: Vec<(&str, &[u8])> = six.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
    // (submission id, e-mail, message, files, status, field, what the error says)
    type Case<'a> = (&'a str, &'a str, &'a str, Vec<(&'a str, &'a [u8])>, u16, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        ("s1", "not an address", "Hello", vec![], 400, "email", "address"),
        ("s2", "", "Hello", vec![], 400, "email", ""),
        ("s3", "a@b.test", "  \n ", vec![], 400, "message", ""),
        ("s4", "a@b.test", &long, vec![], 400, "message", "too long"),
        ("s5", "a@b.test", "Hi", vec![("invoice.pdf", PNG)], 400, "files", "does not match"),
        (
            "s6",
            "a@b.test",
            "Hi",
            vec![("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>")],
            400,
            "files",
            "not accepted",
        ),
        ("s7", "a@b.test", "Hi", vec![("x.png", b"<script>alert(1)</script>")], 400, "files", ""),
        ("s8", "a@b.test", "Hi", vec![("run.exe", b"MZ\x90\0\x03")], 400, "files", "not accepted"),
        ("s9", "a@b.test", "Hi", six, 400, "files", "at most 5"),
        ("s10", "a@b.test", "Hi", vec![("big.txt", &big)], 400, "files", "each file"),
        ("s11", "a@b.test", "Hi", vec![("a.txt", &part), ("b.txt", &part), ("c.txt", &part)], 413, "files", "in all"),
        ("s12", "a@b.test", "Hi", vec![("empty.txt", b"")], 400, "files", "empty"),
    ];
    for (id, email, message, files, status, field, says) in cases {
        let answer = submit(&app, &token, id, email, message, &files).await;
        let body = answer.err(status);
        assert_eq!((body["kind"].as_str(), body["field"].as_str()), (Some("field"), Some(field)), "{id}: {body}");
        assert!(body["message"].as_str().unwrap().contains(says), "{id}: {body}");
    }
    // No visitor: nothing to attach the form to.
    assert_eq!(submit(&app, "forged-token", "s13", "a@b.test", "Hi", &[]).await.status, 403);
    // A malformed body.
    let res = app
        .http
        .post(format!("{}/api/widget/email", app.base))
        .header("content-type", "multipart/form-data; boundary=xyz")
        .body("--xyz\r\nnonsense")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);

    assert_eq!(app.stored(&conv).await.len(), 1, "only the greeting");
    assert_eq!(attachment_rows(&app).await, 0);
    let bell = app.call_json("notifications/list", &ann, json!({})).await.ok();
    assert_eq!(bell["unread"], 0, "{bell}");

    // Five forms an hour per conversation; the sixth is refused with a clear reason.
    for i in 0..5 {
        submit(&app, &token, &format!("ok{i}"), "a@b.test", &format!("Form {i}"), &[]).await.ok();
    }
    let limited = submit(&app, &token, "ok5", "a@b.test", "Form 5", &[]).await;
    let body = limited.err(429);
    assert_eq!(body["kind"], "rate_limited");
    assert!(body["message"].as_str().unwrap().contains("last hour"), "{body}");
    assert_eq!(app.stored(&conv).await.len(), 6);
}
on_both_databases!(bad_forms_are_refused_and_store_nothing);

/// The form is offered once per request: at once when nobody who handles conversations has the
/// dashboard open, otherwise after the organization's timeout; never for a handled request.
async fn the_form_is_offered_when_nobody_answers(db: Db) {
    let app = spawn_app_with(db, |c| c.email_offer_check_ms = 50).await;
    let is_offer = |m: &MessageDto| m.extra == MessageExtra::EmailOffer;

    // Nobody online: the request is answered with the offer right away.
    let mut v = app.visitor().await;
    v.socket.send_json(json!({"type": "request_human"})).await;
    let offer = v.message(is_offer).await;
    assert_eq!(offer.author, Author::System);
    assert!(offer.text.contains("e-mail"), "{}", offer.text);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let offers = app.stored(&v.conversation_id()).await.into_iter().filter(|m| is_offer(m)).count();
    assert_eq!(offers, 1, "offered once per request");

    // Ann's dashboard is open: a new request waits for the organization's timeout.
    let ann = app.agent(ANN).await;
    wait_until_online(&app, "demo-user-1").await;
    let mut w = app.visitor().await;
    w.socket.send_json(json!({"type": "request_human"})).await;
    w.socket.until(|f| matches!(f, ServerFrame::State { state: HandoffState::Requested, .. }).then_some(())).await;
    assert!(w.socket.try_next(Duration::from_millis(700)).await.is_none_or(|f| !matches!(
        f,
        ServerFrame::Message { ref message } if is_offer(message)
    )));
    // Ann handles it: no offer, however long it waits.
    ann.act(&app, "handoff/handle", &w.conversation_id()).await.ok();
    sqlx::query("UPDATE organizations SET handoff_timeout_secs = 1").execute(&app.backend.db.pool).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!app.stored(&w.conversation_id()).await.iter().any(is_offer));

    // With the (here shortened) timeout over, a waiting request gets the offer although Ann is online.
    let mut x = app.visitor().await;
    x.socket.send_json(json!({"type": "request_human"})).await;
    let offer = x.message(is_offer).await;
    // The timeout runs from the request's state change (`state_since`, stamped when its
    // transaction starts), not from its notice, which is stamped a moment later.
    let (requested_at,): (i64,) = sqlx::query_as("SELECT state_since FROM conversations WHERE id = $1")
        .bind(x.conversation_id())
        .fetch_one(&app.backend.db.pool)
        .await
        .unwrap();
    assert!(offer.created_at - requested_at >= 1000, "offered after the timeout");
}
on_both_databases!(the_form_is_offered_when_nobody_answers);

/// Waits until the user's open dashboard has recorded its presence.
async fn wait_until_online(app: &TestApp, user_id: &str) {
    for _ in 0..200 {
        let (seen,): (i64,) = sqlx::query_as("SELECT last_seen_at FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_one(&app.backend.db.pool)
            .await
            .unwrap();
        if seen > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{user_id} never came online");
}

/// The organization's handoff settings: everyone reads them; only the *settings* permission
/// changes them; bad values are field errors and change nothing.
async fn handoff_settings_need_the_settings_permission(db: Db) {
    let app = spawn_app(db).await;
    let (ann, bob) = (app.login(ANN).await, app.login(BOB).await);
    let defaults = json!({"handoff_timeout_secs": 120, "reply_to": "", "typing_preview": false});
    assert_eq!(app.call_json("org/settings", &bob, json!({})).await.ok(), defaults);
    let change =
        json!({"settings": {"handoff_timeout_secs": 30, "reply_to": "help@demo.test", "typing_preview": true}});
    let refused = app.call_json("org/save_settings", &bob, change.clone()).await;
    assert!(refused.err(403)["message"].as_str().unwrap().contains("settings permission"), "{}", refused.body);
    for (settings, field) in [
        (json!({"handoff_timeout_secs": 5, "reply_to": ""}), "handoff_timeout_secs"),
        (json!({"handoff_timeout_secs": 100000, "reply_to": ""}), "handoff_timeout_secs"),
        (json!({"handoff_timeout_secs": 60, "reply_to": "not an address"}), "reply_to"),
    ] {
        let answer = app.call_json("org/save_settings", &ann, json!({ "settings": settings })).await;
        assert_eq!(answer.err(400)["field"], field, "{}", answer.body);
    }
    assert_eq!(app.call_json("org/settings", &ann, json!({})).await.ok(), defaults, "nothing changed");
    app.call_json("org/save_settings", &ann, change).await.ok();
    assert_eq!(app.call_json("org/settings", &bob, json!({})).await.ok()["handoff_timeout_secs"], 30);
    assert_eq!(app.call_json("org/settings", &ann, json!({})).await.ok()["reply_to"], "help@demo.test");
    assert_eq!(app.call_json("org/settings", &bob, json!({})).await.ok()["typing_preview"], true);
    assert_eq!(app.call_anonymous("org/settings").await, 401);
}
on_both_databases!(handoff_settings_need_the_settings_permission);
