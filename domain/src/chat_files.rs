//! Files in the chat (issue 23): a visitor or the human agent holding the chat sends an image, a
//! PDF or a text file as a message of its own. The file is checked like the e-mail form's
//! attachments (`crate::email`: type by content agreeing with the name, size limits) and
//! downloaded under the same rules; the message's text is the file's name (what the list's
//! preview, search and notifications show). The AI is told that a file arrived, never what is in
//! it.
use crate::email::{check_files, human_size, CheckedFile, UploadedFile};
use crate::field::FieldError;
use crate::wire::{AttachmentDto, Author};

/// At most this many files from the visitor per conversation and hour (counted in the database,
/// so across server processes).
pub const MAX_VISITOR_FILES_PER_HOUR: i64 = 20;

/// The form field a file travels in (and the field its errors name).
pub const FILE_FIELD: &str = "file";

/// Checks one file sent in the chat: the e-mail form's rules for a single file, the error naming
/// the field [`FILE_FIELD`].
pub fn check_chat_file(file: UploadedFile) -> Result<CheckedFile, FieldError> {
    check_files(vec![file]).map(|mut files| files.remove(0)).map_err(|e| FieldError::new(FILE_FIELD, e.message))
}

/// Whether the file is shown inline as an image.
pub fn is_image(content_type: &str) -> bool {
    content_type.starts_with("image/")
}

/// How the file's message reads in one line (the list's preview, the bell).
pub fn file_line(name: &str) -> String {
    format!("📎 {name}")
}

/// What the AI is told of a file in the conversation: that it arrived, its name, type and size,
/// and that it cannot see it. Never its content.
pub fn told_to_ai(author: &Author, file: &AttachmentDto) -> String {
    let size = human_size(usize::try_from(file.size).unwrap_or(0));
    let kind = file.content_type.split(';').next().unwrap_or_default();
    let who = match author {
        Author::Visitor => "The visitor sent a file".to_string(),
        Author::Agent { name, .. } => format!("{name} sent the visitor a file"),
        Author::Ai | Author::System => "A file was sent".to_string(),
    };
    format!("[{who}: {} ({kind}, {size}). You cannot open files: do not describe its content.]", file.name)
}

/// How the file reads in the transcript e-mailed to the visitor.
pub fn in_transcript(file: &AttachmentDto) -> String {
    format!("[file: {} ({})]", file.name, human_size(usize::try_from(file.size).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(name: &str) -> UploadedFile {
        UploadedFile { name: name.into(), bytes: b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec() }
    }

    #[test]
    fn a_chat_file_is_checked_by_content_and_named_by_its_field() {
        let ok = check_chat_file(png("shot.png")).unwrap();
        assert_eq!(ok.kind.content_type(), "image/png");
        // An executable renamed .png: refused, the field named.
        let exe = UploadedFile { name: "invoice.png".into(), bytes: b"MZ\x90\0\x03\0\0\0".to_vec() };
        let e = check_chat_file(exe).unwrap_err();
        assert_eq!(e.field, FILE_FIELD);
        assert!(e.message.contains("not accepted"), "{}", e.message);
        // A real PNG named .pdf: its content does not match its name.
        let e = check_chat_file(png("report.pdf")).unwrap_err();
        assert!(e.message.contains("does not match"), "{}", e.message);
        let e = check_chat_file(UploadedFile { name: "a.txt".into(), bytes: vec![] }).unwrap_err();
        assert!(e.message.contains("empty"), "{}", e.message);
        let big = UploadedFile { name: "a.txt".into(), bytes: vec![b'a'; crate::email::MAX_FILE_BYTES + 1] };
        assert!(check_chat_file(big).unwrap_err().message.contains("at most"));
    }

    #[test]
    fn the_ai_is_told_a_file_arrived_not_what_is_in_it() {
        let f = AttachmentDto {
            id: "a1".into(),
            name: "bill.txt".into(),
            content_type: "text/plain; charset=utf-8".into(),
            size: 2048,
        };
        let told = told_to_ai(&Author::Visitor, &f);
        assert_eq!(told, "[The visitor sent a file: bill.txt (text/plain, 2 KB). You cannot open files: do not describe its content.]");
        let ann = Author::Agent { id: "u".into(), name: "Ann".into() };
        assert!(told_to_ai(&ann, &f).starts_with("[Ann sent the visitor a file: bill.txt"));
        assert_eq!(in_transcript(&f), "[file: bill.txt (2 KB)]");
        assert_eq!(file_line("bill.txt"), "📎 bill.txt");
        assert!(is_image("image/webp") && !is_image("application/pdf"));
    }

    /// The widget decodes a file message tag first (`crate::tag_first`), like the server writes it.
    #[test]
    fn a_file_message_round_trips_tag_first() {
        let extra = crate::wire::MessageExtra::File {
            attachment: AttachmentDto {
                id: "a1".into(),
                name: "x.pdf".into(),
                content_type: "application/pdf".into(),
                size: 9,
            },
        };
        let json = serde_json::to_string(&extra).unwrap();
        assert!(json.starts_with(r#"{"type":"file""#), "{json}");
        assert_eq!(serde_json::from_str::<crate::wire::MessageExtra>(&json).unwrap(), extra);
    }
}
