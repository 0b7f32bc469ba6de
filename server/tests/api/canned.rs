//! Canned responses (issue 23): made, changed and deleted with the *settings* permission, read by
//! every user of the organization; bad fields and taken shortcuts refused with a field error and
//! nothing stored; the organization's limit holds for concurrent saves.
//! (Other organizations: `idor::organizations_cannot_reach_each_other`.)
use crate::admin::field_error;
use crate::helpers::*;
use crate::on_both_databases;
use domain::canned::{CannedDto, MAX_CANNED_PER_ORG, MAX_SHORTCUT};
use domain::values::MAX_MESSAGE_BYTES;
use serde_json::{json, Value};

async fn save(app: &TestApp, cookie: &str, id: Option<&str>, title: &str, shortcut: &str, text: &str) -> Answer {
    app.call_json(
        "canned/save",
        cookie,
        json!({"canned_id": id, "input": {"title": title, "shortcut": shortcut, "text": text}}),
    )
    .await
}

async fn list(app: &TestApp, cookie: &str) -> Vec<CannedDto> {
    serde_json::from_value(app.call_json("canned/list", cookie, json!({})).await.ok()).unwrap()
}

fn dto(v: Value) -> CannedDto {
    serde_json::from_value(v).unwrap()
}

/// Ann (settings) makes, changes and deletes canned responses; Bob and a user without any
/// permission read them; the one without *settings* cannot change them; an admin without an
/// organization has none.
async fn canned_responses_are_kept_per_organization(db: Db) {
    let app = spawn_app(db).await;
    let ann = app.login(ANN).await;
    let bob = app.login(BOB).await;
    let made =
        dto(save(&app, &ann, None, "  Thanks  for waiting ", " /Thanks ", "Thanks, {visitor_name}! {agent_name}")
            .await
            .ok());
    assert_eq!((made.title.as_str(), made.shortcut.as_str()), ("Thanks for waiting", "thanks"));
    let refund = dto(save(&app, &ann, None, "Refund policy", "refund", "Refunds take 5 days.").await.ok());
    assert_eq!(list(&app, &bob).await, vec![refund.clone(), made.clone()], "by shortcut");

    let changed =
        dto(save(&app, &ann, Some(&made.id), "Thank you", "thank-you", "Thank you, {visitor_name}.").await.ok());
    assert_eq!((changed.id.as_str(), changed.shortcut.as_str()), (made.id.as_str(), "thank-you"));

    let (vic, admin) = crate::admin::viewer_without_permissions(&app).await;
    assert_eq!(list(&app, &vic).await.len(), 2);
    assert_eq!(save(&app, &vic, None, "Mine", "mine", "x").await.status, 403);
    assert_eq!(save(&app, &vic, Some(&refund.id), "Mine", "mine", "x").await.status, 403);
    assert_eq!(app.call_json("canned/delete", &vic, json!({"canned_id": refund.id})).await.status, 403);
    assert_eq!(
        app.call_json("canned/list", &admin, json!({})).await.status,
        403,
        "an admin without an organization has none"
    );

    app.call_json("canned/delete", &ann, json!({"canned_id": refund.id})).await.ok();
    assert_eq!(list(&app, &bob).await, vec![changed]);
    assert_eq!(app.call_json("canned/delete", &ann, json!({"canned_id": refund.id})).await.status, 404);
}
on_both_databases!(canned_responses_are_kept_per_organization);

/// Every bad field gets a field error naming it, and nothing is stored or changed.
async fn bad_canned_responses_are_refused_and_change_nothing(db: Db) {
    let app = spawn_app(db).await;
    let ann = app.login(ANN).await;
    let kept = dto(save(&app, &ann, None, "Thanks", "thanks", "Thanks!").await.ok());
    let long_shortcut = "a".repeat(MAX_SHORTCUT + 1);
    let long_text = "a".repeat(MAX_MESSAGE_BYTES + 1);
    let cases: [(&str, &str, &str, &str, &str); 8] = [
        ("", "new", "x", "title", "enter a title"),
        ("T", "", "x", "shortcut", "enter a shortcut"),
        ("T", "two words", "x", "shortcut", "use 1 to 32"),
        ("T", &long_shortcut, "x", "shortcut", "use 1 to 32"),
        ("T", "THANKS", "x", "shortcut", "another canned response has this shortcut"),
        ("T", "new", "   ", "text", "enter the text"),
        ("T", "new", &long_text, "text", "must be at most 4096 bytes"),
        ("T", "new", "Hi {first_name}", "text", "unknown placeholder {first_name}"),
    ];
    for (title, shortcut, text, field, words) in cases {
        for id in [None, Some(kept.id.as_str())] {
            if id.is_some() && shortcut == "THANKS" {
                continue; // its own shortcut
            }
            let message = field_error(&save(&app, &ann, id, title, shortcut, text).await, field);
            assert!(message.starts_with(words), "{shortcut:?}: {message}");
        }
    }
    // Taken by another one when changed.
    let other = dto(save(&app, &ann, None, "Bye", "bye", "Bye!").await.ok());
    let taken = save(&app, &ann, Some(&other.id), "Bye", "thanks", "Bye!").await;
    assert_eq!(field_error(&taken, "shortcut"), "another canned response has this shortcut");
    assert_eq!(list(&app, &ann).await, vec![other, kept]);
}
on_both_databases!(bad_canned_responses_are_refused_and_change_nothing);

/// At the limit less one, two saves at once: exactly one is kept, the other is told the limit.
async fn the_limit_holds_for_concurrent_saves(db: Db) {
    let app = spawn_app(db).await;
    let ann = app.login(ANN).await;
    for i in 0..MAX_CANNED_PER_ORG - 1 {
        sqlx::query(
            "INSERT INTO canned_responses (id, org_id, title, shortcut, text, created_at, updated_at)
             VALUES ($1, 'demo-org', 'T', $2, 'x', 0, 0)",
        )
        .bind(format!("c{i}"))
        .bind(format!("s{i}"))
        .execute(app.backend.writer())
        .await
        .unwrap();
    }
    let (a, b) = tokio::join!(save(&app, &ann, None, "A", "last-a", "x"), save(&app, &ann, None, "B", "last-b", "x"));
    let answers = [a, b];
    let kept = answers.iter().filter(|a| a.status == 200).count();
    assert_eq!(kept, 1, "{:?}", answers.iter().map(|a| (a.status, a.body.clone())).collect::<Vec<_>>());
    let refused = answers.iter().find(|a| a.status != 200).unwrap();
    assert!(field_error(refused, "title").contains("at most 500 canned responses"));
    assert_eq!(list(&app, &ann).await.len(), MAX_CANNED_PER_ORG);
}
on_both_databases!(the_limit_holds_for_concurrent_saves);
