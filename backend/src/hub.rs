//! In-process fan-out of live frames. One broadcast channel per conversation (visitor sockets)
//! and one per organization (dashboard sockets). Frames are hints: a receiver that lags or sees a
//! gap in sequence numbers reads the missing messages from the database, which is the source of
//! truth. Channels are created on first subscription and dropped when nobody listens.
use domain::wire::ServerFrame;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

pub type Frame = Arc<ServerFrame>;

const CAPACITY: usize = 256;

#[derive(Default)]
struct Channels(Mutex<HashMap<String, broadcast::Sender<Frame>>>);

impl Channels {
    fn subscribe(&self, key: &str) -> broadcast::Receiver<Frame> {
        let mut map = self.0.lock().expect("hub lock");
        map.entry(key.to_owned()).or_insert_with(|| broadcast::channel(CAPACITY).0).subscribe()
    }

    fn publish(&self, key: &str, frame: Frame) {
        let mut map = self.0.lock().expect("hub lock");
        if let Some(tx) = map.get(key) {
            if tx.send(frame).is_err() {
                map.remove(key); // nobody listens any more
            }
        }
    }
}

#[derive(Default)]
pub struct Hub {
    conversations: Channels,
    orgs: Channels,
}

impl Hub {
    pub fn subscribe_conversation(&self, conversation_id: &str) -> broadcast::Receiver<Frame> {
        self.conversations.subscribe(conversation_id)
    }

    pub fn subscribe_org(&self, org_id: &str) -> broadcast::Receiver<Frame> {
        self.orgs.subscribe(org_id)
    }

    /// Sends a frame about a conversation to its visitor and to its organization's dashboards.
    pub fn publish(&self, org_id: &str, conversation_id: &str, frame: ServerFrame) {
        let frame = Arc::new(frame);
        self.conversations.publish(conversation_id, frame.clone());
        self.orgs.publish(org_id, frame);
    }

    /// Sends a frame to the organization's dashboards only.
    pub fn publish_org(&self, org_id: &str, frame: ServerFrame) {
        self.orgs.publish(org_id, Arc::new(frame));
    }
}
