//! The offline default responder: answers from the agent's knowledge base by retrieval, answers
//! greetings and thanks, and below a confidence threshold says it is not sure (offering a human
//! when handoff is enabled) instead of guessing.
use super::intent::{small_talk, SmallTalk};
use super::{AiContext, AiReply, AiResponder, DraftSink, ReplyFuture};
use domain::agent::KnowledgeKind;

/// Share of the question's meaningful words a passage must contain to be given as the answer.
pub const MIN_COVERAGE: f32 = 0.5;

#[derive(Default)]
pub struct EmbeddedResponder;

/// The embedded answer for a context (synchronous; used by the responder and by previews).
pub fn answer(ctx: &AiContext) -> String {
    if ctx.file_arrived() {
        return domain::chat_files::FILE_RECEIVED.into();
    }
    let question = ctx.question();
    match small_talk(question) {
        Some(SmallTalk::Greeting) => return "Hello! What can I help you with?".into(),
        Some(SmallTalk::Thanks) => return "You're welcome! Is there anything else I can help with?".into(),
        None => {}
    }
    match ctx.knowledge.search(question, 3).into_iter().next() {
        Some(hit) if hit.coverage >= MIN_COVERAGE => match hit.kind {
            KnowledgeKind::Qa => hit.text,
            KnowledgeKind::Article => format!("{}\n\n(Source: {})", hit.text, hit.title),
        },
        _ => ctx.agent.fallback.clone(),
    }
}

impl AiResponder for EmbeddedResponder {
    fn reply<'a>(&'a self, ctx: &'a AiContext, _draft: DraftSink) -> ReplyFuture<'a> {
        Box::pin(async move { AiReply::Say(answer(ctx)) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ai::test_support::{agent, message};
    use domain::agent::KnowledgeEntry;
    use domain::wire::Author;

    fn ctx(q: &str, handoff: bool) -> AiContext {
        let mut a = agent();
        a.handoff_enabled = handoff;
        let e = |kind, title: &str, body: &str| KnowledgeEntry {
            id: title.into(),
            kind,
            title: title.into(),
            body: body.into(),
            updated_at: 0,
        };
        AiContext {
            conversation_id: "c".into(),
            agent: a,
            knowledge: std::sync::Arc::new(crate::ai::retrieval::KnowledgeIndex::build(&[
                e(KnowledgeKind::Qa, "What are your opening hours?", "We are open 9:00-17:00, Monday to Friday."),
                e(KnowledgeKind::Article, "Returns", "You can return any item within 30 days."),
            ])),
            history: vec![message(1, Author::Ai, "Hi"), message(2, Author::Visitor, q)],
        }
    }

    #[test]
    fn answers_from_knowledge_and_cites_articles() {
        assert_eq!(answer(&ctx("what are the opening hours?", true)), "We are open 9:00-17:00, Monday to Friday.");
        let a = answer(&ctx("can I return an item?", true));
        assert!(a.contains("30 days") && a.ends_with("(Source: Returns)"), "{a}");
    }

    /// A file is acknowledged, never searched for nor taken for a request for a human.
    #[test]
    fn a_file_is_acknowledged_whatever_its_name() {
        let mut c = ctx("ignored", true);
        let file = domain::wire::AttachmentDto {
            id: "f".into(),
            name: "talk-to-a-human-opening-hours.pdf".into(),
            content_type: "application/pdf".into(),
            size: 10,
        };
        c.history[1].text = domain::chat_files::told_to_ai(&Author::Visitor, &file);
        c.history[1].extra = domain::wire::MessageExtra::File { attachment: file };
        assert_eq!(answer(&c), domain::chat_files::FILE_RECEIVED);
        assert_eq!((c.question(), c.handoff_reply()), ("", None));
    }

    #[test]
    fn admits_not_knowing_with_the_fallback_text() {
        let c = ctx("quantum chromodynamics", true);
        assert_eq!(answer(&c), c.agent.fallback);
        assert!(c.agent.fallback.contains("not sure"));
    }

    #[test]
    fn configured_fallback_text_is_used() {
        let mut c = ctx("quantum chromodynamics", true);
        c.agent.fallback = "No idea, sorry!".into();
        assert_eq!(answer(&c), "No idea, sorry!");
    }

    #[test]
    fn greets_and_thanks() {
        assert!(answer(&ctx("hello", true)).starts_with("Hello"));
        assert!(answer(&ctx("thanks!", true)).starts_with("You're welcome"));
    }
}
