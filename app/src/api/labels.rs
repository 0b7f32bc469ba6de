//! `labels/*`: the organization's conversation labels. Reading needs a user of the organization;
//! creating, changing and deleting need the *settings* permission; putting a label on a
//! conversation or taking it off needs the *conversations* permission. Labels and conversations
//! of other organizations answer `NotFound`. JSON bodies.
use crate::error::AppError;
use domain::labels::{LabelDto, LabelInput};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// The organization's labels, by name, each with how many conversations carry it.
#[server(name = ListLabels, prefix = "/api", endpoint = "labels/list", input = Json)]
pub async fn list_labels() -> Result<Vec<LabelDto>, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.list_labels(&user).await.map_err(fail)
}

/// Creates (`label_id: null`) or renames and recolours a label. Bad or taken names are `Field`
/// errors (`name`).
#[server(name = SaveLabel, prefix = "/api", endpoint = "labels/save", input = Json)]
pub async fn save_label(label_id: Option<String>, input: LabelInput) -> Result<LabelDto, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.save_label(&user, label_id.as_deref(), input).await.map_err(fail)
}

/// Deletes a label; it is taken off every conversation.
#[server(name = DeleteLabel, prefix = "/api", endpoint = "labels/delete", input = Json)]
pub async fn delete_label(label_id: String) -> Result<(), AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.delete_label(&user, &label_id).await.map_err(fail)
}

/// Puts a label on a conversation (`on: true`) or takes it off (`on: false`).
#[server(name = LabelConversation, prefix = "/api", endpoint = "labels/conversation", input = Json)]
pub async fn label_conversation(conversation_id: String, label_id: String, on: bool) -> Result<(), AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.label_conversation(&user, &conversation_id, &label_id, on).await.map_err(fail)
}
