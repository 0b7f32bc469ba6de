//! The conversation list of one dashboard socket (`/ws/agent`): which summaries it sends, and
//! when.
//!
//! * **Newest only, in order.** Summaries are published by whichever request committed the
//!   change, after the commit; two requests of one group commit (or of two processes) can publish
//!   in either order. Each summary carries a `version` that grows with every change of its
//!   conversation; the socket drops a summary unless it is newer than the one it sent or holds.
//! * **Coalesced.** Changed conversations are collected by id (the newest summary of each) and
//!   sent together in one `Conversations` frame, at most one per [`FLUSH_EVERY`]; the first change
//!   after a quiet spell goes out at once. So a socket's list frames do not grow with the
//!   organization's messages, only with the conversations that changed.
//! * **Urgent changes at once.** A change of handoff state (a request, a claim, a pass back, a
//!   close) — or a conversation this socket has not sent yet arriving in any state but `ai` — is
//!   flushed immediately with everything pending: requests ring and claims silence the ring
//!   without waiting. Such changes are rare next to messages.
//! * **Counts follow.** A flush that showed a conversation this socket had not sent, or changed a
//!   conversation's state, asks for the filters' counts to be read again and sent
//!   ([`DashboardList::take_recount`]): messages alone change no count. At most one read per
//!   [`RECOUNT_EVERY`]: the first at once, those asked meanwhile together at the end of it (the
//!   final counts are never skipped) — a busy organization's state changes would otherwise cost
//!   every socket one count query each.
//! * **Nothing lost.** A socket that lagged behind its live frames re-reads every conversation
//!   changed since it opened (less [`STAMP_MARGIN_MS`]) and sends those it has not sent in that
//!   version (`Backend::conversations_changed_since`).
use domain::handoff::StateKind;
use domain::wire::{ConversationSummary, ServerFrame};
use std::collections::HashMap;
use std::time::Duration;
use tokio::time::Instant;

/// Least time between two list frames of one socket, urgent changes aside.
pub const FLUSH_EVERY: Duration = Duration::from_millis(250);

/// Least time between two reads of the filters' counts for one socket.
pub const RECOUNT_EVERY: Duration = Duration::from_secs(1);

/// Most rows in one `Conversations` frame (about 300 bytes each).
pub const ROWS_PER_FRAME: usize = 100;

/// A change is stamped (`last_activity`) when its transaction starts and published after it
/// commits; a resync reads this much further back than the socket's opening, so that a change
/// stamped just before and committed after it is not missed.
pub const STAMP_MARGIN_MS: i64 = 60_000;

#[derive(Debug)]
pub struct DashboardList {
    /// Per conversation: the version and state kind this socket sent last.
    sent: HashMap<String, (i64, StateKind)>,
    /// Changed conversations not sent yet, each in its newest summary.
    pending: HashMap<String, ConversationSummary>,
    urgent: bool,
    /// A flushed change may have changed the filters' counts.
    recount: bool,
    last_recount: Option<Instant>,
    last_flush: Option<Instant>,
    /// Resyncs read changes stamped from here on (ms since epoch).
    since: i64,
}

impl DashboardList {
    /// The list of a socket opened at `opened_ms` (after it subscribed to live frames).
    pub fn new(opened_ms: i64) -> Self {
        Self {
            sent: HashMap::new(),
            pending: HashMap::new(),
            urgent: false,
            recount: false,
            last_recount: None,
            last_flush: None,
            since: opened_ms - STAMP_MARGIN_MS,
        }
    }

    /// Where a resync starts reading (ms since epoch).
    pub fn since(&self) -> i64 {
        self.since
    }

    /// Takes a summary, unless this socket has sent or holds it or a newer one.
    pub fn note(&mut self, summary: ConversationSummary) {
        let sent = self.sent.get(&summary.id);
        let held = self.pending.get(&summary.id).map(|p| p.version).or(sent.map(|s| s.0));
        if held.is_some_and(|v| v >= summary.version) {
            return;
        }
        let kind = summary.state.kind();
        match sent {
            Some((_, was)) if *was != kind => self.urgent = true,
            None if kind != StateKind::Ai => self.urgent = true,
            _ => {}
        }
        self.pending.insert(summary.id.clone(), summary);
    }

    /// Sends everything pending at the next flush, without waiting (after a resync).
    pub fn hurry(&mut self) {
        self.urgent = true;
    }

    /// When the pending changes are due; `None` while nothing is pending.
    pub fn due(&self) -> Option<Instant> {
        if self.pending.is_empty() {
            return None;
        }
        match self.last_flush {
            Some(last) if !self.urgent => Some(last + FLUSH_EVERY),
            _ => Some(Instant::now()),
        }
    }

    /// The frames carrying every pending change (none if nothing is pending), recorded as sent.
    pub fn flush(&mut self) -> Vec<ServerFrame> {
        if self.pending.is_empty() {
            return Vec::new();
        }
        let mut rows: Vec<ConversationSummary> = self.pending.drain().map(|(_, s)| s).collect();
        rows.sort_by_key(|s| s.last_activity);
        for s in &rows {
            let kind = s.state.kind();
            if let Some((_, was)) = self.sent.insert(s.id.clone(), (s.version, kind)) {
                self.recount |= was != kind;
            } else {
                self.recount = true;
            }
        }
        self.urgent = false;
        self.last_flush = Some(Instant::now());
        rows.chunks(ROWS_PER_FRAME).map(|c| ServerFrame::Conversations { summaries: c.to_vec() }).collect()
    }
}

