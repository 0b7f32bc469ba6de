//! Deleting a conversation with everything stored about it: its messages (and, through the
//! engines' own triggers and columns, their search index), files, the bell's notifications,
//! outgoing e-mail about it (replies, transcripts), handoff events, private notes, labels and the
//! visitor's context. Used by retention (`services::retention`); the caller's transaction holds the
//! conversation's row (see [`lock_closed_before`]), so no message lands in it meanwhile.
use crate::db::DbKind;
use crate::error::Result;
use sqlx::AnyConnection;

/// Every table holding rows of a conversation, children first (foreign keys), the conversation
/// itself last.
const TABLES: [&str; 10] = [
    "attachments",
    "outbox",
    "notifications",
    "control_events",
    "conversation_labels",
    "notes",
    "visitor_pages",
    "visitor_context",
    "messages",
    "conversations",
];

/// Up to `limit` of the organization's closed conversations whose last activity and closing both
/// came before `cutoff` (epoch ms), oldest first — locked until the caller's transaction ends
/// (PostgreSQL: the rows, skipping those another process is deleting; SQLite: the write
/// transaction already excludes every other writer).
pub(crate) async fn lock_closed_before(
    conn: &mut AnyConnection,
    kind: DbKind,
    org_id: &str,
    cutoff: i64,
    limit: i64,
) -> Result<Vec<String>> {
    let lock = match kind {
        DbKind::Postgres => " FOR UPDATE SKIP LOCKED",
        DbKind::Sqlite => "",
    };
    let sql = format!(
        "SELECT id FROM conversations WHERE org_id = $1 AND state = 'closed' AND last_activity < $2 AND state_since < $2
         ORDER BY last_activity LIMIT $3{lock}"
    );
    let ids: Vec<(String,)> =
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(org_id).bind(cutoff).bind(limit).fetch_all(&mut *conn).await?;
    Ok(ids.into_iter().map(|(id,)| id).collect())
}

/// Deletes one conversation and every row about it (see [`TABLES`]).
pub(crate) async fn delete_conversation(conn: &mut AnyConnection, id: &str) -> Result<()> {
    for table in TABLES {
        let column = if table == "conversations" { "id" } else { "conversation_id" };
        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE {column} = $1")))
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}
