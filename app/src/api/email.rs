//! The e-mail side of a conversation: agents' e-mail replies to a visitor's "send email" form,
//! their delivery, and the organization's handoff settings (request timeout, reply-to address).
//!
//! The visitor's form itself is a multipart upload (`POST /api/widget/email`, see
//! `server::upload`), not a server function: it carries files and reports upload progress.
use crate::error::AppError;
use domain::wire::{MessageDto, OrgSettings};
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

/// The caller's organization's handoff settings. Auth: any user of the organization.
#[server(name = GetOrgSettings, prefix = "/api", endpoint = "org/settings", input = Json)]
pub async fn get_org_settings() -> Result<OrgSettings, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.org_settings(&user).await.map_err(fail)
}

/// Saves the organization's handoff settings. Auth: the *settings* permission (else
/// `Forbidden`); bad values are `Field` errors (`handoff_timeout_secs`, `reply_to`).
#[server(name = SaveOrgSettings, prefix = "/api", endpoint = "org/save_settings", input = Json)]
pub async fn save_org_settings(settings: OrgSettings) -> Result<OrgSettings, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.save_org_settings(&user, settings).await.map_err(fail)
}
