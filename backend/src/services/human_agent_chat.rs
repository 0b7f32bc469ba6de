//! What a human agent does with conversations in the dashboard: list, read, reply, take over,
//! pass back, close.
use crate::conversation::{Guard, Posted, SummaryRow, SUMMARY_COLS};
use crate::error::Result;
use crate::principal::UserCtx;
use crate::services::Backend;
use domain::handoff::{Actor, HandoffEvent, HandoffState};
use domain::values::{ClientMsgId, MessageText};
use domain::wire::{Author, ConversationDetail, ConversationSummary};
use sqlx::AssertSqlSafe;

/// What an agent asks of a conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AgentAction {
    HandleChat,
    ContinueChatYourself,
    PassChatToAi,
    Close,
}

/// How many conversations the dashboard's list starts with (the most recently active); the rest
/// join it live as they change.
pub const LIST_FIRST: i64 = 200;

impl Backend {
    /// The organization's [`LIST_FIRST`] most recently active conversations, newest first.
    pub async fn list_conversations(&self, user: &UserCtx) -> Result<Vec<ConversationSummary>> {
        let org = user.conversations_org()?;
        let rows: Vec<SummaryRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {SUMMARY_COLS} FROM conversations WHERE org_id = $1 ORDER BY last_activity DESC LIMIT {LIST_FIRST}"
        )))
        .bind(org)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(SummaryRow::summary).collect()
    }

    /// Every conversation of the organization whose last change was stamped at `since` (ms) or
    /// later, oldest change first, without a limit: what a dashboard socket that missed live
    /// frames must re-send (every change stamps `last_activity`).
    pub async fn conversations_changed_since(&self, user: &UserCtx, since: i64) -> Result<Vec<ConversationSummary>> {
        let org = user.conversations_org()?;
        let rows: Vec<SummaryRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {SUMMARY_COLS} FROM conversations WHERE org_id = $1 AND last_activity >= $2 ORDER BY last_activity"
        )))
        .bind(org)
        .bind(since)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(SummaryRow::summary).collect()
    }

    pub async fn conversation_detail(&self, user: &UserCtx, conversation_id: &str) -> Result<ConversationDetail> {
        let org = user.conversations_org()?;
        let row = self.summary_row(conversation_id, org).await?;
        let messages = self.messages_after(conversation_id, 0).await?;
        // The AI agent answering this conversation, named as the visitor sees it.
        let (ai_name,): (String,) =
            sqlx::query_as("SELECT a.name FROM conversations c JOIN agents a ON a.id = c.agent_id WHERE c.id = $1")
                .bind(conversation_id)
                .fetch_one(self.pool())
                .await?;
        Ok(ConversationDetail { summary: row.summary()?, messages, ai_name })
    }

    /// Checks that a conversation belongs to the user's organization.
    pub async fn authorize_conversation(&self, user: &UserCtx, conversation_id: &str) -> Result<()> {
        let org = user.conversations_org()?;
        self.summary_row(conversation_id, org).await.map(|_| ())
    }

    pub async fn agent_send(
        &self,
        user: &UserCtx,
        conversation_id: &str,
        client_msg_id: &str,
        text: &str,
    ) -> Result<Posted> {
        let org = user.conversations_org()?.to_string();
        let id = ClientMsgId::parse(client_msg_id)?;
        let text = MessageText::parse(text)?;
        let author = Author::Agent { id: user.id.clone(), name: user.name.clone() };
        let posted = self
            .append_or_replay(conversation_id, &org, &author, Guard::HeldBy(user.id.clone()), &id, text.as_str())
            .await?;
        if let (false, Some(row)) = (posted.duplicate, &posted.row) {
            self.after_append(&posted.message, row);
            // In order, before the ack: one visitor's messages update the bell in sequence.
            self.notify_message(&row.org_id, &row.id, &row.visitor_name, &posted.message.text).await;
        }
        Ok(Posted { message: posted.message, duplicate: posted.duplicate })
    }

    pub async fn agent_action(
        &self,
        user: &UserCtx,
        conversation_id: &str,
        action: AgentAction,
    ) -> Result<HandoffState> {
        let org = user.conversations_org()?.to_string();
        let agent = user.agent_ref();
        let event = match action {
            AgentAction::HandleChat => HandoffEvent::HandleChat { agent },
            AgentAction::ContinueChatYourself => HandoffEvent::ContinueChatYourself { agent },
            AgentAction::PassChatToAi => HandoffEvent::PassChatToAi { agent },
            AgentAction::Close => HandoffEvent::Close { by: Actor::Agent { agent } },
        };
        self.handoff(conversation_id, &org, event).await
    }
}
