//! Conversation labels in the dashboard: the organization's labels (read with the page, read
//! again when the socket says they changed or a conversation shows a label the page does not
//! know yet), their chips
//! in the list and in the open conversation, the open conversation's label bar (remove one, add
//! one) and the list's label filter (`?label=…`, kept with the state filter). An admin's AI agent
//! tab spans organizations and has no labels.
use super::inbox::Inbox;
use crate::api::labels::{label_conversation, list_labels};
use domain::labels::LabelDto;
use domain::wire::ConversationSummary;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

/// The organization's labels as the dashboard knows them.
#[derive(Clone, Copy)]
pub(super) struct Labels {
    all: RwSignal<Vec<LabelDto>>,
    /// Whether this dashboard has labels (an organization's, not an admin's AI agent tab).
    pub enabled: bool,
    /// Ids of labels seen on conversations but not known when the labels were last read.
    asked_for: StoredValue<Vec<String>>,
}

impl Labels {
    pub fn new(read: Option<Vec<LabelDto>>) -> Self {
        Labels {
            enabled: read.is_some(),
            all: RwSignal::new(read.unwrap_or_default()),
            asked_for: StoredValue::new(Vec::new()),
        }
    }

    /// The labels among `ids` this dashboard knows, in the organization's order (by name).
    pub fn of(&self, ids: &[String]) -> Vec<LabelDto> {
        self.all.with(|all| all.iter().filter(|l| ids.contains(&l.id)).cloned().collect())
    }

    pub fn all(&self) -> Vec<LabelDto> {
        self.all.get()
    }

    /// Reads the labels again if `summaries` show one this page does not know (a label made
    /// after the page was read); once per unknown id.
    pub fn learn<'a>(&self, summaries: impl IntoIterator<Item = &'a ConversationSummary>) {
        if !self.enabled {
            return;
        }
        let unknown: Vec<String> = self.all.with_untracked(|all| {
            summaries
                .into_iter()
                .flat_map(|s| s.labels.iter())
                .filter(|id| !all.iter().any(|l| &l.id == *id))
                .filter(|id| !self.asked_for.with_value(|a| a.contains(id)))
                .cloned()
                .collect()
        });
        if unknown.is_empty() {
            return;
        }
        self.asked_for.update_value(|a| a.extend(unknown));
        self.reload();
    }

    /// Reads the labels again (the socket said they changed: renamed, recoloured, deleted).
    pub fn reload(&self) {
        if !self.enabled {
            return;
        }
        let all = self.all;
        leptos::task::spawn_local(async move {
            if let Ok(read) = list_labels().await {
                all.try_set(read);
            }
        });
    }
}

/// The chips of a conversation's labels.
pub(super) fn chips(labels: Labels, ids: Vec<String>) -> impl IntoView {
    move || {
        labels
            .of(&ids)
            .into_iter()
            .map(|l| view! { <span class="label-chip" data-color=l.color.as_str()>{l.name}</span> })
            .collect_view()
    }
}

/// The list's label filter: a `<select>` that opens the list with `?label=…` (the state filter
/// and the open conversation kept).
#[component]
pub(super) fn LabelFilter(labels: Labels, inbox: Inbox, selected: Memo<Option<String>>, base: String) -> impl IntoView {
    let navigate = use_navigate();
    let choose = move |ev: leptos::ev::Event| {
        let label = event_target_value(&ev);
        let open = selected.get_untracked().map(|id| format!("/{id}")).unwrap_or_default();
        let label = (!label.is_empty()).then_some(label);
        let href = format!("{base}{open}{}", super::list::list_query(inbox.filter.get_untracked(), label.as_deref()));
        navigate(&href, Default::default());
    };
    move || {
        let all = labels.all();
        (labels.enabled && !all.is_empty()).then(|| {
            let current = inbox.label.get_untracked();
            let choose = choose.clone();
            view! {
                <label class="label-filter">
                    "Label"
                    <select name="label" aria-label="Filter by label" on:change=choose>
                        <option value="" selected=current.is_none() prop:selected=move || inbox.label.get().is_none()>"Any label"</option>
                        {all.into_iter().map(|l| {
                            let id = l.id.clone();
                            view! {
                                <option value=l.id.clone() selected=current.as_deref() == Some(l.id.as_str())
                                    prop:selected=move || inbox.label.get().as_deref() == Some(id.as_str())>{l.name}</option>
                            }
                        }).collect_view()}
                    </select>
                </label>
            }
        })
    }
}

/// The open conversation's labels: each chip with a button that takes it off, and a `<select>`
/// that puts one of the others on. Changes come back as the conversation's new summary.
#[component]
pub(super) fn LabelBar(
    labels: Labels,
    conversation_id: String,
    summary: Signal<Option<ConversationSummary>>,
    notice: RwSignal<Option<String>>,
) -> impl IntoView {
    let busy = RwSignal::new(false);
    // Bumped when a change is refused: the bar is drawn again, its select back on "+ Add label".
    let redraw = RwSignal::new(0u64);
    let set = {
        let id = conversation_id.clone();
        move |label_id: String, on: bool| {
            let id = id.clone();
            busy.set(true);
            leptos::task::spawn_local(async move {
                let answer = label_conversation(id, label_id, on).await;
                busy.try_set(false);
                match answer {
                    Ok(()) => {
                        notice.try_set(None);
                    }
                    Err(e) => {
                        notice.try_set(Some(e.to_string()));
                        redraw.try_update(|n| *n += 1);
                    }
                }
            });
        }
    };
    // Changes with the labels only (not with every message): an open `<select>` stays open.
    let on_it = Memo::new(move |_| summary.with(|s| s.as_ref().map(|s| s.labels.clone()).unwrap_or_default()));
    move || {
        if !labels.enabled {
            return None;
        }
        redraw.track();
        let ids = on_it.get();
        let shown = labels.of(&ids);
        let others: Vec<LabelDto> = labels.all().into_iter().filter(|l| !ids.contains(&l.id)).collect();
        let set_off = set.clone();
        let set_on = set.clone();
        Some(view! {
            <div class="label-bar" role="group" aria-label="Labels">
                {shown.into_iter().map(|l| {
                    let set_off = set_off.clone();
                    let (id, name) = (l.id.clone(), l.name.clone());
                    view! {
                        <span class="label-chip" data-color=l.color.as_str()>
                            {l.name.clone()}
                            <button type="button" aria-label=format!("Remove label {name}") title="Remove"
                                disabled=move || busy.get() on:click=move |_| set_off(id.clone(), false)>"×"</button>
                        </span>
                    }
                }).collect_view()}
                {(!others.is_empty()).then(|| view! {
                    <select aria-label="Add a label" disabled=move || busy.get() on:change=move |ev| {
                        let id = event_target_value(&ev);
                        if !id.is_empty() {
                            set_on(id, true);
                        }
                    }>
                        <option value="" selected=true>"+ Add label"</option>
                        {others.into_iter().map(|l| view! { <option value=l.id>{l.name}</option> }).collect_view()}
                    </select>
                })}
                {labels.all.with(Vec::is_empty).then(|| view! {
                    <span class="muted small">"No labels yet: they are made under Labels."</span>
                })}
            </div>
        })
    }
}