impl DashboardList {
    /// When the filters' counts are due to be read again; `None` while no flush asked for it.
    pub fn recount_due(&self) -> Option<Instant> {
        if !self.recount {
            return None;
        }
        match self.last_recount {
            Some(last) => Some(last + RECOUNT_EVERY),
            None => Some(Instant::now()),
        }
    }

    /// Whether the filters' counts are to be read and sent now (a flush asked for it and the
    /// last read is [`RECOUNT_EVERY`] old); resets the question when it answers yes.
    pub fn take_recount(&mut self) -> bool {
        if self.recount_due().is_some_and(|due| due <= Instant::now()) {
            self.recount = false;
            self.last_recount = Some(Instant::now());
            return true;
        }
        false
    }
}

/// Resolves at `at`, or never when there is nothing to wait for.
pub async fn until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::handoff::HandoffState;

    fn summary(id: &str, version: i64, state: HandoffState) -> ConversationSummary {
        ConversationSummary {
            id: id.into(),
            visitor_name: "V".into(),
            state,
            state_since: 0,
            last_seq: version,
            last_message: None,
            last_activity: version,
            last_visitor_at: 0,
            version,
            ai_agent_id: String::new(),
            labels: Vec::new(),
        }
    }

    fn rows(frames: Vec<ServerFrame>) -> Vec<(String, i64)> {
        frames
            .into_iter()
            .flat_map(|f| match f {
                ServerFrame::Conversations { summaries } => summaries,
                _ => vec![],
            })
            .map(|s| (s.id, s.version))
            .collect()
    }

    #[test]
    fn keeps_the_newest_summary_and_drops_older_ones() {
        let mut list = DashboardList::new(0);
        list.note(summary("a", 5, HandoffState::Ai));
        list.note(summary("a", 4, HandoffState::Ai)); // published late: dropped
        list.note(summary("b", 1, HandoffState::Ai));
        assert_eq!(rows(list.flush()), [("b".into(), 1), ("a".into(), 5)]);
        list.note(summary("a", 5, HandoffState::Ai)); // already sent
        list.note(summary("a", 3, HandoffState::Ai));
        assert_eq!(list.due(), None);
        assert!(list.flush().is_empty());
    }

    #[test]
    fn messages_wait_for_the_next_slot_and_state_changes_do_not() {
        let mut list = DashboardList::new(0);
        list.note(summary("a", 1, HandoffState::Ai));
        let now = || Some(Instant::now());
        assert!(list.due() <= now(), "the first change after a quiet spell goes at once");
        list.flush();
        list.note(summary("a", 2, HandoffState::Ai));
        assert!(list.due() > now(), "the next one waits for its slot");
        list.note(summary("a", 3, HandoffState::Requested));
        assert!(list.due() <= now(), "a request goes at once");
        assert_eq!(rows(list.flush()), [("a".into(), 3)]);
        list.note(summary("a", 4, HandoffState::Requested));
        assert!(list.due() > now());
        list.note(summary("b", 1, HandoffState::Requested));
        assert!(list.due() <= now(), "a conversation first seen in a request goes at once");
    }

    #[tokio::test(start_paused = true)]
    async fn counts_are_read_again_after_new_conversations_and_state_changes_only() {
        let mut list = DashboardList::new(0);
        assert!(!list.take_recount());
        list.note(summary("a", 1, HandoffState::Ai));
        list.flush();
        assert!(list.take_recount(), "a conversation this socket had not shown");
        assert!(!list.take_recount(), "asked once");
        tokio::time::advance(RECOUNT_EVERY).await;
        list.note(summary("a", 2, HandoffState::Ai));
        list.flush();
        assert!(!list.take_recount(), "a message changes no count");
        assert_eq!(list.recount_due(), None);
        list.note(summary("a", 3, HandoffState::Requested));
        assert!(!list.take_recount(), "only once it is sent");
        list.flush();
        assert!(list.take_recount(), "a request");
    }

    #[tokio::test(start_paused = true)]
    async fn counts_asked_for_meanwhile_are_read_once_at_the_end_of_the_interval() {
        let mut list = DashboardList::new(0);
        list.note(summary("a", 1, HandoffState::Requested));
        list.flush();
        assert!(list.take_recount(), "the first at once");
        for (v, state) in [(2, HandoffState::Ai), (3, HandoffState::Requested), (4, HandoffState::Ai)] {
            list.note(summary("a", v, state));
            list.flush();
            assert!(!list.take_recount(), "not again within the interval");
        }
        assert_eq!(list.recount_due(), Some(Instant::now() + RECOUNT_EVERY));
        tokio::time::advance(RECOUNT_EVERY).await;
        assert!(list.take_recount(), "the changes meanwhile, counted once");
        assert!(!list.take_recount());
        assert_eq!(list.recount_due(), None);
    }

    #[test]
    fn large_lists_are_split_into_frames() {
        let mut list = DashboardList::new(0);
        for i in 0..(ROWS_PER_FRAME as i64 * 2 + 1) {
            list.note(summary(&format!("c{i}"), i + 1, HandoffState::Ai));
        }
        let frames = list.flush();
        assert_eq!(frames.len(), 3);
        assert_eq!(rows(frames).len(), ROWS_PER_FRAME * 2 + 1);
    }
}
