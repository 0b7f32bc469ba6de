//! `/settings/canned`: the organization's canned responses (title, `/shortcut`, text with
//! placeholders). With the *settings* permission each is a form (change, delete) and new ones can
//! be created; without, the list is read-only. Agents insert them in the composer by typing `/`.
use crate::api::canned::{delete_canned, list_canned, save_canned};
use crate::components::form::{field_error, form_status, load, load_status, loaded_or_default, submit_form, Feedback};
use crate::components::topbar::SettingsFrame;
use domain::canned::{CannedDto, CannedInput, MAX_CANNED_TITLE, MAX_SHORTCUT, PLACEHOLDERS};
use domain::values::MAX_MESSAGE_BYTES;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn CannedPage() -> impl IntoView {
    // Read with the page (see `load`), again after every change.
    let version = RwSignal::new(0u64);
    let data = load(version, list_canned);
    view! {
        <Title text="Canned responses · Handoff"/>
        <SettingsFrame current="/settings/canned" content=move |user| {
            let can_edit = user.can_settings;
            view! {
                <section class="card stack">
                    <h2>"Canned responses"</h2>
                    <p class="muted">
                        "Ready answers for the chat: type " <kbd>"/"</kbd> " and the shortcut in the reply box, pick one with the arrow keys and Enter. Placeholders are filled in when inserted: "
                        {PLACEHOLDERS.iter().map(|(p, what)| view! { <code>{*p}</code>" ("{*what}") " }).collect_view()}
                    </p>
                    {(!can_edit).then(|| view! { <p class="muted notice">"You can see the canned responses. Changing them needs the settings permission."</p> })}
                    {load_status(data)}
                    {move || data.with(|d| matches!(d, Some(Ok(l)) if l.is_empty())).then(|| view! { <p class="muted">"No canned responses yet."</p> })}
                    <ul class="canned-list">
                        <For each=move || loaded_or_default(data) key=|c| c.id.clone() let:canned>
                            <CannedRow canned can_edit version/>
                        </For>
                    </ul>
                </section>
                {can_edit.then(|| view! { <CannedForm canned=None version/> })}
            }
        }/>
    }
}

/// One canned response: read-only, or (with the right) its form.
#[component]
fn CannedRow(canned: CannedDto, can_edit: bool, version: RwSignal<u64>) -> impl IntoView {
    if can_edit {
        let shortcut = canned.shortcut.clone();
        return view! { <li class="canned-row" data-shortcut=shortcut><CannedForm canned=Some(canned) version/></li> }
            .into_any();
    }
    view! {
        <li class="canned-row" data-shortcut=canned.shortcut.clone()>
            <p><strong>{canned.title.clone()}</strong>" "<code>{format!("/{}", canned.shortcut)}</code></p>
            <p class="canned-text">{canned.text.clone()}</p>
        </li>
    }
    .into_any()
}

/// The form of a canned response: a new one (`canned: None`, then emptied after saving) or an
/// existing one (with Delete, confirmed).
#[component]
fn CannedForm(canned: Option<CannedDto>, version: RwSignal<u64>) -> impl IntoView {
    let id = canned.as_ref().map(|c| c.id.clone());
    let start = canned.map(|c| CannedInput { title: c.title, shortcut: c.shortcut, text: c.text }).unwrap_or_default();
    let title = RwSignal::new(start.title);
    let shortcut = RwSignal::new(start.shortcut);
    let text = RwSignal::new(start.text);
    let fb = RwSignal::new(Feedback::default());
    let busy = RwSignal::new(false);
    let is_new = id.is_none();
    let save = {
        let id = id.clone();
        move || {
            let input = CannedInput {
                title: title.get_untracked(),
                shortcut: shortcut.get_untracked(),
                text: text.get_untracked(),
            };
            submit_form(fb, Some(busy), save_canned(id.clone(), input), move |c| {
                version.update(|v| *v += 1);
                if is_new {
                    title.set(String::new());
                    shortcut.set(String::new());
                    text.set(String::new());
                    Feedback::ok(&format!("Canned response /{} created.", c.shortcut))
                } else {
                    Feedback::ok("Saved.")
                }
            });
        }
    };
    let confirm = RwSignal::new(false);
    let remove = id.clone().map(|id| {
        move || {
            submit_form(fb, Some(busy), delete_canned(id.clone()), move |()| {
                version.update(|v| *v += 1);
                Feedback::default()
            });
        }
    });
    let input = |name: &'static str, max: usize, value: RwSignal<String>| {
        view! {
            <input type="text" name=name maxlength=max.to_string() autocomplete="off"
                value=value.get_untracked() prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/>
        }
    };
    view! {
        <form class=if is_new { "card stack canned-form new-canned" } else { "stack canned-form" } novalidate=true
            on:submit=move |ev| { ev.prevent_default(); save(); }>
            {is_new.then(|| view! { <h2>"New canned response"</h2> })}
            <div class="row top">
                <label>"Title"{input("title", MAX_CANNED_TITLE, title)}{field_error(fb, "title")}</label>
                <label>"Shortcut"<span class="shortcut-input">"/"{input("shortcut", MAX_SHORTCUT + 1, shortcut)}</span>{field_error(fb, "shortcut")}</label>
            </div>
            <label>
                "Text"
                <textarea name="text" rows="3" maxlength=MAX_MESSAGE_BYTES.to_string()
                    prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))>{text.get_untracked()}</textarea>
                {field_error(fb, "text")}
            </label>
            {form_status(fb)}
            <div class="row">
                <button type="submit" class="btn primary small" disabled=move || busy.get()>{if is_new { "Create canned response" } else { "Save" }}</button>
                {remove.map(|remove| view! {
                    <Show when=move || confirm.get() fallback=move || view! {
                        <button type="button" class="btn small subtle" on:click=move |_| confirm.set(true)>"Delete"</button>
                    }>
                        <span class="confirm" role="group" aria-label="Confirm deletion">
                            "Delete this canned response?"
                            <button type="button" class="btn small danger" disabled=move || busy.get() on:click={
                                let remove = remove.clone();
                                move |_| remove()
                            }>"Delete canned response"</button>
                            <button type="button" class="btn small" on:click=move |_| confirm.set(false)>"Keep"</button>
                        </span>
                    </Show>
                })}
            </div>
        </form>
    }
}
