//! The load generator of `latency`: drives one server in another process (Handoff or a relay)
//! through the widget's and the dashboard's protocol, and measures it.
//!
//! Set-up: N visitor sessions (`widget/session`), each conversation taken over by the demo
//! agent (`handoff/continue`, so the AI stays silent), plus 20 conversations for the claims.
//! Then `agents` dashboard sockets (`/ws/agent`, signed in) each `watch` N/agents of the
//! conversations, and N widget sockets (`/ws/visitor`) say `hello`. Load, for `warmup + seconds`:
//!
//! * every visitor sends `rate` messages a second over its socket, visitor i at offset
//!   i/N of the period (so sends are spread evenly over each period, never bunched at a tick);
//!   with `typing`, also a typing frame half a period after each message;
//! * every conversation gets an agent's answer at a fifth of that rate through the HTTP API
//!   (`chat/send`), spread the same way;
//! * claims: "Pass chat to AI" then "Continue chat yourself" on the 20 other conversations,
//!   one pair every 20 ms, each an HTTP round trip, timed.
//!
//! A message's text is the generator's clock at the moment it is sent; the receiver's clock at
//! arrival minus that is its delivery latency (visitor→agent at the watching agent socket,
//! agent→visitor at the visitor's socket). Only messages sent after the warm-up count. Every
//! connection checks the sequence numbers of each conversation it receives: a number skipped
//! is a gap, one seen again a duplicate. After the load the generator waits until every
//! acknowledged message has arrived (or 20 s), then counts what never came (lost).
//!
//! Lists (Handoff only, `check_lists`): each agent socket keeps the conversation list a
//! dashboard would show (the list fetched when it connects, replaced row by row by the live
//! `conversations` frames); after the load every row is compared with the server's own answer
//! for that conversation (`conversations/get`): rows that differ are stale, conversations of the
//! load absent from a list are missing. Live summaries older than the row they replace (a lower
//! `last_seq`) are counted as they arrive.
use crate::process::{cpu_time, own_cpu_time, PASSWORD};
use crate::stats::Samples;
use domain::wire::{Author, ConversationDetail, ConversationSummary, ServerFrame, VisitorSession};
use futures::stream::{SplitSink, StreamExt};
use futures::SinkExt;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;
type Sink = SplitSink<Ws, Message>;

/// Conversations used for the claims, besides the load's.
const CLAIM_CONVERSATIONS: usize = 20;
/// Agents answer each conversation at 1/AGENT_SHARE of the visitors' rate.
const AGENT_SHARE: u32 = 5;
/// At most this many agent sends in flight (HTTP requests); more wait for one to finish.
const AGENT_SENDS_IN_FLIGHT: usize = 256;
/// Set-up requests and connections in flight.
const SETUP_CONCURRENCY: usize = 16;

#[derive(Clone, Copy)]
pub struct Shape {
    pub conversations: usize,
    /// Messages a second per visitor.
    pub rate: f64,
    /// Agent sockets.
    pub agents: usize,
    pub seconds: f64,
    pub warmup: f64,
    /// Visitors also send a typing frame (with a preview) half a period after each message: the
    /// most the server counts (one a second) at the default rate.
    pub typing: bool,
}

/// The agents' lists after the run against the server's answers.
#[derive(Clone, Copy, Default)]
pub struct ListCheck {
    pub agents: usize,
    /// Rows of the agents' lists compared with the server's.
    pub rows: usize,
    /// Rows that differ from the server's (an older state, sequence number or last message).
    pub stale: usize,
    /// Conversations of the load (each had messages after every agent socket connected) that
    /// are not in an agent's list at all.
    pub missing: usize,
    /// Live summaries that arrived after a newer one of the same conversation (a lower
    /// `last_seq` than the row they replaced).
    pub backwards: u64,
}

