//! The "send email" form a visitor fills in when no human answered in time, and the agent's
//! e-mail reply: validation of addresses, message text and attachments. Pure: the server hands
//! in bytes it received, this module decides whether they are acceptable.
//!
//! Attachments are checked by content (magic bytes), not only by name: a file must be one of
//! the allowed types *and* its name's extension must agree with what its bytes are. SVG, HTML
//! and anything else that a browser could run are refused outright.
use crate::field::FieldError;
use serde::{Deserialize, Serialize};

/// Longest e-mail address accepted (RFC 5321 path limit).
pub const MAX_EMAIL_CHARS: usize = 254;
/// Longest form message / e-mail reply, in characters.
pub const MAX_FORM_MESSAGE_CHARS: usize = 5000;
/// At most this many files per submission.
pub const MAX_FILES: usize = 5;
/// Largest single file, in bytes.
pub const MAX_FILE_BYTES: usize = 5 * 1024 * 1024;
/// Largest total of all files of one submission, in bytes.
pub const MAX_TOTAL_BYTES: usize = 10 * 1024 * 1024;
/// Longest file name kept (characters), after cleaning.
pub const MAX_FILE_NAME_CHARS: usize = 120;

/// A syntactically valid e-mail address (`local@domain.tld`), trimmed, domain lower-cased.
/// Deliberately strict: no display names, quoted local parts, comments or IP literals, so that
/// it is safe to put in a mail header as it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim();
        let bad = || FieldError::new("email", "enter a valid e-mail address, like name@example.com");
        if s.is_empty() {
            return Err(FieldError::new("email", "enter your e-mail address, so that we can answer you"));
        }
        if s.chars().count() > MAX_EMAIL_CHARS {
            return Err(FieldError::new("email", format!("must be at most {MAX_EMAIL_CHARS} characters")));
        }
        let (local, domain) = s.rsplit_once('@').ok_or_else(bad)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local.chars().all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
            && labels.last().is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
        if !local_ok || !domain_ok {
            return Err(bad());
        }
        Ok(Self(format!("{local}@{}", domain.to_ascii_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The text of a form message or an e-mail reply: trimmed, control characters but newline and
/// tab removed, non-empty, at most [`MAX_FORM_MESSAGE_CHARS`].
pub fn parse_form_text(name: &str, raw: &str) -> Result<String, FieldError> {
    let cleaned: String = raw.trim().chars().filter(|c| !c.is_control() || *c == '\n' || *c == '\t').collect();
    if cleaned.trim().is_empty() {
        return Err(FieldError::new(name, "please write a message"));
    }
    let n = cleaned.chars().count();
    if n > MAX_FORM_MESSAGE_CHARS {
        return Err(FieldError::new(
            name,
            format!("is too long ({n} characters; the limit is {MAX_FORM_MESSAGE_CHARS})"),
        ));
    }
    Ok(cleaned)
}

/// The kinds of file a visitor may attach.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    Png,
    Jpeg,
    Gif,
    Webp,
    Pdf,
    Text,
}

impl FileKind {
    /// The content type the file is served with.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Gif => "image/gif",
            Self::Webp => "image/webp",
            Self::Pdf => "application/pdf",
            Self::Text => "text/plain; charset=utf-8",
        }
    }

    /// The file name extensions of this kind.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Self::Png => &["png"],
            Self::Jpeg => &["jpg", "jpeg"],
            Self::Gif => &["gif"],
            Self::Webp => &["webp"],
            Self::Pdf => &["pdf"],
            Self::Text => &["txt", "csv", "log", "md"],
        }
    }

    /// What the bytes are, judged by their content alone.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            Some(Self::Gif)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(Self::Webp)
        } else if bytes.starts_with(b"%PDF-") {
            Some(Self::Pdf)
        } else if looks_like_plain_text(bytes) {
            Some(Self::Text)
        } else {
            None
        }
    }
}

/// UTF-8 without NULs or other binary control bytes, and nothing a browser would sniff as markup.
fn looks_like_plain_text(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else { return false };
    if text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{c}')) {
        return false;
    }
    let head: String = text.trim_start_matches('\u{feff}').trim_start().chars().take(64).collect();
    let head = head.to_ascii_lowercase();
    !(head.starts_with("<!doctype")
        || head.starts_with("<html")
        || head.starts_with("<svg")
        || head.starts_with("<?xml")
        || head.starts_with("<script"))
}

