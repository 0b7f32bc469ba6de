//! Canned responses (issue 23): an organization's users read its library (agents insert them in
//! the composer); users with the *settings* permission create, change and delete them. A
//! shortcut is unique in the organization (field `shortcut`); an organization keeps at most
//! [`MAX_CANNED_PER_ORG`], counted under a lock of its row (PostgreSQL) or the one writer
//! (SQLite), so concurrent saves cannot pass it. Other organizations' ids answer "not found".
use crate::db::Done;
use crate::error::{field, is_unique_violation, BackendError, Result};
use crate::ids::{new_id, now_ms};
use crate::principal::UserCtx;
use crate::services::Backend;
use domain::canned::{CannedDto, CannedInput, MAX_CANNED_PER_ORG};

const CANNED_SELECT: &str = "SELECT id, title, shortcut, text FROM canned_responses";

#[derive(sqlx::FromRow)]
struct CannedRow {
    id: String,
    title: String,
    shortcut: String,
    text: String,
}

impl From<CannedRow> for CannedDto {
    fn from(r: CannedRow) -> Self {
        CannedDto { id: r.id, title: r.title, shortcut: r.shortcut, text: r.text }
    }
}

fn taken() -> BackendError {
    field("shortcut", "another canned response has this shortcut")
}

impl Backend {
    /// The organization's canned responses, by shortcut.
    pub async fn list_canned(&self, user: &UserCtx) -> Result<Vec<CannedDto>> {
        let org = user.member_org("canned responses")?;
        let mut rows: Vec<CannedRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{CANNED_SELECT} WHERE org_id = $1")))
                .bind(org)
                .fetch_all(self.pool())
                .await?;
        // Sorted here: the engines' collations order `-` differently.
        rows.sort_by(|a, b| a.shortcut.cmp(&b.shortcut));
        Ok(rows.into_iter().map(CannedDto::from).collect())
    }

    async fn canned_of_org(&self, org: &str, id: &str) -> Result<CannedDto> {
        let row: Option<CannedRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{CANNED_SELECT} WHERE id = $1 AND org_id = $2")))
                .bind(id)
                .bind(org)
                .fetch_optional(self.pool())
                .await?;
        row.map(CannedDto::from).ok_or(BackendError::NotFound("canned response"))
    }

    /// Creates (`id: None`) or changes a canned response. Needs the *settings* permission; bad
    /// fields and a taken shortcut are field errors; nothing is stored then.
    pub async fn save_canned(&self, user: &UserCtx, id: Option<&str>, input: CannedInput) -> Result<CannedDto> {
        let org = user.member_org("canned responses")?.to_owned();
        if let Some(id) = id {
            self.canned_of_org(&org, id).await?;
        }
        user.require_settings("change canned responses")?;
        let f = input.check()?;
        let id = match id {
            Some(id) => {
                let saved = sqlx::query(
                    "UPDATE canned_responses SET title = $1, shortcut = $2, text = $3, updated_at = $4 WHERE id = $5 AND org_id = $6",
                )
                .bind(&f.title)
                .bind(&f.shortcut)
                .bind(&f.text)
                .bind(now_ms())
                .bind(id)
                .bind(&org)
                .execute(self.writer())
                .await;
                match saved {
                    Err(e) if is_unique_violation(&e) => return Err(taken()),
                    other => other?,
                };
                id.to_owned()
            }
            None => {
                let (kind, id, o) = (self.db.kind, new_id(), org.clone());
                let new = id.clone();
                self.db
                    .write(move |conn| {
                        Box::pin(async move {
                            // Concurrent saves of one organization count one after the other.
                            let lock = format!("SELECT id FROM organizations WHERE id = $1{}", kind.row_lock("UPDATE"));
                            sqlx::query(sqlx::AssertSqlSafe(lock)).bind(&o).execute(&mut *conn).await?;
                            let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM canned_responses WHERE org_id = $1")
                                .bind(&o)
                                .fetch_one(&mut *conn)
                                .await?;
                            if count >= MAX_CANNED_PER_ORG as i64 {
                                return Err(field(
                                    "title",
                                    format!("an organization keeps at most {MAX_CANNED_PER_ORG} canned responses: delete one first"),
                                ));
                            }
                            let now = now_ms();
                            let saved = sqlx::query(
                                "INSERT INTO canned_responses (id, org_id, title, shortcut, text, created_at, updated_at)
                                 VALUES ($1, $2, $3, $4, $5, $6, $6)",
                            )
                            .bind(&new)
                            .bind(&o)
                            .bind(&f.title)
                            .bind(&f.shortcut)
                            .bind(&f.text)
                            .bind(now)
                            .execute(&mut *conn)
                            .await;
                            match saved {
                                Err(e) if is_unique_violation(&e) => Err(taken()),
                                other => other.map(|_| Done::Commit(())).map_err(Into::into),
                            }
                        })
                    })
                    .await?;
                id
            }
        };
        tracing::info!(canned = %id, by = %user.id, "canned response saved");
        self.canned_of_org(&org, &id).await
    }

    /// Deletes a canned response. Needs the *settings* permission.
    pub async fn delete_canned(&self, user: &UserCtx, id: &str) -> Result<()> {
        let org = user.member_org("canned responses")?.to_owned();
        self.canned_of_org(&org, id).await?;
        user.require_settings("change canned responses")?;
        sqlx::query("DELETE FROM canned_responses WHERE id = $1 AND org_id = $2")
            .bind(id)
            .bind(&org)
            .execute(self.writer())
            .await?;
        tracing::info!(canned = %id, by = %user.id, "canned response deleted");
        Ok(())
    }
}
