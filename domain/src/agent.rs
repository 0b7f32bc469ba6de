//! AI agent settings and knowledge base entries, as the dashboard edits them, with their
//! validation. The API key of an OpenAI-compatible backend is write-only: DTOs only say whether
//! one is set.
use crate::field::FieldError;
use serde::{Deserialize, Serialize};

/// Longest AI agent name (shown in the widget's header; organization, user and widget names
/// have their own limit, [`crate::admin::MAX_NAME`]).
pub const MAX_AI_AGENT_NAME: usize = 80;
/// Longest greeting, fallback and handoff text.
pub const MAX_TEXT: usize = 2000;
/// Longest knowledge base entry title (a question or an article's title).
pub const MAX_TITLE: usize = 200;
/// Longest knowledge base entry body and system prompt.
pub const MAX_BODY: usize = 20_000;
/// Most knowledge base entries per AI agent.
pub const MAX_ENTRIES: usize = 2_000;
/// Largest knowledge base file to import.
pub const MAX_IMPORT_BYTES: usize = 512 * 1024;

/// Which responder answers for an agent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AiBackendKind {
    /// Retrieval over the knowledge base, offline.
    #[default]
    Embedded,
    /// Any server speaking the OpenAI chat-completions API, with the knowledge base as context.
    OpenAi,
}

impl AiBackendKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Embedded => "embedded",
            Self::OpenAi => "openai",
        }
    }
    pub fn parse(s: &str) -> Self {
        if s == "openai" {
            Self::OpenAi
        } else {
            Self::Embedded
        }
    }
}

/// The OpenAI-compatible backend's settings (without the key).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LlmSettings {
    /// e.g. `https://api.openai.com/v1` or `http://127.0.0.1:11434/v1`.
    pub base_url: String,
    pub model: String,
    /// Name of an environment variable of the server holding the API key (used when no key is
    /// stored), e.g. `OPENAI_API_KEY`.
    pub api_key_env: String,
    pub system_prompt: String,
    pub temperature: f32,
    pub max_tokens: u32,
}

impl Default for LlmSettings {
    fn default() -> Self {
        Self {
            base_url: String::new(),
            model: String::new(),
            api_key_env: String::new(),
            system_prompt: String::new(),
            temperature: 0.3,
            max_tokens: 400,
        }
    }
}

/// An AI agent as the dashboard shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentDto {
    pub id: String,
    pub org_id: Option<String>,
    pub name: String,
    pub greeting: String,
    /// Said when the agent does not know the answer.
    pub fallback_text: String,
    /// Said when the agent fetches a human for the visitor.
    pub handoff_text: String,
    pub handoff_enabled: bool,
    pub handoff_fixed: bool,
    pub backend: AiBackendKind,
    pub llm: LlmSettings,
    /// Whether an API key is stored (the key itself is never sent back).
    pub api_key_set: bool,
    /// Whether the caller may change these settings.
    pub editable: bool,
}

/// What to do with the stored API key on update.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiKeyChange {
    #[default]
    Keep,
    Set(String),
    Clear,
}

/// A settings update from the dashboard.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentUpdate {
    pub name: String,
    pub greeting: String,
    pub fallback_text: String,
    pub handoff_text: String,
    pub handoff_enabled: bool,
    pub handoff_fixed: bool,
    pub backend: AiBackendKind,
    pub llm: LlmSettings,
    pub api_key: ApiKeyChange,
}

