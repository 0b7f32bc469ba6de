//! Handoff's benchmarks. Figures are printed, never asserted; see BENCHMARKS.md.
//!
//! ```text
//! cargo run --release -p handoff-bench -- latency [--conversations 1000] [--rate 1] [--seconds 30] [--postgres]
//! cargo run --release -p handoff-bench -- connections [--count 10000] [--postgres]
//! cargo run --release -p handoff-bench -- inserts [--messages 20000] [--postgres]
//! ```
//!
//! * `latency` — N visitors each send `rate` messages a second to a human agent (the
//!   conversations are taken over, so the AI stays silent); agents answer at a fifth of that rate
//!   through the real HTTP API. Reports visitor→agent and agent→visitor delivery latency and
//!   checks every connection's sequence numbers (no loss, no duplicate). While it runs, it times
//!   handoff claims (Pass chat to AI / Continue chat yourself) on other conversations. In the
//!   same run, the same traffic goes through a bare WebSocket relay (tokio-tungstenite, no
//!   storage) for a baseline, and the ratio is printed.
//! * `connections` — opens idle widget connections against the release server binary in its
//!   own process and reports its RSS per 1,000 connections.
//! * `inserts` — message appends per second through the chat service (`visitor_send`), and how
//!   many writes shared a commit (SQLite's group commit).
mod relay;
mod stats;

use backend::AgentAction;
use backend::{Backend, Config};
use domain::wire::{Author, ServerFrame, VisitorSession};
use futures::{SinkExt, StreamExt};
use serde_json::json;
use stats::Samples;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

const PASSWORD: &str = "bench-password";
/// Agent connections sharing the watching of all conversations.
const AGENT_SOCKETS: usize = 10;

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct Args {
    command: String,
    conversations: usize,
    rate: f64,
    seconds: u64,
    count: usize,
    messages: usize,
    postgres: bool,
}

