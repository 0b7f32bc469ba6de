//! Validated values. Raw strings from visitors and agents are parsed here before anything else
//! sees them; a parse error is a user-facing message.
use serde::{Deserialize, Serialize};

/// Largest message accepted, in bytes of UTF-8.
pub const MAX_MESSAGE_BYTES: usize = 4096;
/// Largest client message id accepted, in bytes.
pub const MAX_CLIENT_MSG_ID_BYTES: usize = 64;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ValueError {
    #[error("the message is empty")]
    EmptyMessage,
    #[error("the message is too long ({len} bytes; the limit is {max})")]
    MessageTooLong { len: usize, max: usize },
    #[error("the client message id must be 1 to {max} characters of A-Z, a-z, 0-9, '-' or '_'")]
    BadClientMsgId { max: usize },
}

impl ValueError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::EmptyMessage => "empty_message",
            Self::MessageTooLong { .. } => "message_too_long",
            Self::BadClientMsgId { .. } => "bad_client_msg_id",
        }
    }
}

/// The text of a chat message: non-blank, at most [`MAX_MESSAGE_BYTES`], surrounding whitespace
/// trimmed, control characters other than newline and tab removed. It is plain text and is always
/// rendered as text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MessageText(String);

impl MessageText {
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        if raw.len() > MAX_MESSAGE_BYTES {
            return Err(ValueError::MessageTooLong { len: raw.len(), max: MAX_MESSAGE_BYTES });
        }
        let cleaned: String = raw.trim().chars().filter(|c| !c.is_control() || *c == '\n' || *c == '\t').collect();
        if cleaned.trim().is_empty() {
            return Err(ValueError::EmptyMessage);
        }
        Ok(Self(cleaned))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// The most of a visitor's unsent text a typing preview shows, in characters (the end of it: what
/// they are typing now).
pub const MAX_TYPING_PREVIEW: usize = 200;

/// What a typing preview shows of `raw`: on one line (control characters and line breaks made
/// spaces, runs of spaces one), its last [`MAX_TYPING_PREVIEW`] characters. Rendered as text.
pub fn typing_preview(raw: &str) -> String {
    let line = raw
        .split(|c: char| c.is_control() || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let n = line.chars().count();
    line.chars().skip(n.saturating_sub(MAX_TYPING_PREVIEW)).collect()
}

/// An id chosen by the client for each message it sends, so that a retry of the same message is
/// stored once.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct ClientMsgId(String);

impl ClientMsgId {
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let ok = !raw.is_empty()
            && raw.len() <= MAX_CLIENT_MSG_ID_BYTES
            && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ValueError::BadClientMsgId { max: MAX_CLIENT_MSG_ID_BYTES })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typing_previews_are_one_line_and_end_with_what_is_typed() {
        assert_eq!(typing_preview("  Where is\n\tmy\u{7}parcel "), "Where is my parcel");
        let long = format!("{}end", "é".repeat(MAX_TYPING_PREVIEW));
        let p = typing_preview(&long);
        assert_eq!(p.chars().count(), MAX_TYPING_PREVIEW);
        assert!(p.ends_with("end"));
        assert_eq!(typing_preview(""), "");
    }

    #[test]
    fn message_text_is_trimmed_and_cleaned() {
        let t = MessageText::parse("  hi\u{0007} there\n  ").unwrap();
        assert_eq!(t.as_str(), "hi there");
        assert_eq!(MessageText::parse("a\nb").unwrap().as_str(), "a\nb");
        assert_eq!(t.into_inner(), "hi there");
        assert_eq!(ClientMsgId::parse("msg-1_a").unwrap().as_str(), "msg-1_a");
    }

    #[test]
    fn empty_and_blank_messages_are_refused() {
        assert_eq!(MessageText::parse(""), Err(ValueError::EmptyMessage));
        assert_eq!(MessageText::parse(" \n\t "), Err(ValueError::EmptyMessage));
        assert_eq!(MessageText::parse("\u{0000}\u{0001}"), Err(ValueError::EmptyMessage));
    }

    #[test]
    fn oversized_messages_are_refused() {
        let at_limit = "a".repeat(MAX_MESSAGE_BYTES);
        assert!(MessageText::parse(&at_limit).is_ok());
        let over = "a".repeat(MAX_MESSAGE_BYTES + 1);
        assert_eq!(
            MessageText::parse(&over),
            Err(ValueError::MessageTooLong { len: MAX_MESSAGE_BYTES + 1, max: MAX_MESSAGE_BYTES })
        );
    }

    #[test]
    fn html_is_kept_verbatim_as_text() {
        let t = MessageText::parse("<script>alert(1)</script>").unwrap();
        assert_eq!(t.as_str(), "<script>alert(1)</script>");
    }

    #[test]
    fn client_msg_ids() {
        assert!(ClientMsgId::parse("abc-DEF_123").is_ok());
        assert!(ClientMsgId::parse("").is_err());
        assert!(ClientMsgId::parse("has space").is_err());
        assert!(ClientMsgId::parse(&"x".repeat(65)).is_err());
        assert_eq!(ClientMsgId::parse("<b>").unwrap_err().code(), "bad_client_msg_id");
    }
}
