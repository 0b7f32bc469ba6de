//! The agents' dashboard: the live conversation list and the open conversation with the handoff
//! buttons and the composer. Server-rendered from server functions, then kept live by the
//! `/ws/agent` socket (list summaries for the whole organization, messages of the open
//! conversation from the last sequence number seen). A conversation with a visitor's e-mail form
//! gets a "Reply by e-mail" box; e-mail replies' delivery status arrives as `MessageUpdated`.
use crate::api::auth::current_user;
use crate::api::chat::{
    get_conversation, list_conversations, CloseConversation, ContinueChat, HandleChat, PassChatToAi, SendMessage,
};
use crate::api::email::SendEmailReply;
use crate::api::notifications::read_all_notifications;
use crate::components::alerts::RequestAlerts;
use crate::components::bell::Bell;
use crate::components::topbar::TopBar;
use crate::components::transcript::{Perspective, Transcript};
use crate::error::AppError;
use crate::live::{socket_slot, LiveSocket};
use crate::util::{client_msg_id, follow_bottom, now_ms, relative_time};
use domain::handoff::HandoffState;
use domain::wire::{AgentFrame, ConversationSummary, MessageDto, MessageExtra, ServerFrame, UserDto};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_params_map;
use std::collections::{BTreeMap, HashMap};

/// Live state shared by the list and the open conversation.
#[derive(Clone, Copy)]
struct Live {
    summaries: RwSignal<HashMap<String, ConversationSummary>>,
    messages: RwSignal<HashMap<String, BTreeMap<i64, MessageDto>>>,
    typing: RwSignal<Option<String>>,
    now: RwSignal<i64>,
}

impl Live {
    fn max_seq(&self, conversation_id: &str) -> i64 {
        self.messages
            .with_untracked(|m| m.get(conversation_id).and_then(|b| b.keys().next_back().copied()).unwrap_or(0))
    }
}

fn state_label(state: &HandoffState) -> String {
    match state {
        HandoffState::Ai => "AI".into(),
        HandoffState::Requested => "Requested".into(),
        HandoffState::Human { agent } => agent.name.clone(),
        HandoffState::Closed => "Closed".into(),
    }
}

/// The newer of a fetched and a live summary.
fn newest(fetched: ConversationSummary, live: Option<&ConversationSummary>) -> ConversationSummary {
    match live {
        Some(l) if (l.last_activity, l.last_seq) >= (fetched.last_activity, fetched.last_seq) => l.clone(),
        _ => fetched,
    }
}

