//! The bell in the dashboard's top-right corner: unread badge, the newest notifications (click
//! one to open its conversation, which marks it read), "Mark all read", and the gear with the
//! user's settings (notify through e-mail / browser push; all messages or requests only), stored
//! on the server, which applies them when it decides whom to notify. Each entry shows what it is
//! about (a request, a message, an e-mail form) with an icon.
//!
//! The list is read from the server after hydration and again whenever `version` changes (the
//! dashboard bumps it on a `Notifications` frame, on reconnect, and when a conversation opens).
use crate::api::notifications::{
    get_notification_prefs, list_notifications, read_all_notifications, read_notification, save_notification_prefs,
};
use crate::util::relative_time;
use domain::wire::{NotificationKind, NotificationList, NotificationPrefs, NotifyEvents};
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn Bell(version: RwSignal<u64>, now: RwSignal<i64>) -> impl IntoView {
    let list = RwSignal::new(NotificationList::default());
    let open = RwSignal::new(false);
    let gear = RwSignal::new(false);
    let prefs = RwSignal::new(None::<NotificationPrefs>);
    let status = RwSignal::new(None::<String>);

    // Effects run in the browser only: the server renders an empty bell, hydration agrees.
    Effect::new(move |_| {
        version.track();
        spawn_local(async move {
            if let Ok(l) = list_notifications().await {
                list.set(l);
            }
        });
    });
    let bump = move || version.update(|v| *v += 1);
    let mark_all = move |_| {
        spawn_local(async move {
            if read_all_notifications(None).await.is_ok() {
                bump();
            }
        })
    };
    let toggle_gear = move |_| {
        gear.update(|g| *g = !*g);
        status.set(None);
        if prefs.get_untracked().is_none() {
            spawn_local(async move {
                match get_notification_prefs().await {
                    Ok(p) => prefs.set(Some(p)),
                    Err(e) => status.set(Some(e.to_string())),
                }
            });
        }
    };
    let save = move || {
        let Some(p) = prefs.get_untracked() else { return };
        spawn_local(async move {
            status.set(Some(match save_notification_prefs(p).await {
                Ok(_) => "Saved.".into(),
                Err(e) => e.to_string(),
            }));
        });
    };
    let set = move |f: fn(&mut NotificationPrefs, bool), on: bool| {
        prefs.update(|p| {
            if let Some(p) = p {
                f(p, on)
            }
        })
    };

    view! {
        <div class="bell">
            <button type="button" class="bell-btn" aria-label="Notifications" aria-expanded=move || open.get().to_string()
                on:click=move |_| { open.update(|o| *o = !*o); gear.set(false); }>
                <span aria-hidden="true">"🔔"</span>
                {move || match list.with(|l| l.unread) {
                    0 => None,
                    n => Some(view! { <span class="bell-badge" data-count=n>{if n > 99 { "99+".to_string() } else { n.to_string() }}</span> }),
                }}
            </button>
            <Show when=move || open.get()>
                <div class="bell-panel" role="dialog" aria-label="Notifications">
                    <div class="bell-head">
                        <strong>"Notifications"</strong>
                        <span class="spacer"></span>
                        <button type="button" class="btn small subtle" on:click=mark_all>"Mark all read"</button>
                        <button type="button" class="btn small subtle" aria-label="Notification settings" aria-expanded=move || gear.get().to_string() on:click=toggle_gear>"⚙"</button>
                    </div>
                    <Show when=move || gear.get()>
                        <form class="bell-prefs stack" on:submit=move |ev| { ev.prevent_default(); save(); }>
                            {move || prefs.get().map(|p| view! {
                                <fieldset>
                                    <legend>"Notify me through"</legend>
                                    <label class="check"><input type="checkbox" name="via_email" prop:checked=p.via_email
                                        on:change=move |ev| set(|p, on| p.via_email = on, event_target_checked(&ev))/>"E-mail"</label>
                                    <label class="check"><input type="checkbox" name="via_push" prop:checked=p.via_push
                                        on:change=move |ev| set(|p, on| p.via_push = on, event_target_checked(&ev))/>"Browser push"</label>
                                </fieldset>
                                <fieldset>
                                    <legend>"About"</legend>
                                    <label class="check"><input type="radio" name="events" prop:checked=p.events == NotifyEvents::All
                                        on:change=move |_| set(|p, _| p.events = NotifyEvents::All, true)/>"All messages"</label>
                                    <label class="check"><input type="radio" name="events" prop:checked=p.events == NotifyEvents::Requests
                                        on:change=move |_| set(|p, _| p.events = NotifyEvents::Requests, true)/>"Requests only"</label>
                                </fieldset>
                                <p class="muted small">"The bell always shows your choice of events. E-mail and push delivery are not switched on for this server yet; your choice is kept for when they are."</p>
                                <div><button type="submit" class="btn small primary">"Save"</button></div>
                            })}
                            {move || status.get().map(|s| view! { <p class="muted small" role="status">{s}</p> })}
                        </form>
                    </Show>
                    <ul class="bell-list">
                        {move || {
                            let items = list.with(|l| l.items.clone());
                            if items.is_empty() {
                                return view! { <li class="muted pad">"Nothing yet."</li> }.into_any();
                            }
                            items.into_iter().map(|n| {
                                let (id, cid, at) = (n.id.clone(), n.conversation_id.clone(), n.created_at);
                                let (kind, icon, label) = match n.kind {
                                    NotificationKind::Request => ("request", "🙋", "Request"),
                                    NotificationKind::Message => ("message", "💬", "Message"),
                                    NotificationKind::EmailForm => ("email_form", "✉", "E-mail"),
                                };
                                view! {
                                    <li>
                                        // A link: the router opens the conversation; the click marks it read.
                                        <a href=format!("/conversations/{cid}") class="bell-item" class:unread=!n.read data-kind=kind on:click=move |_| {
                                            let id = id.clone();
                                            spawn_local(async move {
                                                let _ = read_notification(id).await;
                                                bump();
                                            });
                                            open.set(false);
                                        }>
                                            <span class="bell-icon" title=label aria-hidden="true">{icon}</span>
                                            <span class="bell-body">
                                                <span class="sr-only">{format!("{label}: ")}</span>
                                                <span class="bell-text">{n.text.clone()}</span>
                                                <span class="bell-time">{move || relative_time(at, now.get())}</span>
                                            </span>
                                        </a>
                                    </li>
                                }
                            }).collect_view().into_any()
                        }}
                    </ul>
                </div>
            </Show>
        </div>
    }
}
