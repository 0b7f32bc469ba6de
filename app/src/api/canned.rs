//! `canned/*`: the organization's canned responses. Reading needs a user of the organization
//! (agents insert them in the composer); creating, changing and deleting need the *settings*
//! permission. Other organizations' ids answer `NotFound`. JSON bodies.
use crate::error::AppError;
use domain::canned::{CannedDto, CannedInput};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// The organization's canned responses, by shortcut.
#[server(name = ListCanned, prefix = "/api", endpoint = "canned/list", input = Json)]
pub async fn list_canned() -> Result<Vec<CannedDto>, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.list_canned(&user).await.map_err(fail)
}

/// Creates (`canned_id: null`) or changes a canned response. Bad fields and a taken shortcut
/// are `Field` errors (`title`, `shortcut`, `text`).
#[server(name = SaveCanned, prefix = "/api", endpoint = "canned/save", input = Json)]
pub async fn save_canned(canned_id: Option<String>, input: CannedInput) -> Result<CannedDto, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.save_canned(&user, canned_id.as_deref(), input).await.map_err(fail)
}

/// Deletes a canned response.
#[server(name = DeleteCanned, prefix = "/api", endpoint = "canned/delete", input = Json)]
pub async fn delete_canned(canned_id: String) -> Result<(), AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.delete_canned(&user, &canned_id).await.map_err(fail)
}
