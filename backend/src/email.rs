//! The "send email" fallback: no visitor query goes unanswered.
//!
//! * **Offer.** A worker on every server process ([`Backend::offer_email_forms`]) finds requests
//!   that waited longer than the organization's `handoff_timeout_secs`, or that have no agent
//!   online (no dashboard refreshed its presence within [`ONLINE_WINDOW_MS`]), and appends one
//!   system message of kind `email_offer` per request (`conversations.offer_version` records the
//!   request's `state_version`, set in the same transaction, so two processes never both offer).
//! * **Submit.** The visitor's form ([`Backend::submit_email_form`]) is validated whole
//!   (address, text, files by content; `domain::email`) before anything is written; then the
//!   message, its attachments, the team's notifications and the e-mail digests are written in
//!   one transaction. A resubmission with the same id returns the stored message.
//! * **Answer.** An agent's e-mail reply ([`Backend::email_reply`]) is stored in the thread and
//!   queued in the outbox in one transaction; `crate::mail` delivers it and reports its status.
//! * **Attachments** are read back only by users of the conversation's organization or by the
//!   visitor who uploaded them.
use crate::chat::{Guard, MessageRow, UserCtx, VisitorCtx, MESSAGE_COLS};
use crate::error::{BackendError, Result};
use crate::{new_id, now_ms, Backend};
use domain::email::{check_files, parse_form_text, EmailAddress, UploadedFile};
use domain::field::FieldError;
use domain::values::ClientMsgId;
use domain::wire::{
    AttachmentDto, Author, Delivery, DeliveryStatus, MessageDto, MessageExtra, OrgSettings, ServerFrame,
};
use sha2::Digest;
use sqlx::AssertSqlSafe;
use std::collections::HashMap;

/// What the visitor is told when nobody answered in time.
pub const OFFER_TEXT: &str = "Sorry, no one is available to answer right now. Send us an e-mail with your question \
     (files are welcome) and we will get back to you.";
/// An agent counts as online while their dashboard refreshed its presence within this time.
pub const ONLINE_WINDOW_MS: i64 = 45_000;
/// How often an open dashboard refreshes its user's presence.
pub const PRESENCE_EVERY_MS: u64 = 15_000;
/// At most this many e-mail forms per conversation and hour.
const FORMS_PER_HOUR: i64 = 5;
/// Allowed range of the request timeout, in seconds.
const TIMEOUT_RANGE: std::ops::RangeInclusive<i64> = 10..=86_400;

/// The `kind` and `meta` columns of a message.
pub(crate) fn extra_columns(extra: &MessageExtra) -> (&'static str, Option<String>) {
    match extra {
        MessageExtra::Chat => ("chat", None),
        MessageExtra::EmailOffer => ("email_offer", None),
        MessageExtra::EmailForm { email, .. } => {
            ("email_form", Some(serde_json::json!({ "email": email }).to_string()))
        }
        MessageExtra::EmailReply { to, .. } => ("email_reply", Some(serde_json::json!({ "to": to }).to_string())),
    }
}

/// The message's extra from its columns (attachments and delivery are filled in later).
pub(crate) fn extra_from_columns(kind: &str, meta: Option<&str>) -> MessageExtra {
    let meta: serde_json::Value = meta.and_then(|m| serde_json::from_str(m).ok()).unwrap_or_default();
    let get = |k: &str| meta.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_string();
    match kind {
        "email_offer" => MessageExtra::EmailOffer,
        "email_form" => MessageExtra::EmailForm { email: get("email"), attachments: Vec::new() },
        "email_reply" => MessageExtra::EmailReply { to: get("to"), delivery: Delivery::default() },
        _ => MessageExtra::Chat,
    }
}

pub(crate) fn delivery_status(status: &str) -> DeliveryStatus {
    match status {
        "sent" => DeliveryStatus::Sent,
        "failed" => DeliveryStatus::Failed,
        _ => DeliveryStatus::Queued,
    }
}

/// A stored attachment, ready to be served.
#[derive(Debug)]
pub struct AttachmentFile {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// "2026-11-25 14:03 UTC", for quoting in e-mails.
pub(crate) fn utc_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02} UTC", rem / 3600, rem % 3600 / 60)
}

