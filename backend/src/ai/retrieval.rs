//! Retrieval over an agent's knowledge base: BM25 ranking (the `bm25` crate, with its
//! stemming, stop-word and Unicode-normalising tokenizer) over passages, plus a confidence figure
//! that BM25 scores alone do not give: the share of the question's meaningful words that the
//! passage contains.
//!
//! Passages: a Q&A pair is one passage (question and answer); an article is split into its
//! paragraphs, each indexed together with the article title, so that a long article yields the
//! paragraph that answers rather than the whole text.
use bm25::{Document, Language, SearchEngine, SearchEngineBuilder, Tokenizer};
use domain::agent::{KnowledgeEntry, KnowledgeKind};
use std::collections::HashSet;

/// A passage found for a question.
#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    pub title: String,
    pub text: String,
    pub kind: KnowledgeKind,
    /// BM25 score (unbounded, for ranking).
    pub score: f32,
    /// Share (0..=1) of the question's meaningful words present in the passage.
    pub coverage: f32,
}

struct Passage {
    title: String,
    text: String,
    kind: KnowledgeKind,
}

fn passages(entries: &[KnowledgeEntry]) -> Vec<Passage> {
    let mut out = Vec::new();
    for e in entries {
        match e.kind {
            KnowledgeKind::Qa => out.push(Passage { title: e.title.clone(), text: e.body.clone(), kind: e.kind }),
            KnowledgeKind::Article => {
                for para in e.body.replace("\r\n", "\n").split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
                    if para == e.title.trim() {
                        continue;
                    }
                    out.push(Passage { title: e.title.clone(), text: para.to_string(), kind: e.kind });
                }
            }
        }
    }
    out
}

fn tokenizer() -> bm25::DefaultTokenizer {
    bm25::DefaultTokenizer::new(Language::English)
}

/// An agent's knowledge base ready to search: its passages and their BM25 index. Building it
/// costs time proportional to the knowledge base (tokenizing and stemming every passage), so it is
/// built once per change of the knowledge base and shared (`crate::services::knowledge_index`).
pub struct KnowledgeIndex {
    passages: Vec<Passage>,
    engine: Option<SearchEngine<u32>>,
}

impl std::fmt::Debug for KnowledgeIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KnowledgeIndex").field("passages", &self.passages.len()).finish()
    }
}

impl Default for KnowledgeIndex {
    fn default() -> Self {
        Self { passages: Vec::new(), engine: None }
    }
}

impl KnowledgeIndex {
    pub fn build(entries: &[KnowledgeEntry]) -> Self {
        let passages = passages(entries);
        if passages.is_empty() {
            return Self { passages, engine: None };
        }
        // The title counts twice: a question that matches an FAQ's question should win.
        let docs = passages
            .iter()
            .enumerate()
            .map(|(i, p)| Document::new(i as u32, format!("{t}\n{t}\n{}", p.text, t = p.title)));
        let engine = SearchEngineBuilder::<u32>::with_tokenizer_and_documents(tokenizer(), docs).build();
        Self { passages, engine: Some(engine) }
    }

    /// The best passages for `question`, best first (at most `limit`).
    pub fn search(&self, question: &str, limit: usize) -> Vec<Hit> {
        let Some(engine) = &self.engine else { return Vec::new() };
        let tok = tokenizer();
        let query: HashSet<String> = tok.tokenize(question).into_iter().collect();
        if query.is_empty() {
            return Vec::new();
        }
        engine
            .search(question, limit)
            .into_iter()
            .filter(|r| r.score > 0.0)
            .map(|r| {
                let p = &self.passages[r.document.id as usize];
                let words: HashSet<String> = tok.tokenize(&r.document.contents).into_iter().collect();
                let coverage = query.iter().filter(|w| words.contains(*w)).count() as f32 / query.len() as f32;
                Hit { title: p.title.clone(), text: p.text.clone(), kind: p.kind, score: r.score, coverage }
            })
            .collect()
    }
}

/// The best passages for `question` in `entries` (builds an index: for one-off searches).
pub fn search(entries: &[KnowledgeEntry], question: &str, limit: usize) -> Vec<Hit> {
    KnowledgeIndex::build(entries).search(question, limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: KnowledgeKind, title: &str, body: &str) -> KnowledgeEntry {
        KnowledgeEntry { id: title.into(), kind, title: title.into(), body: body.into(), updated_at: 0 }
    }

    fn kb() -> Vec<KnowledgeEntry> {
        vec![
            entry(KnowledgeKind::Qa, "What are your opening hours?", "We are open 9:00-17:00, Monday to Friday."),
            entry(KnowledgeKind::Qa, "How much does shipping cost?", "Shipping is free above 50 EUR."),
            entry(
                KnowledgeKind::Article,
                "Returns policy",
                "You can return any item within 30 days.\n\nRefunds are paid to the original payment method within 5 business days.",
            ),
        ]
    }

    #[test]
    fn ranks_by_stemmed_words() {
        let hits = search(&kb(), "when are you opened?", 3);
        assert_eq!(hits[0].title, "What are your opening hours?");
        let hits = search(&kb(), "shipping costs", 3);
        assert_eq!(hits[0].text, "Shipping is free above 50 EUR.");
        assert!(hits[0].coverage >= 0.99, "{hits:?}");
    }

    #[test]
    fn finds_the_paragraph_of_an_article() {
        let hits = search(&kb(), "when do I get my refund?", 3);
        assert_eq!(hits[0].title, "Returns policy");
        assert!(hits[0].text.starts_with("Refunds"), "{hits:?}");
    }

    #[test]
    fn unrelated_questions_have_low_coverage_or_no_hit() {
        let hits = search(&kb(), "quantum chromodynamics lecture", 3);
        assert!(hits.iter().all(|h| h.coverage < 0.5), "{hits:?}");
        assert!(search(&kb(), "the", 3).is_empty());
        assert!(search(&[], "shipping", 3).is_empty());
    }
}
