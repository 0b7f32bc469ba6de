//! Sending one e-mail as configured (`smtp_url`, `mail_from`): lettre over SMTP, or `.eml`
//! files in a directory for development. The outbox (`store::outbox`, `services::outbox`)
//! decides what to send and when.
use crate::config::Config;
use crate::error::{BackendError, Result};
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

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
