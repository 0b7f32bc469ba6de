//! `email/*`: human agents' e-mail replies to a visitor's "send email" form, and their
//! delivery. (The visitor's form itself is `widget/email`, see [`super::widget`].)
use crate::error::AppError;
use domain::wire::MessageDto;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// Answers a visitor's e-mail form (`form_seq` is the form message's seq) by e-mail: stores the
/// reply in the thread and queues the mail (delivery status follows as `MessageUpdated`
/// frames). Resending the same `client_msg_id` stores nothing new.
/// Auth: a user of the conversation's organization with the *conversations* permission.
#[server(name = SendEmailReply, prefix = "/api", endpoint = "email/reply", input = Json)]
pub async fn send_email_reply(
    conversation_id: String,
    form_seq: i64,
    client_msg_id: String,
    text: String,
) -> Result<MessageDto, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.email_reply(&user, &conversation_id, form_seq, &client_msg_id, &text).await.map_err(fail)
}

/// Sends a failed e-mail reply again (`seq` is the reply message's seq).
#[server(name = RetryEmail, prefix = "/api", endpoint = "email/retry", input = Json)]
pub async fn retry_email(conversation_id: String, seq: i64) -> Result<(), AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.retry_email(&user, &conversation_id, seq).await.map_err(fail)
}
