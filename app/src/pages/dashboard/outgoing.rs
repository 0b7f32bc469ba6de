//! The retry rule of the dashboard's two composers (chat reply, e-mail reply), written once: a
//! retry of the same text keeps its client message id, so the server stores it once however
//! often it is sent; a changed text is a new message.
use leptos::prelude::*;

/// The message being sent (client id and text) until an answer settles it.
#[derive(Clone, Copy)]
pub struct Outgoing(RwSignal<Option<(String, String)>>);

impl Outgoing {
    pub fn new() -> Self {
        Self(RwSignal::new(None))
    }

    /// The client id to send `text` with: the pending one if this is a retry of the same text,
    /// a fresh one otherwise. Remembers it as pending.
    pub fn client_id_for(self, text: &str) -> String {
        let id = match self.0.get_untracked() {
            Some((id, pending)) if pending == text => id,
            _ => crate::util::client_msg_id(),
        };
        self.0.set(Some((id.clone(), text.to_string())));
        id
    }

    /// Whether the stored message with `client_msg_id` is the pending one; if so it is settled
    /// (forgotten) and the caller clears its draft.
    pub fn settle(self, client_msg_id: Option<&String>) -> bool {
        let mine = self.0.with_untracked(|o| o.as_ref().is_some_and(|(id, _)| Some(id) == client_msg_id));
        if mine {
            self.0.set(None);
        }
        mine
    }
}
