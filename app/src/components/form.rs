//! Pieces of the settings forms: a form's outcome ([`Feedback`]) shown next to the field the
//! server named ([`field_error`]) or above the buttons ([`form_status`]), and data read from the
//! server while the page renders and again after changes ([`load`]), sending a form ([`submit_form`]), and the organization `<select>` of the admin
//! pages ([`org_options`]).
use crate::error::AppError;
use domain::admin::OrgDto;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::{de::DeserializeOwned, Serialize};
use std::future::Future;

/// A form's outcome: which field is wrong (if one is) and what to say.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Feedback {
    pub field: Option<String>,
    pub message: String,
    pub ok: bool,
}

impl Feedback {
    pub fn from_error(e: AppError) -> Self {
        match e {
            AppError::Field { field, message } => Self { field: Some(field), message, ok: false },
            e => Self { field: None, message: e.to_string(), ok: false },
        }
    }
    pub fn ok(message: &str) -> Self {
        Self { field: None, message: message.into(), ok: true }
    }
    /// A problem found in the browser, before asking the server.
    pub fn field(field: &str, message: &str) -> Self {
        Self { field: Some(field.into()), message: message.into(), ok: false }
    }
}

/// The message for one field, if the last answer was about it.
pub fn field_error(fb: RwSignal<Feedback>, field: &'static str) -> impl IntoView {
    move || {
        fb.with(|f| (f.field.as_deref() == Some(field)).then(|| f.message.clone()))
            .map(|m| view! { <span class="field-error" role="alert" data-field=field>{m}</span> })
    }
}

/// The message not tied to a field (success or general error).
pub fn form_status(fb: RwSignal<Feedback>) -> impl IntoView {
    move || {
        fb.with(|f| (f.field.is_none() && !f.message.is_empty()).then(|| (f.ok, f.message.clone()))).map(|(ok, m)| {
            view! { <p class=if ok { "form-ok" } else { "form-error" } role="status">{m}</p> }
        })
    }
}

/// Sends a form: clears the last outcome, marks the form busy while `call` runs, then shows
/// what `done` makes of the answer, or the error next to its field (or above the buttons).
pub fn submit_form<T: 'static>(
    fb: RwSignal<Feedback>,
    busy: Option<RwSignal<bool>>,
    call: impl Future<Output = Result<T, AppError>> + 'static,
    done: impl FnOnce(T) -> Feedback + 'static,
) {
    fb.set(Feedback::default());
    if let Some(b) = busy {
        b.set(true);
    }
    spawn_local(async move {
        fb.set(match call.await {
            Ok(answer) => done(answer),
            Err(e) => Feedback::from_error(e),
        });
        if let Some(b) = busy {
            b.set(false);
        }
    });
}

/// A page's data from the server: read once while the page is rendered (on the server, so the
/// page arrives with its content and hydration sees the same data), read again in the browser
/// whenever `version` or a signal that the fetch reads changes; the previous data stays shown
/// meanwhile. Made by [`load`] (read it inside the page's `<Suspense>`, the settings frame's).
pub struct Loaded<T: Send + Sync + 'static> {
    /// The read made while the page renders.
    first: Resource<Result<T, AppError>>,
    /// Every read after the first: `None` until one has answered.
    later: RwSignal<Option<Result<T, AppError>>>,
}

impl<T: Send + Sync + 'static> Clone for Loaded<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: Send + Sync + 'static> Copy for Loaded<T> {}

impl<T> Loaded<T>
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
{
    /// `f` of the newest answer: `None` while the first read is under way.
    pub fn with<R>(&self, f: impl FnOnce(Option<&Result<T, AppError>>) -> R) -> R {
        if self.later.with(|l| l.is_some()) {
            self.later.with(|l| f(l.as_ref()))
        } else {
            let first = self.first.get();
            f(first.as_ref())
        }
    }

    pub fn get(&self) -> Option<Result<T, AppError>> {
        self.with(|d| d.cloned())
    }
}

