//! The visitor's chat widget: its own small WASM bundle, mounted by the `/widget/:id` page that
//! the embed script opens in an iframe (the server writes that page; see `server/src/widget.rs`).
//! It is rendered in the browser only, so it carries no router, no dashboard and no hydration
//! data; the transcript, the e-mail form and the socket are shared with the dashboard (`app`).
//!
//! The visitor's
//! token lives in local storage, so a reload resumes the same conversation; messages not yet
//! acknowledged are resent after a reconnect with the same client id (stored once).
//!
//! When nobody answers a request in time the server appends an e-mail offer; the widget then
//! shows the "send email" form ([`EmailForm`]) until the visitor sends or closes it. While a
//! request waits, the visitor can also open the form themselves.
use app::api::widget::start_visitor_session;
use app::components::email_form::{EmailForm, ACCEPT};
use app::components::icons::{Icon, IconKind};
use app::components::transcript::{Perspective, Transcript};
use app::live::{socket_slot, LiveSocket};
use app::util::{client_msg_id, follow_bottom, upsert_by_seq};
use domain::handoff::HandoffState;
use domain::seen::seen_mark;
use domain::values::MessageText;
use domain::visitor_context::CONTEXT_REFUSED;
use domain::wire::{Author, MessageDto, MessageExtra, ServerFrame, VisitorFrame, VisitorSession};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::prelude::wasm_bindgen;

std::thread_local! {
    /// The newest visitor context frame (see [`context`]), the chat's socket once there is one,
    /// and the visitor's token (see [`token`]).
    static CONTEXT: std::cell::RefCell<(String, Option<app::live::SocketSlot>, String)> = Default::default();
}

/// What the visitor's context panel shows (`VisitorFrame::Context`, see `domain::visitor_context`):
/// the `/widget/:id` page's script builds the frame — the customer page the embed script reports,
/// this browser's language, time zone and user agent — and calls this on mounting and on every
/// page report. It is sent at once and again after each reconnect. (Built in JavaScript: the
/// browser APIs it reads would cost the bundle more than the feature.) The server treats it as
/// any visitor input.
#[wasm_bindgen]
pub fn context(frame: String) {
    send(frame.clone());
    CONTEXT.with(|c| c.borrow_mut().0 = frame);
}

/// A frame the page's script wrote — the visitor typing (`VisitorFrame::Typing`, at most once a
/// second while the composer changes), the chat seen up to a message (`VisitorFrame::Seen`) —
/// sent if connected (whether it was), never again.
#[wasm_bindgen]
pub fn send(frame: String) -> bool {
    CONTEXT.with(|c| {
        let Some(socket) = c.borrow().1 else { return false };
        socket.with_value(|s| s.as_ref().is_some_and(|s| s.send_text(&frame)))
    })
}

/// The visitor's token as the chat holds it (the page's script asks for an ended chat's
/// transcript with it; local storage may be unavailable in a third-party frame).
#[wasm_bindgen]
pub fn token() -> String {
    CONTEXT.with(|c| c.borrow().2.clone())
}

