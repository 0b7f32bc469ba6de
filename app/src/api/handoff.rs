//! `handoff/*`: the human agent's handoff buttons (Handle chat, Continue chat yourself, Pass
//! chat to AI, Transfer, Close). The transition itself is decided by `domain::handoff::transition`.
use crate::error::AppError;
use domain::handoff::HandoffState;
use leptos::prelude::*;

/// "Handle chat": accept a visitor's request for a human. `Conflict` (`already_taken`) names the
/// agent who was faster.
#[server(name = HandleChat, prefix = "/api", endpoint = "handoff/handle")]
pub async fn handle_chat(id: String) -> Result<HandoffState, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.agent_action(&user, &id, backend::AgentAction::HandleChat).await.map_err(fail)
}

/// "Continue chat yourself": take over a conversation the AI is handling.
#[server(name = ContinueChat, prefix = "/api", endpoint = "handoff/continue")]
pub async fn continue_chat(id: String) -> Result<HandoffState, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.agent_action(&user, &id, backend::AgentAction::ContinueChatYourself).await.map_err(fail)
}

/// "Pass chat to AI": give the conversation back; the visitor is told. Only the holder may.
#[server(name = PassChatToAi, prefix = "/api", endpoint = "handoff/pass")]
pub async fn pass_chat_to_ai(id: String) -> Result<HandoffState, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.agent_action(&user, &id, backend::AgentAction::PassChatToAi).await.map_err(fail)
}

/// Closes a conversation.
#[server(name = CloseConversation, prefix = "/api", endpoint = "handoff/close")]
pub async fn close_conversation(id: String) -> Result<HandoffState, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.agent_action(&user, &id, backend::AgentAction::Close).await.map_err(fail)
}

/// The colleagues a held conversation could be passed to (the organization's other users who may
/// handle conversations), each said online or not.
#[server(name = TransferColleagues, prefix = "/api", endpoint = "handoff/colleagues")]
pub async fn transfer_colleagues(id: String) -> Result<Vec<domain::transfer::Colleague>, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.transfer_colleagues(&user, &id).await.map_err(fail)
}

/// "Transfer": pass a conversation the caller holds to an online colleague (`to`, a user id),
/// with an optional note kept as a private note; the colleague is rung, the visitor told who
/// took over. A colleague who is offline, deactivated or of another organization is a field
/// error on `to`, and nothing changes.
#[server(name = TransferChat, prefix = "/api", endpoint = "handoff/transfer")]
pub async fn transfer_chat(id: String, to: String, note: String) -> Result<HandoffState, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.transfer(&user, &id, &to, &note).await.map_err(fail)
}
