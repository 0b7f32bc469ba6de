//! `org/*`: the organization's handoff settings (request timeout, reply-to address) and how long
//! it keeps ended conversations (retention), its audit log.
use crate::error::AppError;
use domain::privacy::AuditEntry;
use domain::retention::Retention;
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

/// The caller's organization's retention setting and how many ended conversations are past it.
/// Auth: any user of the organization.
#[server(name = GetRetention, prefix = "/api", endpoint = "org/retention", input = Json)]
pub async fn get_retention() -> Result<Retention, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.retention(&user).await.map_err(fail)
}

/// Saves how many days ended conversations are kept (`None`: forever). Auth: the *settings*
/// permission (else `Forbidden`); a value outside 1–3650 is a `Field` error (`closed_days`).
#[server(name = SaveRetention, prefix = "/api", endpoint = "org/save_retention", input = Json)]
pub async fn save_retention(closed_days: Option<i64>) -> Result<Retention, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.save_retention(&user, closed_days).await.map_err(fail)
}

/// The organization's newest audit entries (visitors' data exported or erased): when, who, what —
/// never the visitor. Auth: the *settings* permission.
#[server(name = GetAuditLog, prefix = "/api", endpoint = "org/audit", input = Json)]
pub async fn get_audit_log() -> Result<Vec<AuditEntry>, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.audit_log(&user).await.map_err(fail)
}
