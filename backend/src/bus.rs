//! Live events between server processes sharing one PostgreSQL database, over
//! `LISTEN`/`NOTIFY` on the channel `handoff_events`.
//!
//! Each process publishes its frames locally and NOTIFYs them (in publish order, from one task),
//! packed: the frames waiting in the relay's queue travel together, as a JSON array in as few
//! NOTIFYs as fit — one statement per message would cost PostgreSQL more than the message's own
//! write. Each process LISTENs and re-publishes the frames of the others locally (its own
//! payloads it recognizes by their first bytes and skips unread). Correctness does not
//! depend on this relay: messages carry sequence numbers and sockets fill gaps from the database;
//! handoff transitions are compare-and-set in the database. The relay makes other processes'
//! events *live*. NOTIFY payloads are limited to 8000 bytes; a larger message frame is relayed as
//! its sequence number and read from the database by the receivers. The same connection hears
//! readiness pings on `handoff_ready` (`services::health`): proof that it is listening.
use crate::error::Result;
use crate::hub::Envelope;
use crate::services::health::READY_CHANNEL;
use crate::services::Backend;
use domain::wire::ServerFrame;
use sqlx::postgres::PgListener;
use std::time::Duration;
use tokio::sync::mpsc;

pub const CHANNEL: &str = "handoff_events";
const MAX_PAYLOAD: usize = 7900;
/// Most queued frames taken at once (they leave in as many NOTIFYs as their size needs).
const BATCH: usize = 256;

