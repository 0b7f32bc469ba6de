//! The baseline: a bare WebSocket relay with the same connection pattern as the latency
//! benchmark — N "visitor" connections and a few "agent" connections, each agent connection
//! responsible for a share of the visitors — that forwards text frames and stores nothing.
//! Frames: a visitor's first frame is `v <i>`, an agent's `a <k>`; then visitors send the
//! payload (routed to their agent connection as `<i> <payload>`), agents send `<i> <payload>`
//! (routed to visitor i).
use crate::stats::{paced, Samples};
use futures::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

type Routes = Arc<Mutex<HashMap<String, mpsc::UnboundedSender<String>>>>;

async fn serve(listener: tokio::net::TcpListener, routes: Routes, visitors: usize, agents: usize) {
    while let Ok((stream, _)) = listener.accept().await {
        let routes = routes.clone();
        tokio::spawn(async move {
            let Ok(ws) = tokio_tungstenite::accept_async(stream).await else { return };
            let (mut tx, mut rx) = ws.split();
            let Some(Ok(Message::Text(first))) = rx.next().await else { return };
            let me = first.to_string();
            let (out_tx, mut out_rx) = mpsc::unbounded_channel::<String>();
            routes.lock().unwrap().insert(me.clone(), out_tx);
            tokio::spawn(async move {
                while let Some(text) = out_rx.recv().await {
                    if tx.send(Message::Text(text.into())).await.is_err() {
                        return;
                    }
                }
            });
            let per_agent = visitors.div_ceil(agents);
            while let Some(Ok(Message::Text(t))) = rx.next().await {
                let (target, text) = match me.split_once(' ') {
                    Some(("v", i)) => {
                        let i: usize = i.parse().unwrap_or(0);
                        (format!("a {}", i / per_agent), format!("{i} {t}"))
                    }
                    _ => match t.split_once(' ') {
                        Some((i, payload)) => (format!("v {i}"), payload.to_string()),
                        None => continue,
                    },
                };
                let route = routes.lock().unwrap().get(&target).cloned();
                if let Some(r) = route {
                    let _ = r.send(text);
                }
            }
        });
    }
}

/// Runs the same traffic as the latency benchmark through the relay: (visitor→agent,
/// agent→visitor) latencies.
pub async fn run(
    visitors: usize,
    agents: usize,
    period: Duration,
    run: Duration,
    warmup: Duration,
) -> (Samples, Samples) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    tokio::spawn(serve(listener, Routes::default(), visitors, agents));
    let start = Instant::now();
    let stamp = move || format!("t{}", start.elapsed().as_micros());
    let latency = move |text: &str| -> Option<Duration> {
        let sent: u64 = text.strip_prefix('t')?.parse().ok()?;
        Some(Duration::from_micros((start.elapsed().as_micros() as u64).saturating_sub(sent)))
    };
    let v2a = Arc::new(Mutex::new(Samples::default()));
    let a2v = Arc::new(Mutex::new(Samples::default()));
    let mut agent_senders = Vec::new();
    for k in 0..agents {
        let (ws, _) = tokio_tungstenite::connect_async(url.as_str()).await.unwrap();
        let (mut tx, mut rx) = ws.split();
        tx.send(Message::Text(format!("a {k}").into())).await.unwrap();
        let v2a = v2a.clone();
        tokio::spawn(async move {
            while let Some(Ok(Message::Text(t))) = rx.next().await {
                if let Some((_, payload)) = t.split_once(' ') {
                    if let Some(d) = latency(payload) {
                        if start.elapsed() > warmup {
                            v2a.lock().unwrap().add(d);
                        }
                    }
                }
            }
        });
        agent_senders.push(Arc::new(tokio::sync::Mutex::new(tx)));
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let per_agent = visitors.div_ceil(agents);
    for i in 0..visitors {
        let (ws, _) = tokio_tungstenite::connect_async(url.as_str()).await.unwrap();
        let (mut tx, mut rx) = ws.split();
        tx.send(Message::Text(format!("v {i}").into())).await.unwrap();
        let a2v = a2v.clone();
        tokio::spawn(async move {
            while let Some(Ok(Message::Text(t))) = rx.next().await {
                if let Some(d) = latency(&t) {
                    if start.elapsed() > warmup {
                        a2v.lock().unwrap().add(d);
                    }
                }
            }
        });
        let offset = period.mul_f64(i as f64 / visitors as f64);
        tokio::spawn(paced(start, offset, period, run + warmup, async move |_| {
            tx.send(Message::Text(stamp().into())).await.is_ok()
        }));
        let agent = agent_senders[i / per_agent].clone();
        let agent_period = period * 5;
        let offset = agent_period.mul_f64(i as f64 / visitors as f64);
        tokio::spawn(paced(start, offset, agent_period, run + warmup, async move |_| {
            agent.lock().await.send(Message::Text(format!("{i} {}", stamp()).into())).await.is_ok()
        }));
    }
    tokio::time::sleep(run + warmup + Duration::from_secs(1)).await;
    let result = (v2a.lock().unwrap().clone(), a2v.lock().unwrap().clone());
    result
}
