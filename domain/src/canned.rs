//! Canned responses: an organization's library of ready answers (a title, a `/shortcut` and a
//! text with placeholders), managed by users with the *settings* permission and inserted by
//! agents in the composer by typing `/`. Placeholders (`{visitor_name}`, `{agent_name}`,
//! `{organization}`) are filled when the text is inserted, and the agent can still edit it before
//! sending.
use crate::field::FieldError;
use crate::values::MAX_MESSAGE_BYTES;
use serde::{Deserialize, Serialize};

/// Longest title, in characters.
pub const MAX_CANNED_TITLE: usize = 80;
/// Longest shortcut, in characters (`[a-z0-9-]`).
pub const MAX_SHORTCUT: usize = 32;
/// Most canned responses an organization may keep.
pub const MAX_CANNED_PER_ORG: usize = 500;
/// How many suggestions the composer shows at once.
pub const MAX_SUGGESTIONS: usize = 8;

/// The placeholders a text may use, each with what it is filled with (for the settings page).
pub const PLACEHOLDERS: [(&str, &str); 3] = [
    ("{visitor_name}", "the visitor's name"),
    ("{agent_name}", "your name"),
    ("{organization}", "your organization's name"),
];

/// A canned response as the settings page and the composer show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CannedDto {
    pub id: String,
    pub title: String,
    /// Without the leading `/`.
    pub shortcut: String,
    pub text: String,
}

/// A new canned response, or one's new title, shortcut and text.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CannedInput {
    pub title: String,
    pub shortcut: String,
    pub text: String,
}

/// What a checked [`CannedInput`] stores.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CannedFields {
    pub title: String,
    pub shortcut: String,
    pub text: String,
}

impl CannedInput {
    /// Checks every field: the title (1..=[`MAX_CANNED_TITLE`] characters, white space made
    /// single, no control characters), the shortcut (`[a-z0-9-]{1,32}`, a leading `/` and
    /// surrounding spaces forgiven, upper case made lower) and the text (the message rules; only
    /// known placeholders). The first wrong field is named.
    pub fn check(&self) -> Result<CannedFields, FieldError> {
        if self.title.chars().any(|c| c.is_control() && !c.is_whitespace()) {
            return Err(FieldError::new("title", "must not contain control characters"));
        }
        let title = self.title.split_whitespace().collect::<Vec<_>>().join(" ");
        if title.is_empty() {
            return Err(FieldError::new("title", "enter a title"));
        }
        if title.chars().count() > MAX_CANNED_TITLE {
            return Err(FieldError::new("title", format!("must be at most {MAX_CANNED_TITLE} characters")));
        }
        let shortcut = parse_shortcut(&self.shortcut)?;
        let text = crate::values::MessageText::parse(&self.text)
            .map_err(|_| {
                FieldError::new(
                    "text",
                    if self.text.trim().is_empty() {
                        "enter the text".to_string()
                    } else {
                        format!("must be at most {MAX_MESSAGE_BYTES} bytes")
                    },
                )
            })?
            .as_str()
            .to_string();
        if let Some(unknown) = unknown_placeholder(&text) {
            return Err(FieldError::new(
                "text",
                format!("unknown placeholder {unknown}: use {{visitor_name}}, {{agent_name}} or {{organization}}"),
            ));
        }
        Ok(CannedFields { title, shortcut, text })
    }
}

/// A shortcut as stored: `[a-z0-9-]{1,32}` (a leading `/`, surrounding spaces and upper case
/// forgiven). Field `shortcut`.
pub fn parse_shortcut(raw: &str) -> Result<String, FieldError> {
    let s = raw.trim();
    let s = s.strip_prefix('/').unwrap_or(s).to_ascii_lowercase();
    if s.is_empty() {
        return Err(FieldError::new("shortcut", "enter a shortcut"));
    }
    if s.len() > MAX_SHORTCUT || !s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        return Err(FieldError::new(
            "shortcut",
            format!("use 1 to {MAX_SHORTCUT} lower-case letters, digits or hyphens (like “thanks” or “refund-policy”)"),
        ));
    }
    Ok(s)
}

/// The first `{word}` of `text` that is not a known placeholder, if any.
fn unknown_placeholder(text: &str) -> Option<String> {
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open..];
        let Some(close) = after.find('}') else { return None };
        let candidate = &after[..=close];
        let word = &candidate[1..candidate.len() - 1];
        let is_word = !word.is_empty() && word.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if is_word && !PLACEHOLDERS.iter().any(|(p, _)| *p == candidate) {
            return Some(candidate.to_string());
        }
        rest = &after[1..];
    }
    None
}

/// What the placeholders are filled with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filling {
    pub visitor_name: String,
    pub agent_name: String,
    pub organization: String,
}

