//! Conversation labels (issue 22): an organization's users read its labels; users with the
//! *settings* permission create, rename, recolour and delete them; users with the
//! *conversations* permission put them on and take them off the organization's conversations.
//! A conversation's labels are rows of `conversation_labels`, repeated (sorted ids) in
//! `conversations.labels` for its summary in the same transaction, which also bumps its
//! `labels_version` and stamps `labels_at`; the new summary is published to the organization's
//! dashboards. Labels and conversations of other organizations answer "not found".
use crate::db::{DbKind, Done};
use crate::error::{field, is_unique_violation, BackendError, Result};
use crate::ids::{new_id, now_ms};
use crate::principal::UserCtx;
use crate::services::Backend;
use domain::labels::{
    join_label_ids, label_key, parse_label_name, LabelColor, LabelDto, LabelInput, MAX_LABELS_PER_CONVERSATION,
    MAX_LABELS_PER_ORG,
};
use domain::wire::ServerFrame;
use sqlx::AnyConnection;

#[derive(sqlx::FromRow)]
struct LabelRow {
    id: String,
    name: String,
    color: String,
    conversations: i64,
}

impl LabelRow {
    fn dto(self) -> LabelDto {
        LabelDto {
            id: self.id,
            name: self.name,
            color: LabelColor::parse(&self.color).unwrap_or_default(),
            conversations: self.conversations,
        }
    }
}

const LABEL_SELECT: &str = "SELECT l.id, l.name, l.color, \
    (SELECT COUNT(*) FROM conversation_labels cl WHERE cl.label_id = l.id) AS conversations FROM labels l";

/// Writes a conversation's labels into its row (sorted ids), bumps its labels version and
/// stamps the change. The row is locked first (its `UPDATE`), so concurrent changes of one
/// conversation's labels are applied one after the other and each sees the other's rows.
async fn lock_conversation(conn: &mut AnyConnection, conversation_id: &str, org_id: &str, now: i64) -> Result<()> {
    let locked = sqlx::query(
        "UPDATE conversations SET labels_version = labels_version + 1, labels_at = $1 WHERE id = $2 AND org_id = $3",
    )
    .bind(now)
    .bind(conversation_id)
    .bind(org_id)
    .execute(&mut *conn)
    .await?;
    if locked.rows_affected() == 0 {
        return Err(BackendError::NotFound("conversation"));
    }
    Ok(())
}

/// Checks inside the writing transaction that the label is still the organization's, and on
/// PostgreSQL locks its row (shared by label changes, exclusive for its deletion: `lock`), so a
/// label is never put on a conversation while it is being deleted (the deletion would miss that
/// conversation's summary). SQLite runs one write at a time.
async fn hold_label(conn: &mut AnyConnection, kind: DbKind, label_id: &str, org_id: &str, lock: &str) -> Result<()> {
    let sql = format!("SELECT id FROM labels WHERE id = $1 AND org_id = $2{}", kind.row_lock(lock));
    let held: Option<(String,)> =
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(label_id).bind(org_id).fetch_optional(&mut *conn).await?;
    held.map(|_| ()).ok_or(BackendError::NotFound("label"))
}

/// Copies the conversation's label rows into `conversations.labels`; returns how many it has.
async fn store_label_ids(conn: &mut AnyConnection, conversation_id: &str) -> Result<usize> {
    let ids: Vec<(String,)> =
        sqlx::query_as("SELECT label_id FROM conversation_labels WHERE conversation_id = $1 ORDER BY label_id")
            .bind(conversation_id)
            .fetch_all(&mut *conn)
            .await?;
    let ids: Vec<String> = ids.into_iter().map(|(id,)| id).collect();
    sqlx::query("UPDATE conversations SET labels = $1 WHERE id = $2")
        .bind(join_label_ids(&ids))
        .bind(conversation_id)
        .execute(&mut *conn)
        .await?;
    Ok(ids.len())
}

