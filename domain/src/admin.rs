//! Organizations, users, permissions and widgets as the admin pages edit them: the DTOs shared by
//! server and browser, and the rules every input must pass (names, passwords, origins).
use crate::email::EmailAddress;
use crate::field::FieldError;
use serde::{Deserialize, Serialize};

/// Longest organization, user and widget name (AI agents: [`crate::agent::MAX_AI_AGENT_NAME`]).
pub const MAX_NAME: usize = 100;
/// Shortest password.
pub const MIN_PASSWORD: usize = 10;
/// Longest password (hashing cost stays bounded).
pub const MAX_PASSWORD: usize = 256;
/// Most allowed origins per widget.
pub const MAX_ORIGINS: usize = 50;

/// A name: trimmed, control characters refused, 1..=[`MAX_NAME`] characters.
pub fn parse_name(field_name: &str, raw: &str) -> Result<String, FieldError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(FieldError::new(field_name, "enter a name"));
    }
    if s.chars().count() > MAX_NAME {
        return Err(FieldError::new(field_name, format!("must be at most {MAX_NAME} characters")));
    }
    if s.chars().any(char::is_control) {
        return Err(FieldError::new(field_name, "must not contain control characters"));
    }
    Ok(s.to_string())
}

/// A user's e-mail address (their sign-in name), lower-cased whole.
pub fn parse_login_email(raw: &str) -> Result<String, FieldError> {
    let e = EmailAddress::parse(raw).map_err(|e| {
        if raw.trim().is_empty() {
            FieldError::new("email", "enter the user's e-mail address")
        } else {
            e
        }
    })?;
    Ok(e.as_str().to_lowercase())
}

/// Passwords that pass the length rule but are guessed first.
const COMMON: [&str; 12] = [
    "password", "passw0rd", "123456", "qwerty", "letmein", "welcome", "iloveyou", "admin", "abc123", "monkey",
    "dragon", "handoff",
];

/// Password rules: [`MIN_PASSWORD`]..=[`MAX_PASSWORD`] characters, not one repeated character,
/// not a well-known password with a few digits around it, not the e-mail address.
pub fn check_password(password: &str, email: &str) -> Result<(), FieldError> {
    let n = password.chars().count();
    if n == 0 {
        return Err(FieldError::new("password", "enter a password"));
    }
    if n < MIN_PASSWORD {
        return Err(FieldError::new("password", format!("must be at least {MIN_PASSWORD} characters")));
    }
    if n > MAX_PASSWORD {
        return Err(FieldError::new("password", format!("must be at most {MAX_PASSWORD} characters")));
    }
    let lower = password.to_lowercase();
    let distinct = {
        let mut c: Vec<char> = lower.chars().collect();
        c.sort_unstable();
        c.dedup();
        c.len()
    };
    let core: String = lower.trim_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation()).to_string();
    let local = email.trim().to_lowercase();
    let local = local.split('@').next().unwrap_or("");
    if distinct < 4
        || COMMON
            .iter()
            .any(|w| core == *w || lower.starts_with(w) && lower[w.len()..].chars().all(|c| !c.is_alphabetic()))
        || lower.chars().all(|c| c.is_ascii_digit())
        || (!local.is_empty() && (lower == email.trim().to_lowercase() || core == local))
    {
        return Err(FieldError::new("password", "is too easy to guess; use a longer phrase or mix words and symbols"));
    }
    Ok(())
}

/// A web origin as browsers send it: `https://shop.example.com` or `http://localhost:8080`.
/// Lower-cased; a trailing slash is dropped; paths, queries, credentials, wildcards refused.
pub fn parse_origin(raw: &str) -> Result<String, String> {
    let s = raw.trim().trim_end_matches('/').to_ascii_lowercase();
    let bad = |why: &str| format!("\"{}\" is not an origin: {why}", raw.trim());
    let (scheme, rest) = s.split_once("://").ok_or_else(|| bad("write it like https://www.example.com"))?;
    if scheme != "http" && scheme != "https" {
        return Err(bad("only http:// and https:// sites can embed the widget"));
    }
    if rest.contains(['/', '?', '#', '@', '*', ' ', '"', '\'', ';', ',']) {
        return Err(bad("only the scheme, host and port, without path or wildcards"));
    }
    let (host, port) = match rest.rsplit_once(':') {
        // The last ':' of `[::1]` is inside the brackets: no port there.
        Some((h, p)) if !p.contains(']') => (h, Some(p)),
        _ => (rest, None),
    };
    if let Some(p) = port {
        if p.parse::<u16>().map_or(true, |p| p == 0) {
            return Err(bad("the port must be a number from 1 to 65535"));
        }
    }
    let host_ok = if host.starts_with('[') {
        host.ends_with(']')
            && host.len() > 2
            && host[1..host.len() - 1].chars().all(|c| c.is_ascii_hexdigit() || c == ':')
    } else {
        !host.is_empty()
            && host.len() <= 253
            && host.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
    };
    if !host_ok {
        return Err(bad("the host name is not valid"));
    }
    Ok(s)
}