/// The entry point the `/widget/:id` page calls once the bundle is loaded.
#[wasm_bindgen]
pub fn mount(widget_id: String) {
    leptos::mount::mount_to_body(move || view! { <Widget widget_id/> });
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn load_token(key: &str) -> Option<String> {
    storage()?.get_item(key).ok()?
}

fn save_token(key: &str, token: &str) {
    if let Some(s) = storage() {
        let _ = s.set_item(key, token);
    }
}

/// The whole chat of one widget: header, transcript, composer, e-mail form.
#[component]
pub fn Widget(widget_id: String) -> impl IntoView {
    let session = RwSignal::new(None::<VisitorSession>);
    // In sequence order.
    let messages = RwSignal::new(Vec::<MessageDto>::new());
    let state = RwSignal::new(HandoffState::Ai);
    // How far the human agent holding the chat has read it.
    let human_seen = RwSignal::new(0i64);
    let pending = RwSignal::new(Vec::<(String, String)>::new());
    // Who is typing: `Some("")` the AI, `Some(name)` the human agent holding the chat.
    let typing = RwSignal::new(None::<String>);
    // Counts human typing hints: a hint not followed by another within a few seconds is gone.
    let hints = RwSignal::new(0u32);
    let error = RwSignal::new(None::<String>);
    let connected = RwSignal::new(false);
    let draft = RwSignal::new(String::new());
    // The AI's reply while it streams in; replaced by the stored message.
    let ai_draft = RwSignal::new(None::<String>);
    let socket = socket_slot();
    CONTEXT.with(|c| c.borrow_mut().1 = Some(socket));

    let on_frame = move |frame: ServerFrame| match frame {
        ServerFrame::Welcome { state: s, conversation_id, human_seen_seq, .. } => {
            if messages.with_untracked(|m| m.first().is_some_and(|x| x.conversation_id != conversation_id)) {
                messages.set(Vec::new());
            }
            state.set(s);
            human_seen.set(human_seen_seq);
        }
        ServerFrame::HumanSeen { seq, .. } => human_seen.update(|h| *h = (*h).max(seq)),
        ServerFrame::Message { message } => {
            if message.author == Author::Visitor {
                pending.update(|p| p.retain(|(id, _)| Some(id) != message.client_msg_id.as_ref()));
            } else {
                typing.set(None);
                ai_draft.set(None);
            }
            messages.update(|m| upsert_by_seq(m, message));
        }
        // An e-mail reply's delivery status changed.
        ServerFrame::MessageUpdated { message } => messages.update(|m| upsert_by_seq(m, message)),
        ServerFrame::Ack { client_msg_id, .. } => pending.update(|p| p.retain(|(id, _)| *id != client_msg_id)),
        ServerFrame::State { state: s, .. } => {
            // Another holder has read nothing yet (the server resets the mark too).
            if s.holder().map(|a| &a.id) != state.with_untracked(|old| old.holder().map(|a| a.id.clone())).as_ref() {
                human_seen.set(0);
            }
            if s != HandoffState::Ai {
                typing.set(None);
                ai_draft.set(None);
            }
            state.set(s)
        }
        ServerFrame::Typing { .. } => typing.set(Some(String::new())),
        ServerFrame::HumanTyping { agent, .. } => {
            typing.set(Some(agent.name));
            hints.update(|h| *h += 1);
            let hint = hints.get_untracked();
            set_timeout(
                move || {
                    if hints.get_untracked() == hint {
                        typing.set(None);
                    }
                },
                std::time::Duration::from_secs(4),
            );
        }
        ServerFrame::Draft { text, .. } => {
            typing.set(None);
            ai_draft.set(Some(text));
        }
        ServerFrame::DraftEnd { .. } => ai_draft.set(None),
        // A refused page report: nothing the visitor could act on.
        ServerFrame::Error { code, .. } if code == CONTEXT_REFUSED => {}
        ServerFrame::Error { message, client_msg_id, .. } => {
            if let Some(id) = client_msg_id {
                pending.update(|p| p.retain(|(pid, _)| *pid != id));
            }
            error.set(Some(message));
        }
        _ => {}
    };

    // Browser only: resume or start the session, then connect.
    Effect::new(move |_| {
        let key = format!("handoff:visitor:{widget_id}");
        let wid = widget_id.clone();
        spawn_local(async move {
            match start_visitor_session(wid, load_token(&key)).await {
                Ok(s) => {
                    save_token(&key, &s.token);
                    CONTEXT.with(|c| c.borrow_mut().2 = s.token.clone());
                    let token = s.token.clone();
                    session.set(Some(s));
                    let sock = LiveSocket::open(
                        "/ws/visitor",
                        move |sock| {
                            let last_seq = messages.with_untracked(|m| m.last().map_or(0, |x| x.seq));
                            sock.send(&VisitorFrame::Hello { token: token.clone(), last_seq });
                            for (client_msg_id, text) in pending.get_untracked() {
                                sock.send(&VisitorFrame::Send { client_msg_id, text });
                            }
                            // After the messages: they matter more.
                            let context = CONTEXT.with(|c| c.borrow().0.clone());
                            if !context.is_empty() {
                                sock.send_text(&context);
                            }
                            // The page's script reports what was seen again (a report may have
                            // been lost with the old connection).
                            if let Some(w) = web_sys::window() {
                                let _ = w.post_message(&wasm_bindgen::JsValue::from_str("handoff:connected"), "*");
                            }
                        },
                        on_frame,
                        move |ok| connected.set(ok),
                    );
                    socket.set_value(Some(sock));
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    });
    on_cleanup(move || {
        socket.with_value(|s| {
            if let Some(s) = s {
                s.close()
            }
        })
    });

    let send = move || {
        let text = draft.get_untracked();
        match MessageText::parse(&text) {
            Err(e) => error.set(Some(e.to_string())),
            Ok(t) => {
                error.set(None);
                let id = client_msg_id();
                pending.update(|p| p.push((id.clone(), t.as_str().to_string())));
                socket.with_value(|s| {
                    if let Some(s) = s {
                        s.send(&VisitorFrame::Send { client_msg_id: id, text: t.into_inner() });
                    }
                });
                draft.set(String::new());
                tell_page("handoff:chatting");
            }
        }
    };
    let request_human = move |_| {
        socket.with_value(|s| {
            if let Some(s) = s {
                s.send(&VisitorFrame::RequestHuman);
            }
        });
    };

    let agent_name =
        Signal::derive(move || session.with(|s| s.as_ref().map(|s| s.widget.agent_name.clone()).unwrap_or_default()));
    let handoff = move || {
        session
            .with(|s| s.as_ref().map(|s| (s.widget.handoff_enabled, s.widget.handoff_fixed)).unwrap_or((false, false)))
    };
    let can_request = move || handoff().0 && state.get() == HandoffState::Ai;
    // The header always says who answers now: the AI by its name, or the person holding the chat.
    let who = move || match state.get() {
        HandoffState::Human { agent } => agent.name,
        _ if agent_name.get().is_empty() => "Chat".to_string(),
        _ => agent_name.get(),
    };
    let status = move || match state.get() {
        HandoffState::Ai => "AI assistant".to_string(),
        HandoffState::Requested => "Waiting for a human…".to_string(),
        HandoffState::Human { .. } => "A person from our team".to_string(),
        HandoffState::Closed => "This conversation is closed".to_string(),
    };
    // The e-mail form: open while the newest offer is unanswered (not sent, not closed), or
    // when the visitor asked for it.
    let form_wanted = RwSignal::new(false);
    // Offers up to this seq were answered or closed.
    let form_done_seq = RwSignal::new(0i64);
    // The address and seq of the form just sent: confirmed until the chat moves on.
    let sent_to = RwSignal::new(None::<(String, i64)>);
    let last_offer = Memo::new(move |_| {
        messages.with(|m| {
            let offer = m.iter().rev().find(|x| x.extra == MessageExtra::EmailOffer).map(|x| x.seq).unwrap_or(0);
            let form =
                m.iter().rev().find(|x| matches!(x.extra, MessageExtra::EmailForm { .. })).map(|x| x.seq).unwrap_or(0);
            (offer, form)
        })
    });
    let form_open = Memo::new(move |_| {
        let (offer, form) = last_offer.get();
        state.get() != HandoffState::Closed && (form_wanted.get() || (offer > form && offer > form_done_seq.get()))
    });
    // The e-mail form is on offer whenever handoff is (not only while a request waits).
    let can_email = move || handoff().0 && state.get() != HandoffState::Closed && !form_open.get();
    let open_form = move |_| {
        sent_to.set(None);
        form_wanted.set(true);
    };
    let menu_open = RwSignal::new(false);
    let composer = NodeRef::<leptos::html::Textarea>::new();
    keyboard(composer, menu_open);
    let token = Signal::derive(move || session.with(|s| s.as_ref().map(|s| s.token.clone()).unwrap_or_default()));
    let conversation = move || session.with(|s| s.as_ref().map(|s| s.conversation_id.clone()));
    let on_sent = Callback::new(move |(email, seq): (String, i64)| {
        form_done_seq.update(|d| *d = (*d).max(seq).max(last_offer.get_untracked().0));
        form_wanted.set(false);
        sent_to.set(Some((email, seq)));
    });
    let on_close = Callback::new(move |()| {
        form_done_seq.update(|d| *d = (*d).max(last_offer.get_untracked().0));
        form_wanted.set(false);
    });
    let send_key = send;
    // The address the visitor gave in their newest e-mail form (offered for the transcript).
    let known_email = move || {
        messages.with(|m| {
            m.iter().rev().find_map(|x| match &x.extra {
                MessageExtra::EmailForm { email, .. } => Some(email.clone()),
                _ => None,
            })
        })
    };
    let scroller = NodeRef::<leptos::html::Div>::new();
    follow_bottom(scroller, move || {
        messages.track();
        pending.track();
        typing.track();
        ai_draft.track();
        form_open.track();
        sent_to.track();
    });

    view! {
        <div class="widget">
            <header class="widget-head">
                <div class="widget-title">
                    <strong>{who}</strong>
                    <small class="widget-status">{status}</small>
                </div>
                <Show when=move || can_request() && !handoff().1>
                    <button class="btn small human-btn" on:click=request_human>"Talk to a human"</button>
                </Show>
                // Other ways to reach the team: a menu, not a permanent button taking the header.
                <Show when=can_email>
                    <div class="widget-menu">
                        <button class="menu-btn" type="button" aria-label="More options" aria-haspopup="menu"
                            aria-expanded=move || menu_open.get().to_string()
                            on:click=move |_| menu_open.update(|o| *o = !*o)>
                            <Icon kind=IconKind::More/>
                        </button>
                        <Show when=move || menu_open.get()>
                            <div class="menu" role="menu">
                                <button type="button" role="menuitem" on:click=move |ev| { menu_open.set(false); open_form(ev); }>
                                    "Send us an email"
                                </button>
                            </div>
                        </Show>
                    </div>
                </Show>
            </header>
            <Show when=move || handoff().0 && handoff().1>
                <div class="handoff-pinned">
                    {move || if can_request() {
                        view! {
                            <span>"Prefer a person?"</span>
                            <button class="btn small human-btn" on:click=request_human>"Talk to a human"</button>
                            <Show when=can_email>
                                <button class="link-btn email-link" type="button" on:click=open_form>"or send an email"</button>
                            </Show>
                        }.into_any()
                    } else {
                        view! {
                            <span>{status}</span>
                            <Show when=can_email>
                                <button class="link-btn email-link" type="button" on:click=open_form>"Send an email instead"</button>
                            </Show>
                        }.into_any()
                    }}
                </div>
            </Show>
            <div class="widget-messages" node_ref=scroller>
                {move || session.get().is_none().then(|| view! { <p class="muted pad">{move || error.get().unwrap_or_else(|| "Connecting…".into())}</p> })}
                <Transcript
                    messages=Signal::derive(move || messages.get())
                    perspective=Perspective::Visitor
                    ai_name=agent_name
                    visitor_name=Signal::stored("You".to_string())
                    seen=Memo::new(move |_| messages.with(|m| seen_mark(m, human_seen.get(), |a| *a == Author::Visitor)))
                    after=|_| ()
                />
                <ol class="transcript pending">
                    <For each=move || pending.get() key=|(id, _)| id.clone() let:p>
                        <li class="msg mine sending" data-author="visitor"><span class="msg-text">{p.1.clone()}</span></li>
                    </For>
                </ol>
                {move || ai_draft.get().map(|t| view! {
                    <ol class="transcript"><li class="msg streaming" data-author="ai" aria-live="polite"><span class="msg-text">{t}</span></li></ol>
                })}
                {move || typing.get().map(|who| view! { <p class="typing muted">{format!("{} is typing…", if who.is_empty() { agent_name.get() } else { who })}</p> })}
                <Show when=move || state.get() == HandoffState::Requested && can_email() && !handoff().1>
                    <p class="waiting-note">
                        "Everyone may be busy for a moment. "
                        <button class="link-btn email-link" type="button" on:click=open_form>"Send an email instead"</button>
                    </p>
                </Show>
                <Show when=move || form_open.get()>
                    <EmailForm token on_sent on_close/>
                </Show>
                {move || {
                    let (email, seq) = sent_to.get().filter(|_| !form_open.get())?;
                    let newest = messages.with(|m| m.last().map_or(0, |x| x.seq));
                    (newest <= seq).then(|| view! {
                        <p class="email-sent" role="status">{format!("We got your message — we'll answer by e-mail at {email}.")}</p>
                    })
                }}
            </div>
            {move || (session.get().is_some()).then(|| error.get()).flatten().map(|e| view! { <p class="form-error widget-error" role="alert">{e}</p> })}
            <Show
                when=move || state.get() != HandoffState::Closed
                fallback=move || view! {
                    // The page's script adds the offer of the transcript by e-mail here (for this
                    // conversation, with the address the visitor gave before, if any).
                    <div class="widget-ended" data-conversation=conversation data-email=known_email>
                        <span>"This conversation has ended."</span>
                        // A new session starts a new conversation (the old one is closed).
                        <button class="btn small primary" type="button" on:click=|_| {
                            if let Some(w) = web_sys::window() {
                                let _ = w.location().reload();
                            }
                        }>"Start a new conversation"</button>
                    </div>
                }
            >
                <form class="widget-composer" on:submit=move |ev| { ev.prevent_default(); send(); }>
                    // Files go where a human may read them (as the e-mail form); the page's
                    // script sends them and shows their progress.
                    <Show when=move || handoff().0>
                        <label class="attach-btn" title="Send a file">
                            <Icon kind=IconKind::Paperclip/>
                            <input type="file" multiple=true accept=ACCEPT aria-label="Send a file"/>
                        </label>
                    </Show>
                    <textarea node_ref=composer
                        rows="1" placeholder="Type a message…" aria-label="Message"
                        prop:value=move || draft.get()
                        on:input=move |ev| draft.set(event_target_value(&ev))
                        on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Enter" && !ev.shift_key() { ev.prevent_default(); send_key(); }
                    ></textarea>
                    <button type="submit" class="btn primary" disabled=move || !connected.get()>"Send"</button>
                </form>
            </Show>
        </div>
    }
}

/// Keyboard in the embedded chat: when the page opens the chat (the embed script posts
/// `handoff:focus`) the message box takes the focus; Tab and Shift+Tab cycle through the open
/// chat's controls without falling out into the page behind it; Escape closes an open menu, else
/// asks the page to close the chat (`handoff:close`; the embed script then returns focus to the
/// bubble).
fn keyboard(composer: NodeRef<leptos::html::Textarea>, menu_open: RwSignal<bool>) {
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;
    Effect::new(move |_| {
        let Some(window) = web_sys::window() else { return };
        let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            if e.data().as_string().as_deref() == Some("handoff:focus") {
                if let Some(el) = composer.get_untracked() {
                    let _ = el.focus();
                }
            }
        });
        let on_key = Closure::<dyn FnMut(web_sys::KeyboardEvent)>::new(move |e: web_sys::KeyboardEvent| {
            if e.key() == "Tab" {
                keep_focus_inside(&e);
                return;
            }
            if e.key() != "Escape" {
                return;
            }
            if menu_open.get_untracked() {
                menu_open.set(false);
            } else {
                tell_page("handoff:close");
            }
        });
        let _ = window.add_event_listener_with_callback("message", on_message.as_ref().unchecked_ref());
        let _ = window.add_event_listener_with_callback("keydown", on_key.as_ref().unchecked_ref());
        // The widget lives as long as its page.
        on_message.forget();
        on_key.forget();
        tell_page("handoff:ready");
    });
}

/// Tells the embedding page (the embed script): `handoff:ready` (mounted), `handoff:close`
/// (Escape), `handoff:chatting` (the visitor wrote: the site's next pages keep the chat).
fn tell_page(what: &str) {
    if let Some(parent) = web_sys::window().and_then(|w| w.parent().ok().flatten()) {
        let _ = parent.post_message(&wasm_bindgen::JsValue::from_str(what), "*");
    }
}

/// Tab on the chat's last control goes to its first, Shift+Tab on the first to the last: focus
/// stays in the open chat (the page behind it is reached by closing the chat with Escape).
fn keep_focus_inside(e: &web_sys::KeyboardEvent) {
    use wasm_bindgen::JsCast;
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
    let Ok(nodes) = document.query_selector_all(FOCUSABLE) else { return };
    let controls: Vec<web_sys::HtmlElement> = (0..nodes.length())
        .filter_map(|i| nodes.item(i))
        .filter_map(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
        // Hidden controls (a closed menu, a collapsed form) have no layout box.
        .filter(|el| el.offset_parent().is_some())
        .collect();
    let (Some(first), Some(last)) = (controls.first(), controls.last()) else { return };
    let active = document.active_element();
    let at = |el: &web_sys::HtmlElement| active.as_ref().is_some_and(|a| a == el.unchecked_ref::<web_sys::Element>());
    let outside = !controls.iter().any(at);
    if e.shift_key() && (at(first) || outside) {
        e.prevent_default();
        let _ = last.focus();
    } else if !e.shift_key() && (at(last) || outside) {
        e.prevent_default();
        let _ = first.focus();
    }
}

const FOCUSABLE: &str = "a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), \
                         textarea:not([disabled]), select:not([disabled]), [tabindex]:not([tabindex='-1'])";
