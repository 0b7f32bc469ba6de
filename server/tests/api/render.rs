//! Server-side rendering does not stall the server. Leptos runs a page's resources and its
//! `<Suspense>` bookkeeping as tasks; on two workers at once they can take the reactive graph's
//! locks in opposite orders and block both workers for good — every later request of the
//! process then hangs, at 0 % CPU (leptos-rs/leptos#4673, open upstream). The server renders
//! every page on one render thread (`server::render`), where no two of a page's tasks run at
//! once. `pages_render_without_stalling` loads our pages with the most resources, all at once,
//! round after round (with a `Memo` over the dashboard's list resource it used to hang within a
//! few loads); `a_page_that_stalls_on_several_workers_renders_on_the_render_thread` loads a page
//! built to meet the upstream bug, which stalls in most runs when rendered on the workers (in
//! 4 of 7 runs of 2,400–9,600 loads) and never on the render thread. A stalled server also
//! stalls this test's own runtime (the server runs in it), so a watchdog thread ends the
//! process with a clear message instead of letting it hang. A single page can still stall
//! alone, rarely (see `render::PAGE_DEADLINE`): `a_page_that_never_finishes_is_rendered_again_then_refused`
//! checks that such a page is rendered again, then refused, and never left hanging.
use crate::admin::ADMIN;
use crate::helpers::*;
use crate::on_both_databases;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Held by each test here for its whole run: they measure whether pages keep arriving, and the
/// server renders the pages of the process on a few render threads — run at once, each test's
/// pages would queue behind the other's (debug builds render slowly) and a slow page would look
/// like a stalled one.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Ends the whole test process if `done` is not called within `limit`: a deadlocked server
/// also stalls the test's runtime (the server runs in it), so the test itself could not fail.
struct Watchdog(Arc<AtomicBool>);

impl Watchdog {
    fn start(test: &'static str, limit: Duration) -> Self {
        let done = Arc::new(AtomicBool::new(false));
        let seen = done.clone();
        std::thread::spawn(move || {
            std::thread::sleep(limit);
            if !seen.load(Ordering::SeqCst) {
                eprintln!("{test}: pages stopped arriving: rendering deadlocked the server");
                std::process::exit(101);
            }
        });
        Watchdog(done)
    }

