//! AI agents' settings and knowledge bases, as the dashboard reads and edits them.
//!
//! Who may do what: an admin sees and edits every agent; a client user sees the agents of their
//! own organization and edits them only with the *settings* permission. An agent of another
//! organization is "not found" (never "forbidden"), so ids cannot be probed.
use crate::chat::UserCtx;
use crate::error::{BackendError, Result};
use crate::{new_id, now_ms, Backend};
use domain::agent::{
    parse_knowledge_file, AgentDto, AgentUpdate, AiBackendKind, ApiKeyChange, KnowledgeEntry, KnowledgeInput,
    KnowledgeKind, LlmSettings, MAX_ENTRIES, MAX_IMPORT_BYTES,
};
use domain::field::FieldError;

pub const DEFAULT_FALLBACK: &str = "I'm not sure about that one. Could you rephrase it?";
pub const DEFAULT_FALLBACK_WITH_HANDOFF: &str =
    "I'm not sure about that one. Could you rephrase it — or press \"Talk to a human\" and a person will help you.";
pub const DEFAULT_HANDOFF: &str = "Of course — I'm getting a human for you. Someone will be with you shortly.";

/// An agent row with everything the responders need. The API key is only ever used server-side.
#[derive(sqlx::FromRow, Clone, Debug)]
pub struct AgentRow {
    pub id: String,
    pub org_id: Option<String>,
    pub name: String,
    pub greeting: String,
    pub fallback_text: String,
    pub handoff_text: String,
    pub handoff_enabled: i64,
    pub handoff_fixed: i64,
    pub ai_backend: String,
    pub llm_base_url: String,
    pub llm_model: String,
    pub llm_api_key_env: String,
    pub llm_api_key: Option<String>,
    pub llm_system_prompt: String,
    pub llm_temperature_pct: i64,
    pub llm_max_tokens: i64,
}

pub const AGENT_COLS: &str = "id, org_id, name, greeting, fallback_text, handoff_text, handoff_enabled, handoff_fixed,
    ai_backend, llm_base_url, llm_model, llm_api_key_env, llm_api_key, llm_system_prompt, llm_temperature_pct,
    llm_max_tokens";

impl AgentRow {
    pub fn fallback(&self) -> String {
        match (self.fallback_text.trim().is_empty(), self.handoff_enabled != 0) {
            (false, _) => self.fallback_text.clone(),
            (true, true) => DEFAULT_FALLBACK_WITH_HANDOFF.into(),
            (true, false) => DEFAULT_FALLBACK.into(),
        }
    }

    pub fn handoff(&self) -> String {
        if self.handoff_text.trim().is_empty() {
            DEFAULT_HANDOFF.into()
        } else {
            self.handoff_text.clone()
        }
    }

    pub fn llm(&self) -> LlmSettings {
        LlmSettings {
            base_url: self.llm_base_url.clone(),
            model: self.llm_model.clone(),
            api_key_env: self.llm_api_key_env.clone(),
            system_prompt: self.llm_system_prompt.clone(),
            temperature: self.llm_temperature_pct as f32 / 100.0,
            max_tokens: self.llm_max_tokens.clamp(1, 8192) as u32,
        }
    }

    /// The API key: the stored one, else the named environment variable.
    pub fn api_key(&self) -> Option<String> {
        self.llm_api_key
            .clone()
            .filter(|k| !k.is_empty())
            .or_else(|| (!self.llm_api_key_env.is_empty()).then(|| std::env::var(&self.llm_api_key_env).ok()).flatten())
    }

    fn dto(&self, editable: bool) -> AgentDto {
        AgentDto {
            id: self.id.clone(),
            org_id: self.org_id.clone(),
            name: self.name.clone(),
            greeting: self.greeting.clone(),
            fallback_text: self.fallback(),
            handoff_text: self.handoff(),
            handoff_enabled: self.handoff_enabled != 0,
            handoff_fixed: self.handoff_fixed != 0,
            backend: AiBackendKind::parse(&self.ai_backend),
            llm: self.llm(),
            api_key_set: self.llm_api_key.as_deref().is_some_and(|k| !k.is_empty()),
            editable,
        }
    }
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    id: String,
    kind: String,
    title: String,
    body: String,
    updated_at: i64,
}

