//! The conversation list: every conversation of the organization — waiting requests first
//! (oldest first), then the rest by newest activity — with its state badge (who holds a held
//! chat), the last message a person or the AI wrote, and on every *active* conversation (its
//! visitor wrote within the last minutes, whoever answers: `ConversationSummary::is_active`) the
//! `!` mark and, in red, when the visitor last wrote. Marks follow the clock: a conversation stops
//! being active without any frame from the server.
//!
//! Above it, a search (`?q=…`: its hits, each with the matching text highlighted, replace the
//! list; a hit opens its conversation at the matching message), the filters with their live
//! counts (links: `?filter=…`) and the label filter (`?label=…`); each row shows its labels; below it, older
//! conversations are read as the agent scrolls to the end (or presses "Show older
//! conversations").
use super::inbox::Inbox;
use super::labels::{chips, LabelFilter, Labels};
use super::Live;
use crate::util::relative_time;
use domain::handoff::HandoffState;
use domain::inbox::{highlight, search_terms, ListFilter, SearchHit};
use domain::wire::ConversationSummary;
use leptos::prelude::*;
use leptos_router::components::Form;

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
    inbox: Inbox,
    labels: Labels,
    /// Where conversations open: `{base}/{id}`.
    base: String,
    /// What an empty list says.
    empty: &'static str,
) -> impl IntoView {
    // The filter in links: conversations open, and filters switch, keeping the other.
    let query = move || list_query(inbox.filter.get(), inbox.label.get().as_deref());
    let near_end = move |ev: leptos::ev::Event| {
        let _ = &ev;
        #[cfg(feature = "browser")]
        {
            use wasm_bindgen::JsCast;
            if let Some(el) = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) {
                if el.scroll_top() + el.client_height() >= el.scroll_height() - 120 && inbox.has_more() {
                    inbox.load_more();
                }
            }
        }
    };
    let filters = {
        let base = base.clone();
        move || {
            let current = inbox.filter.get();
            let label = inbox.label.get();
            let counts = inbox.counts();
            let open = selected.get().map(|id| format!("/{id}")).unwrap_or_default();
            ListFilter::EVERY
                .into_iter()
                .map(|f| {
                    let href = format!("{base}{open}{}", list_query(f, label.as_deref()));
                    let count = counts.map(|c| c.get(f).to_string()).unwrap_or_default();
                    view! {
                        <a href=href class="filter" data-filter=f.as_str() aria-current=(f == current).then_some("page")>
                            <span>{f.label()}</span>
                            <span class="count" class:hot=f == ListFilter::Requests && counts.is_some_and(|c| c.requests > 0)>{count}</span>
                        </a>
                    }
                })
                .collect_view()
        }
    };
    let searching = move || !inbox.query.get().is_empty();
    let base_clear = {
        let base = base.clone();
        move || base.clone()
    };
    let hits_base = base.clone();
    let label_base = base.clone();
    view! {
        <aside class="conv-list" aria-label="Conversations" on:scroll=near_end>
            <Form method="GET" action=base.clone() attr:class="search" attr:role="search">
                <input type="search" name="q" aria-label="Search conversations" placeholder="Search names, e-mails, messages"
                    maxlength="200" autocomplete="off" value=move || inbox.query.get() prop:value=move || inbox.query.get()/>
                {move || searching().then(|| view! { <a class="btn small subtle" href=base_clear()>"Clear"</a> })}
            </Form>
            <Show when=move || !searching()>
                <nav class="filters" aria-label="Filters">{filters.clone()}</nav>
                <LabelFilter labels inbox selected base=label_base.clone()/>
            </Show>
            // The list is read with the page (no resource of its own, so no `<Suspense>` here).
            {move || {
                    if searching() {
                        return view! { <SearchHits inbox selected base=hits_base.clone()/> }.into_any();
                    }
                    if let Some(e) = inbox.error() {
                        return view! { <p class="form-error pad">{e.to_string()}</p> }.into_any();
                    }
                    let items = conversations.get();
                    if items.is_empty() {
                        let text = match (inbox.filter.get(), inbox.label.get()) {
                            (ListFilter::All, None) => empty.to_string(),
                            (ListFilter::All, Some(_)) => "No conversations with this label.".to_string(),
                            (f, None) => format!("No conversations in {}.", f.label()),
                            (f, Some(_)) => format!("No conversations in {} with this label.", f.label()),
                        };
                        return view! { <p class="muted pad">{text}</p> }.into_any();
                    }
                    let q = query();
                    view! {
                        <ul>
                            {items.into_iter().map(|c| view! { <ConversationItem c selected live labels base=base.clone() query=q.clone()/> }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            {move || (!searching() && inbox.has_more()).then(|| view! {
                <button type="button" class="btn subtle more" disabled=move || inbox.loading_more.get() on:click=move |_| inbox.load_more()>
                    {move || if inbox.loading_more.get() { "Loading…" } else { "Show older conversations" }}
                </button>
            })}
        </aside>
    }
}

/// The search's hits: visitor, state, and the matching text with every word of the search
/// marked; each opens its conversation at the matching message (`at=`).
#[component]
fn SearchHits(inbox: Inbox, selected: Memo<Option<String>>, base: String) -> impl IntoView {
    move || {
        let hits = match inbox.hits.get() {
            None => return view! { <p class="muted pad">"Searching…"</p> }.into_any(),
            Some(Err(e)) => return view! { <p class="form-error pad">{e.to_string()}</p> }.into_any(),
            Some(Ok(h)) => h,
        };
        let q = inbox.query.get();
        if hits.is_empty() {
            return view! { <p class="muted pad" role="status">{format!("Nothing found for “{q}”.")}</p> }.into_any();
        }
        let terms = search_terms(&q);
        let n = hits.len();
        view! {
            <p class="muted pad small" role="status">{format!("{n} {} for “{q}”", if n == 1 { "match" } else { "matches" })}</p>
            <ul class="hits">
                {hits.into_iter().map(|h: SearchHit| {
                    let mut href = format!("{base}/{}?q={}", h.summary.id, encode(&q));
                    if let Some(seq) = h.seq {
                        href.push_str(&format!("&at={seq}"));
                    }
                    let id = h.summary.id.clone();
                    let runs = highlight(&h.text, &terms).into_iter().map(|(run, hit)| match hit {
                        true => view! { <mark>{run}</mark> }.into_any(),
                        false => run.into_any(),
                    }).collect_view();
                    view! {
                        <li>
                            <a href=href class="conv-item hit-item" class:selected=move || selected.get().as_deref() == Some(id.as_str())
                                data-state=h.summary.state.kind().as_str() data-seq=h.seq>
                                <span class="attention"></span>
                                <span class="conv-main">
                                    <span class="conv-top">
                                        <span class="name">{h.summary.visitor_name.clone()}</span>
                                        <span class="badge" data-state=h.summary.state.kind().as_str()>{state_label(&h.summary.state)}</span>
                                    </span>
                                    <span class="preview">{runs}</span>
                                </span>
                            </a>
                        </li>
                    }
                }).collect_view()}
            </ul>
        }.into_any()
    }
}

/// The query string naming `filter` and `label` in an address ("" for *All* and any label, the
/// defaults).
pub(super) fn list_query(filter: ListFilter, label: Option<&str>) -> String {
    let mut parts = Vec::new();
    if filter != ListFilter::All {
        parts.push(format!("filter={}", filter.as_str()));
    }
    if let Some(l) = label {
        parts.push(format!("label={}", encode(l)));
    }
    match parts.is_empty() {
        true => String::new(),
        false => format!("?{}", parts.join("&")),
    }
}

/// `s` for a query string value: letters, digits and `-_.~` as they are, the rest %-encoded.
fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[component]
fn ConversationItem(
    c: ConversationSummary,
    selected: Memo<Option<String>>,
    live: Live,
    labels: Labels,
    base: String,
    /// The list's filter, kept when the conversation opens.
    query: String,
) -> impl IntoView {
    let href = format!("{base}/{}{query}", c.id);
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
                    <span class="conv-labels">{chips(labels, c.labels.clone())}</span>
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
