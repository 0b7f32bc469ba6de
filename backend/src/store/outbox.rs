//! Queueing outgoing e-mail and push digests inside the caller's transaction (see
//! `services::outbox` for sending them).
use crate::error::Result;
use crate::ids::new_id;
use sqlx::AnyConnection;

/// How a user hears of notifications outside the dashboard.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Channel {
    Email,
    Push,
}

impl Channel {
    /// The outbox kind of its digests.
    pub(crate) fn kind(self) -> &'static str {
        match self {
            Self::Email => "digest",
            Self::Push => "push",
        }
    }
    /// The preference column that turns it on.
    pub(crate) fn pref(self) -> &'static str {
        match self {
            Self::Email => "via_email",
            Self::Push => "via_push",
        }
    }
    /// The notification column that records it was used.
    pub(crate) fn done(self) -> &'static str {
        match self {
            Self::Email => "emailed",
            Self::Push => "pushed",
        }
    }
}

/// Inside the caller's transaction: make sure every user who wants e-mail (or push) and has
/// unread notifications of this conversation not yet sent that way has a queued digest — e-mail
/// due by `due`, push due now.
pub(crate) async fn enqueue_digests(
    conn: &mut AnyConnection,
    org_id: &str,
    conversation_id: &str,
    due: i64,
    now: i64,
) -> Result<()> {
    for (channel, due) in [(Channel::Email, due), (Channel::Push, now)] {
        let (kind, pref, done) = (channel.kind(), channel.pref(), channel.done());
        let wanting = format!(
            "SELECT u.id, u.email FROM users u JOIN notification_prefs p ON p.user_id = u.id
             WHERE u.org_id = $1 AND u.perm_conversations = 1 AND u.active = 1 AND p.{pref} = 1
               AND EXISTS (SELECT 1 FROM notifications n WHERE n.user_id = u.id AND n.conversation_id = $2
                           AND n.read_at IS NULL AND n.{done} = 0)"
        );
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO outbox (id, org_id, kind, user_id, to_addr, status, next_attempt_at, created_at)
             SELECT $3 || w.id, $1, '{kind}', w.id, w.email, 'queued', $4, $5 FROM ({wanting}) w
             WHERE true -- (SQLite needs a WHERE before ON CONFLICT in INSERT … SELECT)
             ON CONFLICT DO NOTHING"
        )))
        .bind(org_id)
        .bind(conversation_id)
        .bind(format!("{}-", new_id()))
        .bind(due)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        // An earlier digest waiting for more messages goes out sooner when something urgent came.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE outbox SET next_attempt_at = $3 WHERE kind = '{kind}' AND status = 'queued' AND next_attempt_at > $3
             AND user_id IN (SELECT w.id FROM ({wanting}) w)"
        )))
        .bind(org_id)
        .bind(conversation_id)
        .bind(due)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Inside the transaction that settles a digest row: notifications that arrived while the row
/// was claimed found it still `queued` (so no second row could be queued, see the unique index
/// `outbox_queued_digest`) and already due (so their due time moved nothing). Queue the next
/// digest for them, unless the user no longer wants the channel. `handled`: the notifications
/// this row sent (or gave up on), which must not be queued again. E-mail is due when the
/// earliest leftover is (a message after `batch_ms`, anything else at once); push at once.
pub(crate) async fn queue_leftovers(
    conn: &mut AnyConnection,
    user_id: &str,
    channel: Channel,
    handled: &[String],
    batch_ms: i64,
    now: i64,
) -> Result<()> {
    let (kind, pref, done) = (channel.kind(), channel.pref(), channel.done());
    let batch_ms = if channel == Channel::Email { batch_ms } else { 0 };
    // $1 user, $2 id prefix, $3 batch, $4 now, then the handled ids.
    let handled_marks: Vec<String> = (0..handled.len()).map(|i| format!("${}", i + 5)).collect();
    let not_handled =
        if handled.is_empty() { String::new() } else { format!("AND n.id NOT IN ({})", handled_marks.join(", ")) };
    let leftovers =
        format!("FROM notifications n WHERE n.user_id = u.id AND n.read_at IS NULL AND n.{done} = 0 {not_handled}");
    let sql = format!(
        "INSERT INTO outbox (id, org_id, kind, user_id, to_addr, status, next_attempt_at, created_at)
         SELECT $2 || u.id, u.org_id, '{kind}', u.id, u.email, 'queued',
                (SELECT MIN(CASE WHEN n.kind = 'message' THEN n.created_at + $3 ELSE n.created_at END) {leftovers}), $4
         FROM users u JOIN notification_prefs p ON p.user_id = u.id
         WHERE u.id = $1 AND u.org_id IS NOT NULL AND u.perm_conversations = 1 AND u.active = 1 AND p.{pref} = 1
           AND EXISTS (SELECT 1 {leftovers})
         ON CONFLICT DO NOTHING"
    );
    let mut insert =
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(user_id).bind(format!("{}-", new_id())).bind(batch_ms).bind(now);
    for id in handled {
        insert = insert.bind(id.as_str());
    }
    insert.execute(&mut *conn).await?;
    Ok(())
}