impl EntryRow {
    fn dto(self) -> KnowledgeEntry {
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
    /// Loads an agent by id (server-side use: the responders).
    pub async fn agent_row(&self, agent_id: &str) -> Result<AgentRow> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {AGENT_COLS} FROM agents WHERE id = $1")))
            .bind(agent_id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(BackendError::NotFound("agent"))
    }

    /// The agent if the user may see it (admins: all; clients: their organization's).
    async fn visible_agent(&self, user: &UserCtx, agent_id: &str) -> Result<AgentRow> {
        let row = self.agent_row(agent_id).await?;
        if user.role == "admin" || (row.org_id.is_some() && row.org_id == user.org_id) {
            Ok(row)
        } else {
            Err(BackendError::NotFound("agent"))
        }
    }

    async fn editable_agent(&self, user: &UserCtx, agent_id: &str) -> Result<AgentRow> {
        let row = self.visible_agent(user, agent_id).await?;
        if user.may_edit_settings() {
            Ok(row)
        } else {
            Err(BackendError::Forbidden("you need the settings permission to change the AI agent".into()))
        }
    }

    /// The agents the user may see, by name.
    pub async fn list_agents(&self, user: &UserCtx) -> Result<Vec<AgentDto>> {
        let rows: Vec<AgentRow> = if user.role == "admin" {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {AGENT_COLS} FROM agents ORDER BY name, id")))
                .fetch_all(self.pool())
                .await?
        } else {
            let Some(org) = &user.org_id else { return Ok(Vec::new()) };
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {AGENT_COLS} FROM agents WHERE org_id = $1 ORDER BY name, id"
            )))
            .bind(org)
            .fetch_all(self.pool())
            .await?
        };
        Ok(rows.iter().map(|r| r.dto(user.may_edit_settings())).collect())
    }

    pub async fn get_agent(&self, user: &UserCtx, agent_id: &str) -> Result<AgentDto> {
        Ok(self.visible_agent(user, agent_id).await?.dto(user.may_edit_settings()))
    }

    /// Changes an agent's settings. "Fixed handoff popup" needs the agent to belong to an
    /// organization; otherwise nothing changes and the error names the field.
    pub async fn update_agent(&self, user: &UserCtx, agent_id: &str, update: AgentUpdate) -> Result<AgentDto> {
        let row = self.editable_agent(user, agent_id).await?;
        update.validate()?;
        if update.handoff_fixed && row.org_id.is_none() {
            return Err(FieldError {
                field: "handoff_fixed".into(),
                message: "Fixed handoff popup needs the agent to be assigned to an organization first".into(),
            }
            .into());
        }
        let key = match &update.api_key {
            ApiKeyChange::Keep => row.llm_api_key.clone(),
            ApiKeyChange::Set(k) => Some(k.trim().to_string()),
            ApiKeyChange::Clear => None,
        };
        let AgentUpdate {
            name,
            greeting,
            fallback_text,
            handoff_text,
            handoff_enabled,
            handoff_fixed,
            backend,
            llm,
            ..
        } = update;
        // The page shows the built-in texts; sent back unchanged they stay "built-in" (so that, for
        // example, the fallback stops offering a human when handoff is switched off).
        let builtin =
            |t: &str, defaults: &[&str]| if defaults.contains(&t.trim()) { String::new() } else { t.to_string() };
        let fallback_text = builtin(&fallback_text, &[DEFAULT_FALLBACK, DEFAULT_FALLBACK_WITH_HANDOFF]);
        let handoff_text = builtin(&handoff_text, &[DEFAULT_HANDOFF]);
        sqlx::query(
            "UPDATE agents SET name = $2, greeting = $3, fallback_text = $4, handoff_text = $5, handoff_enabled = $6,
                handoff_fixed = $7, ai_backend = $8, llm_base_url = $9, llm_model = $10, llm_api_key_env = $11,
                llm_api_key = $12, llm_system_prompt = $13, llm_temperature_pct = $14, llm_max_tokens = $15
             WHERE id = $1",
        )
        .bind(agent_id)
        .bind(name.trim())
        .bind(greeting.trim())
        .bind(fallback_text.trim())
        .bind(handoff_text.trim())
        .bind(handoff_enabled as i64)
        .bind(handoff_fixed as i64)
        .bind(backend.as_str())
        .bind(llm.base_url.trim().trim_end_matches('/'))
        .bind(llm.model.trim())
        .bind(llm.api_key_env.trim())
        .bind(key)
        .bind(llm.system_prompt.trim())
        .bind((llm.temperature * 100.0).round() as i64)
        .bind(llm.max_tokens as i64)
        .execute(self.writer())
        .await?;
        self.get_agent(user, agent_id).await
    }

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
                id.to_string()
            }
            None => {
                self.check_room(agent_id, 1).await?;
                let mut conn = self.writer().acquire().await?;
                insert_knowledge(&mut conn, agent_id, &input, now).await?
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
            return Err(FieldError { field: "file".into(), message: "choose a .md or .txt file".into() }.into());
        }
        if text.len() > MAX_IMPORT_BYTES {
            return Err(FieldError {
                field: "file".into(),
                message: format!("the file is too large (limit {} KB)", MAX_IMPORT_BYTES / 1024),
            }
            .into());
        }
        if text.contains('\0') {
            return Err(FieldError { field: "file".into(), message: "this is not a text file".into() }.into());
        }
        let entries = parse_knowledge_file(file_name, text);
        if entries.is_empty() {
            return Err(FieldError { field: "file".into(), message: "no entries found in this file".into() }.into());
        }
        self.check_room(agent_id, entries.len()).await?;
        let now = now_ms();
        let mut tx = self.writer().begin().await?;
        let mut out = Vec::with_capacity(entries.len());
        for (i, e) in entries.into_iter().enumerate() {
            // keep the file's order: created_at increases along the file
            let id = insert_knowledge(&mut tx, agent_id, &e, now + i as i64).await?;
            out.push(KnowledgeEntry { id, kind: e.kind, title: e.title, body: e.body, updated_at: now + i as i64 });
        }
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

    /// What the embedded responder answers to `question` (the dashboard's "try it" box).
    pub async fn preview_answer(&self, user: &UserCtx, agent_id: &str, question: &str) -> Result<String> {
        let agent = self.visible_agent(user, agent_id).await?;
        let question = domain::values::MessageText::parse(question)?;
        let ctx = crate::ai::AiContext {
            conversation_id: String::new(),
            knowledge: self.knowledge_of(agent_id).await?,
            history: vec![domain::wire::MessageDto {
                conversation_id: String::new(),
                seq: 1,
                author: domain::wire::Author::Visitor,
                text: question.into_inner(),
                client_msg_id: None,
                created_at: now_ms(),
                extra: Default::default(),
            }],
            agent,
        };
        Ok(if ctx.handoff_enabled() && crate::ai::intent::wants_human(ctx.question()) {
            format!("{} (the conversation is handed to a human)", ctx.agent.handoff())
        } else {
            crate::ai::embedded::answer(&ctx)
        })
    }

    /// Moves knowledge kept in the old `agents.knowledge` text column into entries (databases
    /// created before the knowledge base had its own table). Runs at start; idempotent.
    pub(crate) async fn upgrade_legacy_knowledge(&self) -> Result<()> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT id, knowledge FROM agents WHERE knowledge <> ''").fetch_all(self.pool()).await?;
        for (agent_id, text) in rows {
            let now = now_ms();
            let mut tx = self.writer().begin().await?;
            for (i, e) in parse_knowledge_file("knowledge.txt", &text).iter().enumerate() {
                insert_knowledge(&mut tx, &agent_id, e, now + i as i64).await?;
            }
            sqlx::query("UPDATE agents SET knowledge = '' WHERE id = $1").bind(&agent_id).execute(&mut *tx).await?;
            tx.commit().await?;
        }
        Ok(())
    }
}

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
