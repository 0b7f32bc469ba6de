//! Outgoing e-mail through a durable outbox.
//!
//! Every e-mail is first a row of `outbox`, written in the same transaction as what caused it
//! (an agent's reply, a notification). A worker on every server process (`runtime`)
//! claims due rows with a lease (an `UPDATE … WHERE lease_until < now`, so two processes never
//! send one row at the same time), sends them through lettre over SMTP, and records the
//! outcome: `sent`, or a retry with exponential backoff (`outbox_retry_ms` doubling, at most
//! 15 minutes), or `failed` after `outbox_max_attempts`. A crash or an SMTP outage loses nothing:
//! the row stays queued and its lease expires. Delivery is at least once (a crash between the
//! SMTP server's "OK" and the status update sends that mail again).
//!
//! Notification e-mails are *digests*: at most one queued row per user; new notifications
//! only move its due time (requests and e-mail forms: now; messages: after `email_batch_ms`),
//! and its text is composed when it is sent from the user's unread, not yet e-mailed
//! notifications, so a chatty conversation sends one mail, not one per message.
use crate::error::Result;
use crate::ids::now_ms;
use crate::ids::utc_time;
use crate::mailer::Mailer;
use crate::services::push::{PushOutcome, Pusher};
use crate::services::Backend;
use crate::store::outbox::{self, Channel};
use crate::webpush::MAX_PAYLOAD;

/// How long a claimed row is reserved for the process sending it.
const LEASE_MS: i64 = 60_000;
/// Longest wait between retries.
const MAX_BACKOFF_MS: u64 = 15 * 60_000;
/// Rows claimed per round.
const BATCH: i64 = 20;

#[derive(sqlx::FromRow)]
struct OutboxRow {
    id: String,
    org_id: String,
    kind: String,
    conversation_id: Option<String>,
    seq: Option<i64>,
    user_id: Option<String>,
    to_addr: String,
    reply_to: String,
    subject: String,
    body: String,
    attempts: i64,
}

/// What the outbox worker sends with.
pub struct Couriers {
    pub mailer: Mailer,
    pub pusher: Pusher,
}

/// A user's unread notifications not yet sent through a channel, oldest first.
struct Pending {
    /// (id, conversation_id, kind, text, created_at)
    rows: Vec<(String, String, String, String, i64)>,
}

impl Pending {
    pub(crate) fn ids(&self) -> Vec<String> {
        self.rows.iter().map(|r| r.0.clone()).collect()
    }
}

