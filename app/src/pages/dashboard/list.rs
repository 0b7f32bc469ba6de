//! The conversation list: every conversation of the organization, newest activity first, with
//! its state badge, the last message and, for those needing attention, the `!` mark and how long
//! ago their state began.
use super::Live;
use crate::util::relative_time;
use domain::handoff::HandoffState;
use domain::wire::ConversationSummary;
use leptos::prelude::*;

/// The badge text of a state.
fn state_label(state: &HandoffState) -> String {
    match state {
        HandoffState::Ai => "AI".into(),
        HandoffState::Requested => "Requested".into(),
        HandoffState::Human { agent } => agent.name.clone(),
        HandoffState::Closed => "Closed".into(),
    }
}

#[component]
pub(super) fn ConversationList(
    #[prop(into)] conversations: Signal<Vec<ConversationSummary>>,
    selected: Memo<Option<String>>,
    live: Live,
) -> impl IntoView {
    view! {
        <aside class="conv-list" aria-label="Conversations">
            <Transition fallback=|| view! { <p class="muted pad">"Loading conversations…"</p> }>
                {move || {
                    let items = conversations.get();
                    if items.is_empty() {
                        return view! { <p class="muted pad">"No conversations yet. Open the demo page and say hello."</p> }.into_any();
                    }
                    view! {
                        <ul>
                            {items.into_iter().map(|c| view! { <ConversationItem c selected live/> }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </Transition>
        </aside>
    }
}

#[component]
fn ConversationItem(c: ConversationSummary, selected: Memo<Option<String>>, live: Live) -> impl IntoView {
    let attention = c.state.needs_attention();
    let href = format!("/conversations/{}", c.id);
    let id = c.id.clone();
    let is_active = move || selected.get().as_deref() == Some(id.as_str());
    let since = c.state_since;
    view! {
        <li>
            <a href=href class="conv-item" class:active=is_active data-state=c.state.kind().as_str()>
                <span class="attention" aria-label=if attention { "needs attention" } else { "" }>{if attention { "!" } else { "" }}</span>
                <span class="conv-main">
                    <span class="conv-top">
                        <span class="name">{c.visitor_name.clone()}</span>
                        <span class="badge" data-state=c.state.kind().as_str()>{state_label(&c.state)}</span>
                    </span>
                    <span class="preview">{c.last_message.clone().unwrap_or_default()}</span>
                    {attention.then(|| view! { <span class="since">{move || relative_time(since, live.now.get())}</span> })}
                </span>
            </a>
        </li>
    }
}
