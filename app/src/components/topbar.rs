//! The top bar of the signed-in pages: brand, organization, the navigation (links the user may
//! use; the current one marked `aria-current="page"`), page-specific parts (the dashboard's live
//! indicator and bell), the user's name and "Sign out". It needs the user, so pages render it
//! from their `current_user()` resource inside `<Suspense>`: SSR and hydration see the same user
//! and render the same links. [`SettingsFrame`] is that frame for the settings pages.
use crate::api::auth::{current_user, Logout};
use domain::wire::UserDto;
use leptos::prelude::*;
use leptos_router::components::Redirect;

/// The navigation entries `user` may see: (path, label).
pub fn nav_links(user: &UserDto) -> Vec<(&'static str, &'static str)> {
    let mut links = Vec::new();
    if !user.is_admin_without_org() {
        links.push(("/conversations", "Conversations"));
    }
    links.extend([("/settings/ai", "AI agent"), ("/settings/widgets", "Widgets")]);
    // Labels and canned responses are an organization's.
    if user.org_name.is_some() {
        links.push(("/settings/labels", "Labels"));
        links.push(("/settings/canned", "Canned responses"));
    }
    if user.can_users {
        links.push(("/settings/users", "Users"));
    }
    if user.is_admin {
        links.push(("/admin", "Admin"));
    }
    links.push(("/settings/account", "Account"));
    links
}

/// `current`: the path of the page's nav entry. `children`: shown between the navigation and the
/// user's name.
#[component]
pub fn TopBar(user: UserDto, current: &'static str, #[prop(optional)] children: Option<Children>) -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    let links = nav_links(&user)
        .into_iter()
        .map(|(href, label)| view! { <a href=href aria-current=(href == current).then_some("page")>{label}</a> })
        .collect_view();
    // Set once the page is live in the browser (after hydration); tests wait for it.
    let live = RwSignal::new(false);
    Effect::new(move |_| live.set(true));
    view! {
        <header class="topbar" data-hydrated=move || live.get().then_some("true")>
            <span class="brand">"Handoff"</span>
            <span class="org">{user.org_name.clone().unwrap_or_default()}</span>
            <nav class="nav" aria-label="Main">{links}</nav>
            <span class="spacer"></span>
            {children.map(|c| c())}
            <span class="user">{user.name.clone()}</span>
            <ActionForm action=logout><button type="submit" class="btn small">"Sign out"</button></ActionForm>
        </header>
    }
}

/// A settings page: the top bar and `content(user)` once the user is known; the sign-in page
/// for visitors without a session. `wide`: for wide tables.
#[component]
pub fn SettingsFrame<F, V>(current: &'static str, content: F, #[prop(optional)] wide: bool) -> impl IntoView
where
    F: Fn(UserDto) -> V + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let me = Resource::new(|| (), |_| current_user());
    view! {
        <div class="settings-page">
            <Suspense fallback=|| view! { <main class="page-message">"Loading…"</main> }>
                {move || me.get().map(|r| match r {
                    Ok(Some(user)) => view! {
                        <TopBar user=user.clone() current/>
                        <main class="settings" class:wide=wide>{content(user)}</main>
                    }.into_any(),
                    Ok(None) => view! { <Redirect path="/login"/> }.into_any(),
                    Err(e) => view! { <main class="page-message"><p class="form-error">{e.to_string()}</p></main> }.into_any(),
                })}
            </Suspense>
        </div>
    }
}
