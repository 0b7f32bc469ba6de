//! A visitor's data on request (issue 27, GDPR access and erasure). An organization's user with
//! the *settings* permission (or a platform admin) names one conversation; its visitor — one
//! browser, with every conversation it had with the organization — is exported (a zip made by
//! the server: `visitor.json` and the files) or erased: every conversation and every row about
//! it (`store::erase`) and the visitor itself, once none of its conversations is open. Both leave
//! an entry in the organization's audit log that names the user and counts what was done, never
//! the visitor. Another organization's conversation: "not found", like a missing one.
use crate::db::DbKind;
use crate::error::{BackendError, Result};
use crate::ids::{new_id, now_ms};
use crate::principal::UserCtx;
use crate::services::Backend;
use crate::store::erase;
use domain::privacy::{
    emails_in, file_path, AuditEntry, ErasureCounts, ExportedConversation, ExportedFile, ExportedVisitor,
    VisitorExport, EXPORT_FORMAT,
};
use sqlx::AnyConnection;

/// Most audit entries the settings page shows.
const AUDIT_SHOWN: i64 = 50;

/// An export: `visitor.json`'s content and each file's path and bytes.
pub struct VisitorArchive {
    pub export: VisitorExport,
    pub files: Vec<(String, Vec<u8>)>,
}

type FileRow = (i64, i64, String, String, i64, String, Vec<u8>);

impl Backend {
    /// The organization and visitor of a conversation the user may export or erase.
    async fn visitor_scope(&self, user: &UserCtx, conversation_id: &str) -> Result<(String, String)> {
        user.require_settings("export or erase a visitor's data")?;
        let row: Option<(String, String)> = if user.is_admin() {
            sqlx::query_as("SELECT org_id, visitor_id FROM conversations WHERE id = $1")
                .bind(conversation_id)
                .fetch_optional(self.pool())
                .await?
        } else {
            let org = user.org_id.as_deref().ok_or(BackendError::NotFound("conversation"))?;
            sqlx::query_as("SELECT org_id, visitor_id FROM conversations WHERE id = $1 AND org_id = $2")
                .bind(conversation_id)
                .bind(org)
                .fetch_optional(self.pool())
                .await?
        };
        row.ok_or(BackendError::NotFound("conversation"))
    }

    /// Everything stored about the visitor of `conversation_id`, for the export's zip.
    pub async fn export_visitor(&self, user: &UserCtx, conversation_id: &str) -> Result<VisitorArchive> {
        let (org, visitor) = self.visitor_scope(user, conversation_id).await?;
        let (name, first_seen_at): (String, i64) =
            sqlx::query_as("SELECT name, created_at FROM visitors WHERE id = $1")
                .bind(&visitor)
                .fetch_optional(self.pool())
                .await?
                .ok_or(BackendError::NotFound("conversation"))?;
        let ids: Vec<(String, i64)> = sqlx::query_as(
            "SELECT id, created_at FROM conversations WHERE visitor_id = $1 AND org_id = $2 ORDER BY created_at, id",
        )
        .bind(&visitor)
        .bind(&org)
        .fetch_all(self.pool())
        .await?;
        let (mut conversations, mut files, mut blobs) = (Vec::new(), Vec::new(), Vec::new());
        for (id, started_at) in ids {
            let summary = self.summary_row(&id, &org).await?.summary()?;
            let messages = self.all_messages(&id).await?;
            let mut context = self.read_visitor_context(&id, &org).await?;
            context.previous.clear();
            let notes = self.notes_of(&id, &org).await?;
            let labels: Vec<(String,)> = sqlx::query_as(
                "SELECT l.name FROM conversation_labels cl JOIN labels l ON l.id = cl.label_id
                 WHERE cl.conversation_id = $1 ORDER BY l.name",
            )
            .bind(&id)
            .fetch_all(self.pool())
            .await?;
            let rows: Vec<FileRow> = sqlx::query_as(
                "SELECT seq, position, file_name, content_type, size, sha256, data FROM attachments
                 WHERE conversation_id = $1 AND org_id = $2 ORDER BY seq, position",
            )
            .bind(&id)
            .bind(&org)
            .fetch_all(self.pool())
            .await?;
            for (seq, position, file_name, content_type, size, sha256, data) in rows {
                let path = file_path(&id, seq, position, &file_name);
                files.push(ExportedFile {
                    path: path.clone(),
                    conversation_id: id.clone(),
                    seq,
                    file_name,
                    content_type,
                    size,
                    sha256,
                });
                blobs.push((path, data));
            }
            conversations.push(ExportedConversation {
                summary,
                started_at,
                messages,
                context,
                notes,
                labels: labels.into_iter().map(|(n,)| n).collect(),
            });
        }
        // Addresses from the e-mail forms, then those transcripts and e-mail replies went to.
        let mut emails = emails_in(conversations.iter().flat_map(|c| &c.messages));
        let sent_to: Vec<(String,)> = sqlx::query_as(
            "SELECT DISTINCT o.to_addr FROM outbox o JOIN conversations c ON c.id = o.conversation_id
             WHERE c.visitor_id = $1 AND c.org_id = $2 AND o.kind IN ('transcript', 'reply') ORDER BY o.to_addr",
        )
        .bind(&visitor)
        .bind(&org)
        .fetch_all(self.pool())
        .await?;
        for (address,) in sent_to {
            if !emails.contains(&address) {
                emails.push(address);
            }
        }
        let export = VisitorExport {
            format: EXPORT_FORMAT,
            exported_at: now_ms(),
            organization: org.clone(),
            visitor: ExportedVisitor { id: visitor, name, first_seen_at, emails },
            conversations,
            files,
        };
        Ok(VisitorArchive { export, files: blobs })
    }

