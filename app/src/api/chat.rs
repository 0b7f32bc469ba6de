//! `chat/*`: a human agent's message in a conversation they hold.
use crate::error::AppError;
use domain::wire::MessageDto;
use leptos::prelude::*;

/// An agent's message. Only the agent holding the conversation may send. Resending the same
/// `client_msg_id` returns the stored message and stores nothing.
#[server(name = SendMessage, prefix = "/api", endpoint = "chat/send")]
pub async fn send_message(id: String, client_msg_id: String, text: String) -> Result<MessageDto, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.agent_send(&user, &id, &client_msg_id, &text).await.map(|p| p.message).map_err(fail)
}
