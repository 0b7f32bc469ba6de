//! Transcripts by e-mail (issue 23; the text is `domain::transcript`): once their conversation
//! has ended, the visitor can ask for its transcript at an e-mail address. The request is one
//! `outbox` row of kind `transcript` (at most one queued or sent per conversation: asking again
//! answers where the first went; after a failed one, it can be asked for again), composed from
//! the conversation's messages when the outbox sends it — so it is durable like every e-mail and
//! carries only messages, never private notes. Only the visitor's own ended conversation; at
//! most [`MAX_TRANSCRIPTS_PER_HOUR`] per organization.
use crate::error::{BackendError, Result};
use crate::ids::{new_id, now_ms, utc_time};
use crate::services::Backend;
use domain::email::EmailAddress;
use domain::handoff::HandoffState;
use domain::transcript::{transcript_subject, transcript_text};

/// Most transcripts an organization sends in an hour (visitors choose the address: a cap on
/// what a flood of closed chats could send).
pub const MAX_TRANSCRIPTS_PER_HOUR: i64 = 100;
const HOUR_MS: i64 = 3_600_000;

impl Backend {
    /// The visitor (by token) asks for the transcript of their conversation `conversation_id`
    /// (the one their widget shows, which must have ended) at `email`; answers the address it
    /// goes to.
    pub async fn request_transcript(&self, token: &str, conversation_id: &str, email: &str) -> Result<String> {
        let visitor = self.visitor_by_token(token).await?;
        let email = EmailAddress::parse(email)?;
        // The visitor's own conversation (an earlier one too: a new page may have started the next).
        let org: Option<(String,)> =
            sqlx::query_as("SELECT org_id FROM conversations WHERE id = $1 AND visitor_id = $2")
                .bind(conversation_id)
                .bind(&visitor.visitor_id)
                .fetch_optional(self.pool())
                .await?;
        let Some((org,)) = org else { return Err(BackendError::NotFound("conversation")) };
        let (state, _) = self.conversation_state(conversation_id, &org).await?;
        if state != HandoffState::Closed {
            return Err(BackendError::Conflict("the transcript can be sent once the conversation has ended".into()));
        }
        let now = now_ms();
        // Counted across processes: the organization's transcripts of the last hour.
        let (recent,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE org_id = $1 AND kind = 'transcript' AND created_at > $2")
                .bind(&org)
                .bind(now - HOUR_MS)
                .fetch_one(self.pool())
                .await?;
        if recent >= MAX_TRANSCRIPTS_PER_HOUR {
            return Err(BackendError::RateLimited(
                "many transcripts were asked for just now; please try again later".into(),
            ));
        }
        sqlx::query(
            "INSERT INTO outbox (id, org_id, kind, conversation_id, to_addr, reply_to, status, next_attempt_at, created_at)
             SELECT $1, o.id, 'transcript', $2, $3, o.reply_to, 'queued', $4, $4 FROM organizations o WHERE o.id = $5
             ON CONFLICT DO NOTHING",
        )
        .bind(new_id())
        .bind(conversation_id)
        .bind(email.as_str())
        .bind(now)
        .bind(&org)
        .execute(self.writer())
        .await?;
        // The newest: this one, or the one queued or sent before (which may have just failed).
        let (to,): (String,) = sqlx::query_as(
            "SELECT to_addr FROM outbox WHERE conversation_id = $1 AND kind = 'transcript' ORDER BY created_at DESC, id LIMIT 1",
        )
        .bind(conversation_id)
        .fetch_one(self.pool())
        .await?;
        tracing::info!(conversation = %conversation_id, "transcript requested");
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
        let messages = self.all_messages(conversation_id).await?;
        Ok((transcript_subject(&org_name), transcript_text(&messages, &ai_name, &org_name, utc_time)))
    }
}
