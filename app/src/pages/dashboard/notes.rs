//! Private notes in the open conversation: shown in the transcript after the message they
//! followed, marked as seen by the team only, and their composer (the "Private note" tab beside
//! "Reply", open to every agent of the organization whoever holds the chat). Read with the
//! conversation; read again when the socket says they changed (`NotesChanged`) and whenever it
//! opens. Never sent anywhere the visitor reads (see `backend::services::notes`).
use super::canned::{Canned, Picker};
use super::outgoing::{ComposerForm, Outgoing};
use super::Live;
use crate::api::conversations::{get_notes, AddNote};
use crate::util::clock;
use domain::notes::{shown_after, NoteDto};
use leptos::prelude::*;

/// A conversation's notes: every note, oldest first — the newest read (with the conversation,
/// or again after a hint), then those this page wrote since that it lacks (they show at once).
#[derive(Clone, Copy)]
pub(super) struct Notes {
    all: Memo<Vec<NoteDto>>,
    written: RwSignal<Vec<NoteDto>>,
}

impl Notes {
    pub(super) fn new(conversation_id: String, read: Signal<Option<Vec<NoteDto>>>, live: Live) -> Self {
        let reread = RwSignal::new(None);
        live.notes_bumps.reread(conversation_id, get_notes, reread);
        let written = RwSignal::new(Vec::<NoteDto>::new());
        let all = Memo::new(move |_| {
            let mut all = reread.get().or_else(|| read.get()).unwrap_or_default();
            written.with(|w| {
                for n in w {
                    if !all.iter().any(|a| a.id == n.id) {
                        all.push(n.clone());
                    }
                }
            });
            all
        });
        Self { all, written }
    }

    /// Tracks every change of the notes (the transcript follows its bottom).
    pub(super) fn track(self) {
        self.all.track();
    }

    /// What follows the message `seq` in the transcript: its notes (a note whose message is not
    /// shown yet follows the last one shown, `last_seq`).
    pub(super) fn after(self, last_seq: Signal<i64>) -> impl Fn(i64) -> AnyView + Clone + Send + Sync + 'static {
        move |seq| {
            let here = move || {
                let last = last_seq.get();
                self.all.with(|all| all.iter().filter(|n| shown_after(n, last) == seq).cloned().collect::<Vec<_>>())
            };
            view! {
                <For each=here key=|n| n.id.clone() let:n>
                    <li class="note" data-testid="note" data-after=n.after_seq>
                        <span class="msg-meta">
                            <span class="note-tag">"Private note"</span>" · "
                            <span class="msg-who">{n.author_name.clone()}</span>" "
                            <time>{clock(n.created_at)}</time>
                        </span>
                        <span class="msg-text">{n.text.clone()}</span>
                    </li>
                </For>
            }
            .into_any()
        }
    }
}

/// The note composer: Enter adds the note, Shift+Enter a new line; a failed note keeps its text
/// and its client id (a retry is stored once).
#[component]
pub(super) fn NoteComposer(
    conversation_id: String,
    notes: Notes,
    notice: RwSignal<Option<String>>,
    canned: Option<Canned>,
    visitor_name: Signal<String>,
    /// Kept by the conversation: a draft survives switching to "Reply" and back.
    draft: RwSignal<String>,
) -> impl IntoView {
    let add = ServerAction::<AddNote>::new();
    let picker = canned.map(|c| Picker::new(c, draft, visitor_name));
    let outgoing = Outgoing::new();
    Effect::new(move |_| match add.value().get() {
        Some(Ok(note)) => {
            if outgoing.settle(Some(&note.client_note_id)) {
                draft.set(String::new());
            }
            notes.written.update(|w| w.push(note));
        }
        Some(Err(e)) => notice.set(Some(e.to_string())),
        None => {}
    });
    let submit = Callback::new(move |()| {
        let text = draft.get_untracked();
        if text.trim().is_empty() {
            return;
        }
        let client_note_id = outgoing.client_id_for(&text);
        add.dispatch(AddNote { id: conversation_id.clone(), client_note_id, text });
    });
    view! {
        <ComposerForm
            class="composer note-composer" name="note" placeholder="Write a private note: only your team sees it"
            label="Private note" button="Add note" button_class="btn note-btn" draft busy=add.pending() submit picker
        />
    }
}
