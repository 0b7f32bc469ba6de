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