    /// Writes the audit entry of an export once its zip is made (what it held, counted).
    pub async fn record_export(&self, user: &UserCtx, archive: &VisitorArchive) -> Result<()> {
        let export = &archive.export;
        let counts = ErasureCounts {
            conversations: export.conversations.len() as i64,
            messages: export.conversations.iter().map(|c| c.messages.len() as i64).sum(),
            files: export.files.len() as i64,
            open: 0,
        };
        let mut tx = self.db.begin_write().await?;
        let text = format!("Exported a visitor's data: {}", counts.describe());
        audit(&mut tx, &export.organization, user, &text).await?;
        tx.commit().await?;
        Ok(())
    }

    /// What erasing the visitor of `conversation_id` would delete now.
    pub async fn erasure_counts(&self, user: &UserCtx, conversation_id: &str) -> Result<ErasureCounts> {
        let (org, visitor) = self.visitor_scope(user, conversation_id).await?;
        let mut conn = self.pool().acquire().await?;
        counts(&mut conn, &org, &visitor).await
    }

    /// Erases the visitor of `conversation_id`: every conversation of theirs with the
    /// organization, with every row about each, and the visitor (their browser's token is then
    /// unknown: it starts afresh). Refused while one of the conversations is open. Returns what
    /// was deleted.
    pub async fn erase_visitor(&self, user: &UserCtx, conversation_id: &str) -> Result<ErasureCounts> {
        let (org, visitor) = self.visitor_scope(user, conversation_id).await?;
        let mut tx = self.db.begin_write().await?;
        if self.db.kind == DbKind::Postgres {
            // Held until the end: no new conversation of the visitor can start meanwhile.
            sqlx::query("SELECT id FROM visitors WHERE id = $1 FOR UPDATE").bind(&visitor).execute(&mut *tx).await?;
        }
        let found = counts(&mut tx, &org, &visitor).await?;
        if found.open > 0 {
            return Err(BackendError::Conflict(
                "this visitor has a conversation that is not closed yet: close it first, then erase".into(),
            ));
        }
        let ids: Vec<(String,)> = sqlx::query_as("SELECT id FROM conversations WHERE visitor_id = $1 AND org_id = $2")
            .bind(&visitor)
            .bind(&org)
            .fetch_all(&mut *tx)
            .await?;
        for (id,) in &ids {
            erase::delete_conversation(&mut tx, &org, id).await?;
        }
        erase::forget_visitor_if_unused(&mut tx, &visitor).await?;
        audit(&mut tx, &org, user, &format!("Erased a visitor's data: {}", found.describe())).await?;
        tx.commit().await?;
        tracing::info!(org_id = org, user_id = %user.id, conversations = ids.len(), "erased a visitor's data");
        Ok(found)
    }

    /// The organization's newest audit entries (the *settings* permission).
    pub async fn audit_log(&self, user: &UserCtx) -> Result<Vec<AuditEntry>> {
        user.require_settings("read the audit log")?;
        let org = user.org_id.as_deref().ok_or(BackendError::NotFound("organization"))?;
        let rows: Vec<(i64, String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT created_at, actor_name, text FROM audit_log WHERE org_id = $1 ORDER BY created_at DESC, id DESC
             LIMIT {AUDIT_SHOWN}"
        )))
        .bind(org)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(|(at, actor_name, text)| AuditEntry { at, actor_name, text }).collect())
    }
}

/// What the visitor has with the organization: conversations, their messages and files, and how
/// many conversations are not closed.
async fn counts(conn: &mut AnyConnection, org: &str, visitor: &str) -> Result<ErasureCounts> {
    let (conversations, open, messages): (i64, i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN state <> 'closed' THEN 1 ELSE 0 END), 0) AS BIGINT),
                CAST(COALESCE(SUM(last_seq), 0) AS BIGINT)
         FROM conversations WHERE visitor_id = $1 AND org_id = $2",
    )
    .bind(visitor)
    .bind(org)
    .fetch_one(&mut *conn)
    .await?;
    let (files,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM attachments a JOIN conversations c ON c.id = a.conversation_id
         WHERE c.visitor_id = $1 AND c.org_id = $2",
    )
    .bind(visitor)
    .bind(org)
    .fetch_one(&mut *conn)
    .await?;
    Ok(ErasureCounts { conversations, messages, files, open })
}

/// Writes an audit entry (its text names no visitor; the actor is the organization's user).
async fn audit(conn: &mut AnyConnection, org: &str, user: &UserCtx, text: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (id, org_id, actor_id, actor_name, text, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(new_id())
    .bind(org)
    .bind(&user.id)
    .bind(&user.name)
    .bind(text)
    .bind(now_ms())
    .execute(&mut *conn)
    .await?;
    Ok(())
}
