//! Where a language model's API key comes from: the agent's stored key (sealed at rest, see
//! [`crate::secrets`]), or an environment variable of the server that the operator allows
//! (`ai_key_env_allow`, by default `HANDOFF_AI_KEY_*`). A client user names the variable, so any
//! other name — `DATABASE_URL`, `HANDOFF_SMTP_URL`, … — would hand the server's secrets to
//! whichever host the user chose; such names are refused when saved and ignored when used.
use super::AiAgent;
use crate::secrets::{SecretBox, LLM_API_KEY};
use std::sync::Arc;

/// Never a key source, whatever the allowlist says: the server's own secrets.
const NEVER: [&str; 5] =
    ["HANDOFF_SECRET_KEY", "HANDOFF_NEW_SECRET_KEY", "HANDOFF_ADMIN_PASSWORD", "HANDOFF_SMTP_URL", "DATABASE_URL"];

/// Whether the environment variable `name` may hold an agent's API key: an entry of `allow` is a
/// name, or a prefix ending in `*`.
pub fn env_name_allowed(allow: &[String], name: &str) -> bool {
    !name.is_empty()
        && !NEVER.contains(&name)
        && allow.iter().any(|p| match p.strip_suffix('*') {
            Some(prefix) => name.len() > prefix.len() && name.starts_with(prefix),
            None => p == name,
        })
}

/// Reads agents' API keys at request time.
#[derive(Clone)]
pub struct KeySource {
    secrets: Arc<SecretBox>,
    env_allow: Vec<String>,
}

impl KeySource {
    pub fn new(secrets: Arc<SecretBox>, env_allow: Vec<String>) -> Self {
        Self { secrets, env_allow }
    }

    pub fn from_config(config: &crate::config::Config) -> crate::error::Result<Self> {
        let secrets = SecretBox::load(config).map_err(|e| crate::error::BackendError::Internal(e.to_string()))?;
        Ok(Self::new(Arc::new(secrets), config.ai_key_env_allow.clone()))
    }

    /// The agent's key: the stored one, else the allowed environment variable it names.
    pub fn api_key(&self, agent: &AiAgent) -> Option<String> {
        if let Some(stored) = agent.sealed_api_key.as_deref().filter(|k| !k.is_empty()) {
            return match self.secrets.open(LLM_API_KEY, stored) {
                Ok(key) => Some(key),
                Err(e) => {
                    tracing::error!(agent = %agent.id, error = %e, "the stored API key cannot be read");
                    None
                }
            };
        }
        let name = agent.llm.api_key_env.trim();
        if name.is_empty() {
            return None;
        }
        if !env_name_allowed(&self.env_allow, name) {
            tracing::warn!(agent = %agent.id, variable = name, "API key variable not allowed (ai_key_env_allow)");
            return None;
        }
        std::env::var(name).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_allowed_names() {
        let allow = vec!["HANDOFF_AI_KEY_*".to_string(), "OPENAI_API_KEY".to_string()];
        assert!(env_name_allowed(&allow, "HANDOFF_AI_KEY_SUPPORT"));
        assert!(env_name_allowed(&allow, "OPENAI_API_KEY"));
        for bad in ["HANDOFF_AI_KEY_", "DATABASE_URL", "OPENAI_API_KEY_2", "HOME", ""] {
            assert!(!env_name_allowed(&allow, bad), "{bad}");
        }
        assert!(!env_name_allowed(&["HANDOFF_*".into()], "HANDOFF_SECRET_KEY"));
    }
}
