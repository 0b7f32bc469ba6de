//! The Handoff server: HTTP wiring around [`backend::Backend`].
//!
//! * Leptos SSR pages and server functions (from the `app` crate) under `/` and `/api/*`.
//! * WebSockets: `/ws/visitor` (widget) and `/ws/agent` (dashboard) — see [`ws`]; the
//!   dashboard's conversation list per socket — see [`dashboard_list`].
//! * `/widget.js` (the one-tag embed script) and `/demo` (a sample customer page) — see [`embed`].
//! * `/widget/{id}` (the chat page in the iframe) and `/widget-pkg/{hash}/…` (the widget's own
//!   WASM bundle, cached for a year under content-hashed addresses) — see [`widget`].
//! * `/pkg/…` (the dashboard's bundle) with long-lived caching when cargo-leptos hashes its names;
//!   from memory in a self-contained binary (the site and the widget appended to it) — see
//!   [`assets`].
//! * `/api/visitor/export` (a visitor's data as a zip) — see [`privacy`].
//! * `/api/widget/email` (the visitor's e-mail form, multipart) and `/attachments/{id}` — see
//!   [`upload`]; `/api/widget/file` and `/api/chat/file` (files sent in the chat, both ways) —
//!   see [`chat_files`].
//! * Pages rendered on a thread of their own, away from Leptos' SSR deadlock — see [`render`].
//! * Security headers and a same-origin check on state-changing requests — see [`security`].
//! * `/healthz`, `/readyz` and `/metrics` (Prometheus; off unless configured, or on a listener
//!   of its own) — see [`ops`].
#![recursion_limit = "256"]
pub mod assets;
pub mod chat_files;
pub mod dashboard_list;
pub mod embed;
pub mod ops;
pub mod privacy;
pub mod render;
pub mod security;
pub mod upload;
pub mod widget;
pub mod ws;

use axum::routing::get;
use axum::Router;
use backend::{Backend, Config};
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};

/// Shared state of the axum router.
#[derive(Clone, axum::extract::FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub backend: Backend,
    pub widget: widget::WidgetBundle,
}

/// Opens storage and builds the whole router, with the site and the widget from `embedded` when
/// the binary carries them (see [`assets`]), else from the site root and the widget's directory.
pub async fn build(
    config: Config,
    leptos_options: LeptosOptions,
    embedded: Option<std::sync::Arc<assets::Embedded>>,
) -> Result<(Router, Backend), Box<dyn std::error::Error>> {
    let backend = Backend::start(config).await?;
    let widget = match &embedded {
        Some(e) => widget::WidgetBundle::embedded(&e.widget).ok_or("the binary's widget bundle is incomplete")?,
        None => widget::WidgetBundle::for_site_root(&leptos_options.site_root),
    };
    Ok((router_with_assets(backend.clone(), leptos_options, widget, embedded), backend))
}

pub fn router(backend: Backend, leptos_options: LeptosOptions) -> Router {
    let widget = widget::WidgetBundle::for_site_root(&leptos_options.site_root);
    router_with(backend, leptos_options, widget)
}

/// [`router`] with the widget bundle taken from `widget`.
pub fn router_with(backend: Backend, leptos_options: LeptosOptions, widget: widget::WidgetBundle) -> Router {
    router_with_assets(backend, leptos_options, widget, None)
}

