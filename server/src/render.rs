//! Pages are rendered on one thread of their own.
//!
//! Leptos renders a page on the server as tasks: the page's resources and its `<Suspense>`
//! bookkeeping. On a multi-threaded runtime two of those tasks can run on two workers at once
//! and take the reactive graph's locks in opposite orders; both workers then block for good,
//! and every later request of the process with them (leptos-rs/leptos#4673, open upstream).
//! A lock order can only be inverted by two threads, so every page is rendered on one
//! single-threaded runtime, on a thread of its own that lives as long as the process (one such
//! render thread per core, pages handed to them in turn): the request is handed to it, the
//! whole page is rendered there (its body collected, so no task of the page is ever polled
//! elsewhere), and the finished page is handed back. Server functions
//! (`/api/…`), WebSockets and every other route stay on the server's own runtime; a page's
//! resources do their I/O on their render thread, the connections they use are shared.
//! A page that does not finish within [`PAGE_DEADLINE`] is rendered again, then answered 503.
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::runtime::Handle;

/// Stack of a render thread: rendering a page's view tree nests deeply (as the server's own
/// workers, see `main.rs`).
const RENDER_STACK: usize = 8 << 20;

/// The render threads' runtimes, started on first use: one per core (at least two), so that
/// pages do not queue behind one another; each page is rendered wholly on one of them, taken in
/// turn.
fn renderer() -> &'static Handle {
    static RENDERERS: OnceLock<Vec<Handle>> = OnceLock::new();
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let all = RENDERERS.get_or_init(|| {
        let n = std::thread::available_parallelism().map_or(2, |n| n.get().max(2));
        (0..n).map(render_thread).collect()
    });
    &all[NEXT.fetch_add(1, Ordering::Relaxed) % all.len()]
}

/// Starts render thread `i`: a single-threaded runtime driven for the life of the process.
fn render_thread(i: usize) -> Handle {
    let rt =
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a render thread's runtime starts");
    let handle = rt.handle().clone();
    std::thread::Builder::new()
        .name(format!("page-render-{i}"))
        .stack_size(RENDER_STACK)
        .spawn(move || rt.block_on(std::future::pending::<()>()))
        .expect("a render thread starts");
    handle
}

/// How long a page may take to render before it is given up. Rarely, a page's render waits for
/// good with nothing left to do — its `<Suspense>` never resolves, though its data has been
/// read (the family of leptos-rs/leptos#4851 and #4673; seen about once in 5,000–10,000 page
/// loads while the whole server test suite runs on 2 cores, on any page with a `<Suspense>`,
/// never in 32,000 loads of the same pages alone; the cause is not found). Such a render is
/// dropped at the deadline and the page rendered once more, on the next render thread; a page
/// that misses the deadline twice is answered 503 with `Retry-After`. A browser is never left
/// waiting on a page that will not arrive, and a stalled render does not hold its memory for
/// the life of the process. Pages render in well under a second (0.4 s at most in a debug build
/// under the test suite), so 8 s leaves room for a slow database.
pub const PAGE_DEADLINE: Duration = Duration::from_secs(8);

/// Middleware for the Leptos routes (state: the page deadline, [`PAGE_DEADLINE`] in the
/// server): each page is rendered on a render thread, server functions pass through.
pub async fn on_render_thread(State(deadline): State<Duration>, req: Request, next: Next) -> Response {
    if req.uri().path().starts_with("/api/") {
        return next.run(req).await;
    }
    let (head, body) = req.into_parts();
    // Only a request without a body can be sent through again: pages are GET (forms post to
    // server functions under /api/, which never come here).
    let again = matches!(head.method, Method::GET | Method::HEAD).then(|| head.clone());
    if let Some(page) = render(Request::from_parts(head, body), next.clone(), deadline).await {
        return page;
    }
    tracing::warn!(?deadline, "rendering the page again");
    if let Some(head) = again {
        if let Some(page) = render(Request::from_parts(head, Body::empty()), next, deadline).await {
            return page;
        }
    }
    tracing::error!(?deadline, "a page did not finish rendering in time, twice; answered 503");
    let mut res =
        (StatusCode::SERVICE_UNAVAILABLE, "This page took too long to prepare. Please reload it.").into_response();
    res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    res
}

/// Renders one page on a render thread and collects it, or `None` when it did not finish
/// within `deadline` (its render is then dropped on its thread).
async fn render(req: Request, next: Next, deadline: Duration) -> Option<Response> {
    let path = req.uri().path().to_string();
    // What the page has rendered so far: said in the log when it misses the deadline.
    let so_far = Arc::new(Mutex::new(Vec::new()));
    let mut page = renderer().spawn({
        let so_far = so_far.clone();
        async move {
            let (parts, body) = next.run(req).await.into_parts();
            let mut chunks = body.into_data_stream();
            while let Some(chunk) = chunks.next().await {
                match chunk {
                    Ok(chunk) => so_far.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(&chunk),
                    Err(e) => return (parts, Err(e)),
                }
            }
            let body = std::mem::take(&mut *so_far.lock().unwrap_or_else(|e| e.into_inner()));
            (parts, Ok(body))
        }
    });
    let finished = match tokio::time::timeout(deadline, &mut page).await {
        Ok(finished) => finished,
        Err(_) => {
            page.abort();
            let so_far = so_far.lock().unwrap_or_else(|e| e.into_inner());
            let tail = String::from_utf8_lossy(&so_far[so_far.len().saturating_sub(300)..]).into_owned();
            tracing::warn!(%path, rendered = so_far.len(), %tail, "a page missed its render deadline");
            return None;
        }
    };
    Some(match finished {
        Ok((parts, Ok(body))) => Response::from_parts(parts, Body::from(body)),
        Ok((_, Err(e))) => {
            tracing::error!(error = %e, "a page failed while rendering");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "a page's render task failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    })
}
