//! `visitor/*`: one visitor's data on request (GDPR) — what erasing them would delete, and the
//! erasure. The export is a zip download served by the server itself at
//! `GET /api/visitor/export?conversation_id=…` (`server::privacy`). Auth: the *settings*
//! permission (else `Forbidden`); another organization's conversation answers `NotFound`.
use crate::error::AppError;
use domain::privacy::ErasureCounts;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// What erasing the visitor of the conversation would delete now (and how many of their
/// conversations are still open, which blocks it).
#[server(name = VisitorErasure, prefix = "/api", endpoint = "visitor/erasure", input = Json)]
pub async fn visitor_erasure(conversation_id: String) -> Result<ErasureCounts, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.erasure_counts(&user, &conversation_id).await.map_err(fail)
}

/// Erases the visitor of the conversation: every conversation of theirs with the organization and
/// the visitor. `confirm` must be true (else a `Validation` error, nothing deleted); refused
/// (`Conflict`) while one of their conversations is open. Answers what was deleted.
#[server(name = EraseVisitor, prefix = "/api", endpoint = "visitor/erase", input = Json)]
pub async fn erase_visitor(conversation_id: String, confirm: bool) -> Result<ErasureCounts, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    if !confirm {
        return Err(AppError::Validation {
            code: "unconfirmed".into(),
            message: "erasing a visitor's data cannot be undone: confirm it".into(),
        });
    }
    backend.erase_visitor(&user, &conversation_id).await.map_err(fail)
}
