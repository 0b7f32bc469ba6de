//! Deleting a conversation with everything stored about it: its messages (and, through the
//! engines' own triggers and columns, their search index), files, the bell's notifications,
//! outgoing e-mail about it (replies, transcripts, and the sent digests and pushes that quoted it),
//! handoff events, private notes, labels and the visitor's context; then a visitor left without
//! conversations. Used by retention (`services::retention`) and a visitor's erasure
//! (`services::visitor_data`); the caller's transaction holds the conversation's row (see
//! [`lock_ended_before`]), so no message lands in it meanwhile.
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

/// The rule retention deletes by, on `conversations` (`$1` the organization, `$2` the cutoff):
/// ended — closed, or left with the AI — and quiet since before the cutoff. Retention's count of
/// what is due ([`crate::services::retention`]) reads the same rule.
pub(crate) fn ended_before() -> &'static str {
    "org_id = $1 AND state IN ('closed', 'ai') AND last_activity < $2 AND state_since < $2"
}

/// Up to `limit` of the organization's conversations that ended — closed, or left with the AI —
/// whose last activity came before `cutoff` (epoch ms), oldest first; never one waiting for or
/// held by a person. Locked until the caller's transaction ends (PostgreSQL: the rows, skipping
/// those another process is deleting; SQLite: the write transaction already excludes every
/// other writer).
pub(crate) async fn lock_ended_before(
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
    let sql = format!("SELECT id FROM conversations WHERE {} ORDER BY last_activity LIMIT $3{lock}", ended_before());
    let ids: Vec<(String,)> =
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(org_id).bind(cutoff).bind(limit).fetch_all(&mut *conn).await?;
    Ok(ids.into_iter().map(|(id,)| id).collect())
}

/// Deletes one conversation of `org_id` and every row about it (see [`TABLES`]), and the sent
/// digests and pushes that quoted it (composed when sent, they name no conversation in their
/// columns, but link to it in their text). Returns its visitor, if it existed.
pub(crate) async fn delete_conversation(conn: &mut AnyConnection, org_id: &str, id: &str) -> Result<Option<String>> {
    let visitor: Option<(String,)> =
        sqlx::query_as("SELECT visitor_id FROM conversations WHERE org_id = $2 AND id = $1")
            .bind(id)
            .bind(org_id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some((visitor,)) = visitor else { return Ok(None) };
    sqlx::query(
        "DELETE FROM outbox WHERE org_id = $1 AND conversation_id IS NULL AND kind IN ('digest', 'push')
         AND status <> 'queued' AND body LIKE $2",
    )
    .bind(org_id)
    .bind(format!("%/conversations/{id}%"))
    .execute(&mut *conn)
    .await?;
    for table in TABLES {
        let column = if table == "conversations" { "id" } else { "conversation_id" };
        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE {column} = $1")))
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(Some(visitor))
}

/// Deletes a visitor none of whose conversations is left (their browser's token then starts a new
/// visitor). Answers whether it went.
pub(crate) async fn forget_visitor_if_unused(conn: &mut AnyConnection, visitor: &str) -> Result<bool> {
    let done = sqlx::query(
        "DELETE FROM visitors WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM conversations WHERE visitor_id = $1)",
    )
    .bind(visitor)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}
