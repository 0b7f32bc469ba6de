//! Fan-out of live frames. One broadcast channel per conversation (its visitor's socket, and the
//! dashboards watching it for its messages: [`watched_only`]) and one per organization (every
//! dashboard: the list, state changes, the bell), created on first subscription and dropped
//! when nobody listens. Frames are hints: a receiver that lags or sees a gap in sequence numbers reads the
//! missing messages from the database, which is the source of truth.
//!
//! With several server processes (PostgreSQL), every frame published here is also handed to the
//! [`crate::bus`], which relays it to the other processes; frames arriving from them are
//! published locally through [`Hub::deliver_remote`].
use crate::limits::RateWindow;
use domain::wire::ServerFrame;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::{broadcast, mpsc};

pub type Frame = Arc<ServerFrame>;

/// Frames a conversation's channel holds for a receiver that has not read them yet.
const CAPACITY: usize = 256;
/// The same for an organization's channel, which every dashboard reads: every conversation's
/// summary and state changes, the bell's hints — at 1,000 busy conversations over a thousand
/// frames a second — and a dashboard socket held up for a moment (a database read) must not lag
/// by it: a lag makes it re-read its list from the database, which holds it up longer
/// (BENCHMARKS.md §1). Slots hold shared pointers: about 200 KB per organization with a
/// dashboard open.
pub const ORG_CAPACITY: usize = 4096;

/// Most typing hints a process relays to the others per second.
const TYPING_RELAYS: u32 = 200;

/// The conversation of a frame only the dashboards watching it want (typing hints, "seen"
/// marks); `None` for other frames.
fn for_watchers(frame: &ServerFrame) -> Option<&str> {
    match frame {
        ServerFrame::VisitorTyping { conversation_id, .. }
        | ServerFrame::HumanTyping { conversation_id, .. }
        | ServerFrame::VisitorSeen { conversation_id, .. }
        | ServerFrame::HumanSeen { conversation_id, .. } => Some(conversation_id),
        _ => None,
    }
}

/// Frames about one conversation that a dashboard wants only while it watches that conversation
/// (its messages, the AI's typing and draft). Published with their conversation, they travel on
/// the conversation's channel alone — its visitor's socket and the dashboards watching it read
/// that channel — and not on the organization's, which every dashboard reads: a dashboard's work
/// grows with the conversations it watches, not with the organization's messages, and a
/// dashboard that lags on its organization's channel (the list) loses none of them.
pub fn watched_only(frame: &ServerFrame) -> bool {
    matches!(
        frame,
        ServerFrame::Message { .. }
            | ServerFrame::MessageUpdated { .. }
            | ServerFrame::Typing { .. }
            | ServerFrame::Draft { .. }
            | ServerFrame::DraftEnd { .. }
    )
}

fn is_typing(frame: &ServerFrame) -> bool {
    matches!(frame, ServerFrame::VisitorTyping { .. } | ServerFrame::HumanTyping { .. })
}

struct Channels {
    map: Mutex<HashMap<String, broadcast::Sender<Frame>>>,
    capacity: usize,
}

impl Channels {
    fn new(capacity: usize) -> Self {
        Self { map: Mutex::default(), capacity }
    }

    fn subscribe(&self, key: &str) -> broadcast::Receiver<Frame> {
        let mut map = self.map.lock().expect("hub lock");
        map.entry(key.to_owned()).or_insert_with(|| broadcast::channel(self.capacity).0).subscribe()
    }

    fn publish(&self, key: &str, frame: Frame) {
        let mut map = self.map.lock().expect("hub lock");
        if let Some(tx) = map.get(key) {
            if tx.send(frame).is_err() {
                map.remove(key); // nobody listens any more
            }
        }
    }
}

/// A frame travelling between server processes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Envelope {
    /// The process that published it (it ignores its own). The first field: `bus` recognizes
    /// its own payloads by their first bytes.
    pub node: String,
    pub org: String,
    /// Set for frames about one conversation (they also go to its visitor).
    pub conv: Option<String>,
    /// The frame, or `None` when it was too large to relay: then `seq` names the message to read
    /// from the database.
    pub frame: Option<ServerFrame>,
    pub seq: Option<i64>,
}

pub struct Hub {
    conversations: Channels,
    orgs: Channels,
    /// Typing hints and "seen" marks (see [`for_watchers`]) for the dashboards, one channel per
    /// conversation: only the dashboards watching it wake up for them, and one falling behind
    /// on them loses only such hints (typing expires anyway; a mark is read again with the
    /// conversation), never its conversation list.
    watchers: Channels,
    /// Typing hints relayed to other processes: past [`TYPING_RELAYS`] a second the rest stay
    /// in this process (the relay is one queue; messages must not wait behind hints).
    typing_relays: RateWindow<()>,
    node: String,
    remote: OnceLock<mpsc::UnboundedSender<Envelope>>,
}

