//! Handoff-request alerts in the dashboard.
//!
//! Every waiting request (a conversation in `Requested`) shows a toast in the bottom-left corner
//! (over the list, never over the reply box) naming the visitor — beyond three, one toast says
//! "N requests waiting" and opens the oldest; clicking it opens the conversation, × dismisses it on this screen. While any request
//! waits and is not dismissed, a two-tone ring plays and repeats every few seconds; it stops for
//! everyone as soon as one agent handles the request (the state change reaches every dashboard
//! of the organization). Who hears it: every signed-in agent of the organization with the
//! *conversations* permission whose dashboard is open.
//!
//! An e-mail form a visitor sent, or a chat a colleague passed this agent, while the dashboard is
//! open also gets a toast (and one ring); it leaves when dismissed, clicked, or read in the bell.
//!
//! Browsers block sound until the page has been clicked or typed in: until then an
//! "Enable sound alerts" button is shown; any click or key press unlocks the sound.
use crate::components::icons::{Icon, IconKind};
use crate::util::relative_time;
use domain::wire::{ConversationSummary, NotificationDto, NotificationKind};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use std::collections::HashSet;

/// How often the ring repeats while a request waits, in milliseconds.
pub const RING_EVERY_MS: u32 = 4_000;

#[component]
pub fn RequestAlerts(
    #[prop(into)] requested: Signal<Vec<ConversationSummary>>,
    now: RwSignal<i64>,
    /// E-mail forms and transfers to announce (filled by the bell).
    mail: RwSignal<Vec<NotificationDto>>,
    /// Where the dashboard's conversations open: `{base}/{id}`.
    #[prop(into)]
    base: String,
) -> impl IntoView {
    let dismissed = RwSignal::new(HashSet::<String>::new());
    let sound_on = RwSignal::new(false);
    // Waiting requests not dismissed here, the longest waiting first.
    let toasts = Memo::new(move |_| {
        let d = dismissed.get();
        let mut t = requested.get().into_iter().filter(|c| !d.contains(&c.id)).collect::<Vec<_>>();
        t.sort_by_key(|c| c.state_since);
        t
    });
    // Beyond this many, the requests collapse into one "N requests waiting" toast.
    const MAX_TOASTS: usize = 3;
    let collapsed = move || toasts.with(|t| t.len() > MAX_TOASTS);

    // Browser only: the ringer, its unlock on the first gesture, the repeat timer.
    Effect::new(move |_| {
        #[cfg(feature = "browser")]
        {
            use std::rc::Rc;
            use wasm_bindgen::prelude::*;
            let ringer = Rc::new(crate::sound::Ringer::default());
            let refresh = {
                let ringer = ringer.clone();
                move || sound_on.set(ringer.unlocked())
            };
            refresh();
            let unlock = {
                let ringer = ringer.clone();
                let refresh = refresh.clone();
                Closure::<dyn FnMut()>::new(move || {
                    ringer.unlock();
                    let refresh = refresh.clone();
                    gloo_timers::callback::Timeout::new(150, refresh).forget();
                })
            };
            // Listen on the document while the alerts are mounted; removed on cleanup.
            let doc = web_sys::window().and_then(|w| w.document());
            if let Some(doc) = &doc {
                for ev in ["pointerdown", "keydown"] {
                    let _ = doc.add_event_listener_with_callback(ev, unlock.as_ref().unchecked_ref());
                }
            }
            let listener = StoredValue::new_local(Some((doc, unlock)));
            on_cleanup(move || {
                if let Some((Some(doc), unlock)) = listener.try_update_value(Option::take).flatten() {
                    for ev in ["pointerdown", "keydown"] {
                        let _ = doc.remove_event_listener_with_callback(ev, unlock.as_ref().unchecked_ref());
                    }
                }
            });
            // Ring once for a new e-mail form.
            let ring_mail = ringer.clone();
            Effect::new(move |prev: Option<usize>| {
                let n = mail.with(Vec::len);
                if prev.is_some_and(|p| n > p) {
                    ring_mail.ring();
                }
                n
            });
            // Ring at once for a new request, then every RING_EVERY_MS while any waits.
            let ring_now = ringer.clone();
            Effect::new(move |prev: Option<HashSet<String>>| {
                let ids: HashSet<String> = toasts.get().into_iter().map(|c| c.id).collect();
                let new_request = match &prev {
                    Some(p) => ids.iter().any(|id| !p.contains(id)),
                    None => !ids.is_empty(),
                };
                if new_request {
                    ring_now.ring();
                }
                ids
            });
            crate::util::every(RING_EVERY_MS, move || {
                if toasts.try_with_untracked(|t| !t.is_empty()).unwrap_or(false) {
                    ringer.ring();
                }
            });
        }
    });

    let navigate = use_navigate();
    let navigate_mail = navigate.clone();
    let navigate_oldest = navigate.clone();
    let (base_mail, base_oldest) = (base.clone(), base.clone());
    view! {
        // Bottom left, over the end of the conversation list (on phones, a band under the top
        // bar): never over the reply box.
        <div class="toasts" aria-live="assertive">
            <Show when=move || !sound_on.get()>
                <button class="sound-hint" type="button" title="Browsers keep sound off until you interact with the page">
                    <Icon kind=IconKind::Sound/>" Enable sound alerts"
                </button>
            </Show>
            <For each=move || mail.get() key=|n| n.id.clone() let:n>
                {
                    let navigate = navigate_mail.clone();
                    let open = format!("{base_mail}/{}", n.conversation_id);
                    let (id, id2) = (n.id.clone(), n.id.clone());
                    let at = n.created_at;
                    view! {
                        <div class="toast toast-mail" class:toast-transfer=n.kind == NotificationKind::Transfer
                            role="alert" data-conversation=n.conversation_id.clone()>
                            <button class="toast-open" type="button" on:click=move |_| {
                                mail.update(|m| m.retain(|x| x.id != id));
                                navigate(&open, Default::default());
                            }>
                                <span class="toast-text">{n.text.clone()}</span>
                                <span class="since">{move || relative_time(at, now.get())}</span>
                            </button>
                            <button class="toast-close" type="button" aria-label="Dismiss" on:click=move |_| mail.update(|m| m.retain(|x| x.id != id2))>
                                <Icon kind=IconKind::Close/>
                            </button>
                        </div>
                    }
                }
            </For>
            <Show when=collapsed>
                {
                    let navigate = navigate_oldest.clone();
                    let base = base_oldest.clone();
                    let oldest = move || toasts.with(|t| t.first().map(|c| (c.id.clone(), c.state_since)));
                    view! {
                        <div class="toast toast-summary" role="alert">
                            <button class="toast-open" type="button" on:click=move |_| {
                                if let Some((id, _)) = oldest() {
                                    navigate(&format!("{base}/{id}"), Default::default());
                                }
                            }>
                                <strong>{move || format!("{} requests waiting", toasts.with(Vec::len))}</strong>
                                <span class="since">{move || oldest().map(|(_, at)| format!("the oldest since {}", relative_time(at, now.get())))}</span>
                            </button>
                            <button class="toast-close" type="button" aria-label="Dismiss" on:click=move |_| {
                                let ids: Vec<String> = toasts.with_untracked(|t| t.iter().map(|c| c.id.clone()).collect());
                                dismissed.update(|d| d.extend(ids));
                            }>
                                <Icon kind=IconKind::Close/>
                            </button>
                        </div>
                    }
                }
            </Show>
            <For each=move || if collapsed() { Vec::new() } else { toasts.get() } key=|c| c.id.clone() let:c>
                {
                    let navigate = navigate.clone();
                    let open = format!("{base}/{}", c.id);
                    let id = c.id.clone();
                    let since = c.state_since;
                    view! {
                        <div class="toast" role="alert" data-conversation=c.id.clone()>
                            <button class="toast-open" type="button" on:click=move |_| navigate(&open, Default::default())>
                                <strong>{c.visitor_name.clone()}</strong>
                                " is asking for a human"
                                <span class="since">{move || relative_time(since, now.get())}</span>
                            </button>
                            <button class="toast-close" type="button" aria-label="Dismiss" on:click=move |_| dismissed.update(|d| { d.insert(id.clone()); })>
                                <Icon kind=IconKind::Close/>
                            </button>
                        </div>
                    }
                }
            </For>
        </div>
    }
}
