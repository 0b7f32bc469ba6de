//! The agent's inbox: the dashboard list's filters ([`ListFilter`]), how many conversations each
//! holds ([`ListCounts`]), and pages of the list ([`ConversationPage`], read on with a
//! [`ListCursor`] — keyset pagination, newest activity first, without a cap).
use crate::handoff::HandoffState;
use crate::summary::ConversationSummary;
use serde::{Deserialize, Serialize};

/// Which conversations the dashboard lists. A waiting request stays on top of every filter that
/// contains it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListFilter {
    /// Waiting for a human.
    Requests,
    /// Held by the signed-in agent.
    Mine,
    /// Answered by the AI.
    WithAi,
    /// Held by any human.
    WithHuman,
    Closed,
    /// Every conversation, closed ones too.
    #[default]
    All,
}

impl ListFilter {
    /// In the order the dashboard shows them.
    pub const EVERY: [ListFilter; 6] = [
        ListFilter::All,
        ListFilter::Requests,
        ListFilter::Mine,
        ListFilter::WithAi,
        ListFilter::WithHuman,
        ListFilter::Closed,
    ];

    /// The name in addresses (`?filter=…`) and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ListFilter::Requests => "requests",
            ListFilter::Mine => "mine",
            ListFilter::WithAi => "with_ai",
            ListFilter::WithHuman => "with_human",
            ListFilter::Closed => "closed",
            ListFilter::All => "all",
        }
    }

    /// The filter named `s`; anything else is `None` (the dashboard then shows *All*).
    pub fn parse(s: &str) -> Option<Self> {
        Self::EVERY.into_iter().find(|f| f.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            ListFilter::Requests => "Requests",
            ListFilter::Mine => "Mine",
            ListFilter::WithAi => "With AI",
            ListFilter::WithHuman => "With a human",
            ListFilter::Closed => "Closed",
            ListFilter::All => "All",
        }
    }

    /// Whether a conversation in `state` belongs to this filter for the agent `me` (user id).
    pub fn contains(self, state: &HandoffState, me: &str) -> bool {
        match (self, state) {
            (ListFilter::All, _) => true,
            (ListFilter::Requests, HandoffState::Requested) => true,
            (ListFilter::Mine, HandoffState::Human { agent }) => agent.id == me,
            (ListFilter::WithAi, HandoffState::Ai) => true,
            (ListFilter::WithHuman, HandoffState::Human { .. }) => true,
            (ListFilter::Closed, HandoffState::Closed) => true,
            _ => false,
        }
    }
}

/// How many conversations each filter holds, for one agent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListCounts {
    pub requests: i64,
    pub mine: i64,
    pub with_ai: i64,
    pub with_human: i64,
    pub closed: i64,
    pub all: i64,
}

impl ListCounts {
    pub fn get(&self, filter: ListFilter) -> i64 {
        match filter {
            ListFilter::Requests => self.requests,
            ListFilter::Mine => self.mine,
            ListFilter::WithAi => self.with_ai,
            ListFilter::WithHuman => self.with_human,
            ListFilter::Closed => self.closed,
            ListFilter::All => self.all,
        }
    }

    /// Counts `n` conversations in `state` (for the agent `me`).
    pub fn add(&mut self, state: &HandoffState, me: &str, n: i64) {
        for f in ListFilter::EVERY {
            if f.contains(state, me) {
                let slot = match f {
                    ListFilter::Requests => &mut self.requests,
                    ListFilter::Mine => &mut self.mine,
                    ListFilter::WithAi => &mut self.with_ai,
                    ListFilter::WithHuman => &mut self.with_human,
                    ListFilter::Closed => &mut self.closed,
                    ListFilter::All => &mut self.all,
                };
                *slot += n;
            }
        }
    }
}

/// Where the next page of a list starts: after this conversation (the list is ordered by last
/// activity, then id, both descending).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListCursor {
    pub last_activity: i64,
    pub id: String,
}

impl ListCursor {
    pub fn after(summary: &ConversationSummary) -> Self {
        Self { last_activity: summary.last_activity, id: summary.id.clone() }
    }
}

/// One page of a filtered list. A first page also holds every waiting request, in any filter
/// (the dashboard rings for them whatever it shows).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationPage {
    pub conversations: Vec<ConversationSummary>,
    /// `None`: this was the last page.
    pub next: Option<ListCursor>,
    /// Every filter's count when the page was read (first pages only; later pages: `None`).
    pub counts: Option<ListCounts>,
}

/// How many conversations a page holds (waiting requests come on top of the first page).
pub const PAGE_SIZE: usize = 50;

/// A conversation found by a search: the message that matched (`seq`, its text cut around the
/// first match), or the visitor's name (`seq`: `None`, `text`: the name).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHit {
    pub summary: ConversationSummary,
    pub seq: Option<i64>,
    pub text: String,
}

/// Most words of a search that count; the rest are ignored.
pub const MAX_SEARCH_TERMS: usize = 8;
/// Longest word of a search (longer ones are cut).
pub const MAX_TERM_CHARS: usize = 64;
/// Most hits a search answers with (newest first).
pub const MAX_HITS: usize = 50;

/// The words of a search, as data: letters and digits only (everything else separates words,
/// so quotes, `*`, parentheses or operators never reach a query language), lower-cased, each
/// once, at most [`MAX_SEARCH_TERMS`] of at most [`MAX_TERM_CHARS`] characters.
pub fn search_terms(query: &str) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    for word in query.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        let word: String = word.chars().take(MAX_TERM_CHARS).flat_map(char::to_lowercase).collect();
        if !terms.contains(&word) {
            terms.push(word);
        }
        if terms.len() == MAX_SEARCH_TERMS {
            break;
        }
    }
    terms
}

