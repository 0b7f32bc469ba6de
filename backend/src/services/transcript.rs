//! Reading conversations and their messages; appending idempotently (a resent client message id
//! returns the stored message); publishing what was appended.
use crate::conversation::{
    author_columns, delivery_status, Guard, MessageRow, SummaryRow, MESSAGE_COLS, PAGE, SUMMARY_COLS,
};
use crate::db::Done;
use crate::error::{BackendError, Result};
use crate::services::Backend;
use crate::store::{messages, notifications};
use domain::chat_files::{check_chat_file, message_line};
use domain::email::{CheckedFile, UploadedFile};
use domain::handoff::HandoffState;
use domain::values::ClientMsgId;
use domain::wire::{AttachmentDto, Author, Delivery, MessageDto, MessageExtra, ServerFrame};
use sqlx::{AnyConnection, AssertSqlSafe};
use std::collections::HashMap;

impl Backend {
    pub(crate) async fn summary_row(&self, conversation_id: &str, org_id: &str) -> Result<SummaryRow> {
        sqlx::query_as(AssertSqlSafe(format!("SELECT {SUMMARY_COLS} FROM conversations WHERE id = $1 AND org_id = $2")))
            .bind(conversation_id)
            .bind(org_id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(BackendError::NotFound("conversation"))
    }

    /// Messages with `seq > after`, in order (at most [`PAGE`]). Callers must have authorized
    /// access to the conversation.
    pub async fn messages_after(&self, conversation_id: &str, after: i64) -> Result<Vec<MessageDto>> {
        let rows: Vec<MessageRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {MESSAGE_COLS} FROM messages WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT {PAGE}"
        )))
        .bind(conversation_id)
        .bind(after)
        .fetch_all(self.pool())
        .await?;
        self.complete_messages(rows.into_iter().map(MessageRow::dto).collect()).await
    }

    /// Every message of a conversation, in order (read page by page). Callers must have
    /// authorized access to the conversation.
    pub async fn all_messages(&self, conversation_id: &str) -> Result<Vec<MessageDto>> {
        let mut messages: Vec<MessageDto> = Vec::new();
        loop {
            let page = self.messages_after(conversation_id, messages.last().map_or(0, |m| m.seq)).await?;
            let full = page.len() as i64 >= PAGE;
            messages.extend(page);
            if !full {
                return Ok(messages);
            }
        }
    }

    pub async fn conversation_state(&self, conversation_id: &str, org_id: &str) -> Result<(HandoffState, i64)> {
        let row = self.summary_row(conversation_id, org_id).await?;
        Ok((row.state()?, row.last_seq))
    }

    /// Like [`messages::append`] in a write of its own (`Db::write`: grouped with others on SQLite), but
    /// a message already stored under the same sender and client message id is returned instead
    /// (with `duplicate`) and nothing is written. A file (`Content::File`) is stored with its
    /// message, and the bell's notifications of it (`notifications::note_message`), in the same
    /// write. A new message is published (with the bell's hint when it changed) once committed.
    pub(crate) async fn append_or_replay(
        &self,
        conversation_id: &str,
        org_id: &str,
        author: &Author,
        guard: Guard,
        client_msg_id: &ClientMsgId,
        content: Content,
    ) -> Result<AppendOutcome> {
        let (conversation_id, org_id, author, client_msg_id) =
            (conversation_id.to_string(), org_id.to_string(), author.clone(), client_msg_id.clone());
        let rate_limit = i64::from(self.config.visitor_messages_per_minute);
        let upload_mb = self.config.visitor_upload_mb_per_hour;
        let batch_ms = self.config.email_batch_ms as i64;
        let outcome = self
            .db
            .write(move |conn| {
                Box::pin(async move {
                    let (_, _, _, sender) = author_columns(&author);
                    let replay = |old: MessageRow| {
                        // Rolled back: gives the sequence number back.
                        let outcome =
                            AppendOutcome { message: old.dto(), duplicate: true, row: None, bell_changed: false };
                        Ok(Done::Rollback(outcome))
                    };
                    // Take the sequence number first: that locks the conversation (both
                    // engines), so no other append to it runs until this one ends. A refusal
                    // (closed, not the holder…) still answers a resend with what was stored.
                    let row =
                        match messages::take_seq(conn, &conversation_id, &org_id, guard, &author, &content.preview())
                            .await
                        {
                            Ok(row) => row,
                            Err(e) => {
                                return stored_under(conn, &conversation_id, &sender, &client_msg_id)
                                    .await?
                                    .map_or(Err(e), replay)
                            }
                        };
                    // A file's resend is found before its bytes are stored again.
                    if matches!(content, Content::File(_)) {
                        if let Some(old) = stored_under(conn, &conversation_id, &sender, &client_msg_id).await? {
                            return replay(old);
                        }
                    }
                    let fresh =
                        store_content(conn, &row, &author, &client_msg_id, content, (rate_limit, upload_mb)).await;
                    let message = match fresh {
                        Ok(Some(message)) => message,
                        // Stored before under this id (the insert found it), or refused by a
                        // limit that the stored message had not met: the resend's answer. (Any
                        // other error is the database's: on PostgreSQL the transaction is void.)
                        other @ (Ok(None) | Err(BackendError::RateLimited(_))) => {
                            let old = stored_under(conn, &conversation_id, &sender, &client_msg_id).await?;
                            return match (old, other) {
                                (Some(old), _) => replay(old),
                                (None, Err(e)) => Err(e),
                                (None, Ok(_)) => Err(BackendError::Internal("a resend vanished".into())),
                            };
                        }
                        Err(e) => return Err(e),
                    };
                    // The bell, in the message's own write: one commit, in sequence.
                    let bell = notifications::message_text(&row.visitor_name, &message_line(&message));
                    let bell_changed = notifications::note_message(
                        conn,
                        &org_id,
                        &conversation_id,
                        &bell,
                        message.created_at,
                        batch_ms,
                    )
                    .await?;
                    Ok(Done::Commit(AppendOutcome { message, duplicate: false, row: Some(row), bell_changed }))
                })
            })
            .await?;
        if let (false, Some(row)) = (outcome.duplicate, &outcome.row) {
            self.after_append(&outcome.message, row);
            if outcome.bell_changed {
                self.hub.publish_org(&row.org_id, ServerFrame::Notifications);
            }
        }
        Ok(outcome)
    }

    /// Publishes a committed message and the conversation's new summary.
    pub(crate) fn after_append(&self, message: &MessageDto, row: &SummaryRow) {
        self.metrics.message_stored(match message.author {
            Author::Visitor => "visitor",
            Author::Agent { .. } => "agent",
            Author::Ai => "ai",
            Author::System => "system",
        });
        self.hub.publish(&row.org_id, &row.id, ServerFrame::Message { message: message.clone() });
        if let Ok(summary) = row.summary() {
            self.hub.publish_org(&row.org_id, ServerFrame::Conversation { summary });
        }
    }

    /// Adds what lives outside the `messages` table to a page of one conversation's messages:
    /// e-mail forms' attachments and e-mail replies' delivery status.
    pub(crate) async fn complete_messages(&self, mut messages: Vec<MessageDto>) -> Result<Vec<MessageDto>> {
        let special: Vec<i64> = messages
            .iter()
            .filter(|m| matches!(m.extra, MessageExtra::EmailForm { .. } | MessageExtra::EmailReply { .. }))
            .map(|m| m.seq)
            .collect();
        let (Some(lo), Some(hi)) = (special.iter().min().copied(), special.iter().max().copied()) else {
            return Ok(messages);
        };
        let conversation_id = messages[0].conversation_id.clone();
        let files: Vec<(String, i64, String, String, i64)> = sqlx::query_as(
            "SELECT id, seq, file_name, content_type, size FROM attachments
             WHERE conversation_id = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq, position",
        )
        .bind(&conversation_id)
        .bind(lo)
        .bind(hi)
        .fetch_all(self.pool())
        .await?;
        let mut by_seq: HashMap<i64, Vec<AttachmentDto>> = HashMap::new();
        for (id, seq, name, content_type, size) in files {
            by_seq.entry(seq).or_default().push(AttachmentDto { id, name, content_type, size });
        }
        let deliveries: Vec<(i64, String, i64, Option<String>)> = sqlx::query_as(
            "SELECT seq, status, attempts, last_error FROM outbox
             WHERE conversation_id = $1 AND kind = 'reply' AND seq BETWEEN $2 AND $3",
        )
        .bind(&conversation_id)
        .bind(lo)
        .bind(hi)
        .fetch_all(self.pool())
        .await?;
        let mut delivery: HashMap<i64, Delivery> = deliveries
            .into_iter()
            .map(|(seq, status, attempts, error)| (seq, Delivery { status: delivery_status(&status), attempts, error }))
            .collect();
        for m in &mut messages {
            match &mut m.extra {
                MessageExtra::EmailForm { attachments, .. } => *attachments = by_seq.remove(&m.seq).unwrap_or_default(),
                MessageExtra::EmailReply { delivery: d, .. } => *d = delivery.remove(&m.seq).unwrap_or_default(),
                _ => {}
            }
        }
        Ok(messages)
    }

    /// One stored message, completed (for `MessageUpdated` frames).
    async fn message_at(&self, conversation_id: &str, seq: i64) -> Result<MessageDto> {
        let row: MessageRow = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {MESSAGE_COLS} FROM messages WHERE conversation_id = $1 AND seq = $2"
        )))
        .bind(conversation_id)
        .bind(seq)
        .fetch_optional(self.pool())
        .await?
        .ok_or(BackendError::NotFound("message"))?;
        Ok(self.complete_messages(vec![row.dto()]).await?.remove(0))
    }

    pub(crate) async fn publish_message_update(&self, org_id: &str, conversation_id: &str, seq: i64) {
        match self.message_at(conversation_id, seq).await {
            Ok(message) => self.hub.publish(org_id, conversation_id, ServerFrame::MessageUpdated { message }),
            Err(e) => tracing::warn!(conversation = conversation_id, seq, error = %e, "could not re-read a message"),
        }
    }
}

