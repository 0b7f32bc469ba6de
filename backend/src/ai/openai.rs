//! A responder for any server that speaks the OpenAI chat-completions API (OpenAI, llama.cpp,
//! Ollama, vLLM, …).
//!
//! * Retrieval-augmented: the knowledge base passages that match the question go into the system
//!   prompt; recent history follows within a character budget (≈ 4 characters a token).
//! * Human agents' messages are part of the history (marked with their name), so after "Pass
//!   chat to AI" the model continues from where the human left off.
//! * Streams (`stream: true`, server-sent events); every delta is reported to the [`DraftSink`].
//!   A server that answers with a plain JSON completion works too.
//! * Any failure — timeout, connection error, HTTP error (429, 5xx, …), malformed stream, empty
//!   answer — is logged with context and answered with the agent's fallback text, which offers a
//!   human when handoff is enabled. Nothing waits longer than the configured timeout.
use super::{AiContext, AiReply, AiResponder, DraftSink, ReplyFuture};
use domain::values::MAX_MESSAGE_BYTES;
use domain::wire::Author;
use futures::StreamExt;
use serde_json::{json, Value};
use std::time::Duration;

/// History sent along, in characters (≈ 3000 tokens).
pub const HISTORY_BUDGET_CHARS: usize = 12_000;
/// Knowledge passages sent along, and the length of each.
const PASSAGES: usize = 4;
const PASSAGE_CHARS: usize = 1_500;

pub struct OpenAiResponder {
    http: crate::outbound::Outbound,
    keys: super::keys::KeySource,
    timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("no base URL or model configured")]
    NotConfigured,
    #[error("refused destination: {0}")]
    Refused(#[from] crate::outbound::Refused),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("could not reach the server: {0}")]
    Transport(String),
    #[error("HTTP {status}: {body}")]
    Http { status: u16, body: String },
    #[error("unexpected answer: {0}")]
    Protocol(String),
    #[error("the answer was empty")]
    Empty,
}

impl OpenAiResponder {
    pub fn new(timeout: Duration, http: crate::outbound::Outbound, keys: super::keys::KeySource) -> Self {
        Self { http, keys, timeout }
    }

    /// Asks the model; reports the growing text to `draft`.
    pub async fn complete(&self, ctx: &AiContext, draft: &DraftSink) -> Result<String, LlmError> {
        let llm = &ctx.agent.llm;
        if llm.base_url.is_empty() || llm.model.is_empty() {
            return Err(LlmError::NotConfigured);
        }
        let url = format!("{}/chat/completions", llm.base_url.trim_end_matches('/'));
        let deadline = tokio::time::Instant::now() + self.timeout;
        let timeout = || LlmError::Timeout(self.timeout);
        let mut req =
            self.http.post(&url)?.header("content-type", "application/json").body(request_body(ctx).to_string());
        if let Some(key) = self.keys.api_key(&ctx.agent) {
            req = req.bearer_auth(key);
        }
        let res = tokio::time::timeout_at(deadline, req.send())
            .await
            .map_err(|_| timeout())?
            .map_err(|e| LlmError::Transport(e.to_string()))?;
        let status = res.status();
        if !status.is_success() {
            let body =
                tokio::time::timeout_at(deadline, res.text()).await.ok().and_then(Result::ok).unwrap_or_default();
            return Err(LlmError::Http { status: status.as_u16(), body: body.chars().take(300).collect() });
        }
        let is_json = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if is_json {
            let body = tokio::time::timeout_at(deadline, res.text())
                .await
                .map_err(|_| timeout())?
                .map_err(|e| LlmError::Transport(e.to_string()))?;
            let v: Value = serde_json::from_str(&body).map_err(|e| LlmError::Protocol(e.to_string()))?;
            let text = v["choices"][0]["message"]["content"]
                .as_str()
                .ok_or_else(|| LlmError::Protocol("no choices[0].message.content".into()))?;
            return non_empty(text.to_string());
        }
        let mut stream = res.bytes_stream();
        let mut events = SseLines::default();
        let mut text = String::new();
        loop {
            let chunk = match tokio::time::timeout_at(deadline, stream.next()).await.map_err(|_| timeout())? {
                None => break,
                Some(Err(e)) => return Err(LlmError::Transport(e.to_string())),
                Some(Ok(bytes)) => bytes,
            };
            for data in events.push(&chunk) {
                if data == "[DONE]" {
                    return non_empty(text);
                }
                let v: Value = serde_json::from_str(&data).map_err(|e| LlmError::Protocol(e.to_string()))?;
                if let Some(err) = v.get("error") {
                    return Err(LlmError::Protocol(err.to_string().chars().take(300).collect()));
                }
                if let Some(delta) = v["choices"][0]["delta"]["content"].as_str() {
                    if !delta.is_empty() && text.len() < MAX_MESSAGE_BYTES {
                        text.push_str(delta);
                        draft(&text);
                    }
                }
            }
        }
        non_empty(text)
    }
}

