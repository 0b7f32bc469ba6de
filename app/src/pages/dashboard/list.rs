//! The conversation list: every conversation of the organization — waiting requests first
//! (oldest first), then the rest by newest activity — with its state badge (who holds a held
//! chat), the last message a person or the AI wrote, and on every *active* conversation (its
//! visitor wrote within the last minutes, whoever answers: `ConversationSummary::is_active`) the
//! `!` mark and, in red, when the visitor last wrote. Marks follow the clock: a conversation stops
//! being active without any frame from the server.
use super::Live;
use crate::util::relative_time;
use domain::handoff::HandoffState;
use domain::wire::ConversationSummary;
use leptos::prelude::*;

/// The badge text of a state.
fn state_label(state: &HandoffState) -> String {
    match state {
        HandoffState::Ai => "AI".into(),
        HandoffState::Requested => "Waiting".into(),
        HandoffState::Human { agent } => agent.name.clone(),
        HandoffState::Closed => "Closed".into(),
    }
}

#[component]
pub(super) fn ConversationList(
    #[prop(into)] conversations: Signal<Vec<ConversationSummary>>,
    selected: Memo<Option<String>>,
    live: Live,
    /// Where conversations open: `{base}/{id}`.
    base: String,
    /// What an empty list says.
    empty: &'static str,
) -> impl IntoView {
    view! {
        <aside class="conv-list" aria-label="Conversations">
            <Transition fallback=|| view! { <p class="muted pad">"Loading conversations…"</p> }>
                {move || {
                    let items = conversations.get();
                    if items.is_empty() {
                        return view! { <p class="muted pad">{empty}</p> }.into_any();
                    }
                    view! {
                        <ul>
                            {items.into_iter().map(|c| view! { <ConversationItem c selected live base=base.clone()/> }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </Transition>
        </aside>
    }
}

#[component]
fn ConversationItem(c: ConversationSummary, selected: Memo<Option<String>>, live: Live, base: String) -> impl IntoView {
    let href = format!("{base}/{}", c.id);
    let id = c.id.clone();
    let is_selected = move || selected.get().as_deref() == Some(id.as_str());
    let requested = c.state == HandoffState::Requested;
    let (visitor_at, asked_at) = (c.last_visitor_at, c.state_since);
    let active = {
        let c = c.clone();
        Signal::derive(move || c.is_active(live.now.get()))
    };
    view! {
        <li>
            <a href=href class="conv-item" class:selected=is_selected class:active=active data-state=c.state.kind().as_str()>
                <span class="attention" title=move || if active.get() { "The visitor is chatting now" } else { "" }>
                    {move || if active.get() { "!" } else { "" }}
                </span>
                <span class="conv-main">
                    <span class="conv-top">
                        <span class="name">{c.visitor_name.clone()}</span>
                        <span class="badge" data-state=c.state.kind().as_str()>{state_label(&c.state)}</span>
                    </span>
                    <span class="preview">{c.last_message.clone().unwrap_or_default()}</span>
                    <span class="conv-meta">
                        {move || active.get().then(|| view! {
                            <span class="since" title="When the visitor last wrote">{relative_time(visitor_at, live.now.get())}</span>
                        })}
                        {requested.then(|| view! {
                            <span class="asked">{move || format!("asked for a human {}", relative_time(asked_at, live.now.get()))}</span>
                        })}
                    </span>
                </span>
            </a>
        </li>
    }
}

/// The list's order: waiting requests first, the longest waiting on top; then everything else,
/// newest activity first.
pub(super) fn list_order(list: &mut [ConversationSummary]) {
    list.sort_by(|a, b| {
        let (ra, rb) = (a.state == HandoffState::Requested, b.state == HandoffState::Requested);
        rb.cmp(&ra).then_with(|| {
            if ra {
                a.state_since.cmp(&b.state_since)
            } else {
                b.last_activity.cmp(&a.last_activity)
            }
        })
    });
}