fn check_text(name: &str, value: &str, max: usize, required: bool) -> Result<(), FieldError> {
    if required && value.trim().is_empty() {
        return Err(FieldError::new(name, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(FieldError::new(name, format!("must be at most {max} characters")));
    }
    Ok(())
}

impl AgentUpdate {
    /// Checks every field; the first problem is returned.
    pub fn validate(&self) -> Result<(), FieldError> {
        check_text("name", &self.name, MAX_AI_AGENT_NAME, true)?;
        check_text("greeting", &self.greeting, MAX_TEXT, true)?;
        // Empty: the built-in text.
        check_text("fallback_text", &self.fallback_text, MAX_TEXT, false)?;
        check_text("handoff_text", &self.handoff_text, MAX_TEXT, false)?;
        check_text("system_prompt", &self.llm.system_prompt, MAX_BODY, false)?;
        check_text("model", &self.llm.model, 200, false)?;
        if !(0.0..=2.0).contains(&self.llm.temperature) || self.llm.temperature.is_nan() {
            return Err(FieldError::new("temperature", "must be between 0 and 2"));
        }
        if !(1..=8192).contains(&self.llm.max_tokens) {
            return Err(FieldError::new("max_tokens", "must be between 1 and 8192"));
        }
        let env = &self.llm.api_key_env;
        if !env.is_empty() && !env.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(FieldError::new("api_key_env", "must be an environment variable name (A-Z, 0-9, _)"));
        }
        if let ApiKeyChange::Set(k) = &self.api_key {
            if k.trim().is_empty() || k.len() > 500 {
                return Err(FieldError::new("api_key", "must be 1 to 500 characters"));
            }
        }
        if self.backend == AiBackendKind::OpenAi {
            let url = self.llm.base_url.trim();
            if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() > 500 {
                return Err(FieldError::new("base_url", "must be an http:// or https:// URL"));
            }
            if self.llm.model.trim().is_empty() {
                return Err(FieldError::new("model", "must not be empty"));
            }
        }
        Ok(())
    }
}

/// Kind of a knowledge base entry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KnowledgeKind {
    /// A question (title) and its answer (body).
    #[default]
    Qa,
    /// A titled free-text article.
    Article,
}

