//! Handoff-request alerts in the dashboard.
//!
//! Every waiting request (a conversation in `Requested`) shows a toast in the corner naming the
//! visitor; clicking it opens the conversation, × dismisses it on this screen. While any request
//! waits and is not dismissed, a two-tone ring plays and repeats every few seconds; it stops for
//! everyone as soon as one agent handles the request (the state change reaches every dashboard
//! of the organization). Who hears it: every signed-in agent of the organization with the
//! *conversations* permission whose dashboard is open.
//!
//! An e-mail form a visitor sent while the dashboard is open also gets a toast (and one ring);
//! it leaves when dismissed, clicked, or read in the bell.
//!
//! Browsers block sound until the page has been clicked or typed in: until then an
//! "Enable sound alerts" button is shown; any click or key press unlocks the sound.
use crate::util::relative_time;
use domain::wire::{ConversationSummary, NotificationDto};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use std::collections::HashSet;

/// How often the ring repeats while a request waits, in milliseconds.
pub const RING_EVERY_MS: u32 = 4_000;

#[component]
pub fn RequestAlerts(
    #[prop(into)] requested: Signal<Vec<ConversationSummary>>,
    now: RwSignal<i64>,
    /// E-mail forms to announce (filled by the bell).
    mail: RwSignal<Vec<NotificationDto>>,
) -> impl IntoView {
    let dismissed = RwSignal::new(HashSet::<String>::new());
    let sound_on = RwSignal::new(false);
    let toasts = Memo::new(move |_| {
        let d = dismissed.get();
        requested.get().into_iter().filter(|c| !d.contains(&c.id)).collect::<Vec<_>>()
    });

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
            if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
                for ev in ["pointerdown", "keydown"] {
                    let _ = doc.add_event_listener_with_callback(ev, unlock.as_ref().unchecked_ref());
                }
            }
            unlock.forget();
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
            gloo_timers::callback::Interval::new(RING_EVERY_MS, move || {
                if !toasts.get_untracked().is_empty() {
                    ringer.ring();
                }
            })
            .forget();
        }
    });

    let navigate = use_navigate();
    let navigate_mail = navigate.clone();
    view! {
        <Show when=move || !sound_on.get()>
            <button class="sound-hint" type="button" title="Browsers keep sound off until you interact with the page">
                "🔔 Enable sound alerts"
            </button>
        </Show>
        <div class="toasts" aria-live="assertive">
            <For each=move || mail.get() key=|n| n.id.clone() let:n>
                {
                    let navigate = navigate_mail.clone();
                    let open = format!("/conversations/{}", n.conversation_id);
                    let (id, id2) = (n.id.clone(), n.id.clone());
                    let at = n.created_at;
                    view! {
                        <div class="toast toast-mail" role="alert" data-conversation=n.conversation_id.clone()>
                            <button class="toast-open" type="button" on:click=move |_| {
                                mail.update(|m| m.retain(|x| x.id != id));
                                navigate(&open, Default::default());
                            }>
                                <span class="toast-text">{n.text.clone()}</span>
                                <span class="since">{move || relative_time(at, now.get())}</span>
                            </button>
                            <button class="toast-close" type="button" aria-label="Dismiss" on:click=move |_| mail.update(|m| m.retain(|x| x.id != id2))>
                                "×"
                            </button>
                        </div>
                    }
                }
            </For>
            <For each=move || toasts.get() key=|c| c.id.clone() let:c>
                {
                    let navigate = navigate.clone();
                    let open = format!("/conversations/{}", c.id);
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
                                "×"
                            </button>
                        </div>
                    }
                }
            </For>
        </div>
    }
}