fn non_empty(text: String) -> Result<String, LlmError> {
    let t = text.trim();
    if t.is_empty() {
        Err(LlmError::Empty)
    } else {
        Ok(truncate_bytes(t, MAX_MESSAGE_BYTES).to_string())
    }
}

fn truncate_bytes(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Splits a server-sent-event byte stream into `data:` payloads.
#[derive(Default)]
struct SseLines {
    buf: Vec<u8>,
}

impl SseLines {
    fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Some(pos) = self.buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.buf.drain(..=pos).collect();
            let line = String::from_utf8_lossy(&line);
            if let Some(data) = line.trim_end().strip_prefix("data:") {
                out.push(data.trim().to_string());
            }
        }
        out
    }
}

/// The chat-completions request for a context.
pub fn request_body(ctx: &AiContext) -> Value {
    let agent = &ctx.agent;
    let llm = &agent.llm;
    let mut system = if llm.system_prompt.trim().is_empty() {
        format!(
            "You are {name}, a friendly customer support assistant on a website chat. Answer briefly and only \
             from the knowledge base excerpts below and the conversation. If they do not contain the answer, \
             say that you are not sure{offer}; never invent facts.",
            name = agent.name,
            offer = if ctx.handoff_enabled() { " and offer to connect the visitor with a human colleague" } else { "" }
        )
    } else {
        llm.system_prompt.clone()
    };
    let hits = ctx.knowledge.search(ctx.question(), PASSAGES);
    if !hits.is_empty() {
        system.push_str("\n\nKnowledge base excerpts (cite the title when you use one):");
        for h in hits {
            let text: String = h.text.chars().take(PASSAGE_CHARS).collect();
            system.push_str(&format!("\n\n### {}\n{}", h.title, text));
        }
    }
    if ctx.history.iter().any(|m| matches!(m.author, Author::Agent { .. })) {
        system.push_str(
            "\n\nParts of this conversation were handled by human colleagues; their messages start with \
             [Name, human agent]. Continue from where they left off and do not contradict them.",
        );
    }
    let mut messages = Vec::new();
    let mut used = 0;
    for m in ctx.history.iter().rev() {
        let (role, content) = match &m.author {
            Author::Visitor => ("user", m.text.clone()),
            Author::Ai => ("assistant", m.text.clone()),
            Author::Agent { name, .. } => ("assistant", format!("[{name}, human agent] {}", m.text)),
            Author::System => continue,
        };
        used += content.len();
        if used > HISTORY_BUDGET_CHARS && !messages.is_empty() {
            break;
        }
        messages.push(json!({ "role": role, "content": content }));
    }
    messages.push(json!({ "role": "system", "content": system }));
    messages.reverse();
    json!({
        "model": llm.model,
        "messages": messages,
        "stream": true,
        "temperature": llm.temperature,
        "max_tokens": llm.max_tokens,
    })
}

