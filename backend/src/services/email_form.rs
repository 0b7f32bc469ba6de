//! The visitor's "send email" form and the agents' e-mail replies.
//!
//! * **Submit.** The visitor's form ([`Backend::submit_email_form`]) is validated whole
//!   (address, text, files by content; `domain::email`) before anything is written; then the
//!   message, its attachments, the team's notifications and the e-mail digests are written in
//!   one transaction. A resubmission with the same id returns the stored message.
//! * **Answer.** An agent's e-mail reply ([`Backend::email_reply`]) is stored in the thread and
//!   queued in the outbox in one transaction; `services::outbox` delivers it and reports its status.
//! * **Attachments** (the form's and the chat's files, `services::chat_files`) are read back
//!   only by users of the conversation's organization or by the conversation's visitor.
use crate::conversation::{extra_from_columns, Guard, MessageRow, MESSAGE_COLS};
use crate::error::{BackendError, Result};
use crate::ids::{new_id, now_ms, utc_time};
use crate::principal::{UserCtx, VisitorCtx};
use crate::services::Backend;
use crate::store::{messages, notifications};
use domain::email::{check_files, parse_form_text, EmailAddress, UploadedFile};
use domain::values::ClientMsgId;
use domain::wire::{Author, Delivery, MessageDto, MessageExtra, ServerFrame};
use sqlx::AssertSqlSafe;

/// At most this many e-mail forms per conversation and hour.
const FORMS_PER_HOUR: i64 = 5;