/// Every accepted file kind.
pub const FILE_KINDS: [FileKind; 6] =
    [FileKind::Png, FileKind::Jpeg, FileKind::Gif, FileKind::Webp, FileKind::Pdf, FileKind::Text];

/// The accepted kinds in words, for error messages.
pub const ACCEPTED_DESCRIPTION: &str = "images (PNG, JPEG, GIF, WebP), PDF and plain text (.txt, .csv, .log, .md)";

/// Whether a file name has the extension of an accepted kind (the content decides in the end).
pub fn extension_accepted(name: &str) -> bool {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    FILE_KINDS.iter().any(|k| k.extensions().contains(&ext.as_str()))
}

/// A file name that is safe to show and to put in a `Content-Disposition` header: path parts
/// dropped, control characters, quotes, slashes and backslashes replaced, at most
/// [`MAX_FILE_NAME_CHARS`] characters (the extension kept), never empty or hidden.
pub fn clean_file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let mut name: String = base
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '"' | '\'' | '<' | '>' | ':' | '*' | '?' | '|' | ';') || is_bidi_control(c)
            {
                '_'
            } else {
                c
            }
        })
        .collect::<String>()
        .trim()
        .trim_start_matches('.')
        .to_string();
    if name.chars().count() > MAX_FILE_NAME_CHARS {
        let ext = name.rsplit_once('.').map(|(_, e)| e.chars().take(10).collect::<String>()).unwrap_or_default();
        let keep = MAX_FILE_NAME_CHARS - ext.chars().count() - 1;
        name = format!("{}.{ext}", name.chars().take(keep).collect::<String>());
    }
    if name.is_empty() {
        "file".into()
    } else {
        name
    }
}

/// Marks that reorder the text around them (a name could show as `photo_txt.pdf` while being a
/// `.txt`): dropped from file names, which are shown, searched and sent in notifications.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// One file as received.
#[derive(Clone, Debug)]
pub struct UploadedFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// One accepted file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedFile {
    pub name: String,
    pub kind: FileKind,
    pub bytes: Vec<u8>,
}

/// Checks the files of one submission: count, sizes, type by content, name agreeing with
/// content. Errors name the file and use the field `files`.
pub fn check_files(files: Vec<UploadedFile>) -> Result<Vec<CheckedFile>, FieldError> {
    if files.len() > MAX_FILES {
        return Err(FieldError::new("files", format!("attach at most {MAX_FILES} files (you chose {})", files.len())));
    }
    let total: usize = files.iter().map(|f| f.bytes.len()).sum();
    if total > MAX_TOTAL_BYTES {
        return Err(FieldError::new(
            "files",
            format!("the files add up to {}; the limit is {} in all", human_size(total), human_size(MAX_TOTAL_BYTES)),
        ));
    }
    files
        .into_iter()
        .map(|f| {
            let name = clean_file_name(&f.name);
            if f.bytes.is_empty() {
                return Err(FieldError::new("files", format!("{name} is empty")));
            }
            if f.bytes.len() > MAX_FILE_BYTES {
                return Err(FieldError::new(
                    "files",
                    format!(
                        "{name} is {}; each file may be at most {}",
                        human_size(f.bytes.len()),
                        human_size(MAX_FILE_BYTES)
                    ),
                ));
            }
            let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
            let allowed = ACCEPTED_DESCRIPTION;
            let Some(kind) = FileKind::sniff(&f.bytes) else {
                return Err(FieldError::new(
                    "files",
                    format!("{name}: this type of file is not accepted; allowed are {allowed}"),
                ));
            };
            if !kind.extensions().contains(&ext.as_str()) {
                let known = extension_accepted(name.as_str());
                return Err(FieldError::new(
                    "files",
                    if known {
                        format!("{name}: the file's content does not match its name (it is not a .{ext} file)")
                    } else {
                        format!("{name}: this type of file is not accepted; allowed are {allowed}")
                    },
                ));
            }
            Ok(CheckedFile { name, kind, bytes: f.bytes })
        })
        .collect()
}