    fn done(self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

async fn pages_render_without_stalling(db: Db) {
    // RENDER_ROUNDS: more rounds, to hunt a rare stall.
    let rounds: usize = std::env::var("RENDER_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(40);
    const COPIES: usize = 4; // each page this many times at once
    let _alone = ONE_AT_A_TIME.lock().await;
    let app = spawn_app(db).await;
    let mut v = app.visitor().await;
    v.message(|_| true).await;
    let (ann, admin) = (app.login(ANN).await, app.login(ADMIN).await);
    let conversation = format!("/conversations/{}", v.conversation_id());
    let pages = [
        (&ann, "/conversations"),
        (&ann, conversation.as_str()),
        (&ann, "/conversations?filter=mine"),
        (&ann, "/settings/ai"),
        (&ann, "/settings/widgets"),
        (&ann, "/settings/labels"),
        (&ann, "/settings/users"),
        (&admin, "/admin"),
        (&admin, "/settings/ai"),
    ];
    let watchdog = Watchdog::start("pages_render_without_stalling", Duration::from_secs(60 + 15 * rounds as u64));
    let mut slowest = (Duration::ZERO, String::new());
    for round in 0..rounds {
        let loads = pages.iter().cycle().take(pages.len() * COPIES).map(|(cookie, path)| {
            let (app, cookie, path) = (&app, cookie.to_string(), path.to_string());
            async move {
                let started = std::time::Instant::now();
                let load = async {
                    let res =
                        app.http.get(format!("{}{path}", app.base)).header("cookie", &cookie).send().await.unwrap();
                    (res.status().as_u16(), res.text().await.unwrap())
                };
                // A stalled server never answers; a slow page (a debug build on a busy machine)
                // does, and the server renders a stalled page again at its deadline (8 s).
                match tokio::time::timeout(Duration::from_secs(60), load).await {
                    Ok((status, html)) => {
                        assert_eq!(status, 200, "round {round}: {path}");
                        assert!(html.contains("</html>"), "{path} rendered to the end");
                    }
                    Err(_) => panic!("round {round}: {path} did not arrive within 60 s: rendering stalled the server"),
                }
                (started.elapsed(), format!("round {round}: {path}"))
            }
        });
        slowest = futures::future::join_all(loads).await.into_iter().fold(slowest, std::cmp::max);
    }
    watchdog.done();
    eprintln!("pages_render_without_stalling: slowest page {:?} ({})", slowest.0, slowest.1);
}
on_both_databases!(pages_render_without_stalling);

/// A page built to meet the upstream deadlock: several `<Suspense>` boundaries reading the same
/// resources, memos over them, resources that resolve after different numbers of yields.
/// Rendered on the workers of a multi-threaded runtime it stalls within a few thousand loads in
/// most runs; `server::render` renders it on its own thread.
mod stress {
    use leptos::prelude::*;

    fn delayed(n: u64) -> Resource<u64> {
        Resource::new(
            move || n,
            |n| async move {
                for _ in 0..n {
                    tokio::task::yield_now().await;
                }
                n
            },
        )
    }

    #[component]
    fn Boundary(a: Resource<u64>, b: Resource<u64>, c: Resource<u64>) -> impl IntoView {
        let sum = Memo::new(move |_| a.get().unwrap_or(0) + b.get().unwrap_or(0));
        view! {
            <Suspense fallback=|| "…">
                <p>{move || a.get().zip(b.get()).map(|(x, y)| x * y)}</p>
                <p>{move || c.get().map(|z| z + sum.get())}</p>
                {move || Suspend::new(async move { a.await + c.await })}
            </Suspense>
        }
    }

    pub fn shell() -> impl IntoView {
        let (a, b, c) = (delayed(1), delayed(2), delayed(3));
        view! {
            <!DOCTYPE html>
            <html>
                <body>
                    <Boundary a b c/>
                    <Boundary a=b b=c c=a/>
                    <Boundary a=c b=a c=b/>
                    <Boundary a b=c c=b/>
                </body>
            </html>
        }
    }
}

/// Serves [`stress::shell`] at `/stress`, rendered on the render thread as the server's pages are.
async fn serve_stress_page() -> String {
    let router = axum::Router::new()
        .route("/stress", axum::routing::get(leptos_axum::render_app_to_stream(stress::shell)))
        .layer(axum::middleware::from_fn_with_state(
            handoff_server::render::PAGE_DEADLINE,
            handoff_server::render::on_render_thread,
        ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    base
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_page_that_stalls_on_several_workers_renders_on_the_render_thread() {
    const LOADS: usize = 9600;
    const AT_ONCE: usize = 16;
    let _alone = ONE_AT_A_TIME.lock().await;
    let _ = leptos_axum::generate_route_list(app::App); // sets Leptos' executor, as the server does
    let base = serve_stress_page().await;
    let watchdog = Watchdog::start("a_page_that_stalls_on_several_workers…", Duration::from_secs(120));
    let http = reqwest::Client::new();
    for batch in 0..LOADS / AT_ONCE {
        let loads = (0..AT_ONCE).map(|_| async {
            let load = async { http.get(format!("{base}/stress")).send().await.unwrap().text().await.unwrap() };
            match tokio::time::timeout(Duration::from_secs(30), load).await {
                Ok(html) => assert!(html.contains("</html>"), "rendered to the end"),
                Err(_) => panic!("batch {batch}: the page did not arrive within 30 s: rendering stalled"),
            }
        });
        futures::future::join_all(loads).await;
    }
    watchdog.done();
}

/// Pages that stall for good, whatever the cause: `/once` stalls on its first render only,
/// `/never` on every render. Each render counts itself in `RENDERS`; `STALLED` counts the
/// stalled renders' waits that are still alive (Leptos may build a `<Suspense>`'s children more
/// than once; each wait counts itself while it exists).
mod stalling {
    use leptos::prelude::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    pub static RENDERS: AtomicUsize = AtomicUsize::new(0);
    pub static STALLED: AtomicUsize = AtomicUsize::new(0);

    struct Stalled;
    impl Stalled {
        fn new() -> Self {
            STALLED.fetch_add(1, Ordering::SeqCst);
            Stalled
        }
    }
    impl Drop for Stalled {
        fn drop(&mut self) {
            STALLED.fetch_sub(1, Ordering::SeqCst);
        }
    }

    fn page(stall: impl Fn(usize) -> bool + Send + Sync + 'static) -> impl IntoView {
        let render = RENDERS.fetch_add(1, Ordering::SeqCst);
        let stalls = stall(render);
        view! {
            <!DOCTYPE html>
            <html>
                <body>
                    <Suspense fallback=|| "…">
                        {move || Suspend::new(async move {
                            if stalls {
                                let _counted = Stalled::new();
                                std::future::pending::<()>().await;
                            }
                            "rendered again"
                        })}
                    </Suspense>
                </body>
            </html>
        }
    }

    pub fn once() -> impl IntoView {
        page(|render| render == 0)
    }

    pub fn never() -> impl IntoView {
        page(|_| true)
    }
}

/// A page whose render never finishes is dropped at the page deadline and rendered again;
/// one that misses the deadline twice is answered 503 (with Retry-After) — the browser is
/// not left waiting on a page that will not come, and the stalled renders' work is dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_never_finishes_is_rendered_again_then_refused() {
    use stalling::{RENDERS, STALLED};
    use std::sync::atomic::Ordering::SeqCst;
    let _alone = ONE_AT_A_TIME.lock().await;
    let _ = leptos_axum::generate_route_list(app::App); // sets Leptos' executor, as the server does
    let deadline = Duration::from_millis(500);
    let router = axum::Router::new()
        .route("/once", axum::routing::get(leptos_axum::render_app_to_stream(stalling::once)))
        .route("/never", axum::routing::get(leptos_axum::render_app_to_stream(stalling::never)))
        .layer(axum::middleware::from_fn_with_state(deadline, handoff_server::render::on_render_thread));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let http = reqwest::Client::new();
    let get = |path: &'static str| {
        let req = http.get(format!("{base}{path}")).send();
        async move {
            let res = tokio::time::timeout(Duration::from_secs(10), req)
                .await
                .unwrap_or_else(|_| panic!("{path} was left waiting: the stalled page was never given up"))
                .unwrap();
            let retry_after = res.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
            (res.status().as_u16(), retry_after, res.text().await.unwrap())
        }
    };

    let (status, _, html) = get("/once").await;
    assert_eq!(status, 200, "the second render of /once finishes");
    assert!(html.contains("rendered again") && html.contains("</html>"), "{html}");
    assert_eq!(RENDERS.load(SeqCst), 2, "rendered twice");
    let dropped = || async move {
        for _ in 0..50 {
            if STALLED.load(SeqCst) == 0 {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await; // the abort reaches the render thread
        }
        false
    };
    assert!(dropped().await, "the stalled render's work was dropped");

    let (status, retry_after, body) = get("/never").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(retry_after.as_deref(), Some("1"));
    assert!(body.contains("took too long"), "{body}");
    assert_eq!(RENDERS.load(SeqCst), 4, "/never was rendered twice, then given up");
    assert!(dropped().await, "both stalled renders of /never were dropped");
}