impl KnowledgeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Qa => "qa",
            Self::Article => "article",
        }
    }
    pub fn parse(s: &str) -> Self {
        if s == "article" {
            Self::Article
        } else {
            Self::Qa
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnowledgeEntry {
    pub id: String,
    pub kind: KnowledgeKind,
    pub title: String,
    pub body: String,
    pub updated_at: i64,
}

/// A new or changed knowledge base entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnowledgeInput {
    pub kind: KnowledgeKind,
    pub title: String,
    pub body: String,
}

impl KnowledgeInput {
    pub fn validate(&self) -> Result<(), FieldError> {
        check_text("title", &self.title, MAX_TITLE, true)?;
        check_text("body", &self.body, MAX_BODY, true)
    }
}

/// Parses an imported Markdown or plain-text file into entries:
/// * `Q: …` / `A: …` blocks become Q&A pairs;
/// * Markdown headings (`#`, `##`, …) start articles titled by the heading; a heading ending in
///   `?` whose section is short becomes a Q&A pair;
/// * other blank-line separated paragraphs become articles titled by their first line (or the
///   file name when the file has one paragraph).
pub fn parse_knowledge_file(file_name: &str, text: &str) -> Vec<KnowledgeInput> {
    let text = text.replace("\r\n", "\n");
    let mut out = Vec::new();
    let has_headings = text.lines().any(|l| heading(l).is_some());
    if has_headings {
        let mut title: Option<String> = None;
        let mut body: Vec<&str> = Vec::new();
        let flush = |title: &Option<String>, body: &mut Vec<&str>, out: &mut Vec<KnowledgeInput>| {
            let text = body.join("\n").trim().to_string();
            body.clear();
            // An empty section adds nothing (entries without a body are dropped below).
            match title {
                Some(t) => {
                    let kind = if t.ends_with('?') { KnowledgeKind::Qa } else { KnowledgeKind::Article };
                    out.push(KnowledgeInput { kind, title: t.clone(), body: text });
                }
                None => out.extend(parse_blocks(file_name, &text)),
            }
        };
        for line in text.lines() {
            if let Some(h) = heading(line) {
                flush(&title, &mut body, &mut out);
                title = Some(h.to_string());
            } else {
                body.push(line);
            }
        }
        flush(&title, &mut body, &mut out);
    } else {
        out.extend(parse_blocks(file_name, &text));
    }
    for e in &mut out {
        e.title = truncate(e.title.trim(), MAX_TITLE);
        e.body = truncate(e.body.trim(), MAX_BODY);
    }
    out.retain(|e| !e.title.is_empty() && !e.body.is_empty());
    out
}

fn heading(line: &str) -> Option<&str> {
    let t = line.trim_start();
    let hashes = t.len() - t.trim_start_matches('#').len();
    (1..=6).contains(&hashes).then(|| t[hashes..].trim()).filter(|h| !h.is_empty() && t[hashes..].starts_with(' '))
}

fn parse_blocks(file_name: &str, text: &str) -> Vec<KnowledgeInput> {
    let blocks: Vec<&str> = text.split("\n\n").map(str::trim).filter(|b| !b.is_empty()).collect();
    let single = blocks.len() == 1;
    blocks
        .into_iter()
        .map(|block| {
            let mut question = None;
            let mut answer = Vec::new();
            for line in block.lines() {
                if let Some(q) = line.strip_prefix("Q:") {
                    question = Some(q.trim().to_string());
                } else if let Some(a) = line.strip_prefix("A:") {
                    answer.push(a.trim());
                } else if question.is_some() {
                    answer.push(line.trim());
                }
            }
            match question {
                Some(q) => KnowledgeInput { kind: KnowledgeKind::Qa, title: q, body: answer.join("\n") },
                None if single => {
                    let stem = file_name.rsplit_once('.').map(|(s, _)| s).unwrap_or(file_name);
                    KnowledgeInput { kind: KnowledgeKind::Article, title: stem.to_string(), body: block.to_string() }
                }
                None => {
                    let title = block.lines().next().unwrap_or("").trim().to_string();
                    KnowledgeInput { kind: KnowledgeKind::Article, title, body: block.to_string() }
                }
            }
        })
        .collect()
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update() -> AgentUpdate {
        AgentUpdate {
            name: "Ada".into(),
            greeting: "Hi".into(),
            fallback_text: "Not sure".into(),
            handoff_text: "Getting someone".into(),
            handoff_enabled: true,
            handoff_fixed: false,
            backend: AiBackendKind::Embedded,
            llm: LlmSettings::default(),
            api_key: ApiKeyChange::Keep,
        }
    }

    #[test]
    fn agent_updates_are_validated_field_by_field() {
        assert!(update().validate().is_ok());
        let e = AgentUpdate { name: " ".into(), ..update() }.validate().unwrap_err();
        assert_eq!(e.field, "name");
        let e = AgentUpdate { backend: AiBackendKind::OpenAi, ..update() }.validate().unwrap_err();
        assert_eq!(e.field, "base_url");
        let mut u = AgentUpdate { backend: AiBackendKind::OpenAi, ..update() };
        u.llm.base_url = "http://127.0.0.1:1/v1".into();
        assert_eq!(u.validate().unwrap_err().field, "model");
        u.llm.model = "m".into();
        assert!(u.validate().is_ok());
        u.llm.temperature = 3.0;
        assert_eq!(u.validate().unwrap_err().field, "temperature");
        u.llm.temperature = 0.5;
        u.llm.api_key_env = "NOT OK".into();
        assert_eq!(u.validate().unwrap_err().field, "api_key_env");
    }

    /// The edges of each rule: exactly the limit passes, one past it fails.
    #[test]
    fn agent_update_edges() {
        assert!(AgentUpdate { name: "x".repeat(MAX_AI_AGENT_NAME), ..update() }.validate().is_ok());
        assert!(AgentUpdate { name: "x".repeat(MAX_AI_AGENT_NAME + 1), ..update() }.validate().is_err());
        let mut u = update();
        u.llm.api_key_env = "OPENAI_API_KEY_2".into();
        assert!(u.validate().is_ok(), "an environment variable name");
        for (key, ok) in [("", false), ("  ", false), ("k", true), (&"k".repeat(500), true), (&"k".repeat(501), false)]
        {
            let u = AgentUpdate { api_key: ApiKeyChange::Set(key.to_string()), ..update() };
            assert_eq!(u.validate().is_ok(), ok, "key of {} characters", key.len());
        }
    }

    #[test]
    fn base_url_edges() {
        let mut u = AgentUpdate { backend: AiBackendKind::OpenAi, ..update() };
        u.llm.model = "m".into();
        let base = "https://llm.example/";
        u.llm.base_url = format!("{base}{}", "v".repeat(500 - base.len()));
        assert!(u.validate().is_ok(), "500 characters");
        u.llm.base_url.push('1');
        assert_eq!(u.validate().unwrap_err().field, "base_url", "501 characters");
    }

    #[test]
    fn knowledge_kinds_round_trip_through_their_column_text() {
        assert_eq!((KnowledgeKind::Qa.as_str(), KnowledgeKind::Article.as_str()), ("qa", "article"));
        for k in [KnowledgeKind::Qa, KnowledgeKind::Article] {
            assert_eq!(KnowledgeKind::parse(k.as_str()), k);
        }
    }

    #[test]
    fn backend_kinds_round_trip_through_their_column_text() {
        assert_eq!((AiBackendKind::Embedded.as_str(), AiBackendKind::OpenAi.as_str()), ("embedded", "openai"));
        for k in [AiBackendKind::Embedded, AiBackendKind::OpenAi] {
            assert_eq!(AiBackendKind::parse(k.as_str()), k);
        }
        assert_eq!(AiBackendKind::parse("other"), AiBackendKind::Embedded);
    }

    #[test]
    fn knowledge_input_needs_title_and_body() {
        let ok = KnowledgeInput { kind: KnowledgeKind::Qa, title: "Q?".into(), body: "A.".into() };
        assert!(ok.validate().is_ok());
        assert_eq!(KnowledgeInput { body: "".into(), ..ok.clone() }.validate().unwrap_err().field, "body");
        assert_eq!(KnowledgeInput { title: "x".repeat(201), ..ok }.validate().unwrap_err().field, "title");
    }

    #[test]
    fn imports_markdown_sections_and_qa_blocks() {
        let md = "# Shipping\nWe ship worldwide.\n\nParcels take 3 days.\n\n## Can I pay by invoice?\nYes, for business customers.\n";
        let e = parse_knowledge_file("faq.md", md);
        assert_eq!(e.len(), 2);
        assert_eq!((e[0].kind, e[0].title.as_str()), (KnowledgeKind::Article, "Shipping"));
        assert!(e[0].body.contains("3 days"));
        assert_eq!((e[1].kind, e[1].title.as_str()), (KnowledgeKind::Qa, "Can I pay by invoice?"));

        let txt = "Q: Opening hours?\nA: 9 to 5.\n\nWarranty\nTwo years on everything.";
        let e = parse_knowledge_file("kb.txt", txt);
        assert_eq!(e.len(), 2);
        assert_eq!(
            (e[0].kind, e[0].title.as_str(), e[0].body.as_str()),
            (KnowledgeKind::Qa, "Opening hours?", "9 to 5.")
        );
        assert_eq!((e[1].kind, e[1].title.as_str()), (KnowledgeKind::Article, "Warranty"));

        let e = parse_knowledge_file("returns-policy.txt", "Returns are free within 30 days.");
        assert_eq!(e[0].title, "returns-policy");
        assert!(parse_knowledge_file("empty.md", "\n\n  \n").is_empty());
        let e = parse_knowledge_file("x.md", "#hashtag only\n");
        assert_eq!((e.len(), e[0].title.as_str(), e[0].body.as_str()), (1, "x", "#hashtag only"), "not a heading");

        // Text before the first heading is kept (as its own article).
        let e = parse_knowledge_file("kb.md", "Welcome to our help.\n\n# Returns\nFree within 30 days.\n");
        let titles: Vec<&str> = e.iter().map(|e| e.title.as_str()).collect();
        assert_eq!(titles, ["kb", "Returns"], "{e:?}");

        // A question without an answer, or an answer without a question, is dropped.
        let e = parse_knowledge_file("kb.txt", "Q: Orphan question?\n\nQ:\nA: orphan answer\n\nWarranty\nTwo years.");
        let titles: Vec<&str> = e.iter().map(|e| e.title.as_str()).collect();
        assert_eq!(titles, ["Warranty"], "{e:?}");
        assert_eq!(MAX_IMPORT_BYTES, 512 * 1024, "the import limit the settings page states (512 KB)");
    }
}
