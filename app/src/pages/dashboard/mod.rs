//! The agents' dashboard: the live conversation list and the open conversation with the handoff
//! buttons and the composer. Server-rendered from server functions, then kept live by the
//! `/ws/agent` socket (the organization's changed conversations, coalesced by the server, each
//! row kept at its highest version; messages of the open conversation from the last sequence
//! number seen). A conversation with a visitor's e-mail form
//! gets a "Reply by e-mail" box; e-mail replies' delivery status arrives as `MessageUpdated`.
//!
//! Platform admins reach the same dashboard for one AI agent — its conversations across
//! organizations, from `/admin` — at `/admin/agents/:agent/conversations` ([`AiAgentConversationsPage`]).
//!
//! This module holds the page and the live state; its parts: [`list`] (the conversation list),
//! [`canned`] (canned responses in the composers), [`typing`] (typing hints both ways),
//! [`seen`] ("Seen" both ways), [`conversation`] (the open conversation), [`actions`] (the
//! handoff buttons), [`transfer`] (passing a chat to a colleague), [`email_reply`]
//! (the e-mail reply box), [`notes`] (private notes: shown in the transcript, their composer),
//! [`outgoing`] (the retry rule both composers share), [`inbox`] (the
//! list's filter, pages, counts and search), [`labels`] (the organization's labels: chips, the
//! conversation's label bar, the label filter), [`shortcuts`] (the keyboard).
mod actions;
mod canned;
mod chat_files;
mod conversation;
mod email_reply;
mod inbox;
mod labels;
mod list;
mod notes;
mod outgoing;
mod privacy;
mod seen;
mod shortcuts;
mod transfer;
mod typing;
mod visitor_panel;

use crate::api::admin::list_agent_entries;
use crate::api::auth::current_user;
use crate::api::conversations::{get_conversation, list_conversation_page};
use crate::api::labels::list_labels;
use crate::api::notifications::read_all_notifications;
use crate::components::alerts::RequestAlerts;
use crate::components::bell::Bell;
use crate::components::topbar::TopBar;
use crate::live::{socket_slot, LiveSocket};
use crate::util::{every, now_ms};
use conversation::ConversationView;
use domain::handoff::HandoffState;
use domain::wire::{AgentFrame, Author, ConversationDetail, ConversationSummary, MessageDto, ServerFrame, UserDto};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_params_map;
use list::ConversationList;
use std::collections::{BTreeMap, HashMap};

/// Live state shared by the list and the open conversation.
#[derive(Clone, Copy)]
pub(super) struct Live {
    summaries: RwSignal<HashMap<String, ConversationSummary>>,
    messages: RwSignal<HashMap<String, BTreeMap<i64, MessageDto>>>,
    typing: RwSignal<Option<String>>,
    now: RwSignal<i64>,
    /// The socket said the visitor context changed: the visitor panel reads it again.
    context_bumps: Bumps,
    /// The socket said the private notes changed: the open conversation reads them again.
    notes_bumps: Bumps,
    /// Who is typing where (see [`typing`]).
    typing_hints: typing::Typing,
    /// How far visitors read, whether this page is visible (see [`seen`]).
    seen: seen::SeenMarks,
    /// The live socket (the open conversation sends this agent's typing through it).
    socket: crate::live::SocketSlot,
}

/// Per conversation, how often the socket hinted that something about it changed (or opened
/// while the conversation was open): a view reads that thing again on each hint.
#[derive(Clone, Copy)]
pub(super) struct Bumps(RwSignal<HashMap<String, u64>>);

impl Bumps {
    fn new() -> Self {
        Self(RwSignal::new(HashMap::new()))
    }

    fn bump(self, conversation_id: &str) {
        self.0.update(|m| *m.entry(conversation_id.to_owned()).or_default() += 1);
    }

    /// Browser only: on each hint about `id` after this call, reads `fetch(id)` into `into`;
    /// an answer overtaken by a later hint is dropped (that hint's read is on its way).
    pub(super) fn reread<T, Fut>(self, id: String, fetch: fn(String) -> Fut, into: RwSignal<Option<T>>)
    where
        T: Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<T, crate::error::AppError>> + 'static,
    {
        Effect::new(move |seen: Option<u64>| {
            let bumps = self.0.with(|m| m.get(&id).copied().unwrap_or(0));
            if seen.is_some_and(|s| s != bumps) {
                let id = id.clone();
                leptos::task::spawn_local(async move {
                    let answer = fetch(id.clone()).await;
                    let current = self.0.try_with_untracked(|m| m.get(&id).copied() == Some(bumps));
                    if let (Ok(value), Some(true)) = (answer, current) {
                        into.try_set(Some(value));
                    }
                });
            }
            bumps
        });
    }
}

