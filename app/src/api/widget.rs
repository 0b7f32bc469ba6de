//! `widget/*`: the visitor's side. A visitor session on a widget (public). The visitor's e-mail
//! form is a multipart upload (`POST /api/widget/email`, see `server::upload`), not a server
//! function: it carries files and reports upload progress.
use crate::error::AppError;
use domain::wire::VisitorSession;
use leptos::prelude::*;

/// Starts (or resumes, with the visitor's token) a visitor session on a widget. Public.
#[server(name = StartVisitorSession, prefix = "/api", endpoint = "widget/session")]
pub async fn start_visitor_session(widget_id: String, token: Option<String>) -> Result<VisitorSession, AppError> {
    use super::ssr::*;
    let backend = backend()?;
    let ip = client_ip(&backend).await;
    backend.visitor_session(&widget_id, token.as_deref(), ip).await.map_err(fail)
}

/// The visitor (by their token) asks for the transcript of their ended conversation `id` at
/// `email` (called by the `/widget/{id}` page's script, see `server::widget`): queued in the outbox (once per conversation; asking again answers where the first
/// went). Answers the address. Before the end: a conflict; a bad address: a field error on
/// `email`; someone else's conversation: not found.
#[server(name = RequestTranscript, prefix = "/api", endpoint = "widget/transcript")]
pub async fn request_transcript(token: String, id: String, email: String) -> Result<String, AppError> {
    use super::ssr::*;
    backend()?.request_transcript(&token, &id, &email).await.map_err(fail)
}
