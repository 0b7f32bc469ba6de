//! AI agents' settings and knowledge bases, as the dashboard reads and edits them.
//!
//! Who may do what: an admin sees and edits every agent; a client user sees the agents of their
//! own organization and edits them only with the *settings* permission. An agent of another
//! organization is "not found" (never "forbidden"), so ids cannot be probed.
use crate::ai::AiContext;
use crate::ai_agent::{AgentRow, AGENT_COLS, DEFAULT_FALLBACK, DEFAULT_FALLBACK_WITH_HANDOFF, DEFAULT_HANDOFF};
use crate::error::{BackendError, Result};
use crate::ids::now_ms;
use crate::principal::UserCtx;
use crate::services::Backend;
use domain::agent::{AgentDto, AgentUpdate};
use domain::field::FieldError;

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
    pub(crate) async fn visible_agent(&self, user: &UserCtx, agent_id: &str) -> Result<AgentRow> {
        let row = self.agent_row(agent_id).await?;
        if user.sees_org(row.org_id.as_deref()) {
            Ok(row)
        } else {
            Err(BackendError::NotFound("agent"))
        }
    }

    pub(crate) async fn editable_agent(&self, user: &UserCtx, agent_id: &str) -> Result<AgentRow> {
        let row = self.visible_agent(user, agent_id).await?;
        user.require_settings("change the AI agent")?;
        Ok(row)
    }

    /// The agents the user may see, by name.
    pub async fn list_agents(&self, user: &UserCtx) -> Result<Vec<AgentDto>> {
        let rows: Vec<AgentRow> = if user.is_admin() {
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
        let key = self.vet_llm_settings(&row, &update).await?;
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

    /// What the embedded responder answers to `question` (the dashboard's "try it" box). Needs the
    /// *settings* permission and is rate limited per user (`previews_per_minute`).
    pub async fn preview_answer(&self, user: &UserCtx, agent_id: &str, question: &str) -> Result<String> {
        let agent = self.editable_agent(user, agent_id).await?;
        let question = domain::values::MessageText::parse(question)?;
        self.preview_allowed(user)?;
        let ctx = AiContext {
            conversation_id: String::new(),
            knowledge: self.knowledge_index(agent_id).await?,
            history: vec![domain::wire::MessageDto {
                conversation_id: String::new(),
                seq: 1,
                author: domain::wire::Author::Visitor,
                text: question.into_inner(),
                client_msg_id: None,
                created_at: now_ms(),
                extra: Default::default(),
            }],
            agent: agent.ai_agent(),
        };
        Ok(match ctx.handoff_reply() {
            Some(text) => format!("{text} (the conversation is handed to a human)"),
            None => crate::ai::embedded::answer(&ctx),
        })
    }
}