impl Live {
    fn max_seq(&self, conversation_id: &str) -> i64 {
        self.messages
            .with_untracked(|m| m.get(conversation_id).and_then(|b| b.keys().next_back().copied()).unwrap_or(0))
    }
}

/// The newer of a fetched and a live summary (by version: every change of a conversation makes
/// a higher one).
pub(super) fn newest(fetched: ConversationSummary, live: Option<&ConversationSummary>) -> ConversationSummary {
    match live {
        Some(l) if !fetched.newer_than(Some(l)) => l.clone(),
        _ => fetched,
    }
}

/// Keeps a live summary unless the list already holds a newer one of its conversation.
fn keep_newest(m: &mut HashMap<String, ConversationSummary>, summary: ConversationSummary) {
    if summary.newer_than(m.get(&summary.id)) {
        m.insert(summary.id.clone(), summary);
    }
}

/// What a dashboard page reads before it renders: the user and (unless they are sent elsewhere)
/// the list's first page and the conversation its address opens. One resource, created with the
/// page and awaited once in a `Suspend`; no resource is created inside the `<Suspense>`'s
/// children (the open conversation had its own there), as Leptos advises (leptos-rs/leptos#4866:
/// children are built again while a `<Suspense>` checks that it is done, each time with new
/// resources). Before pages were rendered on a thread of their own, every further resource or
/// reader of one under the page's `<Suspense>` made server-side rendering likelier to deadlock
/// (leptos-rs/leptos#4673).
type PageData<T> = Result<Option<(UserDto, Option<T>)>, crate::error::AppError>;
type FirstPage = Result<domain::inbox::ConversationPage, crate::error::AppError>;
/// The conversation the page's address opens (`/conversations/:id`), read with the page: its id
/// and what reading it answered.
type Opened = Option<(String, Result<ConversationDetail, crate::error::AppError>)>;

/// The organization's labels, read with an organization's dashboard (a read that failed shows
/// no labels rather than no dashboard: the list and the conversation do not need them).
type OrgLabels = Vec<domain::labels::LabelDto>;

/// Reads the conversation `id` opens, if any (for [`PageData`]).
async fn read_opened(id: Option<String>) -> Opened {
    let id = id?;
    let detail = get_conversation(id.clone()).await;
    Some((id, detail))
}