/// `text` with its placeholders filled (an empty value leaves its placeholder in the text, for
/// the agent to see and replace).
pub fn fill(text: &str, with: &Filling) -> String {
    let mut out = text.to_string();
    for (placeholder, value) in [
        ("{visitor_name}", &with.visitor_name),
        ("{agent_name}", &with.agent_name),
        ("{organization}", &with.organization),
    ] {
        if !value.is_empty() {
            out = out.replace(placeholder, value);
        }
    }
    out
}

/// The `/query` the agent is typing at the end of `draft` (after the start or a space, no space
/// in it), with the byte position of its `/`; `None` when the draft does not end in one.
pub fn typed_shortcut(draft: &str) -> Option<(usize, &str)> {
    let slash = draft.rfind('/')?;
    let query = &draft[slash + 1..];
    let starts_word = draft[..slash].chars().next_back().is_none_or(char::is_whitespace);
    (starts_word && !query.contains(char::is_whitespace) && query.len() <= MAX_SHORTCUT).then_some((slash, query))
}

/// The canned responses matching `query`, best first: shortcuts starting with it, then
/// shortcuts or titles containing it (case-insensitive); at most [`MAX_SUGGESTIONS`].
pub fn suggestions<'a>(all: &'a [CannedDto], query: &str) -> Vec<&'a CannedDto> {
    let q = query.to_lowercase();
    let mut first: Vec<&CannedDto> = all.iter().filter(|c| c.shortcut.starts_with(&q)).collect();
    let then = all
        .iter()
        .filter(|c| !c.shortcut.starts_with(&q) && (c.shortcut.contains(&q) || c.title.to_lowercase().contains(&q)));
    first.extend(then);
    first.truncate(MAX_SUGGESTIONS);
    first
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(title: &str, shortcut: &str, text: &str) -> CannedInput {
        CannedInput { title: title.into(), shortcut: shortcut.into(), text: text.into() }
    }

    #[test]
    fn inputs_are_checked_field_by_field() {
        let ok =
            input("  Thanks \t for waiting ", " /Thanks ", "Thanks, {visitor_name}! — {agent_name}").check().unwrap();
        assert_eq!((ok.title.as_str(), ok.shortcut.as_str()), ("Thanks for waiting", "thanks"));
        let field = |i: CannedInput| i.check().unwrap_err().field;
        assert_eq!(field(input(" ", "a", "b")), "title");
        assert_eq!(field(input(&"t".repeat(MAX_CANNED_TITLE + 1), "a", "b")), "title");
        assert_eq!(field(input("t", "", "b")), "shortcut");
        assert_eq!(field(input("t", "with space", "b")), "shortcut");
        assert_eq!(field(input("t", "ümlaut", "b")), "shortcut");
        assert_eq!(field(input("t", &"a".repeat(MAX_SHORTCUT + 1), "b")), "shortcut");
        assert!(input("t", &"a".repeat(MAX_SHORTCUT), "b").check().is_ok());
        assert_eq!(field(input("t", "a", "  ")), "text");
        assert_eq!(field(input("t", "a", &"x".repeat(MAX_MESSAGE_BYTES + 1))), "text");
        let unknown = input("t", "a", "Hi {name}").check().unwrap_err();
        assert!(unknown.message.starts_with("unknown placeholder {name}"), "{}", unknown.message);
        // Braces that are not placeholders are text.
        assert!(input("t", "a", "Use {} or { x } or {a-b} or a } b {").check().is_ok());
    }

    #[test]
    fn placeholders_are_filled_when_known() {
        let with = Filling { visitor_name: "Vera".into(), agent_name: "Ann".into(), organization: String::new() };
        assert_eq!(
            fill("Hi {visitor_name}, {agent_name} of {organization} here.", &with),
            "Hi Vera, Ann of {organization} here."
        );
    }

    #[test]
    fn the_typed_shortcut_is_the_last_word_after_a_slash() {
        assert_eq!(typed_shortcut("/tha"), Some((0, "tha")));
        assert_eq!(typed_shortcut("Hello /"), Some((6, "")));
        assert_eq!(typed_shortcut("see https://x.example/a"), None);
        assert_eq!(typed_shortcut("/thanks and more"), None);
        assert_eq!(typed_shortcut("no slash"), None);
    }

    #[test]
    fn suggestions_put_shortcut_prefixes_first() {
        let c = |s: &str, t: &str| CannedDto { id: s.into(), title: t.into(), shortcut: s.into(), text: String::new() };
        let all = [
            c("refund", "Refund policy"),
            c("thanks", "Thank you"),
            c("thanks-wait", "Thanks for waiting"),
            c("bye", "Thanks, bye"),
        ];
        let ids = |q: &str| suggestions(&all, q).iter().map(|c| c.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids("thanks"), ["thanks", "thanks-wait", "bye"]);
        assert_eq!(ids("REF"), ["refund"]);
        assert_eq!(ids("").len(), 4);
    }
}