/// [`router_with`] for a self-contained binary: the site's files served from `embedded` (what
/// it does not carry is still looked for in the site root, then rendered as a page).
pub fn router_with_assets(
    backend: Backend,
    leptos_options: LeptosOptions,
    widget: widget::WidgetBundle,
    embedded: Option<std::sync::Arc<assets::Embedded>>,
) -> Router {
    // Warm the bundle (it is compressed once) so that the first visitor does not wait.
    let warm = widget.clone();
    tokio::spawn(async move {
        warm.current().await;
    });
    let hashed_pkg = leptos_options.hash_files || embedded.is_some();
    let files = leptos_axum::file_and_error_handler::<AppState, _>(app::shell);
    let fallback = move |uri: axum::http::Uri, state: axum::extract::State<AppState>, req: axum::extract::Request| {
        let embedded = embedded.clone();
        async move {
            match embedded.as_ref().and_then(|e| e.response(uri.path())) {
                Some(res) => res,
                None => files(uri, state, req).await,
            }
        }
    };
    let state = AppState { leptos_options: leptos_options.clone(), backend: backend.clone(), widget };
    let routes = generate_route_list(app::App);
    let ctx_backend = backend.clone();
    Router::new()
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                provide_context(ctx_backend.clone());
                // A fresh nonce per page for Leptos' inline scripts, and the policy naming it.
                leptos::nonce::provide_nonce();
                let nonce = leptos::nonce::use_nonce();
                let res = leptos::prelude::use_context::<leptos_axum::ResponseOptions>();
                if let (Some(nonce), Some(res)) = (nonce, res) {
                    if let Ok(v) = axum::http::HeaderValue::from_str(&security::page_policy(&nonce)) {
                        res.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, v);
                    }
                }
            },
            {
                let options = leptos_options.clone();
                move || app::shell(options.clone())
            },
        )
        // Pages are rendered on a thread of their own (see `render`); routes added after this
        // line are not.
        .route_layer(axum::middleware::from_fn_with_state(render::PAGE_DEADLINE, render::on_render_thread))
        .route("/ws/visitor", get(ws::visitor_socket))
        .route("/ws/agent", get(ws::agent_socket))
        .route("/widget.js", get(embed::widget_js))
        .route("/demo", get(embed::demo_page))
        .route("/widget/{id}", get(widget::page))
        .route("/widget-pkg/{hash}/{file}", get(widget::asset))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics_on_main))
        .route(
            "/api/widget/email",
            axum::routing::post(upload::submit_email_form)
                .layer(axum::extract::DefaultBodyLimit::max(upload::MAX_FORM_BODY)),
        )
        .route(
            "/api/widget/file",
            axum::routing::post(chat_files::visitor_file)
                .layer(axum::extract::DefaultBodyLimit::max(chat_files::MAX_CHAT_FILE_BODY)),
        )
        .route(
            "/api/chat/file",
            axum::routing::post(chat_files::agent_file)
                .layer(axum::extract::DefaultBodyLimit::max(chat_files::MAX_CHAT_FILE_BODY)),
        )
        .route("/attachments/{id}", get(upload::download_attachment))
        .route("/api/visitor/export", get(privacy::export_visitor))
        .fallback(fallback)
        .layer(axum::middleware::from_fn(move |req, next| security::pkg_caching(hashed_pkg, req, next)))
        .layer(axum::middleware::from_fn_with_state(backend, security::guard))
        .layer(axum::extract::DefaultBodyLimit::max(security::MAX_BODY))
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(axum::middleware::from_fn(ops::request_span))
        .with_state(state)
}

/// Longest wait for WebSockets to say goodbye after SIGTERM.
const SOCKET_DRAIN: std::time::Duration = std::time::Duration::from_secs(5);

/// Serves until SIGTERM/Ctrl-C, then stops accepting, lets in-flight requests finish, and
/// closes every WebSocket with code 1012 ("server restarting; reconnect"): a frame being handled
/// is finished first, and clients resume from their last sequence number elsewhere.
///
/// Accepted connections send without Nagle's delay (`TCP_NODELAY`): chat frames are small and
/// written one after another, and a frame must not wait for the acknowledgement of the one
/// before it.
pub async fn serve(listener: tokio::net::TcpListener, router: Router, backend: Backend) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    let stopping = backend.clone();
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
    });
    axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            stopping.begin_shutdown();
        })
        .await?;
    let deadline = tokio::time::Instant::now() + SOCKET_DRAIN;
    while backend.open_sockets() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    tracing::info!(left_open = backend.open_sockets(), "stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