#[component]
pub fn DashboardPage() -> impl IntoView {
    let filter = inbox::Inbox::filter_in_address();
    let label = inbox::Inbox::label_in_address();
    let opens = use_params_map().read_untracked().get("id");
    let page = Resource::new(
        || (),
        move |_| {
            let (filter, label, opens) = (filter.get_untracked(), label.get_untracked(), opens.clone());
            async move {
                let Some(user) = current_user().await? else { return Ok(None) };
                if user.is_admin_without_org() {
                    return Ok(Some((user, None)));
                }
                let first = list_conversation_page(filter, label, None, None).await;
                let labels: OrgLabels = list_labels().await.unwrap_or_default();
                PageData::<(FirstPage, Opened, OrgLabels)>::Ok(Some((
                    user,
                    Some((first, read_opened(opens).await, labels)),
                )))
            }
        },
    );
    view! {
        <Title text="Handoff"/>
        <Suspense fallback=|| view! { <main class="page-message">"Loading…"</main> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(Some((user, Some((first, opened, labels))))) => view! { <Dashboard user ai_agent=None first opened labels=Some(labels)/> }.into_any(),
                    Ok(Some((_, None))) => view! { <Redirect path="/admin"/> }.into_any(),
                    Ok(None) => view! { <Redirect path="/login"/> }.into_any(),
                    Err(e) => view! { <main class="page-message"><p class="form-error">{e.to_string()}</p></main> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The AI agent whose conversations a platform admin handles: (id, name).
type AiAgentTab = Option<(String, String)>;

/// What differs between an organization's dashboard and an admin's AI agent tab.
struct Scope {
    /// Where conversations open: `{base}/{id}`.
    base: String,
    socket_path: String,
    /// The navigation entry the page belongs to.
    nav: &'static str,
    empty: &'static str,
    /// The bell and notifications are an organization's: an admin's tab has none.
    with_bell: bool,
}

impl Scope {
    fn of(ai_agent: Option<&str>) -> Self {
        match ai_agent {
            Some(a) => Scope {
                base: format!("/admin/agents/{a}/conversations"),
                socket_path: format!("/ws/agent?ai_agent={a}"),
                nav: "/admin",
                empty: "No conversations with this AI agent yet.",
                with_bell: false,
            },
            None => Scope {
                base: "/conversations".into(),
                socket_path: "/ws/agent".into(),
                nav: "/conversations",
                empty: "No conversations yet. Open the demo page and say hello.",
                with_bell: true,
            },
        }
    }
}

/// A platform admin's conversations tab of one AI agent: the same live list, marks, ring, toasts
/// and buttons as the client dashboard, over every conversation the agent answers. Handling a
/// chat here is done in the admin's own name.
#[component]
pub fn AiAgentConversationsPage() -> impl IntoView {
    let params = use_params_map();
    let agent_id = params.read_untracked().get("agent").unwrap_or_default();
    let opens = params.read_untracked().get("id");
    let filter = inbox::Inbox::filter_in_address();
    let page = Resource::new(
        || (),
        move |_| {
            // Labels are an organization's: the tab spans organizations and has none.
            let (agent_id, filter, opens) = (agent_id.clone(), filter.get_untracked(), opens.clone());
            async move {
                let Some(user) = current_user().await? else { return Ok(None) };
                if !user.is_admin {
                    return Ok(Some((user, None)));
                }
                let Some(agent) = list_agent_entries().await?.into_iter().find(|a| a.id == agent_id) else {
                    return Ok(Some((user, None)));
                };
                let first = list_conversation_page(filter, None, None, Some(agent.id.clone())).await;
                let opened = read_opened(opens).await;
                PageData::<((String, String), FirstPage, Opened)>::Ok(Some((
                    user,
                    Some(((agent.id, agent.name), first, opened)),
                )))
            }
        },
    );
    view! {
        <Title text="Conversations · Admin · Handoff"/>
        <Suspense fallback=|| view! { <main class="page-message">"Loading…"</main> }>
            {move || Suspend::new(async move { match page.await {
                Ok(Some((user, Some((agent, first, opened))))) => view! { <Dashboard user ai_agent=Some(agent) first opened labels=None/> }.into_any(),
                Ok(Some((user, None))) if user.is_admin => view! {
                    <main class="page-message"><h1>"No such AI agent"</h1><a href="/admin">"Back to Admin"</a></main>
                }.into_any(),
                Ok(Some(_)) => view! {
                    <main class="page-message"><p>"Only platform admins can see this page."</p></main>
                }.into_any(),
                Ok(None) => view! { <Redirect path="/login"/> }.into_any(),
                Err(e) => view! { <main class="page-message"><p class="form-error">{e.to_string()}</p></main> }.into_any(),
            }})}
        </Suspense>
    }
}

#[component]
fn Dashboard(
    user: UserDto,
    ai_agent: AiAgentTab,
    first: FirstPage,
    opened: Opened,
    /// The organization's labels (`None`: a dashboard without labels, an admin's AI agent tab).
    labels: Option<OrgLabels>,
) -> impl IntoView {
    let params = use_params_map();
    let selected = Memo::new(move |_| params.read().get("id"));
    let agent_id = ai_agent.as_ref().map(|(id, _)| id.clone());
    let Scope { base, socket_path, nav, empty, with_bell } = Scope::of(agent_id.as_deref());
    let inbox = inbox::Inbox::new(agent_id.clone(), first);
    let labels = labels::Labels::new(labels);
    // The conversation read with the page, for its first view (see `ConversationView`).
    let opened = StoredValue::new(opened);
    let live = Live {
        summaries: RwSignal::new(HashMap::new()),
        messages: RwSignal::new(HashMap::new()),
        typing: RwSignal::new(None),
        now: RwSignal::new(now_ms()),
        context_bumps: Bumps::new(),
        notes_bumps: Bumps::new(),
        typing_hints: typing::Typing::new(),
        seen: seen::SeenMarks::new(),
        socket: socket_slot(),
    };
    let connected = RwSignal::new(false);
    let socket = live.socket;
    let bell_version = RwSignal::new(0u64);
    // E-mail forms that arrived while the dashboard is open: corner toasts (see RequestAlerts).
    let mail_toasts = RwSignal::new(Vec::<domain::wire::NotificationDto>::new());

    // Browser only: the clock for relative times, and the live socket.
    Effect::new(move |_| {
        every(5_000, move || live.now.set(now_ms()));
        live.seen.follow_page();
        let sock = LiveSocket::open(
            &socket_path,
            move |s| {
                if let Some(id) = selected.get_untracked() {
                    // Whatever the visitor did before the socket watched it (while away, or since
                    // the page was rendered).
                    live.context_bumps.bump(&id);
                    live.notes_bumps.bump(&id);
                    s.send(&AgentFrame::Watch { last_seq: live.max_seq(&id), conversation_id: id });
                }
                live.seen.socket_opened();
                inbox.reload(); // whatever changed while we were away
                bell_version.update(|v| *v += 1);
            },
            move |frame| match frame {
                // The changed conversations (coalesced by the server, newest state of each).
                ServerFrame::Conversations { summaries } => live.summaries.update(|m| {
                    for summary in summaries {
                        keep_newest(m, summary);
                    }
                }),
                ServerFrame::Conversation { summary } => live.summaries.update(|m| keep_newest(m, summary)),
                ServerFrame::Counts { counts } => inbox.set_counts(counts),
                ServerFrame::Message { message } => {
                    if live.typing.get_untracked().as_deref() == Some(message.conversation_id.as_str()) {
                        live.typing.set(None);
                    }
                    match message.author {
                        Author::Visitor => live.typing_hints.visitor.clear(&message.conversation_id),
                        Author::Agent { .. } => live.typing_hints.holder.clear(&message.conversation_id),
                        _ => {}
                    }
                    live.messages.update(|m| {
                        m.entry(message.conversation_id.clone()).or_default().insert(message.seq, message);
                    })
                }
                ServerFrame::VisitorTyping { conversation_id, preview } => {
                    live.typing_hints.visitor.show(conversation_id, preview)
                }
                ServerFrame::HumanTyping { conversation_id, agent } => {
                    live.typing_hints.holder.show(conversation_id, agent)
                }
                ServerFrame::VisitorSeen { conversation_id, seq } => live.seen.visitor_saw(conversation_id, seq),
                // A message changed in place (an e-mail reply's delivery): replace it by seq.
                ServerFrame::MessageUpdated { message } => live.messages.update(|m| {
                    m.entry(message.conversation_id.clone()).or_default().insert(message.seq, message);
                }),
                ServerFrame::Typing { conversation_id } | ServerFrame::Draft { conversation_id, .. } => {
                    live.typing.set(Some(conversation_id))
                }
                ServerFrame::Notifications => bell_version.update(|v| *v += 1),
                ServerFrame::VisitorContext { conversation_id } => live.context_bumps.bump(&conversation_id),
                ServerFrame::NotesChanged { conversation_id } => live.notes_bumps.bump(&conversation_id),
                ServerFrame::LabelsChanged => labels.reload(),
                ServerFrame::DraftEnd { conversation_id }
                    if live.typing.get_untracked().as_deref() == Some(conversation_id.as_str()) =>
                {
                    live.typing.set(None)
                }
                // Only the typing hint: the list's state comes with the conversation's summary
                // (sent at once for a state change); a `State` frame carries no version, so a
                // late one could overwrite a newer state.
                ServerFrame::State { conversation_id, state }
                    if state != HandoffState::Ai
                        && live.typing.get_untracked().as_deref() == Some(conversation_id.as_str()) =>
                {
                    live.typing.set(None)
                }
                _ => {}
            },
            move |ok| connected.set(ok),
        );
        socket.set_value(Some(sock));
    });
    on_cleanup(move || {
        socket.with_value(|s| {
            if let Some(s) = s {
                s.close()
            }
        })
    });

    // Watch the open conversation (and stop watching the previous one).
    Effect::new(move |prev: Option<Option<String>>| {
        let cur = selected.get();
        socket.with_value(|s| {
            if let Some(s) = s {
                if let Some(Some(p)) = &prev {
                    s.send(&AgentFrame::Unwatch { conversation_id: p.clone() });
                }
                if let Some(c) = &cur {
                    s.send(&AgentFrame::Watch { conversation_id: c.clone(), last_seq: live.max_seq(c) });
                }
            }
        });
        // Opening a conversation reads its notifications.
        if let (true, Some(c)) = (with_bell, cur.clone()) {
            leptos::task::spawn_local(async move {
                if read_all_notifications(Some(c)).await.is_ok() {
                    bell_version.update(|v| *v += 1);
                }
            });
        }
        cur
    });

    // Every conversation known here (read or live), each in its newest summary, computed once
    // per change for its three readers.
    let known = Memo::new(move |_| {
        let mut m: HashMap<String, ConversationSummary> = HashMap::new();
        for s in inbox.rows() {
            keep_newest(&mut m, s);
        }
        live.summaries.with(|l| {
            for s in l.values() {
                keep_newest(&mut m, s.clone());
            }
        });
        m
    });
    // A label made since the page was read: read the labels again (browser only).
    Effect::new(move |_| known.with(|m| labels.learn(m.values())));
    // The list: the known conversations the filter (and label) holds, requests on top.
    let me = user.id.clone();
    let conversations = Signal::derive(move || {
        let (filter, label) = (inbox.filter.get(), inbox.label.get());
        let mut v: Vec<ConversationSummary> = known.with(|m| {
            m.values()
                .filter(|s| filter.contains(&s.state, &me))
                .filter(|s| label.as_ref().is_none_or(|l| s.labels.contains(l)))
                .cloned()
                .collect()
        });
        list::list_order(&mut v);
        v
    });
    // Alerts and the title count are browser-only UI. They read the list outside a <Suspense>, so
    // they start after hydration: SSR (no data yet) and hydration (data) would disagree otherwise.
    let mounted = RwSignal::new(false);
    Effect::new(move |_| mounted.set(true));
    let requested = Signal::derive(move || {
        if !mounted.get() {
            return Vec::new();
        }
        let mut v: Vec<ConversationSummary> =
            known.with(|m| m.values().filter(|c| c.state == HandoffState::Requested).cloned().collect());
        list::list_order(&mut v);
        v
    });
    // The page's title is written into the document's head after the page's body has been
    // rendered on the server, when this page's signals may already be gone: read it softly.
    let waiting = move || requested.try_with(Vec::len).unwrap_or(0);
    let me_id = user.id.clone();
    let can_settings = user.can_settings;
    // Canned responses are the organization's: not in an AI agent's conversations tab.
    let canned = (ai_agent.is_none() && user.org_name.is_some()).then(|| canned::Canned::new(&user));

    view! {
        <Title text=move || match waiting() { 0 => "Handoff".to_string(), n => format!("({n}) Handoff") }/>
        <div class="dash" class:has-selected=move || selected.get().is_some()>
            <TopBar user=user.clone() current=nav>
                {ai_agent.clone().map(|(_, name)| view! {
                    <span class="tab-scope"><a href="/admin">"Admin"</a>" › "<strong>{name}</strong>" · conversations"</span>
                })}
                <span class="conn" class:online=move || connected.get()>
                    {move || if connected.get() { "live" } else { "connecting…" }}
                </span>
                {with_bell.then(|| view! { <Bell version=bell_version now=live.now mail_toasts/> })}
            </TopBar>
            <ConversationList conversations selected live inbox labels base=base.clone() empty/>
            <RequestAlerts requested now=live.now mail=mail_toasts base=base.clone()/>
            <shortcuts::Shortcuts/>
            <section class="conv-view">
                {move || match selected.get() {
                    Some(id) => {
                        let read = opened.try_with_value(|o| o.as_ref().filter(|(o, _)| *o == id).map(|(_, d)| d.clone())).flatten();
                        view! { <ConversationView id read opened live labels me_id=me_id.clone() can_settings canned back=base.clone()/> }.into_any()
                    }
                    None => view! { <p class="muted pad">"Select a conversation."</p> }.into_any(),
                }}
            </section>
        </div>
    }
}
