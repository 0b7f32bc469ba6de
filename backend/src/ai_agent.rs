//! The AI agent as stored (`agents` rows): its settings with their defaults, and what the
//! responders see of it ([`crate::ai::AiAgent`]). Not the human agent, who is a user.
use crate::ai::AiAgent;
use domain::agent::{AgentDto, AiBackendKind, LlmSettings};

pub const DEFAULT_FALLBACK: &str = "I'm not sure about that one. Could you rephrase it?";
pub const DEFAULT_FALLBACK_WITH_HANDOFF: &str =
    "I'm not sure about that one. Could you rephrase it — or press \"Talk to a human\" and a person will help you.";
pub const DEFAULT_HANDOFF: &str = "Of course — I'm getting a human for you. Someone will be with you shortly.";

/// The `agents` row of an AI agent; [`AgentRow::ai_agent`] is what responders see of it. The API
/// key is only ever used server-side.
#[derive(sqlx::FromRow, Clone, Debug)]
pub struct AgentRow {
    pub id: String,
    pub org_id: Option<String>,
    pub name: String,
    pub greeting: String,
    pub fallback_text: String,
    pub handoff_text: String,
    pub handoff_enabled: i64,
    pub handoff_fixed: i64,
    pub ai_backend: String,
    pub llm_base_url: String,
    pub llm_model: String,
    pub llm_api_key_env: String,
    pub llm_api_key: Option<String>,
    pub llm_system_prompt: String,
    pub llm_temperature_pct: i64,
    pub llm_max_tokens: i64,
}

pub const AGENT_COLS: &str = "id, org_id, name, greeting, fallback_text, handoff_text, handoff_enabled, handoff_fixed,
    ai_backend, llm_base_url, llm_model, llm_api_key_env, llm_api_key, llm_system_prompt, llm_temperature_pct,
    llm_max_tokens";

impl AgentRow {
    pub fn fallback(&self) -> String {
        match (self.fallback_text.trim().is_empty(), self.handoff_enabled != 0) {
            (false, _) => self.fallback_text.clone(),
            (true, true) => DEFAULT_FALLBACK_WITH_HANDOFF.into(),
            (true, false) => DEFAULT_FALLBACK.into(),
        }
    }

    pub fn handoff(&self) -> String {
        if self.handoff_text.trim().is_empty() {
            DEFAULT_HANDOFF.into()
        } else {
            self.handoff_text.clone()
        }
    }

    pub fn llm(&self) -> LlmSettings {
        LlmSettings {
            base_url: self.llm_base_url.clone(),
            model: self.llm_model.clone(),
            api_key_env: self.llm_api_key_env.clone(),
            system_prompt: self.llm_system_prompt.clone(),
            temperature: self.llm_temperature_pct as f32 / 100.0,
            max_tokens: self.llm_max_tokens.clamp(1, 8192) as u32,
        }
    }

    /// What the responders see of this agent.
    pub fn ai_agent(&self) -> AiAgent {
        AiAgent {
            id: self.id.clone(),
            name: self.name.clone(),
            fallback: self.fallback(),
            handoff: self.handoff(),
            handoff_enabled: self.handoff_enabled != 0,
            backend: AiBackendKind::parse(&self.ai_backend),
            llm: self.llm(),
            sealed_api_key: self.llm_api_key.clone().filter(|k| !k.is_empty()),
        }
    }

    pub(crate) fn dto(&self, editable: bool) -> AgentDto {
        AgentDto {
            id: self.id.clone(),
            org_id: self.org_id.clone(),
            name: self.name.clone(),
            greeting: self.greeting.clone(),
            fallback_text: self.fallback(),
            handoff_text: self.handoff(),
            handoff_enabled: self.handoff_enabled != 0,
            handoff_fixed: self.handoff_fixed != 0,
            backend: AiBackendKind::parse(&self.ai_backend),
            llm: self.llm(),
            api_key_set: self.llm_api_key.as_deref().is_some_and(|k| !k.is_empty()),
            editable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(handoff_enabled: i64) -> AgentRow {
        AgentRow {
            id: "a".into(),
            org_id: Some("o".into()),
            name: "Ada".into(),
            greeting: "Hi".into(),
            fallback_text: String::new(),
            handoff_text: String::new(),
            handoff_enabled,
            handoff_fixed: 0,
            ai_backend: "embedded".into(),
            llm_base_url: String::new(),
            llm_model: String::new(),
            llm_api_key_env: String::new(),
            llm_api_key: None,
            llm_system_prompt: String::new(),
            llm_temperature_pct: 30,
            llm_max_tokens: 400,
        }
    }

    #[test]
    fn default_fallback_offers_a_human_only_when_handoff_is_enabled() {
        let a = row(1).ai_agent().fallback;
        assert!(a.contains("not sure") && a.contains("human"), "{a}");
        let a = row(0).ai_agent().fallback;
        assert!(a.contains("not sure") && !a.contains("human"), "{a}");
        let mut r = row(1);
        r.fallback_text = "No idea, sorry!".into();
        assert_eq!(r.ai_agent().fallback, "No idea, sorry!");
        assert_eq!(row(1).ai_agent().handoff, DEFAULT_HANDOFF);
    }
}