/// A widget's allowed origins from a text with one origin per line (commas and spaces also
/// separate). Empty: any site may embed it. Duplicates are dropped.
pub fn parse_origins(text: &str) -> Result<Vec<String>, FieldError> {
    let mut out: Vec<String> = Vec::new();
    for raw in text.split(|c: char| c == ',' || c.is_whitespace()).filter(|s| !s.is_empty()) {
        let o = parse_origin(raw).map_err(|m| FieldError::new("allowed_origins", m))?;
        if !out.contains(&o) {
            out.push(o);
        }
    }
    if out.len() > MAX_ORIGINS {
        return Err(FieldError::new("allowed_origins", format!("at most {MAX_ORIGINS} origins")));
    }
    Ok(out)
}

/// What a client user may do in their organization.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permissions {
    /// See and handle conversations.
    pub conversations: bool,
    /// Change the organization's agent, handoff, widget and notification settings.
    pub settings: bool,
    /// Invite and manage the organization's users.
    pub users: bool,
}

impl Permissions {
    pub const ALL: Self = Self { conversations: true, settings: true, users: true };

    /// Whether every permission of `other` is also in `self`.
    pub fn covers(self, other: Self) -> bool {
        (self.conversations || !other.conversations)
            && (self.settings || !other.settings)
            && (self.users || !other.users)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages every organization, user, agent and widget.
    Admin,
    /// Belongs to one organization; what they may do there is in [`Permissions`].
    Client,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Client => "client",
        }
    }
    pub fn parse(s: &str) -> Self {
        if s == "admin" {
            Self::Admin
        } else {
            Self::Client
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgDto {
    pub id: String,
    pub name: String,
    pub users: i64,
    pub agents: i64,
    pub widgets: i64,
    pub created_at: i64,
}

/// A user as the user pages show them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserEntry {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub org_id: Option<String>,
    pub org_name: Option<String>,
    pub permissions: Permissions,
    /// Deactivated users cannot sign in; their name stays on past conversations.
    pub active: bool,
    pub created_at: i64,
}

/// A new user. Client users need `org_id` (a user manager's own organization is used when they
/// leave it out); admins have none.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub password: String,
    pub role: Role,
    pub org_id: Option<String>,
    pub permissions: Permissions,
}

/// Changes to an existing user (the password has its own call).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserChange {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub org_id: Option<String>,
    pub permissions: Permissions,
    pub active: bool,
}

/// An AI agent in the admin's list: which organization it serves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentEntry {
    pub id: String,
    pub name: String,
    pub org_id: Option<String>,
    pub org_name: Option<String>,
    pub handoff_enabled: bool,
    pub handoff_fixed: bool,
    pub widgets: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WidgetDto {
    pub id: String,
    pub org_id: String,
    pub org_name: String,
    pub agent_id: String,
    pub agent_name: String,
    pub name: String,
    /// Empty: any site may embed it.
    pub allowed_origins: Vec<String>,
    pub created_at: i64,
    /// Whether the caller may change it.
    pub editable: bool,
}

/// A new widget or changes to one. `allowed_origins`: one per line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WidgetInput {
    pub name: String,
    /// Admins choose; client users' widgets always belong to their own organization.
    pub org_id: Option<String>,
    pub agent_id: String,
    pub allowed_origins: String,
}

