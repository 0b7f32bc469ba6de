//! `admin/*`: organizations, users and AI agent assignment (the admin pages). Who may call what
//! is decided in `backend::admin`: platform admins everything; client users with the *users*
//! permission their organization's users. Rows of other organizations answer `NotFound`. These
//! functions take JSON bodies.
use crate::error::AppError;
use domain::admin::{AgentEntry, NewUser, OrgDto, UserChange, UserEntry};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// Admins: every organization; client users: their own.
#[server(name = ListOrgs, prefix = "/api", endpoint = "admin/orgs/list", input = Json)]
pub async fn list_orgs() -> Result<Vec<OrgDto>, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.list_orgs(&user).await.map_err(fail)
}

/// Admins only. A taken or bad name answers `Field { field: "name" }`.
#[server(name = CreateOrg, prefix = "/api", endpoint = "admin/orgs/create", input = Json)]
pub async fn create_org(name: String) -> Result<OrgDto, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.create_org(&user, &name).await.map_err(fail)
}

#[server(name = RenameOrg, prefix = "/api", endpoint = "admin/orgs/rename", input = Json)]
pub async fn rename_org(org_id: String, name: String) -> Result<OrgDto, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.rename_org(&user, &org_id, &name).await.map_err(fail)
}

/// Admins: every user, or one organization's (`org_id`); user managers: their organization's.
#[server(name = ListUsers, prefix = "/api", endpoint = "admin/users/list", input = Json)]
pub async fn list_users(org_id: Option<String>) -> Result<Vec<UserEntry>, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.list_users(&user, org_id.as_deref()).await.map_err(fail)
}

/// A duplicate e-mail, a weak password, a bad name answer `Field`.
#[server(name = CreateUser, prefix = "/api", endpoint = "admin/users/create", input = Json)]
pub async fn create_user(user: NewUser) -> Result<UserEntry, AppError> {
    use super::ssr::*;
    let (backend, me) = require_user().await?;
    backend.create_user(&me, user).await.map_err(fail)
}

/// Deactivating (`active: false`) ends the user's sessions and gives the conversations they hold
/// back to the AI.
#[server(name = UpdateUser, prefix = "/api", endpoint = "admin/users/update", input = Json)]
pub async fn update_user(user_id: String, change: UserChange) -> Result<UserEntry, AppError> {
    use super::ssr::*;
    let (backend, me) = require_user().await?;
    backend.update_user(&me, &user_id, change).await.map_err(fail)
}

/// Sets another user's password; all their sessions end.
#[server(name = SetUserPassword, prefix = "/api", endpoint = "admin/users/password", input = Json)]
pub async fn set_user_password(user_id: String, password: String) -> Result<(), AppError> {
    use super::ssr::*;
    let (backend, me) = require_user().await?;
    backend.set_user_password(&me, &user_id, &password).await.map_err(fail)
}

/// Admins only: every AI agent and the organization it serves.
#[server(name = ListAgentEntries, prefix = "/api", endpoint = "admin/agents/list", input = Json)]
pub async fn list_agent_entries() -> Result<Vec<AgentEntry>, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.list_agent_entries(&user).await.map_err(fail)
}

#[server(name = CreateAgent, prefix = "/api", endpoint = "admin/agents/create", input = Json)]
pub async fn create_agent(name: String, org_id: Option<String>) -> Result<AgentEntry, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.create_agent(&user, &name, org_id.as_deref()).await.map_err(fail)
}

/// Assigns an agent to an organization (`None`: unassigns it).
#[server(name = AssignAgent, prefix = "/api", endpoint = "admin/agents/assign", input = Json)]
pub async fn assign_agent(agent_id: String, org_id: Option<String>) -> Result<AgentEntry, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.assign_agent(&user, &agent_id, org_id.as_deref()).await.map_err(fail)
}
