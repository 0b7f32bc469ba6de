//! `/settings/labels`: the organization's conversation labels (name and colour), each with how
//! many conversations carry it. With the *settings* permission each label is a form (rename,
//! recolour, delete) and new ones can be created; without, the list is read-only. Agents put
//! labels on conversations in the dashboard.
use crate::api::labels::{delete_label, list_labels, save_label};
use crate::components::form::{field_error, form_status, load, load_status, loaded_or_default, submit_form, Feedback};
use crate::components::topbar::SettingsFrame;
use domain::labels::{LabelColor, LabelDto, LabelInput, MAX_LABEL_NAME};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn LabelsPage() -> impl IntoView {
    // Read with the page (see `load`), again after every change.
    let version = RwSignal::new(0u64);
    let data = load(version, list_labels);
    view! {
        <Title text="Labels · Handoff"/>
        <SettingsFrame current="/settings/labels" content=move |user| {
            let can_edit = user.can_settings;
            view! {
                <section class="card stack">
                    <h2>"Labels"</h2>
                    <p class="muted">"Labels sort conversations: agents add them in the conversation, and the conversation list filters by them."</p>
                    {(!can_edit).then(|| view! { <p class="muted notice">"You can see the labels. Changing them needs the settings permission."</p> })}
                    {load_status(data)}
                    {move || data.with(|d| matches!(d, Some(Ok(l)) if l.is_empty())).then(|| view! { <p class="muted">"No labels yet."</p> })}
                    <ul class="label-list">
                        <For each=move || loaded_or_default(data) key=|l| (l.id.clone(), l.name.clone(), l.color, l.conversations) let:label>
                            <LabelRow label can_edit version/>
                        </For>
                    </ul>
                </section>
                {can_edit.then(|| view! { <NewLabel version/> })}
            }
        }/>
    }
}

/// The colour `<select>`, starting at `color`.
fn color_select(color: RwSignal<LabelColor>, label: String) -> impl IntoView {
    let first = color.get_untracked();
    view! {
        <select name="color" aria-label=label on:change=move |ev| {
            if let Some(c) = LabelColor::parse(&event_target_value(&ev)) {
                color.set(c);
            }
        }>
            {LabelColor::EVERY.into_iter().map(|c| view! {
                <option value=c.as_str() selected=c == first prop:selected=move || color.get() == c>{c.label()}</option>
            }).collect_view()}
        </select>
    }
}

/// One label: its chip and use count; with the right, a form to rename, recolour or delete it.
#[component]
fn LabelRow(label: LabelDto, can_edit: bool, version: RwSignal<u64>) -> impl IntoView {
    let id = label.id.clone();
    let used = match label.conversations {
        1 => "1 conversation".to_string(),
        n => format!("{n} conversations"),
    };
    let chip = view! { <span class="label-chip" data-color=label.color.as_str()>{label.name.clone()}</span> };
    if !can_edit {
        return view! {
            <li class="label-row" data-label-name=label.name.clone()>{chip}<span class="muted small">{used}</span></li>
        }
        .into_any();
    }
    let name = RwSignal::new(label.name.clone());
    let color = RwSignal::new(label.color);
    let fb = RwSignal::new(Feedback::default());
    let busy = RwSignal::new(false);
    let save = {
        let id = id.clone();
        move || {
            let input = LabelInput { name: name.get_untracked(), color: color.get_untracked() };
            submit_form(fb, Some(busy), save_label(Some(id.clone()), input), move |_| {
                version.update(|v| *v += 1);
                Feedback::ok("Saved.")
            });
        }
    };
    let confirm = RwSignal::new(false);
    let remove = move || {
        let id = id.clone();
        submit_form(fb, Some(busy), delete_label(id), move |()| {
            version.update(|v| *v += 1);
            Feedback::default()
        });
    };
    let who = label.name.clone();
    view! {
        <li class="label-row" data-label-name=label.name.clone()>
            <form class="row label-form" novalidate=true on:submit=move |ev| { ev.prevent_default(); save(); }>
                {chip}
                <label>
                    "Name"
                    <input type="text" name="name" maxlength=MAX_LABEL_NAME.to_string() autocomplete="off"
                        value=name.get_untracked() prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                    {field_error(fb, "name")}
                </label>
                <label>"Colour"{color_select(color, format!("Colour of {who}"))}</label>
                <span class="muted small">{used}</span>
                <button type="submit" class="btn small primary" disabled=move || busy.get()>"Save"</button>
                <Show when=move || confirm.get() fallback=move || view! {
                    <button type="button" class="btn small subtle" on:click=move |_| confirm.set(true)>"Delete"</button>
                }>
                    <span class="confirm" role="group" aria-label="Confirm deletion">
                        "Delete it from every conversation?"
                        <button type="button" class="btn small danger" disabled=move || busy.get() on:click={
                            let remove = remove.clone();
                            move |_| remove()
                        }>"Delete label"</button>
                        <button type="button" class="btn small" on:click=move |_| confirm.set(false)>"Keep"</button>
                    </span>
                </Show>
            </form>
            {form_status(fb)}
        </li>
    }
    .into_any()
}

/// The form that creates a label.
#[component]
fn NewLabel(version: RwSignal<u64>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let color = RwSignal::new(LabelColor::Blue);
    let fb = RwSignal::new(Feedback::default());
    let busy = RwSignal::new(false);
    let save = move || {
        let input = LabelInput { name: name.get_untracked(), color: color.get_untracked() };
        submit_form(fb, Some(busy), save_label(None, input), move |l| {
            name.set(String::new());
            version.update(|v| *v += 1);
            Feedback::ok(&format!("Label “{}” created.", l.name))
        });
    };
    view! {
        <form class="card stack new-label" novalidate=true on:submit=move |ev| { ev.prevent_default(); save(); }>
            <h2>"New label"</h2>
            <div class="row top">
                <label>
                    "Name"
                    <input type="text" name="name" maxlength=MAX_LABEL_NAME.to_string() autocomplete="off"
                        prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                    {field_error(fb, "name")}
                </label>
                <label>"Colour"{color_select(color, "Colour".into())}</label>
            </div>
            {form_status(fb)}
            <div>
                <button type="submit" class="btn primary" disabled=move || busy.get()>"Create label"</button>
            </div>
        </form>
    }
}
