//! The AI responder seam. [`AiResponder`] is what the chat service calls; [`EmbeddedResponder`]
//! is the default that works offline: it answers from the agent's knowledge text by word
//! overlap, recognises requests for a human, and admits when it does not know.
use domain::wire::{Author, MessageDto};
use std::future::Future;
use std::pin::Pin;

/// What the responder sees.
#[derive(Clone, Debug)]
pub struct AiContext {
    pub agent_name: String,
    /// Knowledge base text: blocks separated by blank lines, either `Q: …` / `A: …` pairs or
    /// free paragraphs (the first line of a paragraph is its title).
    pub knowledge: String,
    pub handoff_enabled: bool,
    /// Recent transcript, oldest first, ending with the visitor's question.
    pub history: Vec<MessageDto>,
}

impl AiContext {
    pub fn question(&self) -> &str {
        self.history.iter().rev().find(|m| m.author == Author::Visitor).map(|m| m.text.as_str()).unwrap_or("")
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AiReply {
    /// Say this to the visitor.
    Say(String),
    /// Say this, then ask for a human (the visitor wants one).
    Handoff(String),
}

pub type ReplyFuture<'a> = Pin<Box<dyn Future<Output = AiReply> + Send + 'a>>;

/// A pluggable AI backend. Implementations must not have side effects: the chat service decides
/// whether the reply is still wanted and stores it.
pub trait AiResponder: Send + Sync + 'static {
    fn reply<'a>(&'a self, ctx: &'a AiContext) -> ReplyFuture<'a>;
}

/// The offline default.
#[derive(Default)]
pub struct EmbeddedResponder;

const HUMAN_PHRASES: &[&str] = &[
    "human",
    "real person",
    "agent please",
    "talk to someone",
    "speak to someone",
    "operator",
    "live agent",
    "mensch",
    "mitarbeiter",
    "humain",
    "conseiller",
    "persona real",
    "humano",
    "agente",
];

const STOPWORDS: &[&str] = &[
    "a", "an", "the", "is", "are", "do", "does", "you", "your", "i", "my", "me", "we", "to", "of", "in", "on", "for",
    "and", "or", "it", "can", "how", "what", "when", "where", "which", "with", "be", "have", "has", "there", "this",
    "that", "any", "please", "hi", "hello",
];

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let w = w.to_lowercase();
            // crude stemming: plural and common suffixes
            let w = w.strip_suffix("ing").filter(|s| s.len() > 3).map(str::to_owned).unwrap_or(w);
            w.strip_suffix('s').filter(|s| s.len() > 2).map(str::to_owned).unwrap_or(w)
        })
        .filter(|w| !STOPWORDS.contains(&w.as_str()))
        .collect()
}

/// One entry of the knowledge base.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Passage {
    pub title: String,
    pub answer: String,
}

pub fn parse_knowledge(text: &str) -> Vec<Passage> {
    text.split("\n\n")
        .filter_map(|block| {
            let block = block.trim();
            if block.is_empty() {
                return None;
            }
            let mut q = None;
            let mut a = Vec::new();
            for line in block.lines() {
                if let Some(rest) = line.strip_prefix("Q:") {
                    q = Some(rest.trim().to_string());
                } else if let Some(rest) = line.strip_prefix("A:") {
                    a.push(rest.trim().to_string());
                } else if q.is_some() {
                    a.push(line.trim().to_string());
                }
            }
            match q {
                Some(title) => Some(Passage { title, answer: a.join(" ") }),
                None => {
                    let title = block.lines().next().unwrap_or("").trim().to_string();
                    Some(Passage { title, answer: block.to_string() })
                }
            }
        })
        .collect()
}

/// Returns the best passage and its score in 0..=1 (share of the question's words it covers).
pub fn best_passage<'a>(question: &str, passages: &'a [Passage]) -> Option<(&'a Passage, f64)> {
    let q = words(question);
    if q.is_empty() {
        return None;
    }
    passages
        .iter()
        .map(|p| {
            let title = words(&p.title);
            let body = words(&p.answer);
            let score = q
                .iter()
                .map(|w| {
                    if title.contains(w) {
                        1.0
                    } else if body.contains(w) {
                        0.6
                    } else {
                        0.0
                    }
                })
                .sum::<f64>()
                / q.len() as f64;
            (p, score)
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

pub fn wants_human(text: &str) -> bool {
    let t = text.to_lowercase();
    HUMAN_PHRASES.iter().any(|p| t.contains(p))
}

impl AiResponder for EmbeddedResponder {
    fn reply<'a>(&'a self, ctx: &'a AiContext) -> ReplyFuture<'a> {
        Box::pin(async move {
            let question = ctx.question();
            if ctx.handoff_enabled && wants_human(question) {
                return AiReply::Handoff("Of course — I'm getting a human for you.".into());
            }
            let passages = parse_knowledge(&ctx.knowledge);
            match best_passage(question, &passages) {
                Some((p, score)) if score >= 0.5 => AiReply::Say(p.answer.clone()),
                _ if ctx.handoff_enabled => AiReply::Say(
                    "I'm not sure about that one. Could you rephrase it — or press \"Talk to a human\" and a person will help you."
                        .into(),
                ),
                _ => AiReply::Say("I'm not sure about that one. Could you rephrase it?".into()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KB: &str = "Q: What are your opening hours?\nA: We are open 9:00-17:00, Monday to Friday.\n\nQ: How much does shipping cost?\nA: Shipping is free above 50 EUR.\n\nReturns\nYou can return any item within 30 days.";

    fn ctx(q: &str) -> AiContext {
        AiContext {
            agent_name: "Ada".into(),
            knowledge: KB.into(),
            handoff_enabled: true,
            history: vec![MessageDto {
                conversation_id: "c".into(),
                seq: 1,
                author: Author::Visitor,
                text: q.into(),
                client_msg_id: None,
                created_at: 0,
            }],
        }
    }

    fn reply(q: &str) -> AiReply {
        futures::executor::block_on(EmbeddedResponder.reply(&ctx(q)))
    }

    #[test]
    fn answers_from_knowledge() {
        assert_eq!(
            reply("what are the opening hours?"),
            AiReply::Say("We are open 9:00-17:00, Monday to Friday.".into())
        );
        assert_eq!(reply("shipping cost"), AiReply::Say("Shipping is free above 50 EUR.".into()));
        assert!(matches!(reply("can I return an item?"), AiReply::Say(s) if s.contains("30 days")));
    }

    #[test]
    fn admits_not_knowing() {
        assert!(matches!(reply("quantum chromodynamics"), AiReply::Say(s) if s.contains("not sure")));
    }

    #[test]
    fn detects_requests_for_a_human_in_several_languages() {
        for q in [
            "I want to talk to a human",
            "real person please",
            "Ich möchte einen Mitarbeiter",
            "un conseiller svp",
            "quiero un humano",
        ] {
            assert!(matches!(reply(q), AiReply::Handoff(_)), "{q}");
        }
    }
}