impl AiResponder for OpenAiResponder {
    fn reply<'a>(&'a self, ctx: &'a AiContext, draft: DraftSink) -> ReplyFuture<'a> {
        Box::pin(async move {
            match self.complete(ctx, &draft).await {
                Ok(text) => AiReply::Say(text),
                Err(e) => {
                    tracing::warn!(
                        conversation = %ctx.conversation_id,
                        agent = %ctx.agent.id,
                        base_url = %ctx.agent.llm.base_url,
                        model = %ctx.agent.llm.model,
                        error = %e,
                        "LLM request failed; answering with the fallback text"
                    );
                    AiReply::Failed(ctx.agent.fallback.clone())
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ai::test_support::{agent, message};
    use domain::agent::{KnowledgeEntry, KnowledgeKind};

    #[test]
    fn sse_lines_survive_arbitrary_chunking() {
        let mut s = SseLines::default();
        let mut out = s.push(b"data: {\"a\"");
        assert!(out.is_empty());
        out.extend(s.push(b":1}\n\nda"));
        out.extend(s.push(b"ta: [DONE]\n"));
        assert_eq!(out, vec!["{\"a\":1}".to_string(), "[DONE]".to_string()]);
    }

    #[test]
    fn request_has_knowledge_context_and_marked_human_history() {
        let mut a = agent();
        a.llm.model = "m".into();
        let ctx = AiContext {
            conversation_id: "c".into(),
            agent: a,
            knowledge: std::sync::Arc::new(crate::ai::retrieval::KnowledgeIndex::build(&[KnowledgeEntry {
                id: "1".into(),
                kind: KnowledgeKind::Qa,
                title: "How much does shipping cost?".into(),
                body: "Free above 50 EUR.".into(),
                updated_at: 0,
            }])),
            history: vec![
                message(1, Author::Visitor, "hello"),
                message(2, Author::Agent { id: "u".into(), name: "Ann".into() }, "I sent the parcel today."),
                message(3, Author::System, "Ann passed the chat back to the AI."),
                message(4, Author::Visitor, "what does shipping cost?"),
            ],
        };
        let body = request_body(&ctx);
        assert_eq!(body["model"], "m");
        assert_eq!(body["stream"], true);
        let msgs = body["messages"].as_array().unwrap();
        assert_eq!(msgs[0]["role"], "system");
        let system = msgs[0]["content"].as_str().unwrap();
        assert!(system.contains("Free above 50 EUR.") && system.contains("human colleague"), "{system}");
        let roles: Vec<&str> = msgs.iter().map(|m| m["role"].as_str().unwrap()).collect();
        assert_eq!(roles, ["system", "user", "assistant", "user"]);
        assert_eq!(msgs[2]["content"], "[Ann, human agent] I sent the parcel today.");
    }

    #[test]
    fn history_is_cut_to_the_budget_keeping_the_newest() {
        let mut history: Vec<_> =
            (1..=40).map(|i| message(i, Author::Visitor, &format!("{i} {}", "x".repeat(1000)))).collect();
        history.push(message(41, Author::Visitor, "latest"));
        let ctx = AiContext { conversation_id: "c".into(), agent: agent(), knowledge: Default::default(), history };
        let body = request_body(&ctx);
        let msgs = body["messages"].as_array().unwrap();
        assert!(msgs.len() < 20, "{}", msgs.len());
        assert_eq!(msgs.last().unwrap()["content"], "latest");
    }

    #[test]
    fn long_answers_are_cut_at_a_character_boundary() {
        let s = "é".repeat(MAX_MESSAGE_BYTES);
        let t = non_empty(s).unwrap();
        assert!(t.len() <= MAX_MESSAGE_BYTES && t.chars().all(|c| c == 'é'));
        assert!(matches!(non_empty("  ".into()), Err(LlmError::Empty)));
    }
}
