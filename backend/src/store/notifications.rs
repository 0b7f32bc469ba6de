//! The bell's routing rules, decided in SQL for every event:
//! * only users of the conversation's organization with the *conversations* permission;
//! * a handoff request notifies all of them (whatever their *events* choice);
//! * a chat message (the visitor's or an agent's) notifies those who chose *all messages*, in the
//!   message's own write ([`note_message`]);
//! * a transfer notifies the colleague receiving the conversation.
use crate::error::Result;
use crate::ids::new_id;
use crate::store::outbox;
use sqlx::AnyConnection;

/// Longest text kept in a notification.
const TEXT_CHARS: usize = 140;

/// The users to notify: the organization's users allowed to handle conversations, optionally
/// only those who chose "all messages".
pub(crate) const ELIGIBLE: &str = "SELECT u.id FROM users u LEFT JOIN notification_prefs p ON p.user_id = u.id
     WHERE u.org_id = $1 AND u.perm_conversations = 1 AND u.active = 1";

/// A chat message's notification text: the visitor's name and the message's line, cut.
pub(crate) fn message_text(visitor_name: &str, line: &str) -> String {
    format!("{visitor_name}: {}", short(line))
}

pub(crate) fn short(text: &str) -> String {
    let t: String = text.chars().take(TEXT_CHARS).collect();
    if t.len() < text.len() {
        format!("{t}…")
    } else {
        t
    }
}

/// Inside a transition's transaction: notify of a handoff request.
pub(crate) async fn notify_request(
    conn: &mut AnyConnection,
    org_id: &str,
    conversation_id: &str,
    visitor_name: &str,
    at: i64,
) -> Result<()> {
    notify_team(conn, org_id, conversation_id, "request", &format!("{visitor_name} asked for a human"), at).await
}

/// Inside the caller's transaction: notify every eligible user of the organization (requests,
/// e-mail forms), and queue an e-mail digest, due now, for those who want e-mail.
pub(crate) async fn notify_team(
    conn: &mut AnyConnection,
    org_id: &str,
    conversation_id: &str,
    kind: &str,
    text: &str,
    at: i64,
) -> Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO notifications (id, org_id, user_id, conversation_id, kind, text, created_at)
         SELECT $2 || u.id, $1, u.id, $3, $6, $4, $5 FROM ({ELIGIBLE}) u"
    )))
    .bind(org_id)
    .bind(format!("{}-", new_id()))
    .bind(conversation_id)
    .bind(short(text))
    .bind(at)
    .bind(kind)
    .execute(&mut *conn)
    .await?;
    outbox::enqueue_digests(conn, org_id, conversation_id, at, at).await
}

/// Inside a transition's transaction: a colleague passed `user_id` the conversation (they are
/// notified whatever their *events* choice, while they may handle conversations), and their
/// digest or push is queued.
pub(crate) async fn notify_colleague(
    conn: &mut AnyConnection,
    org_id: &str,
    conversation_id: &str,
    user_id: &str,
    text: &str,
    at: i64,
) -> Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO notifications (id, org_id, user_id, conversation_id, kind, text, created_at)
         SELECT $2, $1, u.id, $3, 'transfer', $4, $5 FROM ({ELIGIBLE}) u WHERE u.id = $6"
    )))
    .bind(org_id)
    .bind(new_id())
    .bind(conversation_id)
    .bind(short(text))
    .bind(at)
    .bind(user_id)
    .execute(&mut *conn)
    .await?;
    outbox::enqueue_digests(conn, org_id, conversation_id, at, at).await
}

/// Inside a transition's transaction: the conversation's request is answered or withdrawn, so its
/// notifications are read for everyone.
pub(crate) async fn stop_request_alerts(conn: &mut AnyConnection, conversation_id: &str, at: i64) -> Result<()> {
    sqlx::query(
        "UPDATE notifications SET read_at = $2 WHERE conversation_id = $1 AND kind = 'request'
         AND read_at IS NULL",
    )
    .bind(conversation_id)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Inside a chat message's write (`Backend::append_or_replay`): the users who chose *all
/// messages* get one unread notification of the conversation — a new one, or the unread one
/// updated with the newest text, so a chatty visitor does not flood the bell — and their digests
/// are queued, due `batch_ms` from now. `text` is the notification's ("Name: message…", see
/// [`message_text`]). Whether any notification changed.
pub(crate) async fn note_message(
    conn: &mut AnyConnection,
    org_id: &str,
    conversation_id: &str,
    text: &str,
    now: i64,
    batch_ms: i64,
) -> Result<bool> {
    let all = format!("{ELIGIBLE} AND p.events = 'all'");
    // One statement: a new notification, or the unread one (`notifications_unread_message`)
    // given the newest text.
    let changed = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO notifications (id, org_id, user_id, conversation_id, kind, text, created_at)
         SELECT $3 || u.id, $1, u.id, $2, 'message', $4, $5 FROM ({all}) u
         WHERE true -- (SQLite needs a WHERE before ON CONFLICT in INSERT … SELECT)
         ON CONFLICT (user_id, conversation_id) WHERE kind = 'message' AND read_at IS NULL
         DO UPDATE SET text = excluded.text, created_at = excluded.created_at"
    )))
    .bind(org_id)
    .bind(conversation_id)
    .bind(format!("{}-", new_id()))
    .bind(text)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        > 0;
    if changed {
        outbox::enqueue_digests(conn, org_id, conversation_id, now + batch_ms, now).await?;
    }
    Ok(changed)
}
