//! AI agents' knowledge bases, as the dashboard reads and edits them (permissions as for the
//! agent: see `services::ai_agents`).
use crate::error::{BackendError, Result};
use crate::ids::now_ms;
use crate::principal::UserCtx;
use crate::services::Backend;
use crate::store::knowledge::{insert_knowledge, knowledge_changed};
use domain::agent::{
    parse_knowledge_file, KnowledgeEntry, KnowledgeInput, KnowledgeKind, MAX_ENTRIES, MAX_IMPORT_BYTES,
};
use domain::field::FieldError;

#[derive(sqlx::FromRow)]
struct EntryRow {
    id: String,
    kind: String,
    title: String,
    body: String,
    updated_at: i64,
}

impl EntryRow {
    pub(crate) fn dto(self) -> KnowledgeEntry {
        KnowledgeEntry {
            id: self.id,
            kind: KnowledgeKind::parse(&self.kind),
            title: self.title,
            body: self.body,
            updated_at: self.updated_at,
        }
    }
}

impl Backend {
    /// The agent's knowledge base, oldest first.
    pub async fn list_knowledge(&self, user: &UserCtx, agent_id: &str) -> Result<Vec<KnowledgeEntry>> {
        self.visible_agent(user, agent_id).await?;
        self.knowledge_of(agent_id).await
    }

    /// Server-side read of an agent's knowledge base (the responders).
    pub async fn knowledge_of(&self, agent_id: &str) -> Result<Vec<KnowledgeEntry>> {
        let rows: Vec<EntryRow> = sqlx::query_as(
            "SELECT id, kind, title, body, updated_at FROM knowledge_entries WHERE agent_id = $1
             ORDER BY created_at, id",
        )
        .bind(agent_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(EntryRow::dto).collect())
    }

    /// Adds (`entry_id` = None) or changes an entry.
    pub async fn save_knowledge(
        &self,
        user: &UserCtx,
        agent_id: &str,
        entry_id: Option<&str>,
        input: KnowledgeInput,
    ) -> Result<KnowledgeEntry> {
        self.editable_agent(user, agent_id).await?;
        input.validate()?;
        let now = now_ms();
        let id = match entry_id {
            Some(id) => {
                let done = sqlx::query(
                    "UPDATE knowledge_entries SET kind = $3, title = $4, body = $5, updated_at = $6
                     WHERE id = $1 AND agent_id = $2",
                )
                .bind(id)
                .bind(agent_id)
                .bind(input.kind.as_str())
                .bind(input.title.trim())
                .bind(input.body.trim())
                .bind(now)
                .execute(self.writer())
                .await?;
                if done.rows_affected() == 0 {
                    return Err(BackendError::NotFound("knowledge entry"));
                }
                knowledge_changed(&mut *self.writer().acquire().await?, agent_id).await?;
                id.to_string()
            }
            None => {
                self.check_room(agent_id, 1).await?;
                let mut conn = self.writer().acquire().await?;
                let id = insert_knowledge(&mut conn, agent_id, &input, now).await?;
                knowledge_changed(&mut conn, agent_id).await?;
                id
            }
        };
        Ok(KnowledgeEntry {
            id,
            kind: input.kind,
            title: input.title.trim().into(),
            body: input.body.trim().into(),
            updated_at: now,
        })
    }

    pub async fn delete_knowledge(&self, user: &UserCtx, agent_id: &str, entry_id: &str) -> Result<()> {
        self.editable_agent(user, agent_id).await?;
        let done = sqlx::query("DELETE FROM knowledge_entries WHERE id = $1 AND agent_id = $2")
            .bind(entry_id)
            .bind(agent_id)
            .execute(self.writer())
            .await?;
        if done.rows_affected() == 0 {
            return Err(BackendError::NotFound("knowledge entry"));
        }
        knowledge_changed(&mut *self.writer().acquire().await?, agent_id).await?;
        Ok(())
    }

    /// Imports a Markdown or plain-text file; returns the entries added. All or nothing.
    pub async fn import_knowledge(
        &self,
        user: &UserCtx,
        agent_id: &str,
        file_name: &str,
        text: &str,
    ) -> Result<Vec<KnowledgeEntry>> {
        self.editable_agent(user, agent_id).await?;
        let lower = file_name.to_lowercase();
        if !(lower.ends_with(".md") || lower.ends_with(".markdown") || lower.ends_with(".txt")) {
            return Err(FieldError::new("file", "choose a .md or .txt file").into());
        }
        if text.len() > MAX_IMPORT_BYTES {
            return Err(FieldError {
                field: "file".into(),
                message: format!("the file is too large (limit {} KB)", MAX_IMPORT_BYTES / 1024),
            }
            .into());
        }
        if text.contains('\0') {
            return Err(FieldError::new("file", "this is not a text file").into());
        }
        let entries = parse_knowledge_file(file_name, text);
        if entries.is_empty() {
            return Err(FieldError::new("file", "no entries found in this file").into());
        }
        self.check_room(agent_id, entries.len()).await?;
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let mut out = Vec::with_capacity(entries.len());
        for (i, e) in entries.into_iter().enumerate() {
            // keep the file's order: created_at increases along the file
            let id = insert_knowledge(&mut tx, agent_id, &e, now + i as i64).await?;
            out.push(KnowledgeEntry { id, kind: e.kind, title: e.title, body: e.body, updated_at: now + i as i64 });
        }
        knowledge_changed(&mut tx, agent_id).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn check_room(&self, agent_id: &str, more: usize) -> Result<()> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM knowledge_entries WHERE agent_id = $1")
            .bind(agent_id)
            .fetch_one(self.pool())
            .await?;
        if n as usize + more > MAX_ENTRIES {
            return Err(FieldError {
                field: "file".into(),
                message: format!("a knowledge base holds at most {MAX_ENTRIES} entries"),
            }
            .into());
        }
        Ok(())
    }

    /// Moves knowledge kept in the old `agents.knowledge` text column into entries (databases
    /// created before the knowledge base had its own table). Runs at start; idempotent.
    pub(crate) async fn upgrade_legacy_knowledge(&self) -> Result<()> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT id, knowledge FROM agents WHERE knowledge <> ''").fetch_all(self.pool()).await?;
        for (agent_id, text) in rows {
            let now = now_ms();
            let mut tx = self.begin_write().await?;
            for (i, e) in parse_knowledge_file("knowledge.txt", &text).iter().enumerate() {
                insert_knowledge(&mut tx, &agent_id, e, now + i as i64).await?;
            }
            sqlx::query("UPDATE agents SET knowledge = '' WHERE id = $1").bind(&agent_id).execute(&mut *tx).await?;
            knowledge_changed(&mut tx, &agent_id).await?;
            tx.commit().await?;
        }
        Ok(())
    }
}
