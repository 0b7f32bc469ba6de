//! Typing in the open conversation (issue 23): "<visitor> is typing…" (with the unsent text
//! where the organization shows it) and a colleague holding the chat typing, each gone when
//! their message arrives or a few seconds after their last hint; and this agent's own typing,
//! told to the visitor at most once a second while they write in the reply box of a chat they
//! hold. Nothing of it is stored.
use crate::live::SocketSlot;
use crate::util::now_ms;
use domain::handoff::AgentRef;
use domain::wire::AgentFrame;
use leptos::prelude::*;
use std::collections::HashMap;
use std::time::Duration;

/// A hint shows this long after the last one (the other side sends one a second while typing).
const SHOWN_FOR: Duration = Duration::from_secs(4);

/// A hint that arrives this soon after its side's message is that message's (hints travel apart
/// from messages and may overtake or trail them): not shown.
const AFTER_MESSAGE_MS: i64 = 1_000;

/// Per conversation, the newest typing hint of one side and its number; when its side's last
/// message arrived; the last number given.
pub(super) struct Hints<T: Send + Sync + 'static>(
    RwSignal<HashMap<String, (T, u64)>>,
    StoredValue<HashMap<String, i64>>,
    StoredValue<u64>,
);

impl<T: Send + Sync + 'static> Clone for Hints<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for Hints<T> {}

impl<T: Clone + Send + Sync + 'static> Hints<T> {
    fn new() -> Self {
        Self(RwSignal::new(HashMap::new()), StoredValue::new(HashMap::new()), StoredValue::new(0))
    }

    /// Shows `hint` for a few seconds (browser only: the server renders no hints).
    pub(super) fn show(self, conversation_id: String, hint: T) {
        if self.1.with_value(|m| m.get(&conversation_id).is_some_and(|at| now_ms() - at < AFTER_MESSAGE_MS)) {
            return;
        }
        self.2.update_value(|n| *n += 1);
        let n = self.2.get_value();
        self.0.update(|m| {
            m.insert(conversation_id.clone(), (hint, n));
        });
        set_timeout(
            move || {
                let _ = self.0.try_update(|m| {
                    if m.get(&conversation_id).is_some_and(|(_, at)| *at == n) {
                        m.remove(&conversation_id);
                    }
                });
            },
            SHOWN_FOR,
        );
    }

    /// Their message arrived: the hint goes.
    pub(super) fn clear(self, conversation_id: &str) {
        self.1.update_value(|m| {
            m.insert(conversation_id.to_owned(), now_ms());
        });
        if self.0.with_untracked(|m| m.contains_key(conversation_id)) {
            self.0.update(|m| {
                m.remove(conversation_id);
            });
        }
    }

    fn get(self, conversation_id: &str) -> Option<T> {
        self.0.with(|m| m.get(conversation_id).map(|(h, _)| h.clone()))
    }
}

/// Who is typing in which conversation: its visitor (with the text so far, maybe empty) and the
/// human agent holding it.
#[derive(Clone, Copy)]
pub(super) struct Typing {
    pub(super) visitor: Hints<String>,
    pub(super) holder: Hints<AgentRef>,
}

impl Typing {
    pub(super) fn new() -> Self {
        Self { visitor: Hints::new(), holder: Hints::new() }
    }

    /// Tracks every hint (the transcript follows its bottom).
    pub(super) fn track(self) {
        self.visitor.0.track();
        self.holder.0.track();
    }

    /// The lines under the transcript: the visitor typing; a colleague holding the chat typing.
    pub(super) fn lines(self, conversation_id: String, visitor_name: Signal<String>, me_id: String) -> impl IntoView {
        let id = conversation_id.clone();
        let visitor = move || {
            self.visitor.get(&id).map(|preview| {
                view! {
                    <p class="typing muted" data-testid="visitor-typing">
                        {format!("{} is typing…", visitor_name.get())}
                        {(!preview.is_empty()).then(|| view! { " " <q class="typing-preview">{preview}</q> })}
                    </p>
                }
            })
        };
        let holder = move || {
            self.holder.get(&conversation_id).filter(|a| a.id != me_id).map(|a| {
                view! { <p class="typing muted" data-testid="colleague-typing">{format!("{} is typing…", a.name)}</p> }
            })
        };
        view! { {visitor} {holder} }
    }
}

/// Tells the visitor this agent is typing, at most once in 1.1 s (the server counts one a
/// second), while `draft` changes to a non-blank text in a chat the agent holds (browser only).
pub(super) fn tell_while_typing(
    socket: SocketSlot,
    conversation_id: String,
    draft: RwSignal<String>,
    i_hold: Signal<bool>,
) {
    let told_at = StoredValue::new(0i64);
    Effect::new(move |before: Option<String>| {
        let text = draft.get();
        let changed = before.is_some_and(|b| b != text);
        if changed && !text.trim().is_empty() && i_hold.get_untracked() && now_ms() - told_at.get_value() >= 1_100 {
            told_at.set_value(now_ms());
            socket.with_value(|s| {
                if let Some(s) = s {
                    s.send(&AgentFrame::Typing { conversation_id: conversation_id.clone() });
                }
            });
        }
        text
    });
}
