//! `conversations/*`: the conversation list and one conversation with its transcript, as a
//! signed-in user of the organization sees them (or a platform admin, from an AI agent's
//! conversations tab).
use crate::error::AppError;
use domain::inbox::{ConversationPage, ListCursor, ListFilter, SearchHit};
use domain::wire::{ConversationDetail, ConversationSummary};
use leptos::prelude::*;

/// The caller's organization's conversations, newest activity first.
/// Auth: a signed-in user with the *conversations* permission.
#[server(name = ListConversations, prefix = "/api", endpoint = "conversations/list")]
pub async fn list_conversations() -> Result<Vec<ConversationSummary>, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.list_conversations(&user, &backend::ListScope::MyOrganization).await.map_err(fail)
}

/// Every conversation one AI agent answers, across organizations, newest activity first: the
/// agent's conversations tab. Auth: a platform admin.
#[server(name = ListAiAgentConversations, prefix = "/api", endpoint = "admin/ai-agent-conversations")]
pub async fn list_ai_agent_conversations(ai_agent: String) -> Result<Vec<ConversationSummary>, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.list_conversations(&user, &backend::ListScope::AiAgent(ai_agent)).await.map_err(fail)
}

/// One page of the dashboard's list under `filter` (and with the label `label`, if given),
/// newest activity first, after `after` (`None`: the first page, with every waiting request,
/// whatever the filter, and every filter's count). `ai_agent`: an AI agent's conversations tab
/// (platform admins); `None`: the caller's organization (the *conversations* permission).
#[server(name = ListConversationPage, prefix = "/api", endpoint = "conversations/page")]
pub async fn list_conversation_page(
    filter: ListFilter,
    label: Option<String>,
    after: Option<ListCursor>,
    ai_agent: Option<String>,
) -> Result<ConversationPage, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    let scope = match ai_agent {
        Some(a) => backend::ListScope::AiAgent(a),
        None => backend::ListScope::MyOrganization,
    };
    backend.list_page(&user, &scope, filter, label.as_deref(), after.as_ref()).await.map_err(fail)
}

/// Conversations whose messages (or the e-mail address a visitor left) or visitor name match
/// every word of `q`, newest first, each hit with the matching message's seq and text. `q` is
/// data (quotes, operators and parentheses are only separators). `ai_agent` as for
/// [`list_conversation_page`].
#[server(name = SearchConversations, prefix = "/api", endpoint = "conversations/search")]
pub async fn search_conversations(q: String, ai_agent: Option<String>) -> Result<Vec<SearchHit>, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    let scope = match ai_agent {
        Some(a) => backend::ListScope::AiAgent(a),
        None => backend::ListScope::MyOrganization,
    };
    backend.search_conversations(&user, &scope, &q).await.map_err(fail)
}

/// One conversation with its transcript. `NotFound` for ids of other organizations too.
#[server(name = GetConversation, prefix = "/api", endpoint = "conversations/get")]
pub async fn get_conversation(id: String) -> Result<ConversationDetail, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.conversation_detail(&user, &id).await.map_err(fail)
}

/// What the conversation's widget told about its visitor (the visitor context panel): read again
/// when the socket says it changed. `NotFound` for ids of other organizations too.
#[server(name = GetVisitorContext, prefix = "/api", endpoint = "conversations/context")]
pub async fn get_visitor_context(id: String) -> Result<domain::visitor_context::VisitorContext, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.conversation_visitor_context(&user, &id).await.map_err(fail)
}

/// Writes a private note in a conversation (seen by the organization's users only, never by the
/// visitor). `client_note_id`: the writer's id for it (a retry stores nothing more). Auth: the
/// *conversations* permission (platform admins: any conversation). `NotFound` for ids of other
/// organizations too; a blank or too long text: `Invalid`, nothing stored.
#[server(name = AddNote, prefix = "/api", endpoint = "conversations/note")]
pub async fn add_note(id: String, client_note_id: String, text: String) -> Result<domain::notes::NoteDto, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.add_note(&user, &id, &client_note_id, &text).await.map_err(fail)
}

/// A conversation's private notes, oldest first: read again when the socket says they changed.
/// `NotFound` for ids of other organizations too.
#[server(name = GetNotes, prefix = "/api", endpoint = "conversations/notes")]
pub async fn get_notes(id: String) -> Result<Vec<domain::notes::NoteDto>, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.conversation_notes(&user, &id).await.map_err(fail)
}
