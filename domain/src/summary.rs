//! A conversation as the dashboard's list shows it: who, in which handoff state, the last text,
//! whether its visitor is chatting now (*active*), and the version that orders two summaries of
//! one conversation. Sent in `ServerFrame::Conversation(s)` (re-exported by [`crate::wire`]).
use crate::handoff::HandoffState;
use serde::{Deserialize, Serialize};

/// A conversation as listed in the dashboard.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationSummary {
    pub id: String,
    pub visitor_name: String,
    pub state: HandoffState,
    /// When the current state began (ms since epoch): "requested a few seconds ago".
    pub state_since: i64,
    pub last_seq: i64,
    /// The newest message a person or the AI wrote (system notices leave it as it was).
    pub last_message: Option<String>,
    pub last_activity: i64,
    /// When the visitor last wrote (0: never): see [`ConversationSummary::is_active`].
    #[serde(default)]
    pub last_visitor_at: i64,
    /// Grows with every change of the conversation (its `last_seq` plus its handoff state's
    /// version): of two summaries of one conversation, the one with the higher version is the
    /// newer. Live summaries can arrive after a newer one was fetched; lists keep the newest.
    #[serde(default)]
    pub version: i64,
    /// The AI agent answering the conversation (the platform admin's per-agent list).
    #[serde(default)]
    pub ai_agent_id: String,
    /// The ids of the organization's labels on it (`crate::labels`), sorted.
    #[serde(default)]
    pub labels: Vec<String>,
}

/// How long after the visitor's last message a conversation counts as *active*.
pub const ACTIVE_FOR_MS: i64 = 5 * 60_000;

impl ConversationSummary {
    /// A visitor is chatting now (wrote within [`ACTIVE_FOR_MS`]), whoever answers them: the
    /// dashboard's `!` and red "a few seconds ago". A closed conversation is never active.
    pub fn is_active(&self, now_ms: i64) -> bool {
        self.last_visitor_at > 0
            && now_ms - self.last_visitor_at < ACTIVE_FOR_MS
            && !matches!(self.state, HandoffState::Closed)
    }

    /// Whether this summary is newer than `row` (the one a list holds, if any).
    pub fn newer_than(&self, row: Option<&ConversationSummary>) -> bool {
        row.is_none_or(|r| self.version > r.version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conversation_is_active_while_its_visitor_wrote_recently() {
        let mut c = ConversationSummary {
            id: "c1".into(),
            visitor_name: "V".into(),
            state: HandoffState::Ai,
            state_since: 0,
            last_seq: 1,
            last_message: None,
            last_activity: 1_000,
            last_visitor_at: 0,
            version: 1,
            ai_agent_id: String::new(),
            labels: Vec::new(),
        };
        assert!(!c.is_active(1_000), "a visitor who never wrote is not chatting");
        c.last_visitor_at = 1_000;
        assert!(c.is_active(1_000));
        assert!(c.is_active(1_000 + ACTIVE_FOR_MS - 1));
        assert!(!c.is_active(1_000 + ACTIVE_FOR_MS), "quiet for the whole window");
        c.state = HandoffState::Closed;
        assert!(!c.is_active(1_000), "closed");
        // "A few minutes", as ARCHITECTURE.md and the dashboard's mark say: five.
        assert_eq!(ACTIVE_FOR_MS, 300_000);
    }

    #[test]
    fn a_summary_is_newer_only_with_a_higher_version() {
        let held = ConversationSummary {
            id: "c1".into(),
            visitor_name: "V".into(),
            state: HandoffState::Ai,
            state_since: 0,
            last_seq: 3,
            last_message: None,
            last_activity: 1,
            last_visitor_at: 0,
            version: 5,
            ai_agent_id: String::new(),
            labels: Vec::new(),
        };
        assert!(held.newer_than(None), "a conversation the list does not hold yet");
        let same = held.clone();
        assert!(!held.newer_than(Some(&same)), "the same version replaces nothing");
        let older = ConversationSummary { version: 4, ..held.clone() };
        assert!(held.newer_than(Some(&older)));
        assert!(!older.newer_than(Some(&held)), "a late summary never takes a row back");
    }
}