/// Starts relaying this process's hub to and from the other processes.
pub async fn start(backend: &Backend, url: &str) -> Result<()> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen_all([CHANNEL, READY_CHANNEL]).await?;
    let (tx, mut rx) = mpsc::unbounded_channel::<Envelope>();
    backend.hub.relay_to(tx);

    let pool = backend.db.pool.clone();
    tokio::spawn(async move {
        let mut queued = Vec::new();
        while rx.recv_many(&mut queued, BATCH).await > 0 {
            for payload in pack(queued.drain(..).filter_map(encode)) {
                if let Err(e) = sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(payload).execute(&pool).await
                {
                    tracing::warn!(error = %e, "could not relay live events to other nodes");
                }
            }
        }
    });
    let own = format!("[{{\"node\":{}", serde_json::to_string(backend.hub.node_id()).unwrap_or_default());
    let own_ping = format!("{}:", backend.hub.node_id());

    let receiver = backend.clone();
    tokio::spawn(async move {
        loop {
            match listener.try_recv().await {
                Ok(Some(n)) if n.channel() == READY_CHANNEL => {
                    // Readiness pings (`services::health`): this process's own only.
                    if let Some(seq) = n.payload().strip_prefix(&own_ping).and_then(|s| s.parse().ok()) {
                        receiver.relay_pings.heard(seq);
                    }
                }
                Ok(Some(n)) if n.payload().starts_with(&own) => {}
                Ok(Some(n)) => match decode(n.payload()) {
                    Ok(envs) => {
                        for env in envs {
                            receiver.deliver_relayed(env).await;
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "malformed relayed events"),
                },
                // The connection dropped; the next call reconnects. Events in between were not
                // relayed live; clients catch up from the database on their next message.
                Ok(None) => tracing::warn!("event relay connection lost; reconnecting"),
                Err(e) => {
                    tracing::warn!(error = %e, "event relay unavailable; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    });
    Ok(())
}

/// One envelope's JSON (at most [`MAX_PAYLOAD`] − 2 bytes, the array's brackets); an oversized
/// message frame shrinks to its sequence number.
fn encode(mut env: Envelope) -> Option<String> {
    let json = serde_json::to_string(&env).ok()?;
    if json.len() <= MAX_PAYLOAD - 2 {
        return Some(json);
    }
    match env.frame.take() {
        Some(ServerFrame::Message { message }) => {
            env.seq = Some(message.seq);
            serde_json::to_string(&env).ok()
        }
        _ => {
            tracing::warn!("live event too large to relay; clients will catch up from the database");
            None
        }
    }
}

/// A payload's envelopes: a packed array, or one envelope alone (as a process of the previous
/// release sends them during a rolling upgrade).
fn decode(payload: &str) -> serde_json::Result<Vec<Envelope>> {
    if payload.starts_with('[') {
        serde_json::from_str(payload)
    } else {
        serde_json::from_str(payload).map(|env| vec![env])
    }
}

/// Encoded envelopes (each at most [`MAX_PAYLOAD`] − 2 bytes), in order, packed into JSON arrays
/// of at most [`MAX_PAYLOAD`] bytes.
fn pack(encoded: impl Iterator<Item = String>) -> Vec<String> {
    let mut payloads = Vec::new();
    let mut current = String::new();
    for json in encoded {
        if !current.is_empty() && current.len() + 1 + json.len() + 1 > MAX_PAYLOAD {
            current.push(']');
            payloads.push(std::mem::take(&mut current));
        }
        current.push(if current.is_empty() { '[' } else { ',' });
        current.push_str(&json);
    }
    if !current.is_empty() {
        current.push(']');
        payloads.push(current);
    }
    payloads
}

impl Backend {
    async fn deliver_relayed(&self, mut env: Envelope) {
        if env.node == self.hub.node_id() {
            return;
        }
        let frame = match (env.frame.take(), &env.conv, env.seq) {
            (Some(f), _, _) => f,
            (None, Some(conv), Some(seq)) => match self.messages_after(conv, seq - 1).await {
                Ok(mut page) if !page.is_empty() => ServerFrame::Message { message: page.swap_remove(0) },
                _ => return,
            },
            _ => return,
        };
        // Another process took the conversation from the AI: stop generating here too.
        if let ServerFrame::State { conversation_id, state } = &frame {
            if state.kind() != domain::handoff::StateKind::Ai {
                self.cancel_generation(conversation_id);
            }
        }
        self.hub.deliver_remote(env, frame);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::wire::{Author, MessageDto};

    fn env(text: &str) -> Envelope {
        Envelope {
            node: "n".into(),
            org: "o".into(),
            conv: Some("c".into()),
            frame: Some(ServerFrame::Message {
                message: MessageDto {
                    conversation_id: "c".into(),
                    seq: 7,
                    author: Author::Visitor,
                    text: text.into(),
                    client_msg_id: None,
                    created_at: 0,
                    extra: Default::default(),
                },
            }),
            seq: None,
        }
    }

    #[test]
    fn small_frames_travel_whole_large_ones_as_sequence_numbers() {
        let small: Envelope = serde_json::from_str(&encode(env("hi")).unwrap()).unwrap();
        assert!(small.frame.is_some());
        let big = encode(env(&"\"".repeat(4096))).unwrap();
        assert!(big.len() <= MAX_PAYLOAD);
        let big: Envelope = serde_json::from_str(&big).unwrap();
        assert_eq!((big.frame, big.seq), (None, Some(7)));
    }

    #[test]
    fn queued_frames_travel_packed_in_order_within_the_payload_limit() {
        let texts: Vec<String> = (0..60).map(|i| format!("{i}{}", "x".repeat(300))).collect();
        let payloads = pack(texts.iter().map(|t| encode(env(t)).unwrap()));
        assert!(payloads.len() > 1 && payloads.len() < 10, "{} payloads", payloads.len());
        let mut seen = Vec::new();
        for p in &payloads {
            assert!(p.len() <= MAX_PAYLOAD);
            assert!(p.starts_with("[{\"node\":\"n\""), "the node first: {}", &p[..20]);
            for e in serde_json::from_str::<Vec<Envelope>>(p).unwrap() {
                let Some(ServerFrame::Message { message }) = e.frame else { panic!("a message") };
                seen.push(message.text);
            }
        }
        assert_eq!(seen, texts);
        assert_eq!(decode(&encode(env("alone")).unwrap()).unwrap().len(), 1, "a previous release's payload");
        let big = pack([encode(env(&"\"".repeat(4096))).unwrap()].into_iter());
        assert_eq!(big.len(), 1);
        assert!(big[0].len() <= MAX_PAYLOAD);
    }
}
