//! A visitor's data on request (GDPR access and erasure): what an organization's user with the
//! *settings* permission downloads about one visitor — every conversation of that visitor's
//! browser with its messages, files, private notes, labels and what the widget told — and what
//! erasing them deletes; the organization's audit entries, which never name the visitor.
use crate::notes::NoteDto;
use crate::summary::ConversationSummary;
use crate::visitor_context::VisitorContext;
use crate::wire::{MessageDto, MessageExtra};
use serde::{Deserialize, Serialize};

/// The version of the export's `visitor.json` layout.
pub const EXPORT_FORMAT: u32 = 1;

/// `visitor.json` of an export; the files are beside it at each [`ExportedFile::path`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitorExport {
    pub format: u32,
    /// Milliseconds since the Unix epoch, like every time in the export.
    pub exported_at: i64,
    pub organization: String,
    pub visitor: ExportedVisitor,
    /// Oldest first.
    pub conversations: Vec<ExportedConversation>,
    pub files: Vec<ExportedFile>,
}

/// The visitor as stored: one browser (its token), the name the chat gave it, the e-mail
/// addresses it wrote in e-mail forms or had transcripts and answers sent to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedVisitor {
    pub id: String,
    pub name: String,
    pub first_seen_at: i64,
    pub emails: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedConversation {
    pub summary: ConversationSummary,
    pub started_at: i64,
    pub messages: Vec<MessageDto>,
    /// What the widget told about the visitor in this conversation (`previous` left empty: the
    /// other conversations are in the export themselves).
    pub context: VisitorContext,
    pub notes: Vec<NoteDto>,
    /// The names of the labels on it.
    pub labels: Vec<String>,
}

/// A file of the export: sent in the chat (either way) or attached to an e-mail form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedFile {
    /// Inside the zip: `files/<conversation>/<seq>-<position>-<name>`.
    pub path: String,
    pub conversation_id: String,
    pub seq: i64,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
}

/// What erasing a visitor deletes (shown before the confirmation; returned after it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureCounts {
    pub conversations: i64,
    pub messages: i64,
    pub files: i64,
    /// Conversations of the visitor not closed yet: erasure waits until they are.
    pub open: i64,
}

impl ErasureCounts {
    /// "3 conversations, 42 messages and 2 files" — also the audit entry's text, which names
    /// no one.
    pub fn describe(&self) -> String {
        fn n(count: i64, one: &str, many: &str) -> String {
            format!("{count} {}", if count == 1 { one } else { many })
        }
        format!(
            "{}, {} and {}",
            n(self.conversations, "conversation", "conversations"),
            n(self.messages, "message", "messages"),
            n(self.files, "file", "files")
        )
    }
}

/// One line of the organization's audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: i64,
    /// The organization's user who did it.
    pub actor_name: String,
    /// What was done, without personal data ("Erased a visitor's data: 2 conversations, …").
    pub text: String,
}

/// The e-mail addresses given in the messages' e-mail forms, each once, in order of appearance.
pub fn emails_in<'a>(messages: impl IntoIterator<Item = &'a MessageDto>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for m in messages {
        if let MessageExtra::EmailForm { email, .. } = &m.extra {
            if !email.is_empty() && !out.contains(email) {
                out.push(email.clone());
            }
        }
    }
    out
}

/// A file's path in the export: its conversation, message and position, and its name with
/// anything that could leave the folder or confuse an unzip tool replaced.
pub fn file_path(conversation_id: &str, seq: i64, position: i64, file_name: &str) -> String {
    let safe: String =
        file_name.chars().map(|c| if c.is_alphanumeric() || "._- ()".contains(c) { c } else { '_' }).collect();
    let safe = safe.trim_start_matches('.');
    let safe = if safe.is_empty() { "file" } else { safe };
    format!("files/{conversation_id}/{seq}-{position}-{safe}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_as_a_sentence() {
        let c = ErasureCounts { conversations: 1, messages: 42, files: 0, open: 0 };
        assert_eq!(c.describe(), "1 conversation, 42 messages and 0 files");
        let c = ErasureCounts { conversations: 3, messages: 1, files: 1, open: 0 };
        assert_eq!(c.describe(), "3 conversations, 1 message and 1 file");
    }

    #[test]
    fn file_paths_stay_in_their_folder() {
        assert_eq!(file_path("c1", 4, 0, "photo.png"), "files/c1/4-0-photo.png");
        assert_eq!(file_path("c1", 4, 1, "../../etc/passwd"), "files/c1/4-1-_.._etc_passwd");
        assert_eq!(file_path("c1", 4, 2, "..."), "files/c1/4-2-file");
        assert_eq!(file_path("c1", 4, 3, "a/b\\c:d"), "files/c1/4-3-a_b_c_d");
        assert_eq!(file_path("c1", 5, 0, "Größe.pdf"), "files/c1/5-0-Größe.pdf");
    }
}
