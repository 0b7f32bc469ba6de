//! `/login`: e-mail and password. Works without JavaScript (a plain form post).
use crate::api::auth::Login;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    // With JavaScript the server's redirect is not followed automatically: go on success.
    // Platform admins without an organization have no conversations: they start at /admin.
    Effect::new(move |_| {
        if let Some(Ok(user)) = login.value().get() {
            let start = if user.is_admin_without_org() { "/admin" } else { "/conversations" };
            #[cfg(feature = "browser")]
            if let Some(w) = web_sys::window() {
                let _ = w.location().set_href(start);
            }
            #[cfg(not(feature = "browser"))]
            let _ = start;
        }
    });
    let error = move || match login.value().get() {
        Some(Err(e)) => Some(view! { <p class="form-error" role="alert">{e.to_string()}</p> }),
        _ => None,
    };
    view! {
        <Title text="Sign in · Handoff"/>
        <main class="login">
            <div class="login-card">
                <h1 class="brand">"Handoff"</h1>
                <p class="muted">"Sign in to answer your visitors."</p>
                <ActionForm action=login attr:class="stack">
                    <label>"E-mail" <input type="email" name="email" autocomplete="username" required/></label>
                    <label>"Password" <input type="password" name="password" autocomplete="current-password" required/></label>
                    {error}
                    <button type="submit" class="btn primary" disabled=move || login.pending().get()>
                        {move || if login.pending().get() { "Signing in…" } else { "Sign in" }}
                    </button>
                </ActionForm>
            </div>
        </main>
    }
}
