//! Server-side rendering does not stall the server. Leptos runs a page's resources and its
//! `<Suspense>` bookkeeping as tasks; on two workers at once they can take the reactive graph's
//! locks in opposite orders and block both workers for good — every later request of the
//! process then hangs, at 0 % CPU (leptos-rs/leptos#4673, open upstream). The more reactive
//! nodes hang off a page's resources, the likelier: a `Memo` over the dashboard's list resource
//! made it happen within a few page loads; the dashboard derives its list without one. This test
//! renders the pages with the most resources, one after another, round after round. A stalled
//! server also stalls this test's own runtime (the server runs in it), so a watchdog thread ends
//! the process with a clear message instead of letting it hang. (Concurrent renders of several
//! pages can still meet the upstream deadlock now and then; see the issue filed with this test.)
use crate::admin::ADMIN;
use crate::helpers::*;
use crate::on_both_databases;
use std::time::Duration;

async fn pages_render_without_stalling(db: Db) {
    const ROUNDS: usize = 40;
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
        (&ann, "/settings/users"),
        (&admin, "/admin"),
        (&admin, "/settings/ai"),
    ];
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        let done = done.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(90));
            if !done.load(std::sync::atomic::Ordering::SeqCst) {
                eprintln!("pages_render_without_stalling: pages stopped arriving: rendering deadlocked the server");
                std::process::exit(101);
            }
        });
    }
    for round in 0..ROUNDS {
        let loads = pages.iter().map(|(cookie, path)| {
            let (app, cookie, path) = (&app, cookie.to_string(), path.to_string());
            async move {
                let load = async {
                    let res =
                        app.http.get(format!("{}{path}", app.base)).header("cookie", &cookie).send().await.unwrap();
                    (res.status().as_u16(), res.text().await.unwrap())
                };
                match tokio::time::timeout(Duration::from_secs(10), load).await {
                    Ok((status, html)) => {
                        assert_eq!(status, 200, "{path}");
                        assert!(html.contains("</html>"), "{path} rendered to the end");
                    }
                    Err(_) => panic!("round {round}: {path} did not arrive within 10 s: rendering stalled the server"),
                }
            }
        });
        for load in loads {
            load.await;
        }
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
}
on_both_databases!(pages_render_without_stalling);