/// A stored attachment, ready to be served.
#[derive(Debug)]
pub struct AttachmentFile {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl Backend {
    /// The visitor's "send email" form. Everything is checked before anything is stored; the
    /// message, its files, the team's notifications and e-mail digests are one transaction.
    /// Returns the stored message and whether it had been stored before (same `submission_id`).
    pub async fn submit_email_form(
        &self,
        v: &VisitorCtx,
        submission_id: &str,
        email: &str,
        message: &str,
        files: Vec<UploadedFile>,
    ) -> Result<(MessageDto, bool)> {
        let id = ClientMsgId::parse(submission_id)?;
        let email = EmailAddress::parse(email)?;
        let text = parse_form_text("message", message)?;
        let files = check_files(files)?;
        self.require_handoff_enabled(v, "the e-mail form is not available here").await?;

        let mut tx = self.begin_write().await?;
        // Taking the sequence number locks the conversation: the duplicate and rate checks
        // below cannot race another submission.
        let taken =
            messages::take_seq(&mut tx, &v.conversation_id, &v.org_id, Guard::Open, &Author::Visitor, &text).await;
        let existing: Option<MessageRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {MESSAGE_COLS} FROM messages WHERE conversation_id = $1 AND sender = 'visitor' AND client_msg_id = $2"
        )))
        .bind(&v.conversation_id)
        .bind(id.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(old) = existing {
            tx.rollback().await?;
            return Ok((self.complete_messages(vec![old.dto()]).await?.remove(0), true));
        }
        let row = taken?;
        let (recent,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM messages WHERE conversation_id = $1 AND kind = 'email_form' AND created_at > $2",
        )
        .bind(&v.conversation_id)
        .bind(now_ms() - 3_600_000)
        .fetch_one(&mut *tx)
        .await?;
        if recent >= FORMS_PER_HOUR {
            tx.rollback().await?;
            return Err(BackendError::RateLimited(format!(
                "you have sent {FORMS_PER_HOUR} e-mails from this chat in the last hour; please wait before sending another"
            )));
        }
        let size: usize = files.iter().map(|f| f.bytes.len()).sum();
        if size > 0 {
            if let Err(e) =
                messages::check_upload_budget(&mut tx, &v.org_id, size as i64, self.config.visitor_upload_mb_per_hour)
                    .await
            {
                tx.rollback().await?;
                return Err(e);
            }
        }
        let now = row.last_activity;
        let mut attachments = Vec::with_capacity(files.len());
        for (position, f) in files.iter().enumerate() {
            attachments.push(messages::insert_file(&mut tx, &row, position as i64, f).await?);
        }
        let extra = MessageExtra::EmailForm { email: email.as_str().to_string(), attachments };
        let message = messages::insert_message(&mut tx, &row, &Author::Visitor, Some(&id), &text, &extra).await?;
        let files_note = match files.len() {
            0 => String::new(),
            1 => " (1 file)".into(),
            n => format!(" ({n} files)"),
        };
        notifications::notify_team(
            &mut tx,
            &v.org_id,
            &v.conversation_id,
            "email_form",
            &format!("{} sent an e-mail{files_note}: {text}", row.visitor_name),
            now,
        )
        .await?;
        tx.commit().await?;
        tracing::info!(conversation = %v.conversation_id, seq = message.seq, files = files.len(), "e-mail form stored");
        self.after_append(&message, &row);
        self.hub.publish_org(&v.org_id, ServerFrame::Notifications);
        Ok((message, false))
    }

    /// An attachment, for a signed-in user of its organization.
    pub async fn attachment_for_user(&self, user: &UserCtx, id: &str) -> Result<AttachmentFile> {
        // A platform admin handles every organization's conversations (an AI agent's tab).
        let org = if user.is_admin() { None } else { Some(user.conversations_org()?) };
        let row: Option<(String, String, Vec<u8>)> = sqlx::query_as(
            "SELECT file_name, content_type, data FROM attachments WHERE id = $1 AND ($2 = 1 OR org_id = $3)",
        )
        .bind(id)
        .bind(i64::from(org.is_none()))
        .bind(org.unwrap_or_default())
        .fetch_optional(self.pool())
        .await?;
        let (name, content_type, bytes) = row.ok_or(BackendError::NotFound("attachment"))?;
        Ok(AttachmentFile { name, content_type, bytes })
    }

    /// An attachment of the visitor's conversations (their token, not retired): what they
    /// uploaded and what an agent sent them.
    pub async fn attachment_for_visitor(&self, token: &str, id: &str) -> Result<AttachmentFile> {
        let row: Option<(String, String, Vec<u8>)> = sqlx::query_as(
            "SELECT a.file_name, a.content_type, a.data FROM attachments a JOIN visitors v ON v.id = a.visitor_id
             WHERE a.id = $1 AND v.token_hash = $2 AND v.created_at >= $3",
        )
        .bind(id)
        .bind(crate::auth::token_hash(token))
        .bind(self.visitor_token_cutoff())
        .fetch_optional(self.pool())
        .await?;
        let (name, content_type, bytes) = row.ok_or(BackendError::NotFound("attachment"))?;
        Ok(AttachmentFile { name, content_type, bytes })
    }

    /// An agent answers an e-mail form (`form_seq`) by e-mail: the reply is stored in the thread
    /// and queued for delivery in one transaction. Holding the chat is not required.
    pub async fn email_reply(
        &self,
        user: &UserCtx,
        conversation_id: &str,
        form_seq: i64,
        client_msg_id: &str,
        text: &str,
    ) -> Result<MessageDto> {
        let org = self.handling_org(user, conversation_id).await?;
        let id = ClientMsgId::parse(client_msg_id)?;
        let text = parse_form_text("text", text)?;
        let form: Option<(String, Option<String>, String, i64, String, String)> = sqlx::query_as(
            "SELECT m.kind, m.meta, m.body, m.created_at, o.name, o.reply_to
             FROM messages m JOIN conversations c ON c.id = m.conversation_id JOIN organizations o ON o.id = c.org_id
             WHERE m.conversation_id = $1 AND m.seq = $2 AND c.org_id = $3",
        )
        .bind(conversation_id)
        .bind(form_seq)
        .bind(&org)
        .fetch_optional(self.pool())
        .await?;
        let Some((kind, meta, original, sent_at, org_name, reply_to)) = form else {
            return Err(BackendError::NotFound("e-mail form"));
        };
        let MessageExtra::EmailForm { email: to, .. } = extra_from_columns(&kind, meta.as_deref()) else {
            return Err(BackendError::NotFound("e-mail form"));
        };
        let author = Author::Agent { id: user.id.clone(), name: user.name.clone() };
        let sender = format!("agent:{}", user.id);

        let mut tx = self.begin_write().await?;
        let taken = messages::take_seq(&mut tx, conversation_id, &org, Guard::Always, &author, &text).await;
        let existing: Option<MessageRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {MESSAGE_COLS} FROM messages WHERE conversation_id = $1 AND sender = $2 AND client_msg_id = $3"
        )))
        .bind(conversation_id)
        .bind(&sender)
        .bind(id.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(old) = existing {
            tx.rollback().await?;
            return Ok(self.complete_messages(vec![old.dto()]).await?.remove(0));
        }
        let row = taken?;
        let extra = MessageExtra::EmailReply { to: to.clone(), delivery: Delivery::default() };
        let message = messages::insert_message(&mut tx, &row, &author, Some(&id), &text, &extra).await?;
        let quoted: String = original.lines().map(|l| format!("> {l}\n")).collect();
        let body =
            format!("{text}\n\n{}\n{org_name}\n\n---\nOn {}, you wrote:\n{quoted}", user.name, utc_time(sent_at));
        sqlx::query(
            "INSERT INTO outbox (id, org_id, kind, conversation_id, seq, to_addr, reply_to, subject, body, status, next_attempt_at, created_at)
             VALUES ($1, $2, 'reply', $3, $4, $5, $6, $7, $8, 'queued', $9, $9)",
        )
        .bind(new_id())
        .bind(&org)
        .bind(conversation_id)
        .bind(message.seq)
        .bind(&to)
        .bind(&reply_to)
        .bind(format!("Re: your message to {org_name}"))
        .bind(body)
        .bind(row.last_activity)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.after_append(&message, &row);
        Ok(message)
    }

    /// Queues a failed e-mail reply (`seq`) again.
    pub async fn retry_email(&self, user: &UserCtx, conversation_id: &str, seq: i64) -> Result<()> {
        let org = self.handling_org(user, conversation_id).await?;
        let org = org.as_str();
        let done = sqlx::query(
            "UPDATE outbox SET status = 'queued', attempts = 0, next_attempt_at = $4, lease_until = 0, last_error = NULL
             WHERE conversation_id = $1 AND seq = $2 AND org_id = $3 AND kind = 'reply' AND status = 'failed'",
        )
        .bind(conversation_id)
        .bind(seq)
        .bind(org)
        .bind(now_ms())
        .execute(self.writer())
        .await?
        .rows_affected();
        if done == 0 {
            return Err(BackendError::NotFound("failed e-mail"));
        }
        self.publish_message_update(org, conversation_id, seq).await;
        Ok(())
    }
}
