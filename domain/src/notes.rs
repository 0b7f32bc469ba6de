//! Private notes: what agents write in a conversation for each other. A note is not a message —
//! it has none of the conversation's sequence numbers and never travels where the visitor, the
//! AI or an e-mail to the visitor could read it. Its text follows the message rules
//! ([`crate::values::MessageText`]: at most 4 KiB, not blank) and is rendered as text.
use serde::{Deserialize, Serialize};

/// Most notes one conversation keeps (a bound on what every colleague's view reads).
pub const MAX_NOTES_PER_CONVERSATION: usize = 500;

/// A private note agents wrote in a conversation: seen by the organization's users only, never
/// by the visitor, the AI or an e-mail to the visitor. It is not a message: it has no seq of
/// the conversation's and travels on no visitor socket; it is shown after the message `after_seq`
/// (the conversation's last message when it was written).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteDto {
    pub id: String,
    pub conversation_id: String,
    pub author_id: String,
    pub author_name: String,
    pub text: String,
    pub after_seq: i64,
    /// The writer's id for this note (a retry with the same id stores nothing more).
    pub client_note_id: String,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
}

/// Where a note goes in a transcript whose messages run up to `last_seq`: after its message, or
/// after the last one shown when the message is not (yet) there.
pub fn shown_after(note: &NoteDto, last_seq: i64) -> i64 {
    note.after_seq.min(last_seq)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(after_seq: i64) -> NoteDto {
        NoteDto {
            id: format!("n{after_seq}"),
            conversation_id: "c".into(),
            author_id: "u".into(),
            author_name: "Ann".into(),
            text: "t".into(),
            after_seq,
            client_note_id: "x".into(),
            created_at: 0,
        }
    }

    #[test]
    fn notes_follow_their_message_or_the_last_one_shown() {
        assert_eq!(shown_after(&note(5), 3), 3);
        assert_eq!(shown_after(&note(2), 3), 2);
        assert_eq!(shown_after(&note(0), 3), 0);
    }
}
