//! "Seen" in the open conversation (issue 23; the rule in `domain::seen`): the dashboard of the
//! agent holding it reports how far it showed it — while the page is visible, at most one report
//! in 1.1 s for the whole page (the server counts two a second per user), again whenever the
//! socket (re)opens — and the agents' newest message the visitor has read carries a "Seen"
//! mark.
use crate::live::SocketSlot;
use crate::util::now_ms;
use domain::wire::AgentFrame;
use leptos::prelude::*;
use std::collections::HashMap;

/// How far visitors have read their conversations, as the socket told (a conversation's read
/// has the mark as it was then); whether this page is visible; how often the socket opened; when
/// this page last reported.
#[derive(Clone, Copy)]
pub(super) struct SeenMarks {
    visitor: RwSignal<HashMap<String, i64>>,
    page_visible: RwSignal<bool>,
    opened: RwSignal<u64>,
    reported_at: StoredValue<i64>,
}

impl SeenMarks {
    pub(super) fn new() -> Self {
        Self {
            visitor: RwSignal::new(HashMap::new()),
            page_visible: RwSignal::new(true),
            opened: RwSignal::new(0),
            reported_at: StoredValue::new(0),
        }
    }

    /// The socket (re)opened: what the open conversation's view reported before may have been
    /// lost (or never sent: the socket was still connecting); it reports again.
    pub(super) fn socket_opened(self) {
        self.opened.update(|n| *n += 1);
    }

    /// The visitor read `conversation_id` up to `seq`.
    pub(super) fn visitor_saw(self, conversation_id: String, seq: i64) {
        self.visitor.update(|m| {
            let mark = m.entry(conversation_id).or_default();
            *mark = (*mark).max(seq);
        });
    }

    /// How far the visitor read it: the newer of what was `read` and what the socket told.
    pub(super) fn visitor(self, conversation_id: &str, read: i64) -> i64 {
        self.visitor.with(|m| m.get(conversation_id).copied().unwrap_or(0)).max(read)
    }

    /// Browser only: follows whether this page is visible (another tab, a minimized window:
    /// not), until the calling effect is cleaned up.
    pub(super) fn follow_page(self) {
        #[cfg(feature = "browser")]
        {
            use wasm_bindgen::prelude::*;
            use wasm_bindgen::JsCast;
            let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
            self.page_visible.set(!document.hidden());
            let doc = document.clone();
            let on_change = Closure::<dyn FnMut()>::new(move || {
                let _ = self.page_visible.try_set(!doc.hidden());
            });
            let _ = document.add_event_listener_with_callback("visibilitychange", on_change.as_ref().unchecked_ref());
            let listener = StoredValue::new_local(Some((document, on_change)));
            on_cleanup(move || {
                if let Some((document, on_change)) = listener.try_update_value(Option::take).flatten() {
                    let _ = document
                        .remove_event_listener_with_callback("visibilitychange", on_change.as_ref().unchecked_ref());
                }
            });
        }
    }

    /// Reports the conversation seen up to its newest message whenever that, holding it, the
    /// page's visibility or the socket changes (browser only: effects do not run on the server).
    pub(super) fn report(
        self,
        socket: SocketSlot,
        conversation_id: String,
        last_seq: Signal<i64>,
        i_hold: Signal<bool>,
    ) {
        let reporter = Reporter {
            socket,
            conversation_id,
            last_seq,
            i_hold,
            marks: self,
            done: StoredValue::new(Done::default()),
        };
        Effect::new(move |opened_before: Option<u64>| {
            last_seq.track();
            i_hold.track();
            self.page_visible.track();
            // A new socket has not heard this view's reports.
            let opened = self.opened.get();
            if opened_before.is_some_and(|b| b != opened) {
                reporter.done.update_value(|d| d.seq = 0);
            }
            reporter.clone().run();
            opened
        });
    }
}

#[derive(Clone, Copy, Default)]
struct Done {
    /// The newest seq reported.
    seq: i64,
    /// A later report is scheduled.
    scheduled: bool,
}

#[derive(Clone)]
struct Reporter {
    socket: SocketSlot,
    conversation_id: String,
    last_seq: Signal<i64>,
    i_hold: Signal<bool>,
    marks: SeenMarks,
    done: StoredValue<Done>,
}

impl Reporter {
    /// Reports now if due and allowed, or schedules the report for when it is allowed.
    fn run(self) {
        let (Some(seq), Some(hold), Some(visible), Some(done), Some(at)) = (
            self.last_seq.try_get_untracked(),
            self.i_hold.try_get_untracked(),
            self.marks.page_visible.try_get_untracked(),
            self.done.try_get_value(),
            self.marks.reported_at.try_get_value(),
        ) else {
            return; // the conversation was closed meanwhile
        };
        if !hold || !visible || seq <= done.seq {
            return;
        }
        let wait = at + 1_100 - now_ms();
        if wait > 0 {
            if !done.scheduled {
                self.done.update_value(|d| d.scheduled = true);
                let done = self.done;
                set_timeout(
                    move || {
                        if done.try_update_value(|d| d.scheduled = false).is_some() {
                            self.run();
                        }
                    },
                    std::time::Duration::from_millis(wait as u64),
                );
            }
            return;
        }
        let frame = AgentFrame::Seen { conversation_id: self.conversation_id.clone(), seq };
        if self.socket.try_with_value(|s| s.as_ref().is_some_and(|s| s.send(&frame))) == Some(true) {
            self.done.set_value(Done { seq, scheduled: false });
            self.marks.reported_at.set_value(now_ms());
        }
    }
}