impl Backend {
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
    pub(crate) async fn message_at(&self, conversation_id: &str, seq: i64) -> Result<MessageDto> {
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

        let mut tx = self.writer().begin().await?;
        // Taking the sequence number locks the conversation: the duplicate and rate checks
        // below cannot race another submission.
        let taken = Self::take_seq(&mut tx, &v.conversation_id, &v.org_id, Guard::Open, &text).await;
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
        let now = row.last_activity;
        let mut attachments = Vec::with_capacity(files.len());
        for (position, f) in files.iter().enumerate() {
            let att = AttachmentDto {
                id: new_id(),
                name: f.name.clone(),
                content_type: f.kind.content_type().to_string(),
                size: f.bytes.len() as i64,
            };
            sqlx::query(
                "INSERT INTO attachments (id, org_id, conversation_id, seq, position, visitor_id, file_name, content_type, size, sha256, data, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(&att.id)
            .bind(&v.org_id)
            .bind(&v.conversation_id)
            .bind(row.last_seq)
            .bind(position as i64)
            .bind(&v.visitor_id)
            .bind(&att.name)
            .bind(&att.content_type)
            .bind(att.size)
            .bind(hex::encode(sha2::Sha256::digest(&f.bytes)))
            .bind(f.bytes.clone())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            attachments.push(att);
        }
        let extra = MessageExtra::EmailForm { email: email.as_str().to_string(), attachments };
        let message = Self::insert_message(&mut tx, &row, &Author::Visitor, Some(&id), &text, &extra).await?;
        let files_note = match files.len() {
            0 => String::new(),
            1 => " (1 file)".into(),
            n => format!(" ({n} files)"),
        };
        crate::notify::notify_team(
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
        let org = user.conversations_org()?;
        let row: Option<(String, String, Vec<u8>)> =
            sqlx::query_as("SELECT file_name, content_type, data FROM attachments WHERE id = $1 AND org_id = $2")
                .bind(id)
                .bind(org)
                .fetch_optional(self.pool())
                .await?;
        let (name, content_type, bytes) = row.ok_or(BackendError::NotFound("attachment"))?;
        Ok(AttachmentFile { name, content_type, bytes })
    }

    /// An attachment, for the visitor who uploaded it (identified by their token).
    pub async fn attachment_for_visitor(&self, token: &str, id: &str) -> Result<AttachmentFile> {
        let row: Option<(String, String, Vec<u8>)> = sqlx::query_as(
            "SELECT a.file_name, a.content_type, a.data FROM attachments a JOIN visitors v ON v.id = a.visitor_id
             WHERE a.id = $1 AND v.token_hash = $2",
        )
        .bind(id)
        .bind(crate::auth::token_hash(token))
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
        let org = user.conversations_org()?.to_string();
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

        let mut tx = self.writer().begin().await?;
        let taken = Self::take_seq(&mut tx, conversation_id, &org, Guard::Always, &text).await;
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
        let message = Self::insert_message(&mut tx, &row, &author, Some(&id), &text, &extra).await?;
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
        let org = user.conversations_org()?;
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

    pub(crate) async fn publish_message_update(&self, org_id: &str, conversation_id: &str, seq: i64) {
        match self.message_at(conversation_id, seq).await {
            Ok(message) => self.hub.publish(org_id, conversation_id, ServerFrame::MessageUpdated { message }),
            Err(e) => tracing::warn!(conversation = conversation_id, seq, error = %e, "could not re-read a message"),
        }
    }

    /// The user's organization's handoff settings.
    pub async fn org_settings(&self, user: &UserCtx) -> Result<OrgSettings> {
        let org = user.org_id.as_deref().ok_or(BackendError::NotFound("organization"))?;
        let (handoff_timeout_secs, reply_to): (i64, String) =
            sqlx::query_as("SELECT handoff_timeout_secs, reply_to FROM organizations WHERE id = $1")
                .bind(org)
                .fetch_optional(self.pool())
                .await?
                .ok_or(BackendError::NotFound("organization"))?;
        Ok(OrgSettings { handoff_timeout_secs, reply_to })
    }

    /// Saves the organization's handoff settings (the *settings* permission is required).
    pub async fn save_org_settings(&self, user: &UserCtx, settings: OrgSettings) -> Result<OrgSettings> {
        let org = user.org_id.as_deref().ok_or(BackendError::NotFound("organization"))?;
        if !user.may_edit_settings() {
            return Err(BackendError::Forbidden("you need the settings permission to change handoff settings".into()));
        }
        if !TIMEOUT_RANGE.contains(&settings.handoff_timeout_secs) {
            return Err(FieldError {
                field: "handoff_timeout_secs".into(),
                message: format!("must be between {} and {} seconds", TIMEOUT_RANGE.start(), TIMEOUT_RANGE.end()),
            }
            .into());
        }
        let reply_to = if settings.reply_to.trim().is_empty() {
            String::new()
        } else {
            EmailAddress::parse(&settings.reply_to)
                .map_err(|e| FieldError { field: "reply_to".into(), message: e.message })?
                .as_str()
                .to_string()
        };
        sqlx::query("UPDATE organizations SET handoff_timeout_secs = $2, reply_to = $3 WHERE id = $1")
            .bind(org)
            .bind(settings.handoff_timeout_secs)
            .bind(&reply_to)
            .execute(self.writer())
            .await?;
        Ok(OrgSettings { handoff_timeout_secs: settings.handoff_timeout_secs, reply_to })
    }

    /// Records that the user's dashboard is open (presence for the e-mail offer).
    pub async fn touch_presence(&self, user_id: &str) -> Result<()> {
        sqlx::query("UPDATE users SET last_seen_at = $2 WHERE id = $1")
            .bind(user_id)
            .bind(now_ms())
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// Offers the e-mail form on every request that waited too long or has nobody online to
    /// answer it; once per request. Returns how many offers were made.
    pub async fn offer_email_forms(&self) -> Result<usize> {
        let now = now_ms();
        let due: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT c.id, c.org_id, c.state_version FROM conversations c
             JOIN organizations o ON o.id = c.org_id JOIN agents a ON a.id = c.agent_id
             WHERE c.state = 'requested' AND c.offer_version <> c.state_version AND a.handoff_enabled = 1
               AND (c.state_since <= $1 - o.handoff_timeout_secs * 1000
                    OR NOT EXISTS (SELECT 1 FROM users u WHERE u.org_id = c.org_id AND u.perm_conversations = 1 AND u.active = 1
                                   AND u.last_seen_at > $2))
             LIMIT 100",
        )
        .bind(now)
        .bind(now - ONLINE_WINDOW_MS)
        .fetch_all(self.pool())
        .await?;
        let mut offered = 0;
        for (conversation_id, org_id, version) in due {
            let mut tx = self.writer().begin().await?;
            let claimed = sqlx::query(
                "UPDATE conversations SET offer_version = state_version
                 WHERE id = $1 AND state = 'requested' AND state_version = $2 AND offer_version <> state_version",
            )
            .bind(&conversation_id)
            .bind(version)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if claimed == 0 {
                tx.rollback().await?;
                continue; // handled meanwhile, or another process offered first
            }
            let row = Self::take_seq(&mut tx, &conversation_id, &org_id, Guard::Always, OFFER_TEXT).await?;
            let message =
                Self::insert_message(&mut tx, &row, &Author::System, None, OFFER_TEXT, &MessageExtra::EmailOffer)
                    .await?;
            tx.commit().await?;
            tracing::info!(conversation = %conversation_id, "offered the e-mail form");
            self.after_append(&message, &row);
            offered += 1;
        }
        Ok(offered)
    }

    /// Starts this process's background workers (e-mail offers and the outbox), as configured.
    pub fn start_workers(&self) {
        if self.config.email_offer_check_ms > 0 {
            let this = self.clone();
            let every = std::time::Duration::from_millis(self.config.email_offer_check_ms);
            tokio::spawn(async move {
                loop {
                    if let Err(e) = this.offer_email_forms().await {
                        tracing::warn!(error = %e, "e-mail offer check failed");
                    }
                    tokio::time::sleep(every).await;
                }
            });
        }
        crate::mail::start_worker(self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extras_round_trip_through_columns() {
        for extra in [
            MessageExtra::Chat,
            MessageExtra::EmailOffer,
            MessageExtra::EmailForm { email: "a@b.co".into(), attachments: vec![] },
            MessageExtra::EmailReply { to: "a@b.co".into(), delivery: Delivery::default() },
        ] {
            let (kind, meta) = extra_columns(&extra);
            assert_eq!(extra_from_columns(kind, meta.as_deref()), extra);
        }
        assert_eq!(extra_from_columns("nonsense", Some("{")), MessageExtra::Chat);
    }

    #[test]
    fn utc_times() {
        assert_eq!(utc_time(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc_time(1_795_615_380_000), "2026-11-25 14:03 UTC");
        assert_eq!(utc_time(951_782_400_000), "2000-02-29 00:00 UTC");
    }
}
