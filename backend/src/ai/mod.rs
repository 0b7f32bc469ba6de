//! The AI responder seam.
//!
//! [`AiResponder`] is what the chat service calls for a reply. [`Responders`] (the default)
//! dispatches on the agent's configured backend:
//! * [`embedded::EmbeddedResponder`] — offline retrieval over the agent's knowledge base (BM25);
//! * [`openai::OpenAiResponder`] — any server speaking the OpenAI chat-completions API, streaming,
//!   with the retrieved knowledge passages as context.
//!
//! Responders have no side effects: they return text (and may report a growing draft through a
//! [`DraftSink`]); the chat service decides whether the reply is still wanted and stores it.
//! Handoff intent ("talk to a human") is detected by the chat service before any responder runs
//! ([`intent::wants_human`]), so it works the same for every backend.
pub mod embedded;
pub mod intent;
pub mod keys;
pub mod openai;
pub mod retrieval;

use domain::agent::{AiBackendKind, LlmSettings};
use domain::wire::{Author, MessageDto, MessageExtra};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub use embedded::EmbeddedResponder;
pub use openai::OpenAiResponder;

/// The AI agent as a responder sees it: plain settings with their defaults applied (see
/// `crate::ai_agent` for the stored row). The API key is only ever used server-side.
#[derive(Clone, Debug)]
pub struct AiAgent {
    pub id: String,
    pub name: String,
    /// What to say when there is no good answer.
    pub fallback: String,
    /// What to say when the visitor asks for a human.
    pub handoff: String,
    pub handoff_enabled: bool,
    pub backend: AiBackendKind,
    pub llm: LlmSettings,
    /// The stored API key, sealed (see [`crate::secrets`]); [`keys::KeySource`] opens it, or reads
    /// the allowed variable `llm.api_key_env` names.
    pub sealed_api_key: Option<String>,
}

/// What a responder sees.
#[derive(Clone, Debug)]
pub struct AiContext {
    pub conversation_id: String,
    pub agent: AiAgent,
    /// The agent's knowledge base, indexed (shared: built once per change).
    pub knowledge: Arc<retrieval::KnowledgeIndex>,
    /// Recent transcript, oldest first, ending with the visitor's question. Includes what human
    /// agents wrote, so that after "Pass chat to AI" the AI continues from there.
    pub history: Vec<MessageDto>,
}

impl AiContext {
    /// The visitor's latest message; empty when it is a file (a file's name is no question: a
    /// visitor sending `human-resources.pdf` is not asking for a human).
    pub fn question(&self) -> &str {
        match self.latest_from_visitor() {
            Some(m) if !matches!(m.extra, MessageExtra::File { .. }) => m.text.as_str(),
            _ => "",
        }
    }

    /// Whether the visitor's latest message is a file (`domain::chat_files`).
    pub fn file_arrived(&self) -> bool {
        self.latest_from_visitor().is_some_and(|m| matches!(m.extra, MessageExtra::File { .. }))
    }

    fn latest_from_visitor(&self) -> Option<&MessageDto> {
        self.history.iter().rev().find(|m| m.author == Author::Visitor)
    }

    pub fn handoff_enabled(&self) -> bool {
        self.agent.handoff_enabled
    }

    /// The one decision "the visitor wants a human": the agent's handoff text when the visitor's
    /// latest message asks for one ([`intent::wants_human`]) and handoff is enabled.
    pub fn handoff_reply(&self) -> Option<String> {
        (self.handoff_enabled() && intent::wants_human(self.question())).then(|| self.agent.handoff.clone())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AiReply {
    /// Say this to the visitor.
    Say(String),
    /// Say this, then ask for a human (the visitor wants one).
    Handoff(String),
    /// The model failed (unreachable, too slow, refusing): say this, the agent's fallback text.
    Failed(String),
}

pub type ReplyFuture<'a> = Pin<Box<dyn Future<Output = AiReply> + Send + 'a>>;

/// Receives the reply as it grows (the whole text so far), for streaming to the visitor.
pub type DraftSink = Arc<dyn Fn(&str) + Send + Sync>;

/// A pluggable AI backend.
pub trait AiResponder: Send + Sync + 'static {
    fn reply<'a>(&'a self, ctx: &'a AiContext, draft: DraftSink) -> ReplyFuture<'a>;
}

/// The default responder: each agent's configured backend.
pub struct Responders {
    pub embedded: EmbeddedResponder,
    pub openai: OpenAiResponder,
}

impl Responders {
    /// The responders as configured: the language model is reached through the guarded client
    /// (`outbound_allow`) with keys from [`keys::KeySource`].
    pub fn from_config(config: &crate::config::Config) -> crate::error::Result<Self> {
        let outbound = crate::outbound::Outbound::from_config(config)?;
        let keys = keys::KeySource::from_config(config)?;
        let timeout = std::time::Duration::from_millis(config.ai_timeout_ms);
        Ok(Self { embedded: EmbeddedResponder, openai: OpenAiResponder::new(timeout, outbound, keys) })
    }
}

impl AiResponder for Responders {
    fn reply<'a>(&'a self, ctx: &'a AiContext, draft: DraftSink) -> ReplyFuture<'a> {
        match ctx.agent.backend {
            AiBackendKind::Embedded => self.embedded.reply(ctx, draft),
            AiBackendKind::OpenAi => self.openai.reply(ctx, draft),
        }
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    pub fn agent() -> AiAgent {
        AiAgent {
            id: "a".into(),
            name: "Ada".into(),
            fallback: "I'm not sure about that one. Could you rephrase it?".into(),
            handoff: "Getting a human.".into(),
            handoff_enabled: true,
            backend: AiBackendKind::Embedded,
            llm: LlmSettings::default(),
            sealed_api_key: None,
        }
    }

    pub fn message(seq: i64, author: Author, text: &str) -> MessageDto {
        MessageDto {
            conversation_id: "c".into(),
            seq,
            author,
            text: text.into(),
            client_msg_id: None,
            created_at: 0,
            extra: Default::default(),
        }
    }
}
