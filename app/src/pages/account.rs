//! `/settings/account`: who is signed in, and changing one's own password (the current one is
//! asked; every other browser of the user is signed out, this one stays signed in).
use crate::api::auth::change_password;
use crate::components::form::{field_error, form_status, submit_form, Feedback};
use crate::components::topbar::SettingsFrame;
use domain::wire::UserDto;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AccountPage() -> impl IntoView {
    view! {
        <Title text="Account · Handoff"/>
        <SettingsFrame current="/settings/account" content=|user| view! { <Account user/> }/>
    }
}

#[component]
fn Account(user: UserDto) -> impl IntoView {
    let role = if user.is_admin {
        "Platform admin"
    } else {
        match (user.can_settings, user.can_users) {
            (true, true) => "Client user (settings and users)",
            (true, false) => "Client user (settings)",
            (false, true) => "Client user (users)",
            (false, false) => "Client user",
        }
    };
    view! {
        <section class="card stack">
            <h2>"Account"</h2>
            <dl class="facts">
                <dt>"Name"</dt><dd>{user.name.clone()}</dd>
                <dt>"E-mail"</dt><dd>{user.email.clone()}</dd>
                <dt>"Organization"</dt><dd>{user.org_name.clone().unwrap_or_else(|| "—".into())}</dd>
                <dt>"Role"</dt><dd>{role}</dd>
            </dl>
        </section>
        <PasswordForm/>
    }
}

#[component]
fn PasswordForm() -> impl IntoView {
    let current = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let repeat = RwSignal::new(String::new());
    let fb = RwSignal::new(Feedback::default());
    let busy = RwSignal::new(false);
    let save = move || {
        let (c, p) = (current.get_untracked(), password.get_untracked());
        if p != repeat.get_untracked() {
            fb.set(Feedback::field("repeat", "the two new passwords differ"));
            return;
        }
        submit_form(fb, Some(busy), change_password(c, p), move |()| {
            for s in [current, password, repeat] {
                s.set(String::new());
            }
            Feedback::ok("Password changed. Other browsers were signed out.")
        });
    };
    let input = move |label: &'static str, field: &'static str, auto: &'static str, sig: RwSignal<String>| {
        view! {
            <label>
                {label}
                <input type="password" name=field autocomplete=auto prop:value=move || sig.get() on:input=move |ev| sig.set(event_target_value(&ev))/>
                {field_error(fb, field)}
            </label>
        }
    };
    view! {
        <form class="card stack password-form" method="post" novalidate=true on:submit=move |ev| { ev.prevent_default(); save(); }>
            <h2>"Change password"</h2>
            {input("Current password", "current_password", "current-password", current)}
            {input("New password", "password", "new-password", password)}
            {input("Repeat the new password", "repeat", "new-password", repeat)}
            <p class="muted small">{format!("At least {} characters; a phrase of a few words is easy to remember and hard to guess.", domain::admin::MIN_PASSWORD)}</p>
            {form_status(fb)}
            <div>
                <button type="submit" class="btn primary" disabled=move || busy.get()>"Change password"</button>
            </div>
        </form>
    }
}
