//! Storing knowledge entries of an AI agent.
use crate::error::Result;
use crate::ids::new_id;
use domain::agent::KnowledgeInput;

/// Stores one knowledge entry; returns its id.
pub(crate) async fn insert_knowledge(
    conn: &mut sqlx::AnyConnection,
    agent_id: &str,
    e: &KnowledgeInput,
    at: i64,
) -> Result<String> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO knowledge_entries (id, agent_id, kind, title, body, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(&id)
    .bind(agent_id)
    .bind(e.kind.as_str())
    .bind(e.title.trim())
    .bind(e.body.trim())
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// Marks an agent's knowledge as changed (see `crate::services::knowledge_index`): call after
/// writing its entries, on the same connection (or transaction).
pub(crate) async fn knowledge_changed(conn: &mut sqlx::AnyConnection, agent_id: &str) -> Result<()> {
    sqlx::query("UPDATE agents SET knowledge_version = knowledge_version + 1 WHERE id = $1")
        .bind(agent_id)
        .execute(conn)
        .await?;
    Ok(())
}