#[derive(Default)]
struct Counters {
    visitor_sent: AtomicU64,
    visitor_acked: AtomicU64,
    visitor_rejected: AtomicU64,
    v2a_delivered: AtomicU64,
    agent_sent: AtomicU64,
    agent_failed: AtomicU64,
    agent_in_flight: AtomicU64,
    a2v_delivered: AtomicU64,
    gaps: AtomicU64,
    duplicates: AtomicU64,
    claims_failed: AtomicU64,
    summaries: AtomicU64,
    summaries_backwards: AtomicU64,
    agent_frames: AtomicU64,
    visitor_frames: AtomicU64,
}

fn get(c: &AtomicU64) -> u64 {
    c.load(Ordering::Relaxed)
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// What one run against one server measured.
#[derive(Clone, Default)]
pub struct Outcome {
    pub v2a: Samples,
    pub a2v: Samples,
    pub claims: Samples,
    /// How late senders were against their schedule (the generator's own delay).
    pub lateness: Samples,
    pub visitor_sent: u64,
    pub visitor_acked: u64,
    pub visitor_rejected: u64,
    pub agent_sent: u64,
    pub agent_failed: u64,
    pub claims_failed: u64,
    pub v2a_lost: u64,
    pub a2v_lost: u64,
    pub gaps: u64,
    pub duplicates: u64,
    /// Frames received by all agent sockets and by all visitor sockets, warm-up included.
    pub agent_frames: u64,
    pub visitor_frames: u64,
    /// The server's and this generator's CPU time during the measured seconds.
    pub server_cpu: Duration,
    pub generator_cpu: Duration,
    pub measured: Duration,
    /// The agents' lists, when checked.
    pub lists: Option<ListCheck>,
}

struct Shared {
    /// The origin of the clock carried in message texts.
    clock: Instant,
    /// Messages sent from this clock reading on (µs) count; set when the load starts.
    measure_from: AtomicU64,
    counters: Counters,
    v2a: Mutex<Samples>,
    a2v: Mutex<Samples>,
    claims: Mutex<Samples>,
    lateness: Mutex<Samples>,
}

impl Shared {
    /// The generator's clock, as carried in message texts.
    fn stamp(&self) -> String {
        format!("t{}", self.clock.elapsed().as_micros())
    }

    /// A received stamp's latency, if it was sent after the warm-up.
    fn latency(&self, text: &str) -> Option<Duration> {
        let sent: u64 = text.strip_prefix('t')?.parse().ok()?;
        let now = self.clock.elapsed().as_micros() as u64;
        (sent >= get(&self.measure_from)).then(|| Duration::from_micros(now.saturating_sub(sent)))
    }

    /// Sequence check for one conversation on one connection: whether `seq` is new.
    fn check(&self, last: &mut i64, seq: i64) -> bool {
        if seq <= *last {
            bump(&self.counters.duplicates);
            return false;
        }
        if seq != *last + 1 {
            bump(&self.counters.gaps);
        }
        *last = seq;
        true
    }

    /// Waits for a sender's `k`th turn and records how late the wake-up was (from the warm-up's
    /// end on); false once the load is over.
    async fn turn(&self, s: Schedule, k: u32) -> bool {
        let due = s.begin + s.offset + s.period * k;
        if due >= s.end {
            return false;
        }
        tokio::time::sleep_until(due.into()).await;
        let late = Instant::now().saturating_duration_since(due);
        if due.saturating_duration_since(self.clock).as_micros() as u64 >= get(&self.measure_from) {
            self.lateness.lock().unwrap().add(late);
        }
        true
    }
}

/// When a sender sends: every `period` from `begin + offset` until `end`.
#[derive(Clone, Copy)]
struct Schedule {
    begin: Instant,
    end: Instant,
    period: Duration,
    offset: Duration,
}

pub async fn connect(url: &str, origin: &str, cookie: Option<&str>) -> Ws {
    let mut req = url.into_client_request().expect("websocket address");
    req.headers_mut().insert("origin", origin.parse().unwrap());
    if let Some(c) = cookie {
        req.headers_mut().insert("cookie", c.parse().unwrap());
    }
    let config = WebSocketConfig::default().read_buffer_size(4 * 1024).write_buffer_size(4 * 1024);
    match tokio_tungstenite::connect_async_with_config(req, Some(config), true).await {
        Ok((ws, _)) => ws,
        Err(e) => panic!("{url}: {e}"),
    }
}

async fn post(http: &reqwest::Client, url: String, cookie: &str, form: &[(&str, &str)]) -> Result<String, String> {
    let res = http.post(&url).header("cookie", cookie).form(form).send().await.map_err(|e| e.to_string())?;
    let status = res.status();
    let body = res.text().await.map_err(|e| e.to_string())?;
    if status.is_success() {
        Ok(body)
    } else {
        Err(format!("{url}: {status} {body}"))
    }
}

/// Signs in as the demo agent; the session cookie.
async fn sign_in(base: &str) -> String {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = http
        .post(format!("{base}/api/auth/login"))
        .form(&[("email", "ann@demo.test"), ("password", PASSWORD)])
        .send()
        .await
        .expect("sign in");
    let cookie = res.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or("");
    let cookie = cookie.split(';').next().unwrap_or("").to_string();
    assert!(!cookie.is_empty(), "sign-in set no cookie ({})", res.status());
    cookie
}

/// N visitor sessions, each taken over by the signed-in agent.
async fn sessions(http: &reqwest::Client, base: &str, cookie: &str, n: usize) -> Vec<VisitorSession> {
    futures::stream::iter(0..n)
        .map(|_| async move {
            let body = post(http, format!("{base}/api/widget/session"), cookie, &[("widget_id", "demo")])
                .await
                .expect("visitor session");
            let s: VisitorSession = serde_json::from_str(&body).expect("visitor session");
            let id = s.conversation_id.as_str();
            post(http, format!("{base}/api/handoff/continue"), cookie, &[("id", id)]).await.expect("take over");
            s
        })
        .buffered(SETUP_CONCURRENCY)
        .collect()
        .await
}

/// An agent socket watching `chunk`: its reader task, its sending half and its list.
async fn agent(
    shared: &Arc<Shared>,
    http: &reqwest::Client,
    base: &str,
    cookie: &str,
    chunk: &[VisitorSession],
    check_lists: bool,
) -> (JoinHandle<()>, Sink, Arc<Mutex<HashMap<String, ConversationSummary>>>) {
    let ws = connect(&format!("{}/ws/agent", base.replacen("http", "ws", 1)), base, Some(cookie)).await;
    let (mut sink, mut stream) = ws.split();
    let list = Arc::new(Mutex::new(HashMap::new()));
    if check_lists {
        let body = post(http, format!("{base}/api/conversations/list"), cookie, &[]).await.expect("list");
        let fetched: Vec<ConversationSummary> = serde_json::from_str(&body).expect("list");
        list.lock().unwrap().extend(fetched.into_iter().map(|s| (s.id.clone(), s)));
    }
    let mut watched: HashMap<String, i64> = chunk.iter().map(|s| (s.conversation_id.clone(), 0)).collect();
    let (shared2, list2) = (shared.clone(), list.clone());
    let reader = tokio::spawn(async move {
        let shared = shared2;
        while let Some(Ok(msg)) = stream.next().await {
            let Message::Text(t) = msg else { continue };
            bump(&shared.counters.agent_frames);
            match serde_json::from_str::<ServerFrame>(&t) {
                Ok(ServerFrame::Message { message }) => {
                    let Some(last) = watched.get_mut(&message.conversation_id) else { continue };
                    if shared.check(last, message.seq) && message.author == Author::Visitor {
                        bump(&shared.counters.v2a_delivered);
                        if let Some(d) = shared.latency(&message.text) {
                            shared.v2a.lock().unwrap().add(d);
                        }
                    }
                }
                // The dashboard replaces a row by every live summary.
                Ok(ServerFrame::Conversations { summaries }) if check_lists => {
                    for summary in summaries {
                        bump(&shared.counters.summaries);
                        let older = list2.lock().unwrap().insert(summary.id.clone(), summary.clone());
                        if older.is_some_and(|o| o.last_seq > summary.last_seq) {
                            bump(&shared.counters.summaries_backwards);
                        }
                    }
                }
                _ => {}
            }
        }
    });
    for s in chunk {
        let watch = serde_json::json!({"type": "watch", "conversation_id": s.conversation_id, "last_seq": 0});
        sink.send(Message::Text(watch.to_string().into())).await.expect("watch");
    }
    (reader, sink, list)
}

/// A visitor socket after `hello`: its reader task and its sending half.
async fn visitor(shared: &Arc<Shared>, base: &str, session: &VisitorSession) -> (JoinHandle<()>, Sink) {
    let ws = connect(&format!("{}/ws/visitor", base.replacen("http", "ws", 1)), base, None).await;
    let (mut sink, mut stream) = ws.split();
    let hello = serde_json::json!({"type": "hello", "token": session.token, "last_seq": 0});
    sink.send(Message::Text(hello.to_string().into())).await.expect("hello");
    let shared = shared.clone();
    let reader = tokio::spawn(async move {
        let mut last = 0;
        while let Some(Ok(msg)) = stream.next().await {
            let Message::Text(t) = msg else { continue };
            bump(&shared.counters.visitor_frames);
            match serde_json::from_str::<ServerFrame>(&t) {
                Ok(ServerFrame::Message { message }) => {
                    if shared.check(&mut last, message.seq) && matches!(message.author, Author::Agent { .. }) {
                        bump(&shared.counters.a2v_delivered);
                        if let Some(d) = shared.latency(&message.text) {
                            shared.a2v.lock().unwrap().add(d);
                        }
                    }
                }
                Ok(ServerFrame::Ack { .. }) => bump(&shared.counters.visitor_acked),
                Ok(ServerFrame::Error { client_msg_id: Some(_), .. }) => bump(&shared.counters.visitor_rejected),
                _ => {}
            }
        }
    });
    (reader, sink)
}

/// Runs the load against the server at `base` (process `pid`) and measures it.
pub async fn run(base: &str, pid: u32, shape: Shape, check_lists: bool) -> Outcome {
    let http = reqwest::Client::new();
    let cookie = sign_in(base).await;
    let t = Instant::now();
    let all = sessions(&http, base, &cookie, shape.conversations + CLAIM_CONVERSATIONS).await;
    let (load, claim_sessions) = all.split_at(shape.conversations);
    let shared = Arc::new(Shared {
        clock: Instant::now(),
        measure_from: AtomicU64::new(u64::MAX),
        counters: Counters::default(),
        v2a: Default::default(),
        a2v: Default::default(),
        claims: Default::default(),
        lateness: Default::default(),
    });
    let mut tasks: Vec<JoinHandle<()>> = Vec::new();
    let mut agent_sinks = Vec::new();
    let mut lists = Vec::new();
    let per_agent = shape.conversations.div_ceil(shape.agents.max(1)).max(1);
    for chunk in load.chunks(per_agent) {
        let (reader, sink, list) = agent(&shared, &http, base, &cookie, chunk, check_lists).await;
        tasks.push(reader);
        agent_sinks.push(sink);
        lists.push(list);
    }
    let visitors: Vec<(JoinHandle<()>, Sink)> =
        futures::stream::iter(load).map(|s| visitor(&shared, base, s)).buffered(SETUP_CONCURRENCY).collect().await;
    eprintln!(
        "  set-up: {} conversations, {} agent and {} visitor sockets in {:.1} s",
        all.len(),
        agent_sinks.len(),
        visitors.len(),
        t.elapsed().as_secs_f64()
    );

    let begin = Instant::now();
    let warmup = Duration::from_secs_f64(shape.warmup);
    let end = begin + warmup + Duration::from_secs_f64(shape.seconds);
    shared.measure_from.store((begin + warmup - shared.clock).as_micros() as u64, Ordering::Relaxed);
    let period = Duration::from_secs_f64(1.0 / shape.rate);
    let n = shape.conversations as f64;

    // Visitors send over their sockets.
    for (i, (reader, mut sink)) in visitors.into_iter().enumerate() {
        tasks.push(reader);
        let shared = shared.clone();
        let schedule = Schedule { begin, end, period, offset: period.mul_f64(i as f64 / n) };
        let typing = shape.typing;
        tasks.push(tokio::spawn(async move {
            for k in 0u32.. {
                if !shared.turn(schedule, k).await {
                    break;
                }
                let frame =
                    serde_json::json!({"type": "send", "client_msg_id": format!("v{i}-{k}"), "text": shared.stamp()});
                bump(&shared.counters.visitor_sent);
                if sink.send(Message::Text(frame.to_string().into())).await.is_err() {
                    break;
                }
                if typing {
                    let due = schedule.begin + schedule.offset + schedule.period * k + schedule.period / 2;
                    tokio::time::sleep_until(due.into()).await;
                    let frame = serde_json::json!({"type": "typing", "preview": format!("I am typing message {k}")});
                    if sink.send(Message::Text(frame.to_string().into())).await.is_err() {
                        break;
                    }
                }
            }
            std::future::pending::<()>().await; // the socket stays open until the run ends
        }));
    }

    // Agents answer through the HTTP API, each send in a task of its own (a slow answer does
    // not hold up the schedule).
    let agent_period = period * AGENT_SHARE;
    let in_flight = Arc::new(tokio::sync::Semaphore::new(AGENT_SENDS_IN_FLIGHT));
    for (i, s) in load.iter().enumerate() {
        let (shared, http, in_flight) = (shared.clone(), http.clone(), in_flight.clone());
        let (base, cookie, conv) = (base.to_string(), cookie.clone(), s.conversation_id.clone());
        let schedule = Schedule { begin, end, period: agent_period, offset: agent_period.mul_f64(i as f64 / n) };
        tasks.push(tokio::spawn(async move {
            for k in 0u32.. {
                if !shared.turn(schedule, k).await {
                    break;
                }
                let permit = in_flight.clone().acquire_owned().await.expect("semaphore");
                shared.counters.agent_in_flight.fetch_add(1, Ordering::Relaxed);
                let (shared, http, base, cookie, conv) =
                    (shared.clone(), http.clone(), base.clone(), cookie.clone(), conv.clone());
                tokio::spawn(async move {
                    let (id, text) = (format!("a{i}-{k}"), shared.stamp());
                    let form = [("id", conv.as_str()), ("client_msg_id", id.as_str()), ("text", text.as_str())];
                    match post(&http, format!("{base}/api/chat/send"), &cookie, &form).await {
                        Ok(_) => bump(&shared.counters.agent_sent),
                        Err(e) => {
                            if get(&shared.counters.agent_failed) == 0 {
                                eprintln!("  agent send failed: {e}");
                            }
                            bump(&shared.counters.agent_failed)
                        }
                    }
                    shared.counters.agent_in_flight.fetch_sub(1, Ordering::Relaxed);
                    drop(permit);
                });
            }
        }));
    }

    // Claims on the other conversations, after the warm-up.
    {
        let (shared, http, base, cookie) = (shared.clone(), http.clone(), base.to_string(), cookie.clone());
        let ids: Vec<String> = claim_sessions.iter().map(|s| s.conversation_id.clone()).collect();
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until((begin + warmup).into()).await;
            let mut i = 0;
            while Instant::now() < end {
                for endpoint in ["handoff/pass", "handoff/continue"] {
                    let t = Instant::now();
                    match post(&http, format!("{base}/api/{endpoint}"), &cookie, &[("id", ids[i % ids.len()].as_str())])
                        .await
                    {
                        Ok(_) => shared.claims.lock().unwrap().add(t.elapsed()),
                        Err(_) => bump(&shared.counters.claims_failed),
                    }
                }
                i += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }

    // The measured seconds: CPU time of the server and of this generator.
    tokio::time::sleep_until((begin + warmup).into()).await;
    let (server0, own0, t0) = (cpu_time(pid), own_cpu_time(), Instant::now());
    tokio::time::sleep_until(end.into()).await;
    let (server1, own1, measured) = (cpu_time(pid), own_cpu_time(), t0.elapsed());

    // Wait for what is still on its way.
    let c = &shared.counters;
    let drain_until = Instant::now() + Duration::from_secs(20);
    while Instant::now() < drain_until {
        let settled = get(&c.agent_in_flight) == 0
            && get(&c.visitor_acked) + get(&c.visitor_rejected) >= get(&c.visitor_sent)
            && get(&c.v2a_delivered) >= get(&c.visitor_acked)
            && get(&c.a2v_delivered) >= get(&c.agent_sent);
        if settled {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let lists =
        if check_lists { Some(check(&shared, &http, base, &cookie, &all, load.len(), &lists).await) } else { None };
    for task in &tasks {
        task.abort();
    }
    drop(agent_sinks);
    let outcome = Outcome {
        v2a: shared.v2a.lock().unwrap().clone(),
        a2v: shared.a2v.lock().unwrap().clone(),
        claims: shared.claims.lock().unwrap().clone(),
        lateness: shared.lateness.lock().unwrap().clone(),
        visitor_sent: get(&c.visitor_sent),
        visitor_acked: get(&c.visitor_acked),
        visitor_rejected: get(&c.visitor_rejected),
        agent_sent: get(&c.agent_sent),
        agent_failed: get(&c.agent_failed),
        claims_failed: get(&c.claims_failed),
        v2a_lost: get(&c.visitor_acked).saturating_sub(get(&c.v2a_delivered)),
        a2v_lost: get(&c.agent_sent).saturating_sub(get(&c.a2v_delivered)),
        gaps: get(&c.gaps),
        duplicates: get(&c.duplicates),
        agent_frames: get(&c.agent_frames),
        visitor_frames: get(&c.visitor_frames),
        server_cpu: server1.saturating_sub(server0),
        generator_cpu: own1.saturating_sub(own0),
        measured,
        lists,
    };
    outcome
}

/// Compares every agent socket's list with the server's answer for each conversation, once
/// no list update has arrived for a second (at most 15 s).
async fn check(
    shared: &Shared,
    http: &reqwest::Client,
    base: &str,
    cookie: &str,
    all: &[VisitorSession],
    load: usize,
    lists: &[Arc<Mutex<HashMap<String, ConversationSummary>>>],
) -> ListCheck {
    let until = Instant::now() + Duration::from_secs(15);
    let mut seen = get(&shared.counters.summaries);
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = get(&shared.counters.summaries);
        if now == seen {
            break;
        }
        seen = now;
    }
    let truth: Vec<ConversationSummary> = futures::stream::iter(all)
        .map(|s| async move {
            let body =
                post(http, format!("{base}/api/conversations/get"), cookie, &[("id", s.conversation_id.as_str())])
                    .await
                    .expect("conversation");
            serde_json::from_str::<ConversationDetail>(&body).expect("conversation").summary
        })
        .buffered(SETUP_CONCURRENCY)
        .collect()
        .await;
    let backwards = get(&shared.counters.summaries_backwards);
    let mut c = ListCheck { agents: lists.len(), backwards, ..ListCheck::default() };
    for list in lists {
        let list = list.lock().unwrap();
        for (i, t) in truth.iter().enumerate() {
            match list.get(&t.id) {
                Some(row) => {
                    c.rows += 1;
                    if row != t {
                        if c.stale == 0 {
                            eprintln!(
                                "  first stale row: {} seq {} ({:?}) where the server has seq {} ({:?})",
                                t.id, row.last_seq, row.state, t.last_seq, t.state
                            );
                        }
                        c.stale += 1;
                    }
                }
                None if i < load => c.missing += 1,
                None => {}
            }
        }
    }
    c
}
