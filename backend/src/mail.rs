//! Outgoing e-mail through a durable outbox.
//!
//! Every e-mail is first a row of `outbox`, written in the same transaction as what caused it
//! (an agent's reply, a notification). A worker on every server process ([`start_worker`])
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
use crate::config::Config;
use crate::error::{BackendError, Result};
use crate::{new_id, now_ms, Backend};
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sqlx::AnyConnection;
use std::time::Duration;

/// How long a claimed row is reserved for the process sending it.
const LEASE_MS: i64 = 60_000;
/// Longest wait between retries.
const MAX_BACKOFF_MS: u64 = 15 * 60_000;
/// Rows claimed per round.
const BATCH: i64 = 20;
/// Longest SMTP conversation.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// Development without an SMTP server: `.eml` files in a directory.
    Files(AsyncFileTransport<Tokio1Executor>, String),
}

/// Sends e-mail as configured (`smtp_url`, `mail_from`).
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
}

impl Mailer {
    pub fn from_config(config: &Config) -> Result<Self> {
        let from: Mailbox = config
            .mail_from
            .parse()
            .map_err(|e| BackendError::Internal(format!("mail_from `{}` is not an address: {e}", config.mail_from)))?;
        let transport = if config.smtp_url.is_empty() {
            let dir = config.data_dir.join("mail");
            std::fs::create_dir_all(&dir)
                .map_err(|e| BackendError::Internal(format!("cannot create {}: {e}", dir.display())))?;
            Transport::Files(AsyncFileTransport::new(&dir), dir.display().to_string())
        } else {
            let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(&config.smtp_url)
                .map_err(|e| BackendError::Internal(format!("smtp_url is not usable: {e}")))?;
            Transport::Smtp(builder.timeout(Some(SMTP_TIMEOUT)).build())
        };
        Ok(Self { transport, from })
    }

    /// Where mail goes, for the start-up log (no credentials).
    pub fn describe(&self) -> String {
        match &self.transport {
            Transport::Smtp(_) => "SMTP".into(),
            Transport::Files(_, dir) => format!("files in {dir} (no smtp_url configured)"),
        }
    }

    /// Sends one plain-text e-mail. The error is a short text for the outbox row and the log.
    pub async fn send(&self, to: &str, reply_to: &str, subject: &str, body: &str) -> Result<(), String> {
        let to: Mailbox = to.parse().map_err(|e| format!("bad recipient {to}: {e}"))?;
        let mut builder = Message::builder().from(self.from.clone()).to(to).subject(subject);
        if !reply_to.is_empty() {
            let reply_to: Mailbox = reply_to.parse().map_err(|e| format!("bad reply-to {reply_to}: {e}"))?;
            builder = builder.reply_to(reply_to);
        }
        let message =
            builder.header(ContentType::TEXT_PLAIN).body(body.to_string()).map_err(|e| format!("bad message: {e}"))?;
        match &self.transport {
            Transport::Smtp(t) => t.send(message).await.map(|_| ()).map_err(|e| e.to_string()),
            Transport::Files(t, _) => t.send(message).await.map(|_| ()).map_err(|e| e.to_string()),
        }
    }
}

/// How a user hears of notifications outside the dashboard.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Channel {
    Email,
    Push,
}

impl Channel {
    /// The outbox kind of its digests.
    fn kind(self) -> &'static str {
        match self {
            Self::Email => "digest",
            Self::Push => "push",
        }
    }
    /// The preference column that turns it on.
    fn pref(self) -> &'static str {
        match self {
            Self::Email => "via_email",
            Self::Push => "via_push",
        }
    }
    /// The notification column that records it was used.
    fn done(self) -> &'static str {
        match self {
            Self::Email => "emailed",
            Self::Push => "pushed",
        }
    }
}

/// Inside the caller's transaction: make sure every user who wants e-mail (or push) and has
/// unread notifications of this conversation not yet sent that way has a queued digest — e-mail
/// due by `due`, push due now.
pub(crate) async fn enqueue_digests(
    conn: &mut AnyConnection,
    org_id: &str,
    conversation_id: &str,
    due: i64,
    now: i64,
) -> Result<()> {
    for (channel, due) in [(Channel::Email, due), (Channel::Push, now)] {
        let (kind, pref, done) = (channel.kind(), channel.pref(), channel.done());
        let wanting = format!(
            "SELECT u.id, u.email FROM users u JOIN notification_prefs p ON p.user_id = u.id
             WHERE u.org_id = $1 AND u.perm_conversations = 1 AND u.active = 1 AND p.{pref} = 1
               AND EXISTS (SELECT 1 FROM notifications n WHERE n.user_id = u.id AND n.conversation_id = $2
                           AND n.read_at IS NULL AND n.{done} = 0)"
        );
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO outbox (id, org_id, kind, user_id, to_addr, status, next_attempt_at, created_at)
             SELECT $3 || w.id, $1, '{kind}', w.id, w.email, 'queued', $4, $5 FROM ({wanting}) w
             WHERE true -- (SQLite needs a WHERE before ON CONFLICT in INSERT … SELECT)
             ON CONFLICT DO NOTHING"
        )))
        .bind(org_id)
        .bind(conversation_id)
        .bind(format!("{}-", new_id()))
        .bind(due)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        // An earlier digest waiting for more messages goes out sooner when something urgent came.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE outbox SET next_attempt_at = $3 WHERE kind = '{kind}' AND status = 'queued' AND next_attempt_at > $3
             AND user_id IN (SELECT w.id FROM ({wanting}) w)"
        )))
        .bind(org_id)
        .bind(conversation_id)
        .bind(due)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Starts the outbox worker of this process (unless `outbox_poll_ms` is 0).
