//! Canned responses in the composer: typing `/` (at the start or after a space) opens the
//! organization's canned responses filtered by what follows it; arrow keys choose, Enter or Tab
//! (or a click) inserts the text in place of the `/query` with its placeholders filled (the
//! visitor's name, the agent's, the organization's), still editable before sending; Escape
//! closes the list. The library is read again each time a list opens, so a new one shows at once.
use crate::api::canned::list_canned;
use domain::canned::{fill, suggestions, typed_shortcut, CannedDto, Filling};
use domain::wire::UserDto;
use leptos::prelude::*;

/// The organization's canned responses and who fills their placeholders (the signed-in agent).
#[derive(Clone, Copy)]
pub struct Canned {
    list: RwSignal<Vec<CannedDto>>,
    agent_name: StoredValue<String>,
    organization: StoredValue<String>,
}

impl Canned {
    pub fn new(user: &UserDto) -> Self {
        Self {
            list: RwSignal::new(Vec::new()),
            agent_name: StoredValue::new(user.name.clone()),
            organization: StoredValue::new(user.org_name.clone().unwrap_or_default()),
        }
    }

    /// Reads the library again (browser only; a failed read keeps the last one).
    fn refresh(self) {
        leptos::task::spawn_local(async move {
            if let Ok(list) = list_canned().await {
                self.list.try_set(list);
            }
        });
    }
}

/// The picker of one composer: what its textarea's keys do and the list it shows.
#[derive(Clone, Copy)]
pub struct Picker {
    canned: Canned,
    draft: RwSignal<String>,
    visitor_name: Signal<String>,
    /// The `/` position and query being typed, if any.
    typed: Memo<Option<(usize, String)>>,
    /// The `/` position whose list Escape closed.
    closed_at: RwSignal<Option<usize>>,
    /// The suggestions shown now (none when the list is closed).
    shown: Memo<Vec<CannedDto>>,
    active: RwSignal<usize>,
}

impl Picker {
    pub fn new(canned: Canned, draft: RwSignal<String>, visitor_name: Signal<String>) -> Self {
        let typed = Memo::new(move |_| draft.with(|d| typed_shortcut(d).map(|(at, q)| (at, q.to_string()))));
        let closed_at = RwSignal::new(None);
        let shown = Memo::new(move |_| {
            typed.with(|t| match t {
                Some((at, query)) if closed_at.get() != Some(*at) => {
                    canned.list.with(|all| suggestions(all, query).into_iter().cloned().collect())
                }
                _ => Vec::new(),
            })
        });
        let picker = Self { canned, draft, visitor_name, typed, closed_at, shown, active: RwSignal::new(0) };
        // A new `/`: read the library again, and a list Escape closed may open again; a changed
        // query: the first suggestion is chosen.
        Effect::new(move |last: Option<Option<usize>>| {
            let at = typed.with(|t| t.as_ref().map(|(at, _)| *at));
            if last.flatten() != at {
                picker.closed_at.set(None);
                if at.is_some() {
                    canned.refresh();
                }
            }
            at
        });
        Effect::new(move |_| {
            typed.track();
            picker.active.set(0);
        });
        picker
    }

    pub fn is_open(self) -> bool {
        self.shown.with(|s| !s.is_empty())
    }

    /// Replaces the `/query` with the canned response's filled text.
    fn insert(self, c: &CannedDto) {
        let Some((at, _)) = self.typed.get_untracked() else { return };
        let with = Filling {
            visitor_name: self.visitor_name.get_untracked(),
            agent_name: self.canned.agent_name.get_value(),
            organization: self.canned.organization.get_value(),
        };
        let text = fill(&c.text, &with);
        self.draft.update(|d| {
            d.truncate(at);
            d.push_str(&text);
        });
    }

    /// Handles a key while the list is open; `true` when it was the list's (the composer must
    /// not act on it too).
    pub fn key(self, ev: &leptos::ev::KeyboardEvent) -> bool {
        // Shift+Enter is a new line; an input method composing keeps its keys.
        if ev.shift_key() || ev.ctrl_key() || ev.alt_key() || ev.meta_key() || ev.is_composing() {
            return false;
        }
        let shown = self.shown.get_untracked();
        if shown.is_empty() {
            return false;
        }
        let n = shown.len();
        match ev.key().as_str() {
            "ArrowDown" => self.active.update(|a| *a = (*a + 1) % n),
            "ArrowUp" => self.active.update(|a| *a = (*a + n - 1) % n),
            "Enter" | "Tab" => self.insert(&shown[self.active.get_untracked().min(n - 1)]),
            "Escape" => self.closed_at.set(self.typed.get_untracked().map(|(at, _)| at)),
            _ => return false,
        }
        ev.prevent_default();
        true
    }

    /// The list, above the composer.
    pub fn menu(self) -> impl IntoView {
        move || {
            let shown = self.shown.get();
            (!shown.is_empty()).then(|| {
                let active = self.active.get().min(shown.len() - 1);
                view! {
                    <ul class="canned-menu" role="listbox" aria-label="Canned responses">
                        {shown.into_iter().enumerate().map(|(i, c)| {
                            let chosen = c.clone();
                            view! {
                                <li role="option" class="canned-option" aria-selected=(i == active).to_string()
                                    on:mousedown=move |ev| { ev.prevent_default(); self.insert(&chosen); }>
                                    <span class="canned-shortcut">{format!("/{}", c.shortcut)}</span>
                                    <span class="canned-title">{c.title.clone()}</span>
                                    <span class="canned-preview muted">{c.text.clone()}</span>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }
            })
        }
    }
}