/// The one-tag embed snippet of a widget, for a server reachable at `public_url`.
pub fn embed_snippet(public_url: &str, widget_id: &str) -> String {
    format!(
        "<script src=\"{}/widget.js\" data-widget=\"{widget_id}\" async></script>",
        public_url.trim_end_matches('/')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(parse_name("name", "  Acme  ").unwrap(), "Acme");
        assert_eq!(parse_name("name", " ").unwrap_err().message, "enter a name");
        assert!(parse_name("name", &"x".repeat(MAX_NAME)).is_ok());
        assert_eq!(parse_name("name", &"x".repeat(MAX_NAME + 1)).unwrap_err().field, "name");
        assert!(parse_name("name", "a\u{0}b").is_err());
    }

    #[test]
    fn emails() {
        assert_eq!(parse_login_email(" Ann@Example.COM ").unwrap(), "ann@example.com");
        assert_eq!(parse_login_email("").unwrap_err().message, "enter the user's e-mail address");
        assert!(parse_login_email("ann@").is_err());
        assert_eq!(parse_login_email("x").unwrap_err().field, "email");
    }

    #[test]
    fn passwords() {
        assert!(check_password("correct horse battery", "ann@x.com").is_ok());
        assert!(check_password("Tr0ub4dor&3x", "ann@x.com").is_ok());
        for weak in
            ["", "short", "aaaaaaaaaaaa", "password123", "Password2024!", "12345678901", "ann@x.com", "abababababab"]
        {
            let e = check_password(weak, "ann@x.com").unwrap_err();
            assert_eq!(e.field, "password", "{weak}");
        }
        assert!(check_password(&"ab1!".repeat(70), "a@b.co").is_err(), "too long");
        assert!(check_password("ann-2024-01-01", "ann@x.com").is_err(), "the name and a date");
    }

    #[test]
    fn origins() {
        assert_eq!(parse_origin("https://Shop.Example.com/").unwrap(), "https://shop.example.com");
        assert_eq!(parse_origin("http://localhost:8080").unwrap(), "http://localhost:8080");
        assert_eq!(parse_origin("http://127.0.0.1:3000").unwrap(), "http://127.0.0.1:3000");
        assert_eq!(parse_origin("http://[::1]:3000").unwrap(), "http://[::1]:3000");
        for bad in [
            "shop.example.com",
            "ftp://x.com",
            "javascript://x.com",
            "https://x.com/path",
            "https://*.x.com",
            "https://user@x.com",
            "https://x.com:0",
            "https://x.com:99999",
            "https://x..com",
            "https://-x.com",
            "https://",
            "https://x.com?q",
            "https://x.com\"onload=",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad}");
        }
        let list = parse_origins("https://a.com\n https://b.com, https://a.com/\n").unwrap();
        assert_eq!(list, vec!["https://a.com", "https://b.com"]);
        assert!(parse_origins("").unwrap().is_empty());
        let e = parse_origins("https://a.com\nnope").unwrap_err();
        assert_eq!(e.field, "allowed_origins");
        assert!(e.message.contains("\"nope\""));
        let many: String = (0..=MAX_ORIGINS).map(|i| format!("https://s{i}.com\n")).collect();
        assert!(parse_origins(&many).is_err());
    }

    #[test]
    fn permissions_cover() {
        let mgr = Permissions { conversations: true, settings: false, users: true };
        assert!(mgr.covers(Permissions { conversations: true, settings: false, users: false }));
        assert!(!mgr.covers(Permissions { settings: true, ..Default::default() }));
        assert!(Permissions::ALL.covers(mgr));
    }

    /// The edges of each password rule: exactly the limits pass, one past them fails.
    #[test]
    fn password_rule_edges() {
        assert!(check_password("Tr0ub4dor&", "ann@x.com").is_ok(), "exactly MIN_PASSWORD characters");
        assert!(check_password("Tr0ub4dor", "ann@x.com").is_err(), "one fewer");
        assert!(check_password(&"ab1!".repeat(MAX_PASSWORD / 4), "a@b.co").is_ok(), "exactly MAX_PASSWORD");
        assert!(check_password("abcdabcdabcd", "ann@x.com").is_ok(), "four distinct characters are enough");
        assert!(check_password("abcabcabcabc", "ann@x.com").is_err(), "three are not");
        // A well-known word wrapped in symbols, or followed by digits after a space.
        assert!(check_password("!!!password!!", "ann@x.com").is_err());
        assert!(check_password("password 2024", "ann@x.com").is_err());
        // A well-known word followed by more words is a phrase, not the word.
        assert!(check_password("password manager rocks", "ann@x.com").is_ok());
    }

    #[test]
    fn origin_edges() {
        assert_eq!(parse_origin("https://my-shop.example").unwrap(), "https://my-shop.example");
        assert_eq!(parse_origin("http://[::1]").unwrap(), "http://[::1]", "IPv6 without a port");
        for bad in ["http://[abcd", "http://[]", "http://[xyz]", "https://a_b.com"] {
            assert!(parse_origin(bad).is_err(), "{bad}");
        }
        let fifty: String = (0..MAX_ORIGINS).map(|i| format!("https://s{i}.com\n")).collect();
        assert_eq!(parse_origins(&fifty).unwrap().len(), MAX_ORIGINS, "exactly MAX_ORIGINS is allowed");
    }

    /// `covers` for every pair of permission sets.
    #[test]
    fn permissions_cover_exactly_their_subsets() {
        let all: Vec<Permissions> = (0..8)
            .map(|b| Permissions { conversations: b & 1 != 0, settings: b & 2 != 0, users: b & 4 != 0 })
            .collect();
        for mine in &all {
            for other in &all {
                let subset = (!other.conversations || mine.conversations)
                    && (!other.settings || mine.settings)
                    && (!other.users || mine.users);
                assert_eq!(mine.covers(*other), subset, "{mine:?} covers {other:?}");
            }
        }
    }

    #[test]
    fn roles_round_trip_through_their_column_text() {
        assert_eq!((Role::Admin.as_str(), Role::Client.as_str()), ("admin", "client"));
        for r in [Role::Admin, Role::Client] {
            assert_eq!(Role::parse(r.as_str()), r);
        }
        assert_eq!(Role::parse("anything else"), Role::Client, "unknown text never makes an admin");
    }

    #[test]
    fn snippet() {
        assert_eq!(
            embed_snippet("https://chat.x.com/", "w1"),
            "<script src=\"https://chat.x.com/widget.js\" data-widget=\"w1\" async></script>"
        );
    }
}
