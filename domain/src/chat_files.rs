//! Files in the chat (issue 23): a visitor or the human agent holding the chat sends an image, a
//! PDF or a text file as a message of its own. The file is checked like the e-mail form's
//! attachments (`crate::email`: type by content agreeing with the name, size limits) and
//! downloaded under the same rules; the message's text is the file's name (what the list's
//! preview, search and notifications show). The AI is told that a file arrived, never what is in
//! it.
use crate::email::{check_files, human_size, CheckedFile, FileKind, UploadedFile};
use crate::field::FieldError;
use crate::wire::{AttachmentDto, Author, MessageDto, MessageExtra};

/// At most this many files from the visitor per conversation and hour (counted in the database,
/// so across server processes).
pub const MAX_VISITOR_FILES_PER_HOUR: i64 = 20;

/// What the offline responder answers to a file (a language model gets [`told_to_ai`] instead).
pub const FILE_RECEIVED: &str =
    "Thanks, I received your file. I can't open files myself, but it is saved in this conversation for our team.";

/// The form field a file travels in (and the field its errors name).
pub const FILE_FIELD: &str = "file";

/// The largest picture shown inline, in pixels: a few megabytes of PNG can hold a picture whose
/// decoding would stall or crash the reader's browser tab.
pub const MAX_IMAGE_PIXELS: u64 = 50_000_000;

/// Checks one file sent in the chat: the e-mail form's rules for a single file, the error naming
/// the field [`FILE_FIELD`]; a picture must also say how large it is, and be at most
/// [`MAX_IMAGE_PIXELS`] (every side shows it inline).
pub fn check_chat_file(file: UploadedFile) -> Result<CheckedFile, FieldError> {
    let file =
        check_files(vec![file]).map(|mut files| files.remove(0)).map_err(|e| FieldError::new(FILE_FIELD, e.message))?;
    if is_image(file.kind.content_type()) {
        match image_size(file.kind, &file.bytes) {
            Some((w, h)) if w > 0 && h > 0 && u64::from(w) * u64::from(h) <= MAX_IMAGE_PIXELS => {}
            Some((w, h)) => {
                return Err(FieldError::new(
                    FILE_FIELD,
                    format!("{}: the picture is {w}×{h} pixels; at most 50 megapixels are accepted", file.name),
                ))
            }
            None => return Err(FieldError::new(FILE_FIELD, format!("{}: the picture could not be read", file.name))),
        }
    }
    Ok(file)
}