/// Reads `fetch()` while the page renders, then again whenever `version` or a signal `fetch`
/// reads changes (see [`Loaded`]). Call it in the page's own component, before its
/// `SettingsFrame`, never inside the frame's content: a resource created inside a
/// `<Suspense>`'s children is created again each time the `<Suspense>` builds them
/// (leptos-rs/leptos#4866), and hydration then reads another resource's data than the server
/// rendered with (it panicked in tachys' hydration).
pub fn load<T, Fut>(version: RwSignal<u64>, fetch: impl Fn() -> Fut + Send + Sync + 'static) -> Loaded<T>
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    Fut: Future<Output = Result<T, AppError>> + Send + 'static,
{
    let fetch = std::sync::Arc::new(fetch);
    let first = {
        let fetch = fetch.clone();
        Resource::new(|| (), move |_| untrack(|| fetch()))
    };
    let later = RwSignal::new(None);
    // Only the newest read's answer is shown (an older one may arrive after it).
    let latest = StoredValue::new(0u64);
    Effect::new(move |ran: Option<()>| {
        version.track();
        let fut = fetch(); // also tracks the signals the fetch reads
        if ran.is_none() {
            return; // the first read is the resource's
        }
        show_newest(latest, later, fut);
    });
    Loaded { first, later }
}

/// Shows what `read` answers in `later`, unless a newer read has started meanwhile (`latest`
/// counts the reads: an older answer may arrive after a newer one).
fn show_newest<T, Fut>(latest: StoredValue<u64>, later: RwSignal<Option<Result<T, AppError>>>, read: Fut)
where
    T: Send + Sync + 'static,
    Fut: Future<Output = Result<T, AppError>> + 'static,
{
    let n = latest.get_value() + 1;
    latest.set_value(n);
    spawn_local(async move {
        let answer = read.await;
        if latest.try_get_value() == Some(n) {
            later.try_set(Some(answer));
        }
    });
}

/// The loaded value, or `T::default()` while loading or after an error.
pub fn loaded_or_default<T>(data: Loaded<T>) -> T
where
    T: Clone + Default + Send + Sync + Serialize + DeserializeOwned + 'static,
{
    data.with(|d| d.and_then(|r| r.as_ref().ok()).cloned().unwrap_or_default())
}

/// Whether the list has been read and is empty.
pub fn loaded_empty<T>(data: Loaded<Vec<T>>) -> bool
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
{
    data.with(|d| matches!(d, Some(Ok(list)) if list.is_empty()))
}

/// "Loading…", the error, or nothing (the data is there) for [`Loaded`] data.
pub fn load_status<T>(data: Loaded<T>) -> impl IntoView
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
{
    move || {
        data.with(|d| match d {
            None => Some(view! { <p class="muted">"Loading…"</p> }.into_any()),
            Some(Err(e)) => Some(view! { <p class="form-error">{e.to_string()}</p> }.into_any()),
            Some(Ok(_)) => None,
        })
    }
}

/// `<option>`s for an organization `<select>`: `none` (value "") first, then every organization;
/// the one whose id `selected` returns is selected.
pub fn org_options(
    orgs: Loaded<Vec<OrgDto>>,
    none: &'static str,
    selected: impl Fn() -> String + Copy + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <option value="" selected=untrack(selected).is_empty() prop:selected=move || selected().is_empty()>{none}</option>
        {move || loaded_or_default(orgs).into_iter().map(|o| {
            let id = o.id.clone();
            view! { <option value=o.id selected=untrack(selected) == id prop:selected=move || selected() == id>{o.name}</option> }
        }).collect_view()}
    }
}

/// A labelled "Organization" `<select>` (first option `none`, value "") with its field error.
#[component]
pub fn OrgSelect(
    orgs: Loaded<Vec<OrgDto>>,
    value: RwSignal<String>,
    fb: RwSignal<Feedback>,
    none: &'static str,
) -> impl IntoView {
    view! {
        <label>
            "Organization"
            <select name="org_id" on:change=move |ev| value.set(event_target_value(&ev))>
                {org_options(orgs, none, move || value.get())}
            </select>
            {field_error(fb, "org_id")}
        </label>
    }
}

/// A labelled "Name" text input with its field error.
#[component]
pub fn NameInput(value: RwSignal<String>, fb: RwSignal<Feedback>) -> impl IntoView {
    view! {
        <label>
            "Name"
            <input type="text" name="name" autocomplete="off" value=value.get_untracked() prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/>
            {field_error(fb, "name")}
        </label>
    }
}
