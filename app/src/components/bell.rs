//! The bell in the dashboard's top-right corner: unread badge, the newest notifications (click
//! one to open its conversation, which marks it read), "Mark all read", and the gear with the
//! user's settings (notify through e-mail / browser push; all messages or requests only), stored
//! on the server, which applies them when it decides whom to notify. Each entry shows what it is
//! about (a request, a message, an e-mail form) with an icon.
//!
//! Browser push: saving the gear with "Browser push" on subscribes *this* browser (permission
//! prompt, service worker `/sw.js`, the server's VAPID key; see `public/push.js`) and hands the
//! subscription to the server; saving it off unsubscribes this browser. Failures (blocked
//! permission, no push service) are said in the gear; the choice itself is still saved.
//!
//! The list is read from the server after hydration and again whenever `version` changes (the
//! dashboard bumps it on a `Notifications` frame, on reconnect, and when a conversation opens).
use crate::api::notifications::{
    get_notification_prefs, list_notifications, read_all_notifications, read_notification, save_notification_prefs,
};
use crate::components::icons::{Icon, IconKind};
use crate::util::relative_time;
use domain::wire::{NotificationDto, NotificationKind, NotificationList, NotificationPrefs, NotifyEvents};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// Subscribes or unsubscribes this browser to match `on`; `Err` says why it could not.
#[cfg(feature = "browser")]
async fn sync_browser_push(on: bool) -> Result<(), String> {
    use crate::api::push::{get_push_info, push_subscribe, push_unsubscribe};
    use domain::wire::PushSubscriptionDto;
    use wasm_bindgen::{JsCast, JsValue};
    fn message(e: JsValue) -> String {
        e.dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .or_else(|| e.as_string())
            .unwrap_or_else(|| "unknown error".into())
    }
    /// `window.handoffPush`, loading `/push.js` on first use.
    async fn api() -> Result<JsValue, String> {
        let window = web_sys::window().ok_or("no window")?;
        let api = js_sys::Reflect::get(&window, &"handoffPush".into()).map_err(message)?;
        if !api.is_undefined() {
            return Ok(api);
        }
        let document = window.document().ok_or("no document")?;
        let script: web_sys::HtmlElement = document.create_element("script").map_err(message)?.unchecked_into();
        script.set_attribute("src", "/push.js").map_err(message)?;
        let loaded = js_sys::Promise::new(&mut |resolve, reject| {
            script.set_onload(Some(&resolve));
            script.set_onerror(Some(&reject));
        });
        document.head().ok_or("no head")?.append_child(&script).map_err(message)?;
        wasm_bindgen_futures::JsFuture::from(loaded)
            .await
            .map_err(|_| "push support (/push.js) did not load".to_string())?;
        js_sys::Reflect::get(&window, &"handoffPush".into()).map_err(message)
    }
    async fn call(method: &str, arg: Option<&str>) -> Result<JsValue, String> {
        let api = api().await?;
        let f: js_sys::Function =
            js_sys::Reflect::get(&api, &method.into()).map_err(message)?.dyn_into().map_err(message)?;
        let promise = match arg {
            Some(a) => f.call1(&api, &a.into()),
            None => f.call0(&api),
        }
        .map_err(message)?;
        wasm_bindgen_futures::JsFuture::from(js_sys::Promise::from(promise)).await.map_err(message)
    }
    let text = |v: &JsValue, key: &str| js_sys::Reflect::get(v, &key.into()).ok().and_then(|x| x.as_string());
    if on {
        let info = get_push_info().await.map_err(|e| e.to_string())?;
        let sub = call("enable", Some(&info.public_key)).await?;
        let dto = PushSubscriptionDto {
            endpoint: text(&sub, "endpoint").unwrap_or_default(),
            p256dh: text(&sub, "p256dh").unwrap_or_default(),
            auth: text(&sub, "auth").unwrap_or_default(),
        };
        push_subscribe(dto).await.map_err(|e| e.to_string())
    } else {
        if let Some(endpoint) = call("disable", None).await?.as_string() {
            push_unsubscribe(endpoint).await.map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

/// The notifications that also show as a corner toast (with one ring) when they arrive.
fn toasted(kind: NotificationKind) -> bool {
    matches!(kind, NotificationKind::EmailForm | NotificationKind::Transfer)
}

#[component]
pub fn Bell(
    version: RwSignal<u64>,
    now: RwSignal<i64>,
    /// Unread e-mail-form and transfer notifications that arrived since the page opened: shown
    /// as toasts.
    mail_toasts: RwSignal<Vec<NotificationDto>>,
) -> impl IntoView {
    let list = RwSignal::new(NotificationList::default());
    let open = RwSignal::new(false);
    let gear = RwSignal::new(false);
    let prefs = RwSignal::new(None::<NotificationPrefs>);
    let status = RwSignal::new(None::<String>);

    // Effects run in the browser only: the server renders an empty bell, hydration agrees.
    // The first answer is the baseline; unread e-mail forms and transfers newer than it become toasts (and
    // leave them once read, e.g. through the bell).
    let known = StoredValue::new(None::<std::collections::HashSet<String>>);
    Effect::new(move |_| {
        version.track();
        spawn_local(async move {
            if let Ok(l) = list_notifications().await {
                let unread_forms: Vec<NotificationDto> =
                    l.items.iter().filter(|n| toasted(n.kind) && !n.read).cloned().collect();
                // The bell may be gone by now (the agent left the page while the list was read):
                // then there is nothing to update.
                let Some(fresh) = known.try_with_value(|k| match k {
                    None => Vec::new(), // the first answer is the baseline
                    Some(k) => unread_forms.iter().filter(|n| !k.contains(&n.id)).cloned().collect(),
                }) else {
                    return;
                };
                known.try_update_value(|k| {
                    k.get_or_insert_with(Default::default).extend(l.items.iter().map(|n| n.id.clone()))
                });
                mail_toasts.try_update(|t| {
                    t.retain(|old| unread_forms.iter().any(|n| n.id == old.id));
                    t.extend(fresh);
                });
                list.try_set(l);
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
            let saved = save_notification_prefs(p).await;
            #[cfg(feature = "browser")]
            let push = sync_browser_push(p.via_push).await;
            #[cfg(not(feature = "browser"))]
            let push: Result<(), String> = Ok(());
            status.set(Some(match (saved, push) {
                (Err(e), _) => e.to_string(),
                (Ok(_), Ok(())) if p.via_push => "Saved. This browser will get push notifications.".into(),
                (Ok(_), Ok(())) => "Saved.".into(),
                (Ok(_), Err(e)) => format!("Saved, but push could not be turned on in this browser: {e}"),
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
                <Icon kind=IconKind::Bell/>
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
                        <button type="button" class="btn small subtle" aria-label="Notification settings" aria-expanded=move || gear.get().to_string() on:click=toggle_gear><Icon kind=IconKind::Gear/></button>
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
                                <p class="muted small">"The bell always shows your choice of events. E-mails go to your sign-in address, a few at a time; browser push reaches every browser where you saved it on, also with the dashboard closed."</p>
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
                                    NotificationKind::Request => ("request", IconKind::Person, "Request"),
                                    NotificationKind::Message => ("message", IconKind::Chat, "Message"),
                                    NotificationKind::EmailForm => ("email_form", IconKind::Mail, "E-mail"),
                                    NotificationKind::Transfer => ("transfer", IconKind::Person, "Transfer"),
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
                                            <span class="bell-icon" title=label aria-hidden="true"><Icon kind=icon/></span>
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
