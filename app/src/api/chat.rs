//! Conversations: listing, reading, the three handoff buttons, agent messages, visitor sessions.
use crate::error::AppError;
use domain::handoff::HandoffState;
use domain::wire::{ConversationDetail, ConversationSummary, MessageDto, VisitorSession};
use leptos::prelude::*;

/// The caller's organization's conversations, newest activity first.
/// Auth: a signed-in user with the *conversations* permission.
#[server(name = ListConversations, prefix = "/api", endpoint = "conversations/list")]
pub async fn list_conversations() -> Result<Vec<ConversationSummary>, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.list_conversations(&user).await.map_err(fail)
}

/// One conversation with its transcript. `NotFound` for ids of other organizations too.
#[server(name = GetConversation, prefix = "/api", endpoint = "conversations/get")]
pub async fn get_conversation(id: String) -> Result<ConversationDetail, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.conversation_detail(&user, &id).await.map_err(fail)
}

/// "Handle chat": accept a visitor's request for a human. `Conflict` (`already_taken`) names the
/// agent who was faster.
#[server(name = HandleChat, prefix = "/api", endpoint = "handoff/handle")]
pub async fn handle_chat(id: String) -> Result<HandoffState, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.agent_action(&user, &id, backend::chat::AgentAction::HandleChat).await.map_err(fail)
}

/// "Continue chat yourself": take over a conversation the AI is handling.
#[server(name = ContinueChat, prefix = "/api", endpoint = "handoff/continue")]
pub async fn continue_chat(id: String) -> Result<HandoffState, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.agent_action(&user, &id, backend::chat::AgentAction::ContinueChatYourself).await.map_err(fail)
}

/// "Pass chat to AI": give the conversation back; the visitor is told. Only the holder may.
#[server(name = PassChatToAi, prefix = "/api", endpoint = "handoff/pass")]
pub async fn pass_chat_to_ai(id: String) -> Result<HandoffState, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.agent_action(&user, &id, backend::chat::AgentAction::PassChatToAi).await.map_err(fail)
}

/// Closes a conversation.
#[server(name = CloseConversation, prefix = "/api", endpoint = "handoff/close")]
pub async fn close_conversation(id: String) -> Result<HandoffState, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.agent_action(&user, &id, backend::chat::AgentAction::Close).await.map_err(fail)
}

/// An agent's message. Only the agent holding the conversation may send. Resending the same
/// `client_msg_id` returns the stored message and stores nothing.
#[server(name = SendMessage, prefix = "/api", endpoint = "chat/send")]
pub async fn send_message(id: String, client_msg_id: String, text: String) -> Result<MessageDto, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.agent_send(&user, &id, &client_msg_id, &text).await.map(|p| p.message).map_err(fail)
}

/// Starts (or resumes, with the visitor's token) a visitor session on a widget. Public.
#[server(name = StartVisitorSession, prefix = "/api", endpoint = "widget/session")]
pub async fn start_visitor_session(widget_id: String, token: Option<String>) -> Result<VisitorSession, AppError> {
    use super::ssr::*;
    let backend = backend()?;
    let ip = client_ip(&backend).await;
    backend.visitor_session(&widget_id, token.as_deref(), ip).await.map_err(fail)
}
