//! Creating AI agents and assigning them to organizations (platform admins).
use crate::error::{field, BackendError, Result};
use crate::ids::{new_id, now_ms};
use crate::principal::UserCtx;
use crate::services::Backend;
use domain::admin::{parse_name, AgentEntry};

#[derive(sqlx::FromRow)]
struct AgentEntryRow {
    id: String,
    name: String,
    org_id: Option<String>,
    org_name: Option<String>,
    handoff_enabled: i64,
    handoff_fixed: i64,
    widgets: i64,
}

const AGENT_ENTRY_SELECT: &str =
    "SELECT a.id, a.name, a.org_id, o.name AS org_name, a.handoff_enabled, a.handoff_fixed,
    (SELECT COUNT(*) FROM widgets w WHERE w.agent_id = a.id) AS widgets
    FROM agents a LEFT JOIN organizations o ON o.id = a.org_id";

impl AgentEntryRow {
    pub(crate) fn entry(self) -> AgentEntry {
        AgentEntry {
            id: self.id,
            name: self.name,
            org_id: self.org_id,
            org_name: self.org_name,
            handoff_enabled: self.handoff_enabled != 0,
            handoff_fixed: self.handoff_fixed != 0,
            widgets: self.widgets,
        }
    }
}

impl Backend {
    /// Admins only: every agent with its organization.
    pub async fn list_agent_entries(&self, user: &UserCtx) -> Result<Vec<AgentEntry>> {
        user.require_admin()?;
        let rows: Vec<AgentEntryRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{AGENT_ENTRY_SELECT} ORDER BY a.name, a.id")))
                .fetch_all(self.pool())
                .await?;
        Ok(rows.into_iter().map(AgentEntryRow::entry).collect())
    }

    async fn agent_entry(&self, agent_id: &str) -> Result<AgentEntry> {
        let row: Option<AgentEntryRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{AGENT_ENTRY_SELECT} WHERE a.id = $1")))
                .bind(agent_id)
                .fetch_optional(self.pool())
                .await?;
        row.map(AgentEntryRow::entry).ok_or(BackendError::NotFound("agent"))
    }

    /// Admins only: a new AI agent (handoff popup enabled, not fixed), optionally assigned.
    pub async fn create_agent(&self, user: &UserCtx, name: &str, org_id: Option<&str>) -> Result<AgentEntry> {
        user.require_admin()?;
        let name = parse_name("name", name)?;
        if name.chars().count() > domain::agent::MAX_AI_AGENT_NAME {
            return Err(field("name", format!("must be at most {} characters", domain::agent::MAX_AI_AGENT_NAME)));
        }
        let org = org_id.filter(|o| !o.is_empty());
        if let Some(o) = org {
            if !self.org_exists(o).await? {
                return Err(field("org_id", "this organization does not exist"));
            }
        }
        let id = new_id();
        sqlx::query(
            "INSERT INTO agents (id, org_id, name, greeting, handoff_enabled, handoff_fixed, created_at)
             VALUES ($1, $2, $3, $4, 1, 0, $5)",
        )
        .bind(&id)
        .bind(org)
        .bind(&name)
        .bind(format!("Hi! I'm {name}. How can I help you?"))
        .bind(now_ms())
        .execute(self.writer())
        .await?;
        tracing::info!(agent = %id, by = %user.id, "agent created");
        self.agent_entry(&id).await
    }

    /// Admins only: assigns an agent to an organization (at most one), or unassigns it (`None`).
    /// An agent that serves widgets stays with their organization, and an agent with "Fixed
    /// handoff popup" on cannot lose its organization: clear errors, nothing changed.
    pub async fn assign_agent(&self, user: &UserCtx, agent_id: &str, org_id: Option<&str>) -> Result<AgentEntry> {
        user.require_admin()?;
        let before = self.agent_entry(agent_id).await?;
        let org = org_id.filter(|o| !o.is_empty());
        if let Some(o) = org {
            if !self.org_exists(o).await? {
                return Err(field("org_id", "this organization does not exist"));
            }
        }
        if org == before.org_id.as_deref() {
            return Ok(before);
        }
        if before.widgets > 0 {
            return Err(field(
                "org_id",
                format!(
                    "{} serves {} widget(s) of {}; point them at another agent first",
                    before.name,
                    before.widgets,
                    before.org_name.as_deref().unwrap_or("its organization")
                ),
            ));
        }
        if org.is_none() && before.handoff_fixed {
            return Err(field(
                "org_id",
                "Fixed handoff popup needs an organization: turn it off before unassigning the agent",
            ));
        }
        // Guarded on the organization read above, so two admins assigning at once cannot both win.
        let done = sqlx::query(
            "UPDATE agents SET org_id = $1 WHERE id = $2 AND COALESCE(org_id, '') = $3
               AND NOT EXISTS (SELECT 1 FROM widgets w WHERE w.agent_id = agents.id)",
        )
        .bind(org)
        .bind(agent_id)
        .bind(before.org_id.as_deref().unwrap_or(""))
        .execute(self.writer())
        .await?;
        if done.rows_affected() == 0 {
            return Err(BackendError::Conflict("the agent changed meanwhile; reload and try again".into()));
        }
        tracing::info!(agent = %agent_id, org = ?org, by = %user.id, "agent assigned");
        self.agent_entry(agent_id).await
    }
}
