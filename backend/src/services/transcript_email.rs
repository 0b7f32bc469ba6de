//! Transcripts by e-mail (issue 23; the text is `domain::transcript`): once their conversation
//! has ended, the visitor can ask for its transcript at an e-mail address. The request is one
//! `outbox` row of kind `transcript` (at most one per conversation: asking again answers where
//! the first went), composed from the conversation's messages when the outbox sends it — so it
//! is durable like every e-mail and carries only messages, never private notes.
use crate::error::{BackendError, Result};
use crate::ids::{new_id, now_ms, utc_time};
use crate::services::Backend;
use domain::email::EmailAddress;
use domain::handoff::HandoffState;
use domain::transcript::{transcript_subject, transcript_text};

impl Backend {
    /// The visitor (by token) asks for their ended conversation's transcript at `email`; answers
    /// the address it goes to.
    pub async fn request_transcript(&self, token: &str, email: &str) -> Result<String> {
        let visitor = self.visitor_by_token(token).await?;
        let email = EmailAddress::parse(email)?;
        let (state, _) = self.conversation_state(&visitor.conversation_id, &visitor.org_id).await?;
        if state != HandoffState::Closed {
            return Err(BackendError::Conflict("the transcript can be sent once the conversation has ended".into()));
        }
        let now = now_ms();
        sqlx::query(
            "INSERT INTO outbox (id, org_id, kind, conversation_id, to_addr, reply_to, status, next_attempt_at, created_at)
             SELECT $1, o.id, 'transcript', $2, $3, o.reply_to, 'queued', $4, $4 FROM organizations o WHERE o.id = $5
             ON CONFLICT DO NOTHING",
        )
        .bind(new_id())
        .bind(&visitor.conversation_id)
        .bind(email.as_str())
        .bind(now)
        .bind(&visitor.org_id)
        .execute(self.writer())
        .await?;
        let (to,): (String,) =
            sqlx::query_as("SELECT to_addr FROM outbox WHERE conversation_id = $1 AND kind = 'transcript'")
                .bind(&visitor.conversation_id)
                .fetch_one(self.pool())
                .await?;
        tracing::info!(conversation = %visitor.conversation_id, "transcript requested");
        Ok(to)
    }

    /// The subject and text of a conversation's transcript e-mail, as it is now.
    pub(crate) async fn transcript_mail(&self, conversation_id: &str) -> Result<(String, String)> {
        let (ai_name, org_name): (String, String) = sqlx::query_as(
            "SELECT a.name, o.name FROM conversations c JOIN agents a ON a.id = c.agent_id
             JOIN organizations o ON o.id = c.org_id WHERE c.id = $1",
        )
        .bind(conversation_id)
        .fetch_one(self.pool())
        .await?;
        let mut messages = Vec::new();
        loop {
            let page = self.messages_after(conversation_id, messages.last().map_or(0, |m: &domain::wire::MessageDto| m.seq)).await?;
            let full = page.len() as i64 >= crate::conversation::PAGE;
            messages.extend(page);
            if !full {
                break;
            }
        }
        Ok((transcript_subject(&org_name), transcript_text(&messages, &ai_name, &org_name, utc_time)))
    }
}