impl Default for Hub {
    fn default() -> Self {
        Self {
            conversations: Channels::new(CAPACITY),
            orgs: Channels::new(ORG_CAPACITY),
            watchers: Channels::new(CAPACITY),
            typing_relays: RateWindow::new(TYPING_RELAYS, std::time::Duration::from_secs(1)),
            node: crate::ids::new_id(),
            remote: OnceLock::new(),
        }
    }
}

impl Hub {
    pub fn node_id(&self) -> &str {
        &self.node
    }

    /// Relays every frame published from now on to other processes through `tx`.
    pub fn relay_to(&self, tx: mpsc::UnboundedSender<Envelope>) {
        let _ = self.remote.set(tx);
    }

    pub fn subscribe_conversation(&self, conversation_id: &str) -> broadcast::Receiver<Frame> {
        self.conversations.subscribe(conversation_id)
    }

    pub fn subscribe_org(&self, org_id: &str) -> broadcast::Receiver<Frame> {
        self.orgs.subscribe(org_id)
    }

    /// A conversation's frames for the dashboards watching it (see [`for_watchers`]; the
    /// organization's channel does not carry them).
    pub fn subscribe_watchers(&self, conversation_id: &str) -> broadcast::Receiver<Frame> {
        self.watchers.subscribe(conversation_id)
    }

    /// Sends a frame about a conversation to its visitor and to its organization's dashboards
    /// (a [`watched_only`] frame only to those watching the conversation).
    pub fn publish(&self, org_id: &str, conversation_id: &str, frame: ServerFrame) {
        self.relay(org_id, Some(conversation_id), &frame);
        self.local(org_id, Some(conversation_id), frame);
    }

    /// Sends a frame to the organization's dashboards only.
    pub fn publish_org(&self, org_id: &str, frame: ServerFrame) {
        self.relay(org_id, None, &frame);
        self.local(org_id, None, frame);
    }

    /// Publishes a frame that another process relayed (ignoring our own).
    pub fn deliver_remote(&self, env: Envelope, frame: ServerFrame) {
        if env.node != self.node {
            self.local(&env.org, env.conv.as_deref(), frame);
        }
    }

    fn local(&self, org_id: &str, conversation_id: Option<&str>, frame: ServerFrame) {
        let frame = Arc::new(frame);
        if let Some(c) = conversation_id {
            self.conversations.publish(c, frame.clone());
        }
        match for_watchers(&frame) {
            Some(c) => self.watchers.publish(c, frame.clone()),
            None if conversation_id.is_some() && watched_only(&frame) => {}
            None => self.orgs.publish(org_id, frame),
        }
    }

    fn relay(&self, org_id: &str, conversation_id: Option<&str>, frame: &ServerFrame) {
        if is_typing(frame) && self.typing_relays.hit(&()).is_err() {
            return;
        }
        if let Some(tx) = self.remote.get() {
            let _ = tx.send(Envelope {
                node: self.node.clone(),
                org: org_id.to_string(),
                conv: conversation_id.map(str::to_owned),
                frame: Some(frame.clone()),
                seq: None,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::handoff::HandoffState;
    use domain::wire::{Author, MessageDto};

    #[test]
    fn a_conversations_messages_travel_on_its_channel_only() {
        let hub = Hub::default();
        let (mut org, mut conv) = (hub.subscribe_org("o"), hub.subscribe_conversation("c"));
        let message = MessageDto {
            conversation_id: "c".into(),
            seq: 1,
            author: Author::Visitor,
            text: "hi".into(),
            client_msg_id: None,
            created_at: 0,
            extra: Default::default(),
        };
        hub.publish("o", "c", ServerFrame::Message { message });
        hub.publish("o", "c", ServerFrame::Typing { conversation_id: "c".into() });
        hub.publish("o", "c", ServerFrame::State { conversation_id: "c".into(), state: HandoffState::Ai });
        let kinds = |rx: &mut broadcast::Receiver<Frame>| {
            std::iter::from_fn(|| rx.try_recv().ok())
                .map(|f| serde_json::to_value(&*f).unwrap()["type"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(kinds(&mut conv), ["message", "typing", "state"]);
        assert_eq!(kinds(&mut org), ["state"], "dashboards get messages by watching");
    }
}
