//! Handoff's benchmarks. Figures are printed, never asserted; see BENCHMARKS.md.
//!
//! ```text
//! handoff-bench latency [--conversations 1000] [--rate 1] [--agents 10] [--seconds 20] [--warmup 3]
//!                       [--runs 1] [--postgres] [--handoff-only | --typing]
//! handoff-bench connections [--count 10000] [--postgres]
//! handoff-bench inserts [--messages 20000] [--postgres]
//! handoff-bench inbox [--conversations 100000] [--messages 2000000] [--rounds 100] [--postgres]
//! handoff-bench relay-server [--durable <file>]      (started by `latency`)
//! ```
//!
//! * `latency` — out of process: the release server binary (`target/release/handoff-server`,
//!   or `HANDOFF_SERVER_BIN`) in its own process, driven through the widget's and dashboard's
//!   protocol by this process; then the same load against two baselines, each in its own
//!   process: a bare relay and a durable relay (append + `fdatasync` before delivery). Delivery
//!   latency each way, handoff claims, loss and duplicates, the agents' lists, CPU time, and the
//!   p99 ratios to both baselines (`latency`, `load`, `relay`). With `--typing`: Handoff without
//!   and with every visitor also typing at the most the server counts, and the ratio.
//! * `connections` — idle widget connections against the release server binary in its own
//!   process; its RSS per 1,000 connections.
//! * `inserts` — in process: message appends per second through the chat service
//!   (`visitor_send`), and how many writes shared a commit (SQLite's group commit).
//! * `inbox` — in process: the dashboard's list (first page, each filter, a label, a page deep
//!   in the list) and search over a seeded organization of 100,000 conversations and 2,000,000
//!   messages; p50/p95/max per query (`inbox`).
mod inbox;
mod latency;
mod load;
mod process;
mod relay;
mod stats;

use backend::AgentAction;
use backend::{Backend, Config};
use domain::wire::VisitorSession;
use futures::{SinkExt, StreamExt};
use process::{raise_fd_limit, rss_kib, Server, PASSWORD};
use serde_json::json;
use stats::Samples;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

struct Args {
    command: String,
    conversations: usize,
    rate: f64,
    agents: usize,
    seconds: f64,
    warmup: f64,
    runs: usize,
    count: usize,
    messages: usize,
    postgres: bool,
    handoff_only: bool,
    typing: bool,
    durable: Option<std::path::PathBuf>,
    /// Set on the command line (the defaults above are `latency`'s and `inserts`').
    conversations_given: bool,
    messages_given: bool,
    rounds: usize,
}

fn args() -> Args {
    let mut a = Args {
        command: String::new(),
        conversations: 1000,
        rate: 1.0,
        agents: 10,
        seconds: 20.0,
        warmup: 3.0,
        runs: 1,
        count: 10_000,
        messages: 20_000,
        postgres: false,
        handoff_only: false,
        typing: false,
        durable: None,
        conversations_given: false,
        messages_given: false,
        rounds: 100,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut num = |name: &str| {
            it.next().and_then(|v| v.parse::<f64>().ok()).filter(|v| *v > 0.0).unwrap_or_else(|| {
                eprintln!("{name} needs a positive number");
                std::process::exit(2)
            })
        };
        match arg.as_str() {
            "--conversations" => {
                a.conversations = num("--conversations") as usize;
                a.conversations_given = true;
            }
            "--rate" => a.rate = num("--rate"),
            "--agents" => a.agents = num("--agents") as usize,
            "--seconds" => a.seconds = num("--seconds"),
            "--warmup" => a.warmup = num("--warmup"),
            "--runs" => a.runs = num("--runs") as usize,
            "--count" => a.count = num("--count") as usize,
            "--messages" => {
                a.messages = num("--messages") as usize;
                a.messages_given = true;
            }
            "--rounds" => a.rounds = num("--rounds") as usize,
            "--postgres" => a.postgres = true,
            "--handoff-only" => a.handoff_only = true,
            "--typing" => a.typing = true,
            "--durable" => a.durable = Some(it.next().expect("--durable needs a file").into()),
            c if a.command.is_empty() && !c.starts_with('-') => a.command = c.to_string(),
            other => {
                eprintln!("unknown argument {other}");
                std::process::exit(2)
            }
        }
    }
    a
}

#[tokio::main]
async fn main() {
    let a = args();
    match a.command.as_str() {
        "latency" => {
            let shape = load::Shape {
                conversations: a.conversations,
                rate: a.rate,
                agents: a.agents,
                seconds: a.seconds,
                warmup: a.warmup,
                typing: false,
            };
            let o = latency::Options {
                shape,
                runs: a.runs,
                postgres: a.postgres,
                handoff_only: a.handoff_only,
                typing: a.typing,
            };
            latency::latency(&o).await;
        }
        "relay-server" => relay::serve(a.durable).await,
        "connections" => connections(&a).await,
        "inserts" => inserts(&a).await,
        "inbox" => {
            let o = inbox::Options {
                conversations: if a.conversations_given { a.conversations } else { 100_000 },
                messages: if a.messages_given { a.messages } else { 2_000_000 },
                postgres: a.postgres,
                rounds: a.rounds,
            };
            let backend = Backend::start(bench_config(a.postgres).await).await.expect("backend");
            inbox::inbox(&backend, &o).await;
            // HANDOFF_BENCH_KEEP=1 keeps the seeded database for a closer look.
            match std::env::var_os("HANDOFF_BENCH_KEEP") {
                Some(_) => println!("  kept: {}", backend.config.data_dir.display()),
                None => drop(std::fs::remove_dir_all(&backend.config.data_dir)),
            }
        }
        _ => {
            eprintln!("usage: handoff-bench latency|connections|inserts|inbox [options] (see the source's header)");
            std::process::exit(2);
        }
    }
}

/// Idle widget connections against the release binary in its own process.
async fn connections(a: &Args) {
    raise_fd_limit();
    let server = Server::handoff(a.postgres, "conn").await;
    let (base, pid) = (server.base.clone(), server.pid);
    let http = reqwest::Client::new();
    let rss0 = rss_kib(pid);
    println!(
        "connections: {} idle widget connections to {} (pid {pid}); RSS at start {} MiB",
        a.count,
        process::handoff_bin(),
        rss0 / 1024
    );
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
        let mut ws = load::connect(&format!("{}/ws/visitor", base.replacen("http", "ws", 1)), &base, None).await;
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
    drop(sockets);
    server.stop().await;
}

/// A config for the in-process `inserts`: a fresh data dir (or PostgreSQL schema), no rate
/// limits, no background workers, no AI typing delay.
async fn bench_config(postgres: bool) -> Config {
    let mut c = Config {
        data_dir: process::scratch_dir("inserts"),
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
        c.database_url = Some(process::fresh_pg_schema("inserts").await.0);
    }
    c
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