fn args() -> Args {
    let mut a = Args {
        command: String::new(),
        conversations: 1000,
        rate: 1.0,
        seconds: 30,
        count: 10_000,
        messages: 20_000,
        postgres: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut num = |name: &str| {
            it.next().and_then(|v| v.parse::<f64>().ok()).unwrap_or_else(|| panic!("{name} needs a number"))
        };
        match arg.as_str() {
            "--conversations" => a.conversations = num("--conversations") as usize,
            "--rate" => a.rate = num("--rate"),
            "--seconds" => a.seconds = num("--seconds") as u64,
            "--count" => a.count = num("--count") as usize,
            "--messages" => a.messages = num("--messages") as usize,
            "--postgres" => a.postgres = true,
            c if a.command.is_empty() && !c.starts_with('-') => a.command = c.to_string(),
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

#[tokio::main]
async fn main() {
    raise_fd_limit();
    let a = args();
    match a.command.as_str() {
        "latency" => latency(&a).await,
        "connections" => connections(&a).await,
        "inserts" => inserts(&a).await,
        _ => {
            eprintln!("usage: handoff-bench latency|connections|inserts [options] (see the source's header)");
            std::process::exit(2);
        }
    }
}

/// The open-file limit is raised to its hard maximum here (the server code never does it).
fn raise_fd_limit() {
    // SAFETY: getrlimit/setrlimit with a valid pointer to a local struct.
    unsafe {
        let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

/// A config for benchmarks: a fresh data dir (or PostgreSQL schema), no rate limits, no
/// background workers, no AI typing delay.
async fn bench_config(postgres: bool) -> Config {
    let dir = std::env::temp_dir().join(format!("handoff-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut c = Config {
        data_dir: dir,
        seed_demo: true,
        demo_password: PASSWORD.into(),
        ai_typing_delay_ms: 0,
        ai_replies_per_minute: 0,
        visitor_messages_per_minute: 0,
        new_chats_per_ip_per_hour: 0,
        outbox_poll_ms: 0,
        email_offer_check_ms: 0,
        ..Config::default()
    };
    if postgres {
        let base =
            std::env::var("HANDOFF_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let schema = format!("bench_{}", std::process::id());
        sqlx::any::install_default_drivers();
        let admin = sqlx::AnyPool::connect(&base).await.expect("PostgreSQL");
        for sql in [format!("DROP SCHEMA IF EXISTS {schema} CASCADE"), format!("CREATE SCHEMA {schema}")] {
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&admin).await.unwrap();
        }
        c.database_url = Some(format!("{base}?options=-c%20search_path%3D{schema}"));
    }
    c
}

/// The real server, in this process, on a free port.
async fn start_server(config: Config) -> (Backend, String) {
    let options = leptos::config::LeptosOptions::builder().output_name("handoff").site_root("target/site").build();
    let (router, backend) = handoff_server::build(config, options).await.expect("server");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(handoff_server::serve(listener, router, backend.clone()));
    (backend, base)
}

async fn connect(url: &str, origin: &str, cookie: Option<&str>) -> Ws {
    let mut req = url.into_client_request().unwrap();
    req.headers_mut().insert("origin", origin.parse().unwrap());
    if let Some(c) = cookie {
        req.headers_mut().insert("cookie", c.parse().unwrap());
    }
    tokio_tungstenite::connect_async(req).await.expect("websocket").0
}

/// Microseconds since `start`, carried in message texts to measure delivery.
fn stamp(start: Instant) -> String {
    format!("t{}", start.elapsed().as_micros())
}

fn latency_of(start: Instant, text: &str) -> Option<Duration> {
    let sent: u64 = text.strip_prefix('t')?.parse().ok()?;
    Some(Duration::from_micros((start.elapsed().as_micros() as u64).saturating_sub(sent)))
}

/// Sequence checks across all connections: gaps and repeats seen.
#[derive(Default)]
struct Integrity {
    gaps: AtomicU64,
    repeats: AtomicU64,
}

impl Integrity {
    fn check(&self, last: &mut i64, seq: i64) {
        if seq <= *last {
            self.repeats.fetch_add(1, Ordering::Relaxed);
        } else if seq != *last + 1 {
            self.gaps.fetch_add(1, Ordering::Relaxed);
        }
        *last = (*last).max(seq);
    }
}

async fn latency(a: &Args) {
    let (backend, base) = start_server(bench_config(a.postgres).await).await;
    let (token, user) = backend.login("ann@demo.test", PASSWORD, None).await.expect("demo agent");
    let cookie = format!("{}={token}", backend::auth::SESSION_COOKIE);
    println!(
        "latency: {} conversations, {} msg/s each way-in, {} s, {}",
        a.conversations,
        a.rate,
        a.seconds,
        if a.postgres { "PostgreSQL" } else { "SQLite" }
    );

    // Set-up: visitors, taken over by Ann so that the AI stays silent.
    let mut sessions: Vec<VisitorSession> = Vec::with_capacity(a.conversations);
    for _ in 0..a.conversations + 20 {
        let s = backend.visitor_session("demo", None, None).await.expect("session");
        backend.agent_action(&user, &s.conversation_id, AgentAction::ContinueChatYourself).await.expect("take over");
        sessions.push(s);
    }
    let claim_sessions = sessions.split_off(a.conversations);

    let start = Instant::now();
    let integrity = Arc::new(Integrity::default());
    let v2a = Arc::new(Mutex::new(Samples::default()));
    let a2v = Arc::new(Mutex::new(Samples::default()));
    let warmup = Duration::from_secs(3);
    let run = Duration::from_secs(a.seconds);
    let sent = Arc::new(AtomicU64::new(0));
    let received = Arc::new(AtomicU64::new(0));

    // Agent sockets, each watching a share of the conversations.
    let ws_base = base.replacen("http", "ws", 1);
    for chunk in sessions.chunks(a.conversations.div_ceil(AGENT_SOCKETS)) {
        let mut ws = connect(&format!("{ws_base}/ws/agent"), &base, Some(&cookie)).await;
        let mut last: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
        for s in chunk {
            let (state, seq) = backend.conversation_state(&s.conversation_id, "demo-org").await.unwrap();
            let _ = state;
            last.insert(s.conversation_id.clone(), seq);
            let watch = json!({"type": "watch", "conversation_id": s.conversation_id, "last_seq": seq});
            ws.send(Message::Text(watch.to_string().into())).await.unwrap();
        }
        let (integrity, v2a, received) = (integrity.clone(), v2a.clone(), received.clone());
        tokio::spawn(async move {
            while let Some(Ok(msg)) = ws.next().await {
                let Message::Text(t) = msg else { continue };
                if let Ok(ServerFrame::Message { message }) = serde_json::from_str::<ServerFrame>(&t) {
                    if let Some(last) = last.get_mut(&message.conversation_id) {
                        integrity.check(last, message.seq);
                    }
                    if message.author == Author::Visitor {
                        received.fetch_add(1, Ordering::Relaxed);
                        if let Some(d) = latency_of(start, &message.text) {
                            if start.elapsed() > warmup {
                                v2a.lock().unwrap().add(d);
                            }
                        }
                    }
                }
            }
        });
    }

    // Visitors: connect, hello, then send at the rate; read and measure agents' messages.
    let period = Duration::from_secs_f64(1.0 / a.rate);
    for (i, s) in sessions.iter().enumerate() {
        let ws = connect(&format!("{ws_base}/ws/visitor"), &base, None).await;
        let (mut tx, mut rx) = ws.split();
        let (_, seq) = backend.conversation_state(&s.conversation_id, "demo-org").await.unwrap();
        let hello = json!({"type": "hello", "token": s.token, "last_seq": seq});
        tx.send(Message::Text(hello.to_string().into())).await.unwrap();
        let (integrity, a2v, sent) = (integrity.clone(), a2v.clone(), sent.clone());
        tokio::spawn(async move {
            let mut last = seq;
            while let Some(Ok(msg)) = rx.next().await {
                let Message::Text(t) = msg else { continue };
                if let Ok(ServerFrame::Message { message }) = serde_json::from_str::<ServerFrame>(&t) {
                    integrity.check(&mut last, message.seq);
                    if matches!(message.author, Author::Agent { .. }) && start.elapsed() > warmup {
                        if let Some(d) = latency_of(start, &message.text) {
                            a2v.lock().unwrap().add(d);
                        }
                    }
                }
            }
        });
        let offset = period.mul_f64(i as f64 / a.conversations as f64);
        tokio::spawn(stats::paced(start, offset, period, run + warmup, async move |n| {
            let frame = json!({"type": "send", "client_msg_id": format!("b{i}-{n}"), "text": stamp(start)});
            let ok = tx.send(Message::Text(frame.to_string().into())).await.is_ok();
            if ok {
                sent.fetch_add(1, Ordering::Relaxed);
            }
            ok
        }));
    }

    // Agents answer through the HTTP API at a fifth of the visitors' rate.
    let http = reqwest::Client::new();
    for (i, s) in sessions.iter().enumerate() {
        let (http, base, cookie, conv) = (http.clone(), base.clone(), cookie.clone(), s.conversation_id.clone());
        let agent_period = period * 5;
        let offset = agent_period.mul_f64(i as f64 / a.conversations as f64);
        tokio::spawn(stats::paced(start, offset, agent_period, run + warmup, async move |n| {
            let (id, text) = (format!("a{i}-{n}"), stamp(start));
            let form = [("id", conv.as_str()), ("client_msg_id", id.as_str()), ("text", text.as_str())];
            let _ = http.post(format!("{base}/api/chat/send")).header("cookie", &cookie).form(&form).send().await;
            true
        }));
    }

    // Handoff claims under load: pass to the AI and take back, timed.
    let claims = Arc::new(Mutex::new(Samples::default()));
    {
        let (http, base, cookie, claims) = (http.clone(), base.clone(), cookie.clone(), claims.clone());
        tokio::spawn(async move {
            tokio::time::sleep(warmup).await;
            let mut i = 0usize;
            while start.elapsed() < run + warmup {
                let conv = &claim_sessions[i % claim_sessions.len()].conversation_id;
                for endpoint in ["handoff/pass", "handoff/continue"] {
                    let t = Instant::now();
                    let res = http
                        .post(format!("{base}/api/{endpoint}"))
                        .header("cookie", &cookie)
                        .form(&[("id", conv)])
                        .send()
                        .await;
                    if res.is_ok_and(|r| r.status().is_success()) {
                        claims.lock().unwrap().add(t.elapsed());
                    }
                }
                i += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
    }

    tokio::time::sleep(run + warmup + Duration::from_secs(2)).await;
    let project_v2a = v2a.lock().unwrap().clone();
    let project_a2v = a2v.lock().unwrap().clone();
    let claims = claims.lock().unwrap().clone();
    println!("\nHandoff ({} s measured after {} s warm-up):", a.seconds, warmup.as_secs());
    project_v2a.print("visitor→agent");
    project_a2v.print("agent→visitor");
    claims.print("handoff claim (HTTP round trip)");
    println!(
        "  messages: {} sent by visitors, {} delivered to agents; sequence gaps {}, repeats {}",
        sent.load(Ordering::Relaxed),
        received.load(Ordering::Relaxed),
        integrity.gaps.load(Ordering::Relaxed),
        integrity.repeats.load(Ordering::Relaxed)
    );

    let baseline = relay::run(a.conversations, AGENT_SOCKETS, period, run, warmup).await;
    println!("\nBaseline: bare WebSocket relay (tokio-tungstenite, no storage), same traffic:");
    baseline.0.print("visitor→agent");
    baseline.1.print("agent→visitor");
    println!("\nRatio Handoff / baseline (p99):");
    println!("  visitor→agent  {:.2}", ratio(&project_v2a, &baseline.0));
    println!("  agent→visitor  {:.2}", ratio(&project_a2v, &baseline.1));
    let _ = std::fs::remove_dir_all(&backend.config.data_dir);
    std::process::exit(0);
}

fn ratio(project: &Samples, baseline: &Samples) -> f64 {
    project.quantile(0.99).as_secs_f64() / baseline.quantile(0.99).as_secs_f64().max(1e-6)
}

/// Idle widget connections against the release binary in its own process.
async fn connections(a: &Args) {
    let bin = std::env::var("HANDOFF_SERVER_BIN").unwrap_or_else(|_| "target/release/handoff-server".into());
    let dir = std::env::temp_dir().join(format!("handoff-bench-conn-{}", std::process::id()));
    let mut cmd = tokio::process::Command::new(&bin);
    cmd.env("HANDOFF_DATA_DIR", &dir)
        .env("HANDOFF_NEW_CHATS_PER_IP_PER_HOUR", "0")
        .env("HANDOFF_OUTBOX_POLL_MS", "0")
        .env("HANDOFF_EMAIL_OFFER_CHECK_MS", "0")
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("LEPTOS_OUTPUT_NAME", "handoff")
        .env("LEPTOS_SITE_ROOT", "target/site")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true);
    if a.postgres {
        let c = bench_config(true).await;
        cmd.env("DATABASE_URL", c.database_url.unwrap());
    }
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("{bin}: {e} (build it with `cargo leptos build --release`)"));
    let pid = child.id().unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap());
    let base = {
        use tokio::io::AsyncBufReadExt;
        let mut line = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line).await.unwrap() == 0 {
                panic!("server exited");
            }
            if let Some(url) = line.split("listening on ").nth(1) {
                break url.trim().to_string();
            }
        }
    };
    let ws_base = base.replacen("http", "ws", 1);
    let http = reqwest::Client::new();
    let rss0 = rss_kib(pid);
    println!("connections: {} idle widget connections to {bin} (pid {pid}); RSS at start {} MiB", a.count, rss0 / 1024);
    let mut sockets = Vec::with_capacity(a.count);
    let t = Instant::now();
    for i in 0..a.count {
        let res = http.post(format!("{base}/api/widget/session")).form(&[("widget_id", "demo")]).send().await;
        let session: VisitorSession = match res {
            Ok(r) => match serde_json::from_str(&r.text().await.unwrap_or_default()) {
                Ok(s) => s,
                Err(_) => break,
            },
            Err(e) => {
                println!("  stopped at {i}: {e}");
                break;
            }
        };
        let mut ws = connect(&format!("{ws_base}/ws/visitor"), &base, None).await;
        let hello = json!({"type": "hello", "token": session.token, "last_seq": 0});
        ws.send(Message::Text(hello.to_string().into())).await.unwrap();
        sockets.push(ws);
        if (i + 1) % 1000 == 0 {
            println!("  {:>6} connections: RSS {} MiB", i + 1, rss_kib(pid) / 1024);
        }
    }
    // Drain the greetings, then measure at rest.
    for ws in sockets.iter_mut() {
        let _ = tokio::time::timeout(Duration::from_millis(1), ws.next()).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss = rss_kib(pid);
    let n = sockets.len().max(1);
    println!(
        "  held {} connections (set up in {:.1} s); RSS {} MiB; {:.1} MiB per 1,000 connections above the start",
        sockets.len(),
        t.elapsed().as_secs_f64(),
        rss / 1024,
        (rss.saturating_sub(rss0)) as f64 / 1024.0 / n as f64 * 1000.0
    );
    let _ = child.start_kill();
    let _ = std::fs::remove_dir_all(&dir);
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(|l| l.split_whitespace().nth(1).unwrap_or("0").parse().unwrap_or(0))
        })
        .unwrap_or(0)
}

/// Message appends per second through the chat service.
async fn inserts(a: &Args) {
    let backend = Backend::start(bench_config(a.postgres).await).await.expect("backend");
    let (_, user) = backend.login("ann@demo.test", PASSWORD, None).await.expect("demo agent");
    const CONVERSATIONS: usize = 50;
    let mut visitors = Vec::new();
    for _ in 0..CONVERSATIONS {
        let s = backend.visitor_session("demo", None, None).await.unwrap();
        backend.agent_action(&user, &s.conversation_id, AgentAction::ContinueChatYourself).await.unwrap();
        visitors.push(backend.visitor_by_token(&s.token).await.unwrap());
    }
    let per = a.messages / CONVERSATIONS;
    let commits_before = backend.db.write_commits();
    let t = Instant::now();
    let latencies = Arc::new(Mutex::new(Samples::default()));
    let tasks: Vec<_> = visitors
        .into_iter()
        .enumerate()
        .map(|(c, v)| {
            let (backend, latencies) = (backend.clone(), latencies.clone());
            tokio::spawn(async move {
                for i in 0..per {
                    let t = Instant::now();
                    backend.visitor_send(&v, &format!("c{c}-{i}"), "benchmark message").await.expect("append");
                    latencies.lock().unwrap().add(t.elapsed());
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "inserts ({}): {} messages over {CONVERSATIONS} conversations in {:.2} s = {:.0} messages/s",
        if a.postgres { "PostgreSQL" } else { "SQLite, WAL" },
        per * CONVERSATIONS,
        secs,
        (per * CONVERSATIONS) as f64 / secs
    );
    let commits = backend.db.write_commits() - commits_before;
    // Each message is two writes: the message itself and the bell's notifications.
    println!(
        "  {commits} commits for {} writes ({:.1} writes a commit)",
        2 * per * CONVERSATIONS,
        (2 * per * CONVERSATIONS) as f64 / commits.max(1) as f64
    );
    latencies.lock().unwrap().print("append (visitor_send)");
    let _ = std::fs::remove_dir_all(&backend.config.data_dir);
}
