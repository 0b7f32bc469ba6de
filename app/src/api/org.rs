//! `org/*`: the organization's handoff settings (request timeout, reply-to address).
use crate::error::AppError;
use domain::wire::OrgSettings;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

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
