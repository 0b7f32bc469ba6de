//! `knowledge/*`: an AI agent's knowledge base (entries, file import, answer preview). Same
//! rules as [`super::agents`]: reading needs a user of the agent's organization (or an admin),
//! changing the *settings* permission. JSON bodies.
use crate::error::AppError;
use domain::agent::{KnowledgeEntry, KnowledgeInput};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// The agent's knowledge base entries.
#[server(name = ListKnowledge, prefix = "/api", endpoint = "knowledge/list", input = Json)]
pub async fn list_knowledge(agent_id: String) -> Result<Vec<KnowledgeEntry>, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.list_knowledge(&user, &agent_id).await.map_err(fail)
}

/// Adds an entry (`entry_id: null`) or changes one.
#[server(name = SaveKnowledge, prefix = "/api", endpoint = "knowledge/save", input = Json)]
pub async fn save_knowledge(
    agent_id: String,
    entry_id: Option<String>,
    input: KnowledgeInput,
) -> Result<KnowledgeEntry, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.save_knowledge(&user, &agent_id, entry_id.as_deref(), input).await.map_err(fail)
}

#[server(name = DeleteKnowledge, prefix = "/api", endpoint = "knowledge/delete", input = Json)]
pub async fn delete_knowledge(agent_id: String, entry_id: String) -> Result<(), AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.delete_knowledge(&user, &agent_id, &entry_id).await.map_err(fail)
}

/// Imports a Markdown or plain-text file (its text, read by the browser); returns the new entries.
#[server(name = ImportKnowledge, prefix = "/api", endpoint = "knowledge/import", input = Json)]
pub async fn import_knowledge(
    agent_id: String,
    file_name: String,
    text: String,
) -> Result<Vec<KnowledgeEntry>, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.import_knowledge(&user, &agent_id, &file_name, &text).await.map_err(fail)
}

/// What the embedded responder would answer (the "try it" box). Does not touch conversations.
#[server(name = PreviewAnswer, prefix = "/api", endpoint = "knowledge/preview", input = Json)]
pub async fn preview_answer(agent_id: String, question: String) -> Result<String, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.preview_answer(&user, &agent_id, &question).await.map_err(fail)
}