/// A picture's width and height from its header, without decoding it (`None`: not readable).
pub fn image_size(kind: FileKind, b: &[u8]) -> Option<(u32, u32)> {
    let be16 = |i: usize| Some(u32::from(u16::from_be_bytes(b.get(i..i + 2)?.try_into().ok()?)));
    let le16 = |i: usize| Some(u32::from(u16::from_le_bytes(b.get(i..i + 2)?.try_into().ok()?)));
    let be32 = |i: usize| Some(u32::from_be_bytes(b.get(i..i + 4)?.try_into().ok()?));
    let le24 = |i: usize| Some(u32::from_le_bytes([*b.get(i)?, *b.get(i + 1)?, *b.get(i + 2)?, 0]));
    match kind {
        // IHDR is the first chunk: width and height at 16 and 20.
        FileKind::Png if b.get(12..16)? == b"IHDR" => Some((be32(16)?, be32(20)?)),
        FileKind::Gif => Some((le16(6)?, le16(8)?)),
        FileKind::Webp => match b.get(12..16)? {
            b"VP8 " => Some((le16(26)? & 0x3fff, le16(28)? & 0x3fff)),
            b"VP8L" if *b.get(20)? == 0x2f => {
                let bits = u32::from_le_bytes(b.get(21..25)?.try_into().ok()?);
                Some(((bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1))
            }
            b"VP8X" => Some((le24(24)? + 1, le24(27)? + 1)),
            _ => None,
        },
        // The first start-of-frame segment (SOF0–SOF15 but DHT, JPG and DAC) holds the size.
        FileKind::Jpeg => {
            let mut i = 2;
            while *b.get(i)? == 0xFF {
                let marker = *b.get(i + 1)?;
                match marker {
                    0xFF => i += 1, // fill byte
                    0x01 | 0xD0..=0xD7 => i += 2,
                    0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => return Some((be16(i + 7)?, be16(i + 5)?)),
                    _ => i += 2 + usize::try_from(be16(i + 2)?).ok()?,
                }
            }
            None
        }
        _ => None,
    }
}

/// Whether the file is shown inline as an image.
pub fn is_image(content_type: &str) -> bool {
    content_type.starts_with("image/")
}

/// How the file's message reads in one line (the list's preview, the bell): words, not an emoji
/// (not every system has a font for it).
pub fn file_line(name: &str) -> String {
    format!("File: {name}")
}

/// How a message reads in one line for the bell and notifications: a file as [`file_line`].
pub fn message_line(m: &MessageDto) -> String {
    match &m.extra {
        MessageExtra::File { attachment } => file_line(&attachment.name),
        _ => m.text.clone(),
    }
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

    /// A PNG's signature and header, `w`×`h` pixels.
    fn png_of(w: u32, h: u32) -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        b.extend(w.to_be_bytes());
        b.extend(h.to_be_bytes());
        b.extend([8, 6, 0, 0, 0]);
        b
    }

    fn png(name: &str) -> UploadedFile {
        UploadedFile { name: name.into(), bytes: png_of(2, 3) }
    }

    #[test]
    fn pictures_say_their_size_and_huge_ones_are_refused() {
        assert_eq!(image_size(FileKind::Png, &png_of(640, 480)), Some((640, 480)));
        assert_eq!(image_size(FileKind::Gif, b"GIF89a\x80\x02\xe0\x01\0\0"), Some((640, 480)));
        // JPEG: an APP0 segment, then SOF0 (height 480, width 640).
        let jpeg = b"\xff\xd8\xff\xe0\0\x04ab\xff\xc0\0\x11\x08\x01\xe0\x02\x80\x03";
        assert_eq!(image_size(FileKind::Jpeg, jpeg), Some((640, 480)));
        let mut vp8 = b"RIFF\0\0\0\0WEBPVP8 \0\0\0\0\x9d\x01\x2a\0\0\x9d\x01\x2a".to_vec();
        vp8.splice(26.., [0x80, 0x02, 0xe0, 0x01]);
        assert_eq!(image_size(FileKind::Webp, &vp8), Some((640, 480)));
        let vp8x = b"RIFFxxxxWEBPVP8X\x0a\0\0\0\0\0\0\0\x7f\x02\0\xdf\x01\0";
        assert_eq!(image_size(FileKind::Webp, vp8x), Some((640, 480)));
        // VP8L: 14 bits of width - 1, 14 of height - 1.
        let bits: u32 = 639 | (479 << 14);
        let mut vp8l = b"RIFFxxxxWEBPVP8L\0\0\0\0\x2f".to_vec();
        vp8l.extend(bits.to_le_bytes());
        assert_eq!(image_size(FileKind::Webp, &vp8l), Some((640, 480)));
        assert_eq!(image_size(FileKind::Jpeg, b"\xff\xd8\xff"), None);

        let bomb = UploadedFile { name: "bomb.png".into(), bytes: png_of(30_000, 30_000) };
        let e = check_chat_file(bomb).unwrap_err();
        assert_eq!(e.message, "bomb.png: the picture is 30000×30000 pixels; at most 50 megapixels are accepted");
        let headless = UploadedFile { name: "cut.png".into(), bytes: b"\x89PNG\r\n\x1a\n\0\0".to_vec() };
        assert!(check_chat_file(headless).unwrap_err().message.contains("could not be read"));
        assert!(check_chat_file(UploadedFile { name: "ok.png".into(), bytes: png_of(7000, 7000) }).is_ok());
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
        assert_eq!(file_line("bill.txt"), "File: bill.txt");
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
