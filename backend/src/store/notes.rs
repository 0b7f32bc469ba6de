//! Writing a private note (see `services::notes`): one statement that checks the conversation's
//! organization, reads its last seq (the note shows after that message), counts the
//! conversation's notes against [`MAX_NOTES_PER_CONVERSATION`] and stores the note once per
//! writer and client id.
use crate::error::Result;
use crate::ids::new_id;
use domain::handoff::AgentRef;
use domain::notes::MAX_NOTES_PER_CONVERSATION;
use sqlx::AnyConnection;

/// A retried note (same writer, same client id) is stored once.
fn once() -> &'static str {
    "ON CONFLICT (conversation_id, author_id, client_note_id) DO NOTHING"
}

/// Inserts a note by `author`; how many rows were written (0: a retry, a full conversation, or
/// a conversation not of `org_id`).
pub(crate) async fn insert(
    conn: &mut AnyConnection,
    conversation_id: &str,
    org_id: &str,
    author: &AgentRef,
    client_note_id: &str,
    text: &str,
    at: i64,
) -> Result<u64> {
    let done = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO notes (id, conversation_id, author_id, author_name, text, after_seq, client_note_id, created_at)
         SELECT $1, c.id, $2, $3, $4, c.last_seq, $5, $6 FROM conversations c WHERE c.id = $7 AND c.org_id = $8
         AND (SELECT COUNT(*) FROM notes WHERE conversation_id = $7) < {MAX_NOTES_PER_CONVERSATION} {}",
        once()
    )))
    .bind(new_id())
    .bind(&author.id)
    .bind(&author.name)
    .bind(text)
    .bind(client_note_id)
    .bind(at)
    .bind(conversation_id)
    .bind(org_id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}
