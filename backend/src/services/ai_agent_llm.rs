//! What a user may save as an AI agent's language-model settings (issue 20): a base URL the
//! guarded client may reach ([`crate::outbound`]), a key variable the operator allows
//! ([`crate::ai::keys`]), and a stored key that stays with the host it was given for — moving the
//! base URL to another host (or port) drops it unless a new key comes with the change. Keys are
//! stored sealed ([`crate::secrets`]).
use crate::ai::keys::env_name_allowed;
use crate::ai_agent::AgentRow;
use crate::error::{BackendError, Result};
use crate::outbound::destination;
use crate::secrets::LLM_API_KEY;
use crate::services::Backend;
use domain::agent::{AgentUpdate, ApiKeyChange};
use domain::field::FieldError;

fn field(field: &str, message: String) -> BackendError {
    FieldError { field: field.into(), message }.into()
}

impl Backend {
    /// Checks the update's base URL and key variable (field errors name them) and returns the
    /// value to store as the API key (sealed), or None.
    pub(crate) async fn vet_llm_settings(&self, row: &AgentRow, update: &AgentUpdate) -> Result<Option<String>> {
        let url = update.llm.base_url.trim().trim_end_matches('/');
        if !url.is_empty() {
            self.outbound.vet(url).await.map_err(|refused| field("base_url", refused.0))?;
        }
        let env = update.llm.api_key_env.trim();
        if !env.is_empty() && !env_name_allowed(&self.config.ai_key_env_allow, env) {
            let allowed = self.config.ai_key_env_allow.join(", ");
            return Err(field(
                "api_key_env",
                if allowed.is_empty() {
                    "this server does not read API keys from its environment; store the key instead".into()
                } else {
                    format!("this server only reads API keys from the variables {allowed}")
                },
            ));
        }
        let old = destination(&row.llm_base_url);
        let moved = old.is_some() && old != destination(url);
        Ok(match &update.api_key {
            ApiKeyChange::Set(key) => Some(self.secrets.seal(LLM_API_KEY, key.trim())),
            ApiKeyChange::Clear => None,
            ApiKeyChange::Keep if moved => None,
            ApiKeyChange::Keep => row.llm_api_key.clone(),
        })
    }
}
