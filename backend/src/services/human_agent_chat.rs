//! What a human agent does with conversations in the dashboard: list, read, reply, take over,
//! pass back, close.
//!
//! Client users with the *conversations* permission do it in their organization's dashboard;
//! platform admins do it from an AI agent's conversations tab ([`ListScope::AiAgent`]), across
//! organizations, acting in their own name.
use crate::conversation::{Guard, Posted, SummaryRow, SUMMARY_COLS};
use crate::error::{BackendError, Result};
use crate::principal::UserCtx;
use crate::services::transcript::Content;
use crate::services::Backend;
use domain::handoff::{Actor, HandoffEvent, HandoffState};
use domain::values::{ClientMsgId, MessageText};
use domain::wire::{Author, ConversationDetail, ConversationSummary};
use sqlx::AssertSqlSafe;

/// Which conversations a dashboard lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListScope {
    /// The signed-in client user's organization (needs the *conversations* permission).
    MyOrganization,
    /// Every conversation one AI agent answers, whatever its organization (platform admins).
    AiAgent(String),
}

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
    /// The column and value a list in `scope` is filtered by, if the user may see it.
    pub(crate) fn list_filter(user: &UserCtx, scope: &ListScope) -> Result<(&'static str, String)> {
        match scope {
            ListScope::MyOrganization => Ok(("org_id", user.conversations_org()?.to_string())),
            ListScope::AiAgent(agent) => {
                user.require_admin()?;
                Ok(("agent_id", agent.clone()))
            }
        }
    }

    /// The [`LIST_FIRST`] most recently active conversations of `scope`, newest first.
    pub async fn list_conversations(&self, user: &UserCtx, scope: &ListScope) -> Result<Vec<ConversationSummary>> {
        let (column, value) = Self::list_filter(user, scope)?;
        let rows: Vec<SummaryRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {SUMMARY_COLS} FROM conversations WHERE {column} = $1 ORDER BY last_activity DESC LIMIT {LIST_FIRST}"
        )))
        .bind(value)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(SummaryRow::summary).collect()
    }

    /// Every conversation of `scope` whose last change was stamped at `since` (ms) or later,
    /// oldest change first, without a limit: what a dashboard socket that missed live frames must
    /// re-send (every change stamps `last_activity`, a change of its labels `labels_at`).
    pub async fn conversations_changed_since(
        &self,
        user: &UserCtx,
        scope: &ListScope,
        since: i64,
    ) -> Result<Vec<ConversationSummary>> {
        let (column, value) = Self::list_filter(user, scope)?;
        let rows: Vec<SummaryRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {SUMMARY_COLS} FROM conversations WHERE {column} = $1 AND last_activity >= $2 \
             UNION SELECT {SUMMARY_COLS} FROM conversations WHERE {column} = $1 AND labels_at >= $2 \
             ORDER BY last_activity"
        )))
        .bind(value)
        .bind(since)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(SummaryRow::summary).collect()
    }

    /// The organization of a conversation the user may handle: a client user's own (queries
    /// scoped by it find no other organization's conversations), or for a platform admin the
    /// conversation's. Unknown ids: "not found".
    pub(crate) async fn handling_org(&self, user: &UserCtx, conversation_id: &str) -> Result<String> {
        if !user.is_admin() {
            return user.conversations_org().map(str::to_owned);
        }
        let org: Option<(String,)> = sqlx::query_as("SELECT org_id FROM conversations WHERE id = $1")
            .bind(conversation_id)
            .fetch_optional(self.pool())
            .await?;
        org.map(|(o,)| o).ok_or(BackendError::NotFound("conversation"))
    }

    /// The organization an AI agent's conversations tab follows live (`None`: the agent serves no
    /// organization). Platform admins only.
    pub async fn ai_agent_org(&self, user: &UserCtx, agent_id: &str) -> Result<Option<String>> {
        user.require_admin()?;
        let row: Option<(Option<String>,)> = sqlx::query_as("SELECT org_id FROM agents WHERE id = $1")
            .bind(agent_id)
            .fetch_optional(self.pool())
            .await?;
        row.map(|(o,)| o).ok_or(BackendError::NotFound("AI agent"))
    }

    pub async fn conversation_detail(&self, user: &UserCtx, conversation_id: &str) -> Result<ConversationDetail> {
        let org = self.handling_org(user, conversation_id).await?;
        let row = self.summary_row(conversation_id, &org).await?;
        let messages = self.messages_after(conversation_id, 0).await?;
        // The AI agent answering this conversation, named as the visitor sees it; how far the
        // visitor and the human agent holding it have read it (`services::seen`).
        let (ai_name, visitor_seen_seq, human_seen_seq): (String, i64, i64) = sqlx::query_as(
            "SELECT a.name, c.visitor_seen_seq, c.human_seen_seq FROM conversations c JOIN agents a ON a.id = c.agent_id
             WHERE c.id = $1",
        )
        .bind(conversation_id)
        .fetch_one(self.pool())
        .await?;
        let context = self.read_visitor_context(conversation_id, &org).await?;
        let notes = self.notes_of(conversation_id, &org).await?;
        Ok(ConversationDetail {
            summary: row.summary()?,
            messages,
            ai_name,
            context,
            notes,
            visitor_seen_seq,
            human_seen_seq,
        })
    }

    /// Checks that a conversation belongs to the user's organization.
    pub async fn authorize_conversation(&self, user: &UserCtx, conversation_id: &str) -> Result<()> {
        let org = self.handling_org(user, conversation_id).await?;
        self.summary_row(conversation_id, &org).await.map(|_| ())
    }

    pub async fn agent_send(
        &self,
        user: &UserCtx,
        conversation_id: &str,
        client_msg_id: &str,
        text: &str,
    ) -> Result<Posted> {
        let id = ClientMsgId::parse(client_msg_id)?;
        let text = MessageText::parse(text)?;
        self.agent_post(user, conversation_id, &id, Content::Text(text.as_str().to_string())).await
    }

    /// Appends the holder's message or file (published with the bell's notifications once stored).
    pub(crate) async fn agent_post(
        &self,
        user: &UserCtx,
        conversation_id: &str,
        id: &ClientMsgId,
        content: Content,
    ) -> Result<Posted> {
        let org = self.handling_org(user, conversation_id).await?;
        let author = Author::Agent { id: user.id.clone(), name: user.name.clone() };
        let posted =
            self.append_or_replay(conversation_id, &org, &author, Guard::HeldBy(user.id.clone()), id, content).await?;
        Ok(Posted { message: posted.message, duplicate: posted.duplicate })
    }

    pub async fn agent_action(
        &self,
        user: &UserCtx,
        conversation_id: &str,
        action: AgentAction,
    ) -> Result<HandoffState> {
        let org = self.handling_org(user, conversation_id).await?;
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
