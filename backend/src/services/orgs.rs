//! Organizations, as the admin pages edit them (platform admins only).
use crate::error::{field, BackendError, Result};
use crate::ids::{new_id, now_ms};
use crate::principal::UserCtx;
use crate::services::Backend;
use domain::admin::{parse_name, OrgDto};

impl Backend {
    /// Admins: every organization; client users: their own.
    pub async fn list_orgs(&self, user: &UserCtx) -> Result<Vec<OrgDto>> {
        if user.is_admin() {
            self.org_rows(None).await
        } else {
            match &user.org_id {
                Some(org) => self.org_rows(Some(org)).await,
                None => Ok(Vec::new()),
            }
        }
    }

    /// Organizations with their counts: all (`None`) or the one with this id.
    async fn org_rows(&self, id: Option<&str>) -> Result<Vec<OrgDto>> {
        let sql = "SELECT o.id, o.name, o.created_at,
                (SELECT COUNT(*) FROM users u WHERE u.org_id = o.id AND u.active = 1) AS users,
                (SELECT COUNT(*) FROM agents a WHERE a.org_id = o.id) AS agents,
                (SELECT COUNT(*) FROM widgets w WHERE w.org_id = o.id) AS widgets
             FROM organizations o";
        let rows: Vec<(String, String, i64, i64, i64, i64)> = match id {
            None => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!("{sql} ORDER BY o.name, o.id")))
                    .fetch_all(self.pool())
                    .await?
            }
            Some(id) => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!("{sql} WHERE o.id = $1")))
                    .bind(id)
                    .fetch_all(self.pool())
                    .await?
            }
        };
        Ok(rows
            .into_iter()
            .map(|(id, name, created_at, users, agents, widgets)| OrgDto {
                id,
                name,
                users,
                agents,
                widgets,
                created_at,
            })
            .collect())
    }

    pub(crate) async fn org_exists(&self, org_id: &str) -> Result<bool> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM organizations WHERE id = $1")
            .bind(org_id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.is_some())
    }

    async fn org_dto(&self, org_id: &str) -> Result<OrgDto> {
        self.org_rows(Some(org_id)).await?.pop().ok_or(BackendError::NotFound("organization"))
    }

    /// Admins only. Names are unique (case-insensitively) so that lists stay unambiguous.
    pub async fn create_org(&self, user: &UserCtx, name: &str) -> Result<OrgDto> {
        user.require_admin()?;
        let name = parse_name("name", name)?;
        self.check_org_name_free(&name, None).await?;
        let id = new_id();
        sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(&id)
            .bind(&name)
            .bind(now_ms())
            .execute(self.writer())
            .await?;
        tracing::info!(org = %id, by = %user.id, "organization created");
        self.org_dto(&id).await
    }

    pub async fn rename_org(&self, user: &UserCtx, org_id: &str, name: &str) -> Result<OrgDto> {
        user.require_admin()?;
        let name = parse_name("name", name)?;
        if !self.org_exists(org_id).await? {
            return Err(BackendError::NotFound("organization"));
        }
        self.check_org_name_free(&name, Some(org_id)).await?;
        sqlx::query("UPDATE organizations SET name = $1 WHERE id = $2")
            .bind(&name)
            .bind(org_id)
            .execute(self.writer())
            .await?;
        self.org_dto(org_id).await
    }

    async fn check_org_name_free(&self, name: &str, except: Option<&str>) -> Result<()> {
        let taken: Option<(String,)> = sqlx::query_as("SELECT id FROM organizations WHERE LOWER(name) = LOWER($1)")
            .bind(name)
            .fetch_optional(self.pool())
            .await?;
        match taken {
            Some((id,)) if Some(id.as_str()) != except => {
                Err(field("name", "an organization with this name already exists"))
            }
            _ => Ok(()),
        }
    }
}