/// `text` split into runs, each marked whether it matches one of `terms` (case-insensitive,
/// anywhere in a word): what the dashboard highlights. Joined, the runs are `text` again.
pub fn highlight(text: &str, terms: &[String]) -> Vec<(String, bool)> {
    let lower: Vec<(usize, char)> = text.char_indices().collect();
    let folded: Vec<char> = lower.iter().map(|(_, c)| c.to_lowercase().next().unwrap_or(*c)).collect();
    let mut marked = vec![false; folded.len()];
    for term in terms {
        let t: Vec<char> = term.chars().collect();
        if t.is_empty() || t.len() > folded.len() {
            continue;
        }
        for start in 0..=folded.len() - t.len() {
            if folded[start..start + t.len()] == t[..] {
                marked[start..start + t.len()].iter_mut().for_each(|m| *m = true);
            }
        }
    }
    let mut runs: Vec<(String, bool)> = Vec::new();
    for (i, (_, c)) in lower.iter().enumerate() {
        match runs.last_mut() {
            Some((run, m)) if *m == marked[i] => run.push(*c),
            _ => runs.push((c.to_string(), marked[i])),
        }
    }
    runs
}

/// At most `max` characters of `text` around the first match of `terms` (with "…" where cut).
pub fn snippet(text: &str, terms: &[String], max: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= max {
        return text.to_string();
    }
    let lower = text.to_lowercase();
    let first = terms
        .iter()
        .filter_map(|t| lower.find(t.as_str()))
        .min()
        .map(|byte| lower[..byte].chars().count())
        .unwrap_or(0);
    let start = first.saturating_sub(max / 3).min(chars.len() - max);
    let end = start + max;
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.extend(&chars[start..end]);
    if end < chars.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handoff::AgentRef;

    fn human(id: &str) -> HandoffState {
        HandoffState::Human { agent: AgentRef { id: id.into(), name: id.into() } }
    }

    #[test]
    fn every_state_is_in_the_filters_it_belongs_to() {
        use ListFilter::*;
        let cases = [
            (HandoffState::Ai, vec![All, WithAi]),
            (HandoffState::Requested, vec![All, Requests]),
            (human("me"), vec![All, Mine, WithHuman]),
            (human("ann"), vec![All, WithHuman]),
            (HandoffState::Closed, vec![All, Closed]),
        ];
        for (state, filters) in cases {
            let found: Vec<_> = ListFilter::EVERY.into_iter().filter(|f| f.contains(&state, "me")).collect();
            let mut want = filters.clone();
            want.sort_by_key(|f| ListFilter::EVERY.iter().position(|g| g == f));
            assert_eq!(found, want, "{state:?}");
        }
    }

    #[test]
    fn counts_add_up_per_filter() {
        let mut c = ListCounts::default();
        c.add(&HandoffState::Ai, "me", 3);
        c.add(&HandoffState::Requested, "me", 2);
        c.add(&human("me"), "me", 1);
        c.add(&human("ann"), "me", 4);
        c.add(&HandoffState::Closed, "me", 5);
        assert_eq!(c, ListCounts { requests: 2, mine: 1, with_ai: 3, with_human: 5, closed: 5, all: 15 });
        assert_eq!(c.get(ListFilter::WithHuman), 5);
        assert_eq!(c.get(ListFilter::Mine), 1);
    }

    #[test]
    fn search_text_becomes_plain_words() {
        assert_eq!(search_terms("Where's my \"order\" (NEAR 42)*"), ["where", "s", "my", "order", "near", "42"]);
        assert_eq!(search_terms("ann@example.com"), ["ann", "example", "com"]);
        assert_eq!(search_terms("Zürich ZÜRICH"), ["zürich"]);
        assert!(search_terms("\"*()^:-").is_empty());
        let long = "x".repeat(10_000);
        assert_eq!(search_terms(&long), ["x".repeat(MAX_TERM_CHARS)]);
        let many: String = (0..20).map(|i| format!("w{i} ")).collect();
        assert_eq!(search_terms(&many).len(), MAX_SEARCH_TERMS);
    }

    #[test]
    fn matches_are_marked_and_nothing_is_lost() {
        let terms = search_terms("ship iceland");
        let runs = highlight("Do you SHIP to Iceland? Shipping!", &terms);
        let marked: Vec<&str> = runs.iter().filter(|(_, m)| *m).map(|(r, _)| r.as_str()).collect();
        assert_eq!(marked, ["SHIP", "Iceland", "Ship"]);
        assert_eq!(runs.iter().map(|(r, _)| r.as_str()).collect::<String>(), "Do you SHIP to Iceland? Shipping!");
        assert_eq!(highlight("<b>x</b>", &terms), [("<b>x</b>".to_string(), false)]);
    }

    #[test]
    fn snippets_are_cut_around_the_first_match() {
        let terms = search_terms("needle");
        assert_eq!(snippet("short text", &terms, 20), "short text");
        let text = format!("{}needle{}", "a".repeat(100), "b".repeat(100));
        let s = snippet(&text, &terms, 30);
        assert!(s.contains("needle") && s.starts_with('…') && s.ends_with('…'), "{s}");
        assert_eq!(s.chars().count(), 32);
        let no_match = snippet(&"c".repeat(50), &terms, 10);
        assert_eq!(no_match, format!("{}…", "c".repeat(10)));
    }

    #[test]
    fn filters_have_stable_names() {
        for f in ListFilter::EVERY {
            assert_eq!(ListFilter::parse(f.as_str()), Some(f));
            assert_eq!(serde_json::to_string(&f).unwrap(), format!("\"{}\"", f.as_str()));
        }
        assert_eq!(ListFilter::parse("everything"), None);
        assert_eq!(ListFilter::default(), ListFilter::All);
    }
}
