//! What an agent may know about the visitor of a conversation, and only what the visitor's own
//! widget told: the pages of the customer's site they were on during the chat (the embedding page
//! tells the widget), where they came from, their browser's language, time zone and user agent,
//! the e-mail address they gave in the e-mail form, and their earlier conversations (same browser
//! token). No third-party look-ups. Everything arrives from an untrusted browser, so it is cut to
//! length and stripped of control characters here, and shown as text.
use crate::handoff::HandoffState;
use serde::{Deserialize, Serialize};

/// Longest page address or referrer kept, in bytes (longer ones are cut).
pub const MAX_URL: usize = 2048;
/// Longest page title kept, in characters.
pub const MAX_TITLE: usize = 200;
/// Longest user agent kept, in characters.
pub const MAX_USER_AGENT: usize = 512;
/// Pages kept per conversation (the oldest go first).
pub const MAX_PAGES: usize = 50;
/// Earlier conversations listed.
pub const MAX_PREVIOUS: usize = 10;
/// The error code of a refused context update: the widget does not show it to the visitor.
pub const CONTEXT_REFUSED: &str = "context_refused";

/// What the widget sends on connecting and whenever the visitor moves to another page. Every
/// field may be missing or wrong; [`VisitorEnv::cleaned`] makes it safe to store.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitorEnv {
    /// The customer page the widget is embedded in, as the page reports it.
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub title: String,
    /// The page the visitor came from to the customer's site.
    #[serde(default)]
    pub referrer: String,
    /// The browser's preferred language (`navigator.language`).
    #[serde(default)]
    pub language: String,
    /// The IANA time zone (`Europe/Berlin`).
    #[serde(default)]
    pub time_zone: String,
    /// Minutes east of UTC (+60 for Berlin in winter).
    #[serde(default)]
    pub utc_offset: i32,
    #[serde(default)]
    pub user_agent: String,
}

impl VisitorEnv {
    /// Cut to the limits, control characters removed, language and time zone kept only when they
    /// look like one, the offset within the real range (−14 h … +14 h).
    pub fn cleaned(&self) -> VisitorEnv {
        VisitorEnv {
            url: clean_url(&self.url),
            title: clean_text(&self.title, MAX_TITLE),
            referrer: clean_url(&self.referrer),
            language: keep_if(&self.language, 35, |c| c.is_ascii_alphanumeric() || c == '-'),
            time_zone: keep_if(&self.time_zone, 64, |c| c.is_ascii_alphanumeric() || "/_+-".contains(c)),
            utc_offset: self.utc_offset.clamp(-14 * 60, 14 * 60),
            user_agent: clean_text(&self.user_agent, MAX_USER_AGENT),
        }
    }
}

/// One page the visitor was on, and when they got there (ms since the epoch, server time).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageVisit {
    pub url: String,
    pub title: String,
    pub at: i64,
}

/// An earlier conversation of the same visitor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviousConversation {
    pub id: String,
    pub state: HandoffState,
    pub last_message: Option<String>,
    pub last_activity: i64,
}

/// The visitor context panel's content. Empty strings: not told.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitorContext {
    /// Oldest first; the last one is the page the visitor is on now.
    pub pages: Vec<PageVisit>,
    pub referrer: String,
    pub language: String,
    pub time_zone: String,
    pub utc_offset: i32,
    pub user_agent: String,
    /// The newest address the visitor gave in an e-mail form of any of their conversations.
    pub email: String,
    /// Newest first, at most [`MAX_PREVIOUS`].
    pub previous: Vec<PreviousConversation>,
}

impl VisitorContext {
    /// The page the visitor is on now.
    pub fn current_page(&self) -> Option<&PageVisit> {
        self.pages.last()
    }

    /// Whether the widget told anything about the visitor's browser.
    pub fn has_browser(&self) -> bool {
        !(self.language.is_empty() && self.time_zone.is_empty() && self.user_agent.is_empty())
    }
}