impl Backend {
    /// The organization's labels, by name.
    pub async fn list_labels(&self, user: &UserCtx) -> Result<Vec<LabelDto>> {
        let org = user.member_org("labels")?;
        let rows: Vec<LabelRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{LABEL_SELECT} WHERE l.org_id = $1 ORDER BY l.name_key, l.id"
        )))
        .bind(org)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(LabelRow::dto).collect())
    }

    async fn label_of_org(&self, org: &str, label_id: &str) -> Result<LabelDto> {
        let row: Option<LabelRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{LABEL_SELECT} WHERE l.id = $1 AND l.org_id = $2")))
                .bind(label_id)
                .bind(org)
                .fetch_optional(self.pool())
                .await?;
        row.map(LabelRow::dto).ok_or(BackendError::NotFound("label"))
    }

    /// Creates (`label_id: None`) or renames/recolours a label. Needs the *settings* permission;
    /// names are unique in the organization ignoring case (field `name`).
    pub async fn save_label(&self, user: &UserCtx, label_id: Option<&str>, input: LabelInput) -> Result<LabelDto> {
        let org = user.member_org("labels")?.to_owned();
        if let Some(id) = label_id {
            self.label_of_org(&org, id).await?;
        }
        user.require_settings("change labels")?;
        let name = parse_label_name(&input.name)?;
        let taken = || field("name", "a label with this name exists");
        let id = match label_id {
            Some(id) => {
                let saved =
                    sqlx::query("UPDATE labels SET name = $1, name_key = $2, color = $3 WHERE id = $4 AND org_id = $5")
                        .bind(&name)
                        .bind(label_key(&name))
                        .bind(input.color.as_str())
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
                let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM labels WHERE org_id = $1")
                    .bind(&org)
                    .fetch_one(self.pool())
                    .await?;
                if n as usize >= MAX_LABELS_PER_ORG {
                    return Err(field("name", format!("an organization has at most {MAX_LABELS_PER_ORG} labels")));
                }
                let id = new_id();
                let saved = sqlx::query(
                    "INSERT INTO labels (id, org_id, name, name_key, color, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&id)
                .bind(&org)
                .bind(&name)
                .bind(label_key(&name))
                .bind(input.color.as_str())
                .bind(now_ms())
                .execute(self.writer())
                .await;
                match saved {
                    Err(e) if is_unique_violation(&e) => return Err(taken()),
                    other => other?,
                };
                id
            }
        };
        tracing::info!(label = %id, by = %user.id, "label saved");
        self.hub.publish_org(&org, ServerFrame::LabelsChanged);
        self.label_of_org(&org, &id).await
    }

    /// Deletes a label and takes it off every conversation (whose new summaries are published).
    /// Needs the *settings* permission.
    pub async fn delete_label(&self, user: &UserCtx, label_id: &str) -> Result<()> {
        let org = user.member_org("labels")?.to_owned();
        self.label_of_org(&org, label_id).await?;
        user.require_settings("change labels")?;
        let (label, org_id, kind) = (label_id.to_owned(), org.clone(), self.db.kind);
        let changed = self
            .db
            .write(move |conn| {
                Box::pin(async move {
                    hold_label(conn, kind, &label, &org_id, "UPDATE").await?;
                    let on: Vec<(String,)> =
                        sqlx::query_as("SELECT conversation_id FROM conversation_labels WHERE label_id = $1")
                            .bind(&label)
                            .fetch_all(&mut *conn)
                            .await?;
                    let now = now_ms();
                    for (conversation,) in &on {
                        lock_conversation(conn, conversation, &org_id, now).await?;
                    }
                    sqlx::query("DELETE FROM conversation_labels WHERE label_id = $1")
                        .bind(&label)
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("DELETE FROM labels WHERE id = $1 AND org_id = $2")
                        .bind(&label)
                        .bind(&org_id)
                        .execute(&mut *conn)
                        .await?;
                    for (conversation,) in &on {
                        store_label_ids(conn, conversation).await?;
                    }
                    Ok(Done::Commit(on.into_iter().map(|(c,)| c).collect::<Vec<_>>()))
                })
            })
            .await?;
        tracing::info!(label = %label_id, by = %user.id, conversations = changed.len(), "label deleted");
        self.hub.publish_org(&org, ServerFrame::LabelsChanged);
        for conversation in changed {
            self.publish_summary(&conversation, &org).await;
        }
        Ok(())
    }

    /// Puts the label on the conversation (`on`) or takes it off; nothing changes if it already
    /// is so. Needs the *conversations* permission; both must be the organization's.
    pub async fn label_conversation(
        &self,
        user: &UserCtx,
        conversation_id: &str,
        label_id: &str,
        on: bool,
    ) -> Result<()> {
        let org = user.conversations_org()?.to_owned();
        self.label_of_org(&org, label_id).await?;
        let (conversation, label, org_id) = (conversation_id.to_owned(), label_id.to_owned(), org.clone());
        let kind = self.db.kind;
        let changed = self
            .db
            .write(move |conn| {
                Box::pin(async move {
                    let now = now_ms();
                    hold_label(conn, kind, &label, &org_id, "SHARE").await?;
                    lock_conversation(conn, &conversation, &org_id, now).await?;
                    let has: Option<(String,)> = sqlx::query_as(
                        "SELECT label_id FROM conversation_labels WHERE conversation_id = $1 AND label_id = $2",
                    )
                    .bind(&conversation)
                    .bind(&label)
                    .fetch_optional(&mut *conn)
                    .await?;
                    if has.is_some() == on {
                        return Ok(Done::Rollback(false)); // already so: no new version
                    }
                    if on {
                        sqlx::query(
                            "INSERT INTO conversation_labels (conversation_id, label_id, added_at) VALUES ($1, $2, $3)",
                        )
                        .bind(&conversation)
                        .bind(&label)
                        .bind(now)
                        .execute(&mut *conn)
                        .await?;
                    } else {
                        sqlx::query("DELETE FROM conversation_labels WHERE conversation_id = $1 AND label_id = $2")
                            .bind(&conversation)
                            .bind(&label)
                            .execute(&mut *conn)
                            .await?;
                    }
                    if store_label_ids(conn, &conversation).await? > MAX_LABELS_PER_CONVERSATION {
                        return Err(field(
                            "label_id",
                            format!("a conversation has at most {MAX_LABELS_PER_CONVERSATION} labels"),
                        ));
                    }
                    Ok(Done::Commit(true))
                })
            })
            .await?;
        if changed {
            tracing::info!(conversation = %conversation_id, label = %label_id, on, by = %user.id, "conversation labelled");
            self.publish_summary(conversation_id, &org).await;
        }
        Ok(())
    }

    /// Sends the conversation's current summary to its organization's dashboards.
    async fn publish_summary(&self, conversation_id: &str, org_id: &str) {
        match self.summary_row(conversation_id, org_id).await.and_then(|row| row.summary()) {
            Ok(summary) => self.hub.publish_org(org_id, ServerFrame::Conversation { summary }),
            Err(e) => tracing::warn!(conversation = %conversation_id, error = %e, "summary not published"),
        }
    }
}
