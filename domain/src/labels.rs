//! Conversation labels: an organization's own tags ("billing", "bug", "VIP") with a colour from a
//! fixed palette, added to and removed from conversations by its agents and used as a filter of
//! the dashboard's list. A conversation's summary carries the ids of its labels.
use crate::field::FieldError;
use serde::{Deserialize, Serialize};

/// Longest label name, in characters.
pub const MAX_LABEL_NAME: usize = 32;
/// Most labels an organization may define.
pub const MAX_LABELS_PER_ORG: usize = 100;
/// Most labels on one conversation.
pub const MAX_LABELS_PER_CONVERSATION: usize = 10;

/// A label's colour: a fixed palette, each readable (WCAG AA) as the chip's text on its tint in
/// the light and the dark theme (`style/main.css`, `.label-chip[data-color]`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelColor {
    #[default]
    Gray,
    Red,
    Orange,
    Green,
    Teal,
    Blue,
    Purple,
    Pink,
}

impl LabelColor {
    /// In the order the colour picker shows them.
    pub const EVERY: [LabelColor; 8] = [
        LabelColor::Gray,
        LabelColor::Red,
        LabelColor::Orange,
        LabelColor::Green,
        LabelColor::Teal,
        LabelColor::Blue,
        LabelColor::Purple,
        LabelColor::Pink,
    ];

    /// The name stored and used in the page (`data-color`).
    pub fn as_str(self) -> &'static str {
        match self {
            LabelColor::Gray => "gray",
            LabelColor::Red => "red",
            LabelColor::Orange => "orange",
            LabelColor::Green => "green",
            LabelColor::Teal => "teal",
            LabelColor::Blue => "blue",
            LabelColor::Purple => "purple",
            LabelColor::Pink => "pink",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::EVERY.into_iter().find(|c| c.as_str() == s)
    }

    /// For people: the colour picker's option.
    pub fn label(self) -> &'static str {
        match self {
            LabelColor::Gray => "Gray",
            LabelColor::Red => "Red",
            LabelColor::Orange => "Orange",
            LabelColor::Green => "Green",
            LabelColor::Teal => "Teal",
            LabelColor::Blue => "Blue",
            LabelColor::Purple => "Purple",
            LabelColor::Pink => "Pink",
        }
    }
}

/// A label as the dashboard and the settings page show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelDto {
    pub id: String,
    pub name: String,
    pub color: LabelColor,
    /// On how many conversations (the settings page's list).
    #[serde(default)]
    pub conversations: i64,
}

/// A new label, or a label's new name and colour.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelInput {
    pub name: String,
    pub color: LabelColor,
}

/// A label's name: trimmed, inner runs of white space made one space, 1..=[`MAX_LABEL_NAME`]
/// characters, no control characters. Field `name`.
pub fn parse_label_name(raw: &str) -> Result<String, FieldError> {
    if raw.chars().any(|c| c.is_control() && !c.is_whitespace()) {
        return Err(FieldError::new("name", "must not contain control characters"));
    }
    let name = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        return Err(FieldError::new("name", "enter a name"));
    }
    if name.chars().count() > MAX_LABEL_NAME {
        return Err(FieldError::new("name", format!("must be at most {MAX_LABEL_NAME} characters")));
    }
    Ok(name)
}

/// Two label names are the same label when they are equal ignoring case.
pub fn label_key(name: &str) -> String {
    name.to_lowercase()
}

/// The label ids a conversation row stores (`conversations.labels`: sorted, comma-separated).
pub fn join_label_ids(ids: &[String]) -> String {
    let mut ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.join(",")
}

/// The label ids of a stored `conversations.labels`.
pub fn split_label_ids(stored: &str) -> Vec<String> {
    stored.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_checked() {
        assert_eq!(parse_label_name("  Billing \t question ").unwrap(), "Billing question");
        assert_eq!(parse_label_name("   ").unwrap_err().message, "enter a name");
        assert_eq!(parse_label_name(&"x".repeat(MAX_LABEL_NAME)).unwrap().len(), MAX_LABEL_NAME);
        let long = parse_label_name(&"é".repeat(MAX_LABEL_NAME + 1)).unwrap_err();
        assert_eq!((long.field.as_str(), long.message.as_str()), ("name", "must be at most 32 characters"));
        assert!(parse_label_name("a\u{7}b").is_err());
        assert_eq!(label_key("VIP"), label_key("vip"));
    }

    #[test]
    fn colours_have_one_name_each() {
        for c in LabelColor::EVERY {
            assert_eq!(LabelColor::parse(c.as_str()), Some(c));
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
        assert_eq!(LabelColor::parse("#ff0000"), None);
    }

    #[test]
    fn stored_ids_are_sorted_and_unique() {
        let ids = vec!["b".to_string(), "a".into(), "b".into()];
        assert_eq!(join_label_ids(&ids), "a,b");
        assert_eq!(split_label_ids("a,b"), vec!["a", "b"]);
        assert!(split_label_ids("").is_empty());
    }
}
