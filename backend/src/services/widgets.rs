//! Widgets: admins see every widget; client users see their organization's, and change them
//! with the *settings* permission.
use crate::error::{field, BackendError, Result};
use crate::ids::{new_id, now_ms};
use crate::principal::UserCtx;
use crate::services::Backend;
use domain::admin::{parse_name, parse_origins, WidgetDto, WidgetInput};

#[derive(sqlx::FromRow)]
struct WidgetRow {
    id: String,
    org_id: String,
    org_name: String,
    agent_id: String,
    agent_name: String,
    name: String,
    allowed_origins: String,
    created_at: i64,
}

const WIDGET_SELECT: &str = "SELECT w.id, w.org_id, o.name AS org_name, w.agent_id, a.name AS agent_name, w.name,
    w.allowed_origins, w.created_at FROM widgets w JOIN organizations o ON o.id = w.org_id JOIN agents a ON a.id = w.agent_id";

impl WidgetRow {
    pub(crate) fn dto(self, editable: bool) -> WidgetDto {
        WidgetDto {
            id: self.id,
            org_id: self.org_id,
            org_name: self.org_name,
            agent_id: self.agent_id,
            agent_name: self.agent_name,
            name: self.name,
            allowed_origins: self.allowed_origins.split('\n').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
            created_at: self.created_at,
            editable,
        }
    }
}

impl Backend {
    /// Admins: every widget; client users: their organization's.
    pub async fn list_widgets(&self, user: &UserCtx) -> Result<Vec<WidgetDto>> {
        let rows: Vec<WidgetRow> = if user.is_admin() {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{WIDGET_SELECT} ORDER BY o.name, w.name, w.id")))
                .fetch_all(self.pool())
                .await?
        } else {
            let Some(org) = &user.org_id else { return Ok(Vec::new()) };
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{WIDGET_SELECT} WHERE w.org_id = $1 ORDER BY w.name, w.id")))
                .bind(org)
                .fetch_all(self.pool())
                .await?
        };
        let editable = user.may_edit_settings();
        Ok(rows.into_iter().map(|r| r.dto(editable)).collect())
    }

    async fn visible_widget(&self, user: &UserCtx, widget_id: &str) -> Result<WidgetDto> {
        let row: Option<WidgetRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!("{WIDGET_SELECT} WHERE w.id = $1")))
            .bind(widget_id)
            .fetch_optional(self.pool())
            .await?;
        match row {
            Some(r) if user.sees_org(Some(&r.org_id)) => Ok(r.dto(user.may_edit_settings())),
            _ => Err(BackendError::NotFound("widget")),
        }
    }

    /// Creates (`widget_id: None`) or changes a widget. Needs the *settings* permission; the
    /// agent must belong to the widget's organization.
    pub async fn save_widget(&self, user: &UserCtx, widget_id: Option<&str>, input: WidgetInput) -> Result<WidgetDto> {
        let existing = match widget_id {
            Some(id) => Some(self.visible_widget(user, id).await?),
            None => None,
        };
        user.require_settings("change widgets")?;
        let name = parse_name("name", &input.name)?;
        let origins = parse_origins(&input.allowed_origins)?;
        let org = if user.is_admin() {
            match (&existing, input.org_id.as_deref().filter(|o| !o.is_empty())) {
                (_, Some(o)) => o.to_string(),
                (Some(w), None) => w.org_id.clone(),
                (None, None) => return Err(field("org_id", "choose an organization")),
            }
        } else {
            let own = user.org_id.clone().ok_or(BackendError::Forbidden("you belong to no organization".into()))?;
            if input.org_id.as_deref().is_some_and(|o| !o.is_empty() && o != own) {
                return Err(field("org_id", "widgets belong to your own organization"));
            }
            own
        };
        if !self.org_exists(&org).await? {
            return Err(field("org_id", "this organization does not exist"));
        }
        let agent_org: Option<(Option<String>,)> = sqlx::query_as("SELECT org_id FROM agents WHERE id = $1")
            .bind(&input.agent_id)
            .fetch_optional(self.pool())
            .await?;
        match agent_org {
            Some((Some(a),)) if a == org => {}
            Some((_,)) if user.is_admin() => {
                return Err(field("agent_id", "this agent is not assigned to the widget's organization"))
            }
            _ => return Err(field("agent_id", "choose one of your organization's AI agents")),
        }
        let stored = origins.join("\n");
        let id = match &existing {
            Some(w) => {
                sqlx::query(
                    "UPDATE widgets SET name = $1, org_id = $2, agent_id = $3, allowed_origins = $4 WHERE id = $5",
                )
                .bind(&name)
                .bind(&org)
                .bind(&input.agent_id)
                .bind(&stored)
                .bind(&w.id)
                .execute(self.writer())
                .await?;
                w.id.clone()
            }
            None => {
                let id = new_id();
                sqlx::query(
                    "INSERT INTO widgets (id, org_id, agent_id, name, allowed_origins, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&id)
                .bind(&org)
                .bind(&input.agent_id)
                .bind(&name)
                .bind(&stored)
                .bind(now_ms())
                .execute(self.writer())
                .await?;
                id
            }
        };
        tracing::info!(widget = %id, by = %user.id, "widget saved");
        self.visible_widget(user, &id).await
    }
}
