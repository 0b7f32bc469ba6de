//! Handoff's user interface, rendered on the server and hydrated in the browser.
//!
//! * [`pages`] — `/login`, the dashboard (`/conversations[/:id]`), the AI agent settings and
//!   knowledge base (`/settings/ai`), widgets (`/settings/widgets`), users (`/settings/users`),
//!   the user's account (`/settings/account`) and organizations and agents (`/admin`).
//! * [`components`] — pieces shared by those pages and by the visitor's widget, which is its own
//!   small WASM bundle (the `handoff-widget` crate) mounted in the `/widget/:id` iframe.
//! * [`api`] — server functions (compiled to HTTP calls in the browser).
//! * [`live`] — the browser's self-reconnecting WebSocket.
//!
//! Features: `ssr` (server build), `hydrate` (the dashboard's WASM) and `csr` (the widget's WASM, drawn in
//! the browser only); both browser features include `browser`. Never `ssr` with another in one build.
#![recursion_limit = "256"]
pub mod api;
pub mod components;
pub mod error;
pub mod live;
pub mod pages;
#[cfg(feature = "browser")]
pub mod sound;
pub mod util;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::{path, SsrMode};

/// The HTML document around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                <HashedStylesheet options=options.clone() id="leptos"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title text="Handoff"/>
        <Router>
            <Routes fallback=|| view! { <main class="page-message"><h1>"Page not found"</h1><a href="/conversations">"Go to the dashboard"</a></main> }>
                <Route path=path!("/") view=|| view! { <Redirect path="/conversations"/> }/>
                <Route path=path!("/login") view=pages::login::LoginPage/>
                // Every signed-in page is rendered on the server with the data its page reads
                // (async SSR), so it shows its lists before the WASM arrives and without
                // JavaScript (each page creates its resources before its <Suspense>: see
                // components::form::load).
                // One route for the list and an open conversation: opening one keeps the page (its
                // socket, timers and alerts) instead of building a second dashboard.
                <Route path=path!("/conversations/:id?") view=pages::dashboard::DashboardPage ssr=SsrMode::Async/>
                <Route path=path!("/settings/ai") view=pages::ai_agents::AiAgentsPage ssr=SsrMode::Async/>
                <Route path=path!("/settings/widgets") view=pages::widgets::WidgetsPage ssr=SsrMode::Async/>
                <Route path=path!("/settings/labels") view=pages::labels::LabelsPage ssr=SsrMode::Async/>
                <Route path=path!("/settings/canned") view=pages::canned::CannedPage ssr=SsrMode::Async/>
                <Route path=path!("/settings/users") view=pages::users::UsersPage ssr=SsrMode::Async/>
                <Route path=path!("/settings/account") view=pages::account::AccountPage ssr=SsrMode::Async/>
                <Route path=path!("/admin") view=pages::admin::AdminPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/agents/:agent/conversations/:id?") view=pages::dashboard::AiAgentConversationsPage ssr=SsrMode::Async/>
            </Routes>
        </Router>
    }
}