impl Backend {
    /// Sends what is due now; returns how many rows were settled (sent, failed or skipped).
    pub async fn run_outbox(&self, couriers: &Couriers) -> Result<usize> {
        let now = now_ms();
        let due: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT id FROM outbox WHERE status = 'queued' AND next_attempt_at <= $1 AND lease_until < $1
             ORDER BY next_attempt_at LIMIT {BATCH}"
        )))
        .bind(now)
        .fetch_all(self.pool())
        .await?;
        let mut settled = 0;
        for (id,) in due {
            let claimed: Option<OutboxRow> = sqlx::query_as(
                "UPDATE outbox SET lease_until = $2, attempts = attempts + 1
                 WHERE id = $1 AND status = 'queued' AND next_attempt_at <= $3 AND lease_until < $3
                 RETURNING id, org_id, kind, conversation_id, seq, user_id, to_addr, reply_to, subject, body, attempts",
            )
            .bind(&id)
            .bind(now + LEASE_MS)
            .bind(now)
            .fetch_optional(self.writer())
            .await?;
            let Some(row) = claimed else { continue }; // another process has it
            if self.deliver(couriers, row).await? {
                settled += 1;
            }
        }
        Ok(settled)
    }

    /// Sends one claimed row and records the outcome. True when the row is settled.
    async fn deliver(&self, couriers: &Couriers, row: OutboxRow) -> Result<bool> {
        let channel = match row.kind.as_str() {
            "digest" => Some(Channel::Email),
            "push" => Some(Channel::Push),
            _ => None,
        };
        let pending = match channel {
            Some(channel) => match self.pending(row.user_id.as_deref().unwrap_or_default(), channel).await? {
                Some(p) => Some(p),
                None => return self.skip(&row, Some(channel), &[], None).await,
            },
            None => None,
        };
        let (subject, body, outcome) = match (channel, &pending) {
            (Some(Channel::Push), Some(p)) => {
                let payload = self.push_payload(p);
                let urgent = p.rows.iter().any(|r| r.2 != "message");
                let user = row.user_id.as_deref().unwrap_or_default();
                match couriers.pusher.push_to_user(self, user, &payload, urgent).await {
                    PushOutcome::Delivered => (String::new(), payload, Ok(())),
                    PushOutcome::Nowhere(why) => {
                        return self.skip(&row, Some(Channel::Push), &p.ids(), Some(&why)).await
                    }
                    PushOutcome::Retry(e) => (String::new(), payload, Err(e)),
                }
            }
            (_, Some(p)) => {
                let (subject, body) = self.email_digest(p);
                let outcome = couriers.mailer.send(&row.to_addr, &row.reply_to, &subject, &body).await;
                (subject, body, outcome)
            }
            // A transcript is written when it goes out (the conversation has ended: it is final).
            (_, None) if row.kind == "transcript" => {
                match self.transcript_mail(row.conversation_id.as_deref().unwrap_or_default()).await {
                    Ok((subject, body)) => {
                        let outcome = couriers.mailer.send(&row.to_addr, &row.reply_to, &subject, &body).await;
                        (subject, body, outcome)
                    }
                    // Retried, then given up, like a failed send.
                    Err(e) => (String::new(), String::new(), Err(format!("could not write the transcript: {e}"))),
                }
            }
            (_, None) => {
                let outcome = couriers.mailer.send(&row.to_addr, &row.reply_to, &row.subject, &row.body).await;
                (row.subject.clone(), row.body.clone(), outcome)
            }
        };
        let now = now_ms();
        let settled = match &outcome {
            Ok(()) => {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "UPDATE outbox SET status = 'sent', sent_at = $2, subject = $3, body = $4, last_error = NULL,
                     lease_until = 0 WHERE id = $1",
                )
                .bind(&row.id)
                .bind(now)
                .bind(&subject)
                .bind(&body)
                .execute(&mut *tx)
                .await?;
                if let (Some(channel), Some(p)) = (channel, &pending) {
                    let done = channel.done();
                    // One statement for the whole digest (at most 100 rows, see `pending`).
                    let ids = p.ids();
                    let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
                    let sql = format!("UPDATE notifications SET {done} = 1 WHERE id IN ({})", marks.join(", "));
                    let mut update = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for id in &ids {
                        update = update.bind(id.as_str());
                    }
                    if !marks.is_empty() {
                        update.execute(&mut *tx).await?;
                    }
                    let user = row.user_id.as_deref().unwrap_or_default();
                    let batch = self.config.email_batch_ms as i64;
                    outbox::queue_leftovers(&mut *tx, user, channel, &ids, batch, now).await?;
                }
                tx.commit().await?;
                tracing::info!(outbox = %row.id, kind = %row.kind, "sent");
                true
            }
            Err(error) => {
                let give_up = row.attempts >= i64::from(self.config.outbox_max_attempts);
                let shift = (row.attempts - 1).clamp(0, 20) as u32;
                let backoff = self.config.outbox_retry_ms.saturating_mul(1 << shift).min(MAX_BACKOFF_MS);
                sqlx::query(
                    "UPDATE outbox SET status = $2, next_attempt_at = $3, last_error = $4, lease_until = 0 WHERE id = $1",
                )
                .bind(&row.id)
                .bind(if give_up { "failed" } else { "queued" })
                .bind(now + backoff as i64)
                .bind(error.chars().take(500).collect::<String>())
                .execute(self.writer())
                .await?;
                self.metrics.outbox_failures.inc();
                tracing::warn!(outbox = %row.id, kind = %row.kind, attempt = row.attempts, give_up, error = %error, "not sent");
                give_up
            }
        };
        if let (Some(conversation_id), Some(seq)) = (&row.conversation_id, row.seq) {
            self.publish_message_update(&row.org_id, conversation_id, seq).await;
        }
        Ok(settled)
    }

    /// Settles a digest row with nothing to send (nothing new, the user turned the channel off,
    /// or no browser to push to: `given_up` are the notifications it leaves unsent).
    async fn skip(
        &self,
        row: &OutboxRow,
        channel: Option<Channel>,
        given_up: &[String],
        why: Option<&str>,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE outbox SET status = 'skipped', lease_until = 0, last_error = $2 WHERE id = $1")
            .bind(&row.id)
            .bind(why)
            .execute(&mut *tx)
            .await?;
        if let (Some(channel), Some(user)) = (channel, row.user_id.as_deref()) {
            let batch = self.config.email_batch_ms as i64;
            outbox::queue_leftovers(&mut *tx, user, channel, given_up, batch, now_ms()).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// The user's unread notifications not yet sent through `channel` (`None`: nothing to say,
    /// or the user no longer wants that channel).
    async fn pending(&self, user_id: &str, channel: Channel) -> Result<Option<Pending>> {
        let (pref, done) = (channel.pref(), channel.done());
        let wants: Option<(i64,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT p.{pref} FROM users u JOIN notification_prefs p ON p.user_id = u.id
             WHERE u.id = $1 AND u.perm_conversations = 1 AND u.active = 1"
        )))
        .bind(user_id)
        .fetch_optional(self.pool())
        .await?;
        if wants.is_none_or(|(w,)| w == 0) {
            return Ok(None);
        }
        let rows: Vec<(String, String, String, String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT id, conversation_id, kind, text, created_at FROM notifications
             WHERE user_id = $1 AND read_at IS NULL AND {done} = 0 ORDER BY created_at, id LIMIT 100"
        )))
        .bind(user_id)
        .fetch_all(self.pool())
        .await?;
        Ok((!rows.is_empty()).then_some(Pending { rows }))
    }

    /// The e-mail digest: subject and body.
    fn email_digest(&self, p: &Pending) -> (String, String) {
        let subject = match p.rows.as_slice() {
            // One line: visitors' text may hold line breaks.
            [(_, _, _, text, _)] => text.chars().take(120).map(|c| if c.is_control() { ' ' } else { c }).collect(),
            many => format!("{} new notifications in Handoff", many.len()),
        };
        let mut body = String::from("New in Handoff:\n\n");
        for (_, conversation_id, _, text, at) in &p.rows {
            body.push_str(&format!(
                "- {text}\n  {} — {}/conversations/{conversation_id}\n\n",
                utc_time(*at),
                self.config.public_url
            ));
        }
        body.push_str("You get these e-mails because you chose e-mail under the bell's settings in the dashboard.\n");
        (subject, body)
    }

    /// The push payload the dashboard's service worker shows: JSON `{title, body, url, tag}`,
    /// within [`MAX_PAYLOAD`] bytes. It opens the newest notification's conversation.
    fn push_payload(&self, p: &Pending) -> String {
        let newest = p.rows.last().expect("pending is never empty");
        let title = match p.rows.len() {
            1 if newest.2 == "request" => "Handoff request".to_string(),
            1 if newest.2 == "email_form" => "New e-mail form".to_string(),
            1 if newest.2 == "transfer" => "A chat was passed to you".to_string(),
            1 => "New message".to_string(),
            n => format!("{n} new notifications"),
        };
        let mut body: String = newest.3.chars().take(300).collect();
        if p.rows.len() > 1 {
            body = format!("{body} (and {} more)", p.rows.len() - 1);
        }
        let json = serde_json::json!({
            "title": title,
            "body": body,
            "url": format!("/conversations/{}", newest.1),
            "tag": format!("handoff-{}", newest.1),
        })
        .to_string();
        debug_assert!(json.len() <= MAX_PAYLOAD);
        json
    }
}