pub(crate) fn start_worker(backend: &Backend) {
    if backend.config.outbox_poll_ms == 0 {
        return;
    }
    let mailer = match Mailer::from_config(&backend.config) {
        Ok(m) => m,
        Err(e) => {
            tracing::error!(error = %e, "e-mail is not configured correctly; nothing will be sent");
            return;
        }
    };
    tracing::info!(to = %mailer.describe(), "outbox worker started");
    let this = backend.clone();
    let every = Duration::from_millis(backend.config.outbox_poll_ms);
    tokio::spawn(async move {
        let couriers = loop {
            match crate::push::Pusher::new(&this).await {
                Ok(pusher) => break Couriers { mailer, pusher },
                Err(e) => {
                    tracing::warn!(error = %e, "push is not ready yet; retrying");
                    tokio::time::sleep(every.max(Duration::from_secs(1))).await;
                }
            }
        };
        loop {
            if let Err(e) = this.run_outbox(&couriers).await {
                tracing::warn!(error = %e, "outbox round failed");
            }
            tokio::time::sleep(every).await;
        }
    });
}

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
    pub pusher: crate::push::Pusher,
}

/// A user's unread notifications not yet sent through a channel, oldest first.
struct Pending {
    /// (id, conversation_id, kind, text, created_at)
    rows: Vec<(String, String, String, String, i64)>,
}

impl Pending {
    fn ids(&self) -> Vec<String> {
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
                None => return self.skip(&row.id, None).await,
            },
            None => None,
        };
        let (subject, body, outcome) = match (channel, &pending) {
            (Some(Channel::Push), Some(p)) => {
                let payload = self.push_payload(p);
                let urgent = p.rows.iter().any(|r| r.2 != "message");
                let user = row.user_id.as_deref().unwrap_or_default();
                match couriers.pusher.push_to_user(self, user, &payload, urgent).await {
                    crate::push::PushOutcome::Delivered => (String::new(), payload, Ok(())),
                    crate::push::PushOutcome::Nowhere(why) => return self.skip(&row.id, Some(&why)).await,
                    crate::push::PushOutcome::Retry(e) => (String::new(), payload, Err(e)),
                }
            }
            (_, Some(p)) => {
                let (subject, body) = self.email_digest(p);
                let outcome = couriers.mailer.send(&row.to_addr, &row.reply_to, &subject, &body).await;
                (subject, body, outcome)
            }
            (_, None) => {
                let outcome = couriers.mailer.send(&row.to_addr, &row.reply_to, &row.subject, &row.body).await;
                (row.subject.clone(), row.body.clone(), outcome)
            }
        };
        let now = now_ms();
        let settled = match &outcome {
            Ok(()) => {
                let mut tx = self.writer().begin().await?;
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
                tracing::warn!(outbox = %row.id, kind = %row.kind, attempt = row.attempts, give_up, error = %error, "not sent");
                give_up
            }
        };
        if let (Some(conversation_id), Some(seq)) = (&row.conversation_id, row.seq) {
            self.publish_message_update(&row.org_id, conversation_id, seq).await;
        }
        Ok(settled)
    }

    /// Settles a row with nothing to send (nothing new, the user turned the channel off, or no
    /// browser to push to).
    async fn skip(&self, id: &str, why: Option<&str>) -> Result<bool> {
        sqlx::query("UPDATE outbox SET status = 'skipped', lease_until = 0, last_error = $2 WHERE id = $1")
            .bind(id)
            .bind(why)
            .execute(self.writer())
            .await?;
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
                crate::email::utc_time(*at),
                self.config.public_url
            ));
        }
        body.push_str("You get these e-mails because you chose e-mail under the bell's settings in the dashboard.\n");
        (subject, body)
    }

    /// The push payload the dashboard's service worker shows: JSON `{title, body, url, tag}`,
    /// within [`crate::push::MAX_PAYLOAD`] bytes. It opens the newest notification's conversation.
    fn push_payload(&self, p: &Pending) -> String {
        let newest = p.rows.last().expect("pending is never empty");
        let title = match p.rows.len() {
            1 if newest.2 == "request" => "Handoff request".to_string(),
            1 if newest.2 == "email_form" => "New e-mail form".to_string(),
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
        debug_assert!(json.len() <= crate::push::MAX_PAYLOAD);
        json
    }
}
