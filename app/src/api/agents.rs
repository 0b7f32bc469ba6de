//! `agents/*`: AI agents' settings (an *agent* in an endpoint is always an AI agent; human
//! agents are users). Reading needs a signed-in user of the agent's organization (or an admin);
//! changing needs the *settings* permission. Agents of other organizations answer `NotFound`.
//! These functions take JSON bodies.
use crate::error::AppError;
use domain::agent::{AgentDto, AgentUpdate};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// The agents the caller may see.
#[server(name = ListAgents, prefix = "/api", endpoint = "agents/list", input = Json)]
pub async fn list_agents() -> Result<Vec<AgentDto>, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.list_agents(&user).await.map_err(fail)
}

/// Changes an agent's settings; a wrong field answers `Field { field, message }`.
#[server(name = UpdateAgent, prefix = "/api", endpoint = "agents/update", input = Json)]
pub async fn update_agent(agent_id: String, update: AgentUpdate) -> Result<AgentDto, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.update_agent(&user, &agent_id, update).await.map_err(fail)
}