/// "1.2 MB", "340 KB", "12 bytes".
pub fn human_size(bytes: usize) -> String {
    const MB: usize = 1024 * 1024;
    if bytes >= MB {
        // Tenths, rounded half up, in integers: no float formatting in the widget's bundle.
        let tenths = (bytes * 10 + MB / 2) / MB;
        format!("{}.{} MB", tenths / 10, tenths % 10)
    } else if bytes >= 1024 {
        format!("{} KB", bytes.div_ceil(1024))
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_size(12), "12 bytes");
        assert_eq!(human_size(1024), "1 KB");
        assert_eq!(human_size(340 * 1024 + 1), "341 KB");
        assert_eq!(human_size(1024 * 1024), "1.0 MB");
        assert_eq!(human_size(10 * 1024 * 1024), "10.0 MB");
        assert_eq!(human_size(1024 * 1024 * 5 / 4), "1.3 MB"); // 1.25 rounds up
        assert_eq!(human_size(1024 * 1024 * 12 / 10), "1.2 MB");
        assert_eq!(human_size(25 * 1024 * 1024 - 1), "25.0 MB");
    }

    fn file(name: &str, bytes: &[u8]) -> UploadedFile {
        UploadedFile { name: name.into(), bytes: bytes.to_vec() }
    }

    #[test]
    fn addresses() {
        assert_eq!(EmailAddress::parse("  Ann.Lee+x@Example.COM ").unwrap().as_str(), "Ann.Lee+x@example.com");
        for bad in [
            "",
            "ann",
            "ann@",
            "@x.com",
            "ann@x",
            "ann@x.c0m",
            "a b@x.com",
            "ann@-x.com",
            "a..b@x.com",
            "\"a\"@x.com",
            "ann@x.com>\r\nBcc: evil@x.com",
            "ann@[127.0.0.1]",
        ] {
            let e = EmailAddress::parse(bad).unwrap_err();
            assert_eq!(e.field, "email", "{bad}");
        }
        assert!(EmailAddress::parse(&format!("{}@x.com", "a".repeat(65))).is_err());
    }

    #[test]
    fn form_text() {
        assert_eq!(parse_form_text("message", "  hi\u{7}\n there ").unwrap(), "hi\n there");
        assert_eq!(parse_form_text("message", " \n ").unwrap_err().field, "message");
        assert!(parse_form_text("message", &"x".repeat(MAX_FORM_MESSAGE_CHARS + 1))
            .unwrap_err()
            .message
            .contains("too long"));
    }

    #[test]
    fn sniffing() {
        assert_eq!(FileKind::sniff(PNG), Some(FileKind::Png));
        assert_eq!(FileKind::sniff(b"\xFF\xD8\xFF\xE0rest"), Some(FileKind::Jpeg));
        assert_eq!(FileKind::sniff(b"GIF89a...."), Some(FileKind::Gif));
        assert_eq!(FileKind::sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(FileKind::Webp));
        assert_eq!(FileKind::sniff(b"%PDF-1.7\n"), Some(FileKind::Pdf));
        assert_eq!(FileKind::sniff("order 1234, größe 42\n".as_bytes()), Some(FileKind::Text));
        assert_eq!(FileKind::sniff(b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>"), None);
        assert_eq!(FileKind::sniff(b"  <!DOCTYPE html><script>"), None);
        assert_eq!(FileKind::sniff(b"MZ\x90\0\x03\0\0\0"), None);
        assert_eq!(FileKind::sniff(b"PK\x03\x04zip"), None);
    }

    #[test]
    fn files_are_checked_by_content_and_name() {
        let ok = check_files(vec![file("shot.PNG", PNG), file("notes.txt", b"hello")]).unwrap();
        assert_eq!(ok[0].kind, FileKind::Png);
        assert_eq!(ok[1].kind, FileKind::Text);
        // Content and name disagree.
        let e = check_files(vec![file("invoice.pdf", PNG)]).unwrap_err();
        assert!(e.message.contains("does not match"), "{e:?}");
        // A script renamed to .png is not an image.
        assert!(check_files(vec![file("x.png", b"<script>alert(1)</script>")]).is_err());
        // Not an allowed type at all.
        let e = check_files(vec![file("logo.svg", b"<svg/>")]).unwrap_err();
        assert!(e.message.contains("not accepted"), "{e:?}");
        assert!(check_files(vec![file("run.exe", b"MZ\x90\0")]).unwrap_err().message.contains("not accepted"));
        assert!(check_files(vec![file("empty.txt", b"")]).unwrap_err().message.contains("empty"));
    }

    /// Exactly at each limit is accepted; one past it is not.
    #[test]
    fn edges() {
        let domain = format!("{}.{}.{}.com", "b".repeat(63), "c".repeat(63), "d".repeat(57));
        let longest = format!("{}@{domain}", "a".repeat(64));
        assert_eq!(longest.len(), MAX_EMAIL_CHARS);
        assert!(EmailAddress::parse(&longest).is_ok());
        assert!(EmailAddress::parse(&longest.replace("@b", "@bb")).is_err(), "one character more");
        assert!(EmailAddress::parse("ann@my-shop.example").is_ok());
        assert!(EmailAddress::parse("ann@my_shop.example").is_err());
        assert!(parse_form_text("message", &"x".repeat(MAX_FORM_MESSAGE_CHARS)).is_ok());
        let name = format!("{}.txt", "n".repeat(MAX_FILE_NAME_CHARS - 4));
        assert_eq!(clean_file_name(&name), name, "a name of exactly the limit is kept");
        let bare = "n".repeat(MAX_FILE_NAME_CHARS);
        assert_eq!(clean_file_name(&bare), bare, "also without an extension");
        let five = (0..MAX_FILES).map(|i| file(&format!("{i}.txt"), b"x")).collect();
        assert_eq!(check_files(five).unwrap().len(), MAX_FILES);
        let big = vec![b'x'; MAX_FILE_BYTES];
        let two = vec![file("a.txt", &big), file("b.txt", &big)];
        assert_eq!(2 * MAX_FILE_BYTES, MAX_TOTAL_BYTES);
        assert_eq!(check_files(two).unwrap().len(), 2, "files of exactly the size limits");
    }

    /// What a browser would render as markup is never plain text; files are served as their kind.
    #[test]
    fn markup_is_not_text_and_types_are_exact() {
        for markup in ["<html><body>", "<svg/>", "<?xml version=\"1.0\"?>", "<script>x</script>", "<!doctype html>"] {
            assert_eq!(FileKind::sniff(markup.as_bytes()), None, "{markup}");
        }
        let types: Vec<&str> = FILE_KINDS.iter().map(|k| k.content_type()).collect();
        assert_eq!(
            types,
            ["image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain; charset=utf-8"]
        );
        assert!(extension_accepted("photo.JPG") && extension_accepted("notes.md"));
        for refused in ["page.html", "logo.svg", "run.exe", "noextension"] {
            assert!(!extension_accepted(refused), "{refused}");
        }
    }

    #[test]
    fn limits() {
        let many = (0..=MAX_FILES).map(|i| file(&format!("{i}.txt"), b"x")).collect();
        assert!(check_files(many).unwrap_err().message.contains("at most 5 files"));
        let big = vec![0x41u8; MAX_FILE_BYTES + 1];
        assert!(check_files(vec![file("big.txt", &big)]).unwrap_err().message.contains("each file"));
        let part = vec![0x41u8; MAX_FILE_BYTES];
        let e = check_files(vec![file("a.txt", &part), file("b.txt", &part), file("c.txt", b"x")]).unwrap_err();
        assert!(e.message.contains("in all"), "{e:?}");
    }

    #[test]
    fn file_names_are_made_safe() {
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name("C:\\Users\\me\\a\"b\r\n.txt"), "a_b__.txt");
        assert_eq!(clean_file_name(".htaccess"), "htaccess");
        assert_eq!(clean_file_name("invoice\u{202E}fdp.txt"), "invoice_fdp.txt", "no reordering marks");
        assert_eq!(clean_file_name("   "), "file");
        let long = format!("{}.pdf", "n".repeat(300));
        let c = clean_file_name(&long);
        assert!(c.ends_with(".pdf") && c.chars().count() == MAX_FILE_NAME_CHARS, "{c}");
    }
}