/// The message `sender` stored under `client_msg_id` in the conversation, if any.
async fn stored_under(
    conn: &mut AnyConnection,
    conversation_id: &str,
    sender: &str,
    client_msg_id: &ClientMsgId,
) -> Result<Option<MessageRow>> {
    Ok(sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {MESSAGE_COLS} FROM messages WHERE conversation_id = $1 AND sender = $2 AND client_msg_id = $3"
    )))
    .bind(conversation_id)
    .bind(sender)
    .bind(client_msg_id.as_str())
    .fetch_optional(&mut *conn)
    .await?)
}

/// Inside [`Backend::append_or_replay`]'s write, under the sequence number `row` took: the
/// visitor's limits (`limits`: messages a minute, megabytes an hour), then the message and its
/// file. `None` when the sender already stored a message under this id (nothing written).
async fn store_content(
    conn: &mut AnyConnection,
    row: &SummaryRow,
    author: &Author,
    client_msg_id: &ClientMsgId,
    content: Content,
    (rate_limit, upload_mb): (i64, u32),
) -> Result<Option<MessageDto>> {
    let visitor = matches!(author, Author::Visitor);
    if visitor {
        messages::check_visitor_rate(conn, &row.id, rate_limit).await?;
    }
    let (text, extra) = match content {
        Content::Text(text) => (text, MessageExtra::Chat),
        Content::File(file) => {
            if visitor {
                messages::check_visitor_files(conn, &row.id).await?;
                messages::check_upload_budget(conn, &row.org_id, file.bytes.len() as i64, upload_mb).await?;
            }
            let attachment = messages::insert_file(conn, row, 0, &file).await?;
            (file.name, MessageExtra::File { attachment })
        }
    };
    messages::insert_message_once(conn, row, author, Some(client_msg_id), &text, &extra).await
}

/// What a message appended by [`Backend::append_or_replay`] holds.
pub(crate) enum Content {
    Text(String),
    /// A file sent in the chat (`domain::chat_files`), checked; the message's text is its name.
    File(CheckedFile),
}

impl Content {
    /// A file sent in the chat, once checked by content, size and name (`domain::chat_files`).
    pub(crate) fn file(file: UploadedFile) -> Result<Self> {
        Ok(Content::File(check_chat_file(file)?))
    }

    /// What the list's preview shows.
    fn preview(&self) -> String {
        match self {
            Content::Text(text) => text.clone(),
            Content::File(file) => domain::chat_files::file_line(&file.name),
        }
    }
}

/// What [`Backend::append_or_replay`] did (`row`: the conversation after a new append;
/// `bell_changed`: its notifications changed).
pub(crate) struct AppendOutcome {
    pub(crate) message: MessageDto,
    pub(crate) duplicate: bool,
    pub(crate) row: Option<SummaryRow>,
    bell_changed: bool,
}
