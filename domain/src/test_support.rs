//! Builders for the unit tests of several modules.
use crate::wire::{Author, MessageDto};

/// A chat message for unit tests (conversation "c", created at its seq).
pub(crate) fn message(seq: i64, author: Author, text: &str) -> MessageDto {
    MessageDto {
        conversation_id: "c".into(),
        seq,
        author,
        text: text.into(),
        client_msg_id: None,
        created_at: seq,
        extra: Default::default(),
    }
}