#[component]
pub fn DashboardPage() -> impl IntoView {
    let me = Resource::new(|| (), |_| current_user());
    view! {
        <Title text="Handoff"/>
        <Suspense fallback=|| view! { <main class="page-message">"Loading…"</main> }>
            {move || me.get().map(|r| match r {
                Ok(Some(user)) => view! { <Dashboard user/> }.into_any(),
                Ok(None) => view! { <Redirect path="/login"/> }.into_any(),
                Err(e) => view! { <main class="page-message"><p class="form-error">{e.to_string()}</p></main> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn Dashboard(user: UserDto) -> impl IntoView {
    let params = use_params_map();
    let selected = Memo::new(move |_| params.read().get("id"));
    let list = Resource::new(|| (), |_| list_conversations());
    let live = Live {
        summaries: RwSignal::new(HashMap::new()),
        messages: RwSignal::new(HashMap::new()),
        typing: RwSignal::new(None),
        now: RwSignal::new(now_ms()),
    };
    let connected = RwSignal::new(false);
    let socket = socket_slot();
    let bell_version = RwSignal::new(0u64);
    // E-mail forms that arrived while the dashboard is open: corner toasts (see RequestAlerts).
    let mail_toasts = RwSignal::new(Vec::<domain::wire::NotificationDto>::new());

    // Browser only: the clock for relative times, and the live socket.
    Effect::new(move |_| {
        #[cfg(feature = "browser")]
        gloo_timers::callback::Interval::new(5_000, move || live.now.set(now_ms())).forget();
        let sock = LiveSocket::open(
            "/ws/agent",
            move |s| {
                if let Some(id) = selected.get_untracked() {
                    s.send(&AgentFrame::Watch { last_seq: live.max_seq(&id), conversation_id: id });
                }
                list.refetch(); // whatever changed while we were away
                bell_version.update(|v| *v += 1);
            },
            move |frame| match frame {
                ServerFrame::Conversation { summary } => live.summaries.update(|m| {
                    m.insert(summary.id.clone(), summary);
                }),
                ServerFrame::Message { message } => {
                    if live.typing.get_untracked().as_deref() == Some(message.conversation_id.as_str()) {
                        live.typing.set(None);
                    }
                    live.messages.update(|m| {
                        m.entry(message.conversation_id.clone()).or_default().insert(message.seq, message);
                    })
                }
                // A message changed in place (an e-mail reply's delivery): replace it by seq.
                ServerFrame::MessageUpdated { message } => live.messages.update(|m| {
                    m.entry(message.conversation_id.clone()).or_default().insert(message.seq, message);
                }),
                ServerFrame::Typing { conversation_id } | ServerFrame::Draft { conversation_id, .. } => {
                    live.typing.set(Some(conversation_id))
                }
                ServerFrame::Notifications => bell_version.update(|v| *v += 1),
                ServerFrame::DraftEnd { conversation_id }
                    if live.typing.get_untracked().as_deref() == Some(conversation_id.as_str()) =>
                {
                    live.typing.set(None)
                }
                ServerFrame::State { conversation_id, state } => {
                    if state != HandoffState::Ai
                        && live.typing.get_untracked().as_deref() == Some(conversation_id.as_str())
                    {
                        live.typing.set(None);
                    }
                    live.summaries.update(|m| {
                        if let Some(s) = m.get_mut(&conversation_id) {
                            s.state = state;
                        }
                    })
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
        if let Some(c) = cur.clone() {
            leptos::task::spawn_local(async move {
                if read_all_notifications(Some(c)).await.is_ok() {
                    bell_version.update(|v| *v += 1);
                }
            });
        }
        cur
    });

    let conversations = move || {
        let live_map = live.summaries.get();
        let mut v: Vec<ConversationSummary> = list
            .get()
            .and_then(Result::ok)
            .unwrap_or_default()
            .into_iter()
            .map(|s| {
                let l = live_map.get(&s.id);
                newest(s, l)
            })
            .collect();
        for l in live_map.values() {
            if !v.iter().any(|s| s.id == l.id) {
                v.push(l.clone());
            }
        }
        v.sort_by_key(|c| std::cmp::Reverse(c.last_activity));
        v
    };
    // Alerts and the title count are browser-only UI. They read the list outside a <Suspense>, so
    // they start after hydration: SSR (no data yet) and hydration (data) would disagree otherwise.
    let mounted = RwSignal::new(false);
    Effect::new(move |_| mounted.set(true));
    let requested = Signal::derive(move || {
        if !mounted.get() {
            return Vec::new();
        }
        conversations().into_iter().filter(|c| c.state == HandoffState::Requested).collect::<Vec<_>>()
    });
    let waiting = move || requested.with(Vec::len);
    let me_id = user.id.clone();

    view! {
        <Title text=move || match waiting() { 0 => "Handoff".to_string(), n => format!("({n}) Handoff") }/>
        <div class="dash">
            <TopBar user=user.clone() current="/conversations">
                <span class="conn" class:online=move || connected.get()>
                    {move || if connected.get() { "live" } else { "connecting…" }}
                </span>
                <Bell version=bell_version now=live.now mail_toasts/>
            </TopBar>
            <aside class="conv-list" aria-label="Conversations">
                <Transition fallback=|| view! { <p class="muted pad">"Loading conversations…"</p> }>
                    {move || {
                        let items = conversations();
                        if items.is_empty() {
                            return view! { <p class="muted pad">"No conversations yet. Open the demo page and say hello."</p> }.into_any();
                        }
                        view! {
                            <ul>
                                {items.into_iter().map(|c| {
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
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    }}
                </Transition>
            </aside>
            <RequestAlerts requested now=live.now mail=mail_toasts/>
            <section class="conv-view">
                {move || match selected.get() {
                    Some(id) => view! { <ConversationView id live me_id=me_id.clone()/> }.into_any(),
                    None => view! { <p class="muted pad">"Select a conversation."</p> }.into_any(),
                }}
            </section>
        </div>
    }
}

#[component]
fn ConversationView(id: String, live: Live, me_id: String) -> impl IntoView {
    let detail = {
        let id = id.clone();
        Resource::new(move || id.clone(), get_conversation)
    };
    let handle = ServerAction::<HandleChat>::new();
    let take = ServerAction::<ContinueChat>::new();
    let pass = ServerAction::<PassChatToAi>::new();
    let close = ServerAction::<CloseConversation>::new();
    let send = ServerAction::<SendMessage>::new();
    let draft = RwSignal::new(String::new());
    // The message being sent: a retry of the same text keeps its client id (stored once).
    let outgoing = RwSignal::new(None::<(String, String)>);
    let notice = RwSignal::new(None::<String>);

    let cid = id.clone();
    let summary = move || {
        let fetched = detail.get().and_then(Result::ok).map(|d| d.summary);
        let l = live.summaries.with(|m| m.get(&cid).cloned());
        match (fetched, l) {
            (Some(f), l) => Some(newest(f, l.as_ref())),
            (None, l) => l,
        }
    };
    let cid = id.clone();
    let messages = Signal::derive(move || {
        let mut all: BTreeMap<i64, MessageDto> = BTreeMap::new();
        if let Some(Ok(d)) = detail.get() {
            all.extend(d.messages.into_iter().map(|m| (m.seq, m)));
        }
        live.messages.with(|m| {
            if let Some(b) = m.get(&cid) {
                all.extend(b.iter().map(|(k, v)| (*k, v.clone())));
            }
        });
        all.into_values().collect::<Vec<_>>()
    });
    let visitor_name = Signal::derive({
        let summary = summary.clone();
        move || summary().map(|s| s.visitor_name).unwrap_or_default()
    });

    // Show the outcome of the buttons; a refusal names who was faster.
    Effect::new(move |_| {
        for r in [handle.value().get(), take.value().get(), pass.value().get(), close.value().get()] {
            match r {
                Some(Err(e)) => notice.set(Some(e.to_string())),
                Some(Ok(_)) => notice.set(None),
                None => {}
            }
        }
    });
    // Someone else took the request while it was open here (their click was first, or ours
    // never left because the button went away): say who.
    {
        let summary = summary.clone();
        let me = me_id.clone();
        Effect::new(move |prev: Option<Option<HandoffState>>| {
            let state = summary().map(|s| s.state);
            if let (Some(Some(HandoffState::Requested)), Some(HandoffState::Human { agent })) = (&prev, &state) {
                if agent.id != me {
                    notice.set(Some(format!("This chat was already taken by {}.", agent.name)));
                }
            }
            state
        });
    }
    Effect::new(move |_| match send.value().get() {
        Some(Ok(m)) => {
            if outgoing.get_untracked().map(|(id, _)| Some(id) == m.client_msg_id).unwrap_or(false) {
                outgoing.set(None);
                draft.set(String::new());
            }
            live.messages.update(|all| {
                all.entry(m.conversation_id.clone()).or_default().insert(m.seq, m);
            });
        }
        Some(Err(e)) => notice.set(Some(e.to_string())),
        None => {}
    });

    let cid = id.clone();
    let submit = move || {
        let text = draft.get_untracked();
        if text.trim().is_empty() {
            return;
        }
        let client_id = match outgoing.get_untracked() {
            Some((cid, t)) if t == text => cid,
            _ => client_msg_id(),
        };
        outgoing.set(Some((client_id.clone(), text.clone())));
        send.dispatch(SendMessage { id: cid.clone(), client_msg_id: client_id, text });
    };
    let submit_key = submit.clone();

    let buttons = {
        let id = id.clone();
        let summary = summary.clone();
        let me_id = me_id.clone();
        move || {
            let s = summary()?;
            let id = id.clone();
            Some(match s.state {
                HandoffState::Requested => view! {
                    <button class="btn primary" on:click=move |_| { handle.dispatch(HandleChat { id: id.clone() }); }>"Handle chat"</button>
                }.into_any(),
                HandoffState::Ai => view! {
                    <button class="btn" on:click=move |_| { take.dispatch(ContinueChat { id: id.clone() }); }>"Continue chat yourself"</button>
                }.into_any(),
                HandoffState::Human { agent } if agent.id == me_id => {
                    let id2 = id.clone();
                    view! {
                        <button class="btn" on:click=move |_| { pass.dispatch(PassChatToAi { id: id.clone() }); }>"Pass chat to AI"</button>
                        <button class="btn subtle" on:click=move |_| { close.dispatch(CloseConversation { id: id2.clone() }); }>"Close"</button>
                    }.into_any()
                }
                HandoffState::Human { agent } => view! { <span class="muted">{format!("{} is handling this chat", agent.name)}</span> }.into_any(),
                HandoffState::Closed => view! { <span class="muted">"Closed"</span> }.into_any(),
            })
        }
    };
    let i_hold = {
        let summary = summary.clone();
        let me = me_id.clone();
        move || matches!(summary().map(|s| s.state), Some(HandoffState::Human { agent }) if agent.id == me)
    };
    let cid = id.clone();
    let typing = move || live.typing.get().as_deref() == Some(cid.as_str());
    let scroller = NodeRef::<leptos::html::Div>::new();
    follow_bottom(scroller, move || {
        messages.track();
        live.typing.track();
    });

    view! {
        <Transition fallback=|| view! { <p class="muted pad">"Loading…"</p> }>
            {move || detail.get().map(|r| r.err().map(|e| view! { <p class="form-error pad">{e.to_string()}</p> }))}
            <header class="conv-head">
                <div>
                    <h2>{move || visitor_name.get()}</h2>
                    <span class="muted">{
                        let summary = summary.clone();
                        move || summary().map(|s| match s.state {
                            HandoffState::Ai => "The AI is answering".to_string(),
                            HandoffState::Requested => format!("Waiting for a human since {}", relative_time(s.state_since, live.now.get())),
                            HandoffState::Human { agent } => format!("{} holds this chat", agent.name),
                            HandoffState::Closed => "Closed".to_string(),
                        })
                    }</span>
                </div>
                <div class="actions">{buttons}</div>
            </header>
            {move || notice.get().map(|n| view! { <p class="notice" role="alert">{n}</p> })}
            <div class="conv-scroll" node_ref=scroller>
                <Transcript messages perspective=Perspective::Agent ai_name=Signal::stored("Assistant".to_string()) visitor_name/>
                {move || typing().then(|| view! { <p class="typing muted">"The AI is typing…"</p> })}
            </div>
            <EmailReplyBox id=id.clone() messages live/>
            <Show when=i_hold.clone() fallback=|| view! { <p class="composer-hint muted">"Take the chat to reply."</p> }>
                <form class="composer" on:submit={
                    let submit = submit.clone();
                    move |ev| { ev.prevent_default(); submit(); }
                }>
                    <textarea
                        name="text" rows="2" placeholder="Write a reply…" aria-label="Reply"
                        prop:value=move || draft.get()
                        on:input=move |ev| draft.set(event_target_value(&ev))
                        on:keydown={
                            let submit = submit_key.clone();
                            move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Enter" && !ev.shift_key() { ev.prevent_default(); submit(); }
                        }
                    ></textarea>
                    <button type="submit" class="btn primary" disabled=move || send.pending().get()>"Send"</button>
                </form>
            </Show>
        </Transition>
    }
}

/// "Reply by e-mail": answers the conversation's newest e-mail form. Holding the chat is not
/// needed. A retry of the same text keeps its client id, so it is stored and mailed once; the
/// reply joins the thread by seq (from the answer or the live frame, whichever comes first).
#[component]
fn EmailReplyBox(id: String, messages: Signal<Vec<MessageDto>>, live: Live) -> impl IntoView {
    let latest_form = Memo::new(move |_| {
        messages.with(|ms| {
            ms.iter().rev().find_map(|m| match &m.extra {
                MessageExtra::EmailForm { email, .. } => Some((m.seq, email.clone())),
                _ => None,
            })
        })
    });
    let send = ServerAction::<SendEmailReply>::new();
    let draft = RwSignal::new(String::new());
    let outgoing = RwSignal::new(None::<(String, String)>);
    // The last refusal: the field it is about (if any) and why.
    let refusal = RwSignal::new(None::<(Option<String>, String)>);
    let sent = RwSignal::new(false);

    Effect::new(move |_| match send.value().get() {
        Some(Ok(m)) => {
            if outgoing.get_untracked().is_some_and(|(id, _)| Some(id) == m.client_msg_id) {
                outgoing.set(None);
                draft.set(String::new());
            }
            refusal.set(None);
            sent.set(true);
            // A delivery update may have come in meanwhile: never replace a newer copy.
            live.messages.update(|all| {
                all.entry(m.conversation_id.clone()).or_default().entry(m.seq).or_insert(m);
            });
        }
        Some(Err(AppError::Field { field, message })) => refusal.set(Some((Some(field), message))),
        Some(Err(e)) => refusal.set(Some((None, e.to_string()))),
        None => {}
    });

    let submit = move || {
        let Some((form_seq, _)) = latest_form.get_untracked() else { return };
        let text = draft.get_untracked();
        if text.trim().is_empty() {
            refusal.set(Some((Some("text".into()), "write your answer first".into())));
            return;
        }
        let client_msg_id = match outgoing.get_untracked() {
            Some((cid, t)) if t == text => cid,
            _ => client_msg_id(),
        };
        outgoing.set(Some((client_msg_id.clone(), text.clone())));
        refusal.set(None);
        sent.set(false);
        send.dispatch(SendEmailReply { conversation_id: id.clone(), form_seq, client_msg_id, text });
    };
    let field_error = move || {
        refusal
            .get()
            .filter(|(f, _)| f.as_deref() == Some("text"))
            .map(|(_, m)| view! { <span class="field-error" role="alert" data-field="text">{m}</span> })
    };
    let other_error = move || {
        refusal
            .get()
            .filter(|(f, _)| f.as_deref() != Some("text"))
            .map(|(_, m)| view! { <p class="form-error" role="alert">{m}</p> })
    };

    move || {
        let submit = submit.clone();
        latest_form.get().map(|(_, email)| {
            view! {
                <form class="email-reply-box" on:submit=move |ev| { ev.prevent_default(); submit(); }>
                    <div class="email-reply-head">
                        <strong>"Reply by e-mail"</strong>
                        <span class="muted small">{format!("to {email}")}</span>
                    </div>
                    <textarea name="email_reply" rows="3" aria-label="E-mail answer"
                        placeholder="Write the answer the visitor gets by e-mail…"
                        prop:value=move || draft.get()
                        on:input=move |ev| { draft.set(event_target_value(&ev)); sent.set(false); }></textarea>
                    {field_error}
                    {other_error}
                    <div class="email-reply-actions">
                        <button type="submit" class="btn primary" disabled=move || send.pending().get()>
                            {move || if send.pending().get() { "Sending…" } else { "Send by e-mail" }}
                        </button>
                        {move || sent.get().then(|| view! { <span class="form-ok small" role="status">"Handed to the outbox; the thread shows its delivery."</span> })}
                    </div>
                </form>
            }
        })
    }
}