/// Whether an address may be opened as a link: only `http:` and `https:` (never `javascript:`,
/// `data:` and the like, which are shown as text only).
pub fn is_web_link(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

/// The browser and the operating system a user agent names, in words ("Firefox 132", "Windows"),
/// or "" for what it does not reveal. A few patterns, checked in an order that keeps browsers built
/// on another's engine (Edge and Opera on Chrome's) from being named by it.
pub fn describe_user_agent(ua: &str) -> (String, String) {
    let version = |marker: &str| -> Option<String> {
        let at = ua.find(marker)? + marker.len();
        let major: String = ua[at..].chars().take_while(char::is_ascii_digit).collect();
        Some(major)
    };
    let named = |name: &str, marker: &str| {
        version(marker).map(|v| if v.is_empty() { name.to_string() } else { format!("{name} {v}") })
    };
    let browser = named("Edge", "Edg/")
        .or_else(|| named("Opera", "OPR/"))
        .or_else(|| named("Samsung Internet", "SamsungBrowser/"))
        .or_else(|| named("Firefox", "Firefox/"))
        .or_else(|| named("Firefox", "FxiOS/"))
        .or_else(|| named("Chrome", "CriOS/"))
        .or_else(|| named("Chrome", "Chrome/"))
        .or_else(|| ua.contains("Safari/").then(|| named("Safari", "Version/")).flatten())
        .unwrap_or_default();
    let os = if ua.contains("iPhone") || ua.contains("iPad") || ua.contains("iPod") {
        "iOS"
    } else if ua.contains("Android") {
        "Android"
    } else if ua.contains("CrOS") {
        "ChromeOS"
    } else if ua.contains("Windows") {
        "Windows"
    } else if ua.contains("Mac OS X") || ua.contains("Macintosh") {
        "macOS"
    } else if ua.contains("Linux") {
        "Linux"
    } else {
        ""
    };
    (browser, os.to_string())
}

/// Control characters, and the invisible marks that reorder how text around them reads (an
/// address or title could otherwise show one thing and say another).
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// Trimmed, without [`hidden`] characters, at most `max` characters.
fn clean_text(raw: &str, max: usize) -> String {
    raw.trim().chars().filter(|c| !hidden(*c)).take(max).collect()
}

/// Trimmed, without [`hidden`] characters or spaces, at most [`MAX_URL`] bytes (cut at a
/// character boundary).
fn clean_url(raw: &str) -> String {
    let mut out = String::new();
    for c in raw.trim().chars().filter(|c| !hidden(*c) && !c.is_whitespace()) {
        if out.len() + c.len_utf8() > MAX_URL {
            break;
        }
        out.push(c);
    }
    out
}

/// `raw` trimmed when every character passes and it is at most `max` long, else "".
fn keep_if(raw: &str, max: usize, ok: impl Fn(char) -> bool) -> String {
    let raw = raw.trim();
    if raw.len() <= max && raw.chars().all(ok) {
        raw.to_string()
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_addresses_are_cut_and_control_characters_dropped() {
        let env = VisitorEnv {
            url: format!("https://shop.example/{}", "é".repeat(3000)),
            title: format!("Shoes\u{0}\n{}", "x".repeat(500)),
            referrer: " https://search.example/?q=a b ".into(),
            ..Default::default()
        }
        .cleaned();
        assert!(env.url.len() <= MAX_URL && env.url.len() > MAX_URL - 2, "{}", env.url.len());
        assert!(env.url.starts_with("https://shop.example/é"));
        assert_eq!(env.title.chars().count(), MAX_TITLE);
        assert!(env.title.starts_with("Shoesxx"));
        assert_eq!(env.referrer, "https://search.example/?q=ab");
        let reordered = VisitorEnv {
            url: "https://evil.example/\u{202E}moc.knab".into(),
            title: "Pay\u{2066}ment\u{200F}".into(),
            ..Default::default()
        }
        .cleaned();
        assert_eq!((reordered.url.as_str(), reordered.title.as_str()), ("https://evil.example/moc.knab", "Payment"));
    }

    #[test]
    fn language_time_zone_and_offset_are_kept_only_when_plausible() {
        let good = VisitorEnv {
            language: "de-DE".into(),
            time_zone: "America/Argentina/Buenos_Aires".into(),
            utc_offset: -180,
            ..Default::default()
        }
        .cleaned();
        assert_eq!(
            (good.language.as_str(), good.time_zone.as_str(), good.utc_offset),
            ("de-DE", "America/Argentina/Buenos_Aires", -180)
        );
        let bad = VisitorEnv {
            language: "<b>en</b>".into(),
            time_zone: "Europe/Berlin; DROP".into(),
            utc_offset: 100_000,
            ..Default::default()
        }
        .cleaned();
        assert_eq!((bad.language.as_str(), bad.time_zone.as_str(), bad.utc_offset), ("", "", 840));
    }

    #[test]
    fn only_web_addresses_are_links() {
        assert!(is_web_link("https://shop.example/a"));
        assert!(is_web_link("HTTP://shop.example"));
        assert!(!is_web_link("javascript:alert(1)"));
        assert!(!is_web_link("data:text/html,<b>"));
        assert!(!is_web_link("shop.example"));
        assert!(!is_web_link("é"));
    }

    #[test]
    fn user_agents_are_named() {
        let cases = [
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Edge 131", "Windows"),
            ("Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0", "Firefox 132", "Linux"),
            ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "Safari 17", "iOS"),
            ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36", "Chrome 130", "macOS"),
            ("Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36", "Samsung Internet 25", "Android"),
            ("curl/8.5.0", "", ""),
        ];
        for (ua, browser, os) in cases {
            assert_eq!(describe_user_agent(ua), (browser.to_string(), os.to_string()), "{ua}");
        }
    }
}
