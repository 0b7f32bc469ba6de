//! Handoff's configuration, layered: built-in defaults, then the `[handoff]` table of the config
//! file (`Leptos.toml` in the working directory, or the file named by `HANDOFF_CONFIG`), then
//! `HANDOFF_*` environment variables (and `DATABASE_URL`). Leptos's own `LEPTOS_*` values
//! (site address, site root) come from cargo-leptos or the environment.
use std::path::PathBuf;

/// The SQLite database's file name in `data_dir`.
pub const SQLITE_FILE: &str = "handoff.sqlite3";

#[derive(Clone, Debug)]
pub struct Config {
    /// Where the SQLite database (and later, attachments) live. Created at start.
    pub data_dir: PathBuf,
    /// `postgres://…` to use PostgreSQL; otherwise SQLite in `data_dir`.
    pub database_url: Option<String>,
    /// Seed a demo organization, AI agent, widget, two agents and a platform admin, all with
    /// `demo_password`, when the database is empty. Off by default (a published admin password);
    /// `scripts/serve.sh` and the tests turn it on.
    pub seed_demo: bool,
    /// Password of the seeded demo users.
    pub demo_password: String,
    /// How long the AI "types" before answering, in milliseconds (also makes takeovers during
    /// generation observable).
    pub ai_typing_delay_ms: u64,
    /// Longest wait for an AI backend's whole answer, in milliseconds; then the agent's fallback
    /// text is sent.
    pub ai_timeout_ms: u64,
    /// At most this many AI replies per conversation per minute (0 = unlimited).
    pub ai_replies_per_minute: u32,
    /// At most this many visitor messages per conversation per minute (0 = unlimited).
    pub visitor_messages_per_minute: u32,
    /// At most this many new chats (visitors) per client IP address per hour and server
    /// process (0 = unlimited).
    pub new_chats_per_ip_per_hour: u32,
    /// At most this many megabytes of files uploaded by one organization's visitors per hour,
    /// e-mail forms and chat files together, counted in the database (0 = unlimited).
    pub visitor_upload_mb_per_hour: u32,
    /// Failed sign-ins allowed per account (e-mail) within `sign_in_window_secs`, per server
    /// process (0 = unlimited); then every sign-in of that account waits.
    pub sign_in_failures_per_account: u32,
    /// Failed sign-ins allowed per client address within `sign_in_window_secs` (0 = unlimited).
    pub sign_in_failures_per_ip: u32,
    /// The window of the sign-in limits, in seconds.
    pub sign_in_window_secs: u64,
    /// The request header naming the client's address when Handoff runs behind a reverse proxy
    /// (`x-forwarded-for`: its last entry; `x-real-ip`). Empty: the TCP peer's address. Set it
    /// only behind a proxy that sets the header, or clients could choose their address.
    pub client_ip_header: String,
    /// Sign-in sessions last this many hours.
    pub session_hours: i64,
    /// Extra origins (besides the server's own) allowed to open dashboard WebSockets and to
    /// post forms, e.g. `https://chat.example.com` behind a proxy.
    pub allowed_origins: Vec<String>,
    /// Where e-mail goes out: `smtp://host:port` (plain), `smtp://user:pass@host:587?tls=required`
    /// (STARTTLS) or `smtps://user:pass@host:465` (TLS). Empty: mails are written as `.eml` files
    /// to `data_dir/mail` instead (development).
    pub smtp_url: String,
    /// The sender of every e-mail, e.g. `Handoff <support@example.com>`.
    pub mail_from: String,
    /// The dashboard's public address, for links in e-mails.
    pub public_url: String,
    /// Notification e-mails about new messages wait this long to collect more (requests and
    /// e-mail forms go out at once), in milliseconds.
    pub email_batch_ms: u64,
    /// How often each server process looks for due e-mails, in milliseconds (0: never; tests).
    pub outbox_poll_ms: u64,
    /// First retry delay of a failed e-mail, doubled per attempt (capped at 15 minutes).
    pub outbox_retry_ms: u64,
    /// Attempts before an e-mail is marked failed.
    pub outbox_max_attempts: u32,
    /// How often each server process looks for requests that waited too long (or have no agent
    /// online) to offer the visitor the e-mail form, in milliseconds (0: never).
    pub email_offer_check_ms: u64,
    /// Push services browsers may subscribe with (URL prefixes; `https://*.x.com/` matches any
    /// subdomain). The server sends pushes only to these.
    pub push_endpoints: Vec<String>,
    /// Relay live events to and from the other processes on the same PostgreSQL database
    /// (`backend::bus`). Always on in a server: it is not read from the file or the environment.
    /// Tests turn it off to play a process that never hears of the others' changes, so that what
    /// holds without the relay (the SQL guards) is tested on its own (issue 28).
    pub relay_events: bool,
    /// Visitor tokens expire this many days after the chat started (0: never); the widget then
    /// starts a new chat.
    pub visitor_token_days: i64,
    /// How often each server process purges expired sessions, sign-in counts and old visitor
    /// tokens, in milliseconds (0: never).
    pub purge_every_ms: u64,
    /// How often each server process deletes the ended conversations organizations no longer
    /// keep (their retention setting), in milliseconds (0: this process never does).
    pub retention_every_ms: u64,
    /// Internal destinations tenants' outbound requests (the AI backend's base URL) may reach
    /// after all: `host` or `host:port` as written in the URL, an address, or a range
    /// (`10.0.0.0/8`). Everything else internal (loopback, private, link-local, …) is refused.
    pub outbound_allow: Vec<String>,
    /// Environment variables an AI agent may name as its API key's source: names, or prefixes
    /// ending in `*`.
    pub ai_key_env_allow: Vec<String>,
    /// The file holding the key that seals stored secrets, created at first start (mode 0600).
    /// Empty: `<data_dir>.key`. `HANDOFF_SECRET_KEY` replaces it.
    pub secret_key_file: PathBuf,
    /// "Try it" answers per user per minute (0 = unlimited).
    pub previews_per_minute: u32,
    /// Visitor context updates (page changes, reconnects) per conversation per minute, in each
    /// process (0 = unlimited). A conversation keeps its newest 50 pages whatever the rate.
    pub visitor_context_per_minute: u32,
    /// `/metrics` (Prometheus) answers only requests with `Authorization: Bearer <this token>`.
    /// Empty, and without `metrics_addr`: `/metrics` is off (404).
    pub metrics_token: String,
    /// `host:port` of a separate listener serving only `/metrics` (and `/healthz`, `/readyz`),
    /// e.g. `127.0.0.1:9090` reachable by the monitoring system alone; the main address then
    /// has no `/metrics`. A token, if set, is required there too. Empty: none.
    pub metrics_addr: String,
    /// `text` (one readable line per event) or `json` (one JSON object per line, with the
    /// request id of the HTTP request or WebSocket it belongs to).
    pub log_format: LogFormat,
}

/// How the server writes its log.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            database_url: None,
            seed_demo: false,
            demo_password: "handoff-demo".into(),
            ai_typing_delay_ms: 400,
            ai_timeout_ms: 30_000,
            ai_replies_per_minute: 12,
            visitor_messages_per_minute: 30,
            new_chats_per_ip_per_hour: 60,
            visitor_upload_mb_per_hour: 256,
            sign_in_failures_per_account: 5,
            sign_in_failures_per_ip: 50,
            sign_in_window_secs: 900,
            client_ip_header: String::new(),
            session_hours: 24 * 14,
            allowed_origins: Vec::new(),
            smtp_url: String::new(),
            mail_from: "Handoff <handoff@localhost>".into(),
            public_url: "http://127.0.0.1:3000".into(),
            email_batch_ms: 60_000,
            outbox_poll_ms: 1_000,
            outbox_retry_ms: 5_000,
            outbox_max_attempts: 8,
            email_offer_check_ms: 1_000,
            push_endpoints: DEFAULT_PUSH_ENDPOINTS.iter().map(|s| s.to_string()).collect(),
            relay_events: true,
            visitor_token_days: 90,
            purge_every_ms: 600_000,
            retention_every_ms: 300_000,
            outbound_allow: Vec::new(),
            ai_key_env_allow: vec!["HANDOFF_AI_KEY_*".into()],
            secret_key_file: PathBuf::new(),
            previews_per_minute: 30,
            visitor_context_per_minute: 30,
            metrics_token: String::new(),
            metrics_addr: String::new(),
            log_format: LogFormat::Text,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

impl Config {
    /// Loads defaults ← config file ← environment.
    pub fn load() -> Result<Self, ConfigError> {
        let mut cfg = Self::default();
        let path = std::env::var("HANDOFF_CONFIG").unwrap_or_else(|_| "Leptos.toml".into());
        if let Ok(text) = std::fs::read_to_string(&path) {
            cfg.apply_toml(&text).map_err(|e| ConfigError(format!("{path}: {e}")))?;
        }
        cfg.apply_env(|k| std::env::var(k).ok())?;
        Ok(cfg)
    }

    /// Applies the `[handoff]` table of a TOML document (a tiny subset parser: `key = value`
    /// lines with strings, integers, booleans and string arrays; that is all the file uses).
    pub fn apply_toml(&mut self, text: &str) -> Result<(), String> {
        let mut in_section = false;
        for (n, raw) in text.lines().enumerate() {
            let line = raw.split(" #").next().unwrap_or("").trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line.starts_with('[') {
                in_section = line == "[handoff]";
                continue;
            }
            if !in_section {
                continue;
            }
            let (key, value) = line.split_once('=').ok_or_else(|| format!("line {}: expected key = value", n + 1))?;
            let value = value.trim();
            let unquote = |v: &str| v.trim().trim_matches('"').to_string();
            self.set(
                key.trim(),
                &if value.starts_with('[') {
                    value
                        .trim_matches(|c| c == '[' || c == ']')
                        .split(',')
                        .map(unquote)
                        .filter(|s| !s.is_empty())
                        .collect::<Vec<_>>()
                        .join(",")
                } else {
                    unquote(value)
                },
            )
            .map_err(|e| format!("line {}: {e}", n + 1))?;
        }
        Ok(())
    }

    fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        for key in KEYS {
            if let Some(v) = get(&format!("HANDOFF_{}", key.to_uppercase())) {
                self.set(key, &v).map_err(|e| ConfigError(format!("HANDOFF_{}: {e}", key.to_uppercase())))?;
            }
        }
        if let Some(v) = get("DATABASE_URL") {
            self.set("database_url", &v).map_err(ConfigError)?;
        }
        Ok(())
    }
}

/// Every setting, as named in Leptos.toml (and, upper-cased with a `HANDOFF_` prefix, in the
/// environment).
const KEYS: [&str; 36] = [
    "data_dir",
    "database_url",
    "seed_demo",
    "demo_password",
    "ai_typing_delay_ms",
    "ai_timeout_ms",
    "ai_replies_per_minute",
    "visitor_messages_per_minute",
    "new_chats_per_ip_per_hour",
    "visitor_upload_mb_per_hour",
    "sign_in_failures_per_account",
    "sign_in_failures_per_ip",
    "sign_in_window_secs",
    "client_ip_header",
    "session_hours",
    "allowed_origins",
    "smtp_url",
    "mail_from",
    "public_url",
    "email_batch_ms",
    "outbox_poll_ms",
    "outbox_retry_ms",
    "outbox_max_attempts",
    "email_offer_check_ms",
    "push_endpoints",
    "visitor_token_days",
    "purge_every_ms",
    "retention_every_ms",
    "outbound_allow",
    "ai_key_env_allow",
    "secret_key_file",
    "previews_per_minute",
    "visitor_context_per_minute",
    "metrics_token",
    "metrics_addr",
    "log_format",
];

/// A comma-separated list, trimmed, without empty items.
fn list(v: &str) -> Vec<String> {
    v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
}

/// The push services of Chrome/Edge/Opera (Google), Firefox (Mozilla), Safari (Apple) and
/// Windows.
const DEFAULT_PUSH_ENDPOINTS: [&str; 4] = [
    "https://fcm.googleapis.com/",
    "https://updates.push.services.mozilla.com/",
    "https://web.push.apple.com/",
    "https://*.notify.windows.com/",
];

impl Config {
    fn set(&mut self, key: &str, v: &str) -> Result<(), String> {
        let int = |v: &str| v.parse::<i64>().map_err(|_| format!("`{v}` is not a whole number"));
        match key {
            "data_dir" => self.data_dir = PathBuf::from(v),
            "database_url" => self.database_url = (!v.is_empty()).then(|| v.to_string()),
            "seed_demo" => {
                self.seed_demo = match v {
                    "true" | "1" | "yes" => true,
                    "false" | "0" | "no" => false,
                    _ => return Err(format!("`{v}` is not true/false")),
                }
            }
            "demo_password" => self.demo_password = v.to_string(),
            "ai_typing_delay_ms" => self.ai_typing_delay_ms = int(v)?.max(0) as u64,
            "ai_timeout_ms" => self.ai_timeout_ms = int(v)?.max(100) as u64,
            "ai_replies_per_minute" => self.ai_replies_per_minute = int(v)?.clamp(0, 10_000) as u32,
            "visitor_messages_per_minute" => self.visitor_messages_per_minute = int(v)?.clamp(0, 100_000) as u32,
            "new_chats_per_ip_per_hour" => self.new_chats_per_ip_per_hour = int(v)?.clamp(0, 10_000_000) as u32,
            "visitor_upload_mb_per_hour" => self.visitor_upload_mb_per_hour = int(v)?.clamp(0, 10_000_000) as u32,
            "sign_in_failures_per_account" => self.sign_in_failures_per_account = int(v)?.clamp(0, 1_000_000) as u32,
            "sign_in_failures_per_ip" => self.sign_in_failures_per_ip = int(v)?.clamp(0, 1_000_000) as u32,
            "sign_in_window_secs" => self.sign_in_window_secs = int(v)?.clamp(1, 86_400) as u64,
            "client_ip_header" => self.client_ip_header = v.trim().to_ascii_lowercase(),
            "session_hours" => self.session_hours = int(v)?.max(1),
            "allowed_origins" => {
                self.allowed_origins =
                    v.split(',').map(|s| s.trim().trim_end_matches('/').to_string()).filter(|s| !s.is_empty()).collect()
            }
            "smtp_url" => self.smtp_url = v.to_string(),
            "mail_from" => self.mail_from = v.to_string(),
            "public_url" => self.public_url = v.trim_end_matches('/').to_string(),
            "email_batch_ms" => self.email_batch_ms = int(v)?.max(0) as u64,
            "outbox_poll_ms" => self.outbox_poll_ms = int(v)?.max(0) as u64,
            "outbox_retry_ms" => self.outbox_retry_ms = int(v)?.max(10) as u64,
            "outbox_max_attempts" => self.outbox_max_attempts = int(v)?.clamp(1, 100) as u32,
            "email_offer_check_ms" => self.email_offer_check_ms = int(v)?.max(0) as u64,
            "push_endpoints" => {
                self.push_endpoints = v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
            }
            "visitor_token_days" => self.visitor_token_days = int(v)?.clamp(0, 36_500),
            "purge_every_ms" => self.purge_every_ms = int(v)?.max(0) as u64,
            "retention_every_ms" => self.retention_every_ms = int(v)?.max(0) as u64,
            "outbound_allow" => self.outbound_allow = list(v),
            "ai_key_env_allow" => self.ai_key_env_allow = list(v),
            "secret_key_file" => self.secret_key_file = PathBuf::from(v),
            "previews_per_minute" => self.previews_per_minute = int(v)?.clamp(0, 100_000) as u32,
            "visitor_context_per_minute" => self.visitor_context_per_minute = int(v)?.clamp(0, 100_000) as u32,
            "metrics_token" => {
                let token = v.trim();
                if !token.is_empty() && token.len() < 16 {
                    return Err("the token must be at least 16 characters long (or empty: no token)".into());
                }
                self.metrics_token = token.to_string()
            }
            "metrics_addr" => {
                let addr = v.trim();
                if !addr.is_empty() && addr.parse::<std::net::SocketAddr>().is_err() {
                    return Err(format!("`{addr}` is not an address with a port, e.g. 127.0.0.1:9090"));
                }
                self.metrics_addr = addr.to_string()
            }
            "log_format" => {
                self.log_format = match v.trim() {
                    "text" => LogFormat::Text,
                    "json" => LogFormat::Json,
                    other => return Err(format!("`{other}` is not a log format (text or json)")),
                }
            }
            other => return Err(format!("unknown setting `{other}`")),
        }
        Ok(())
    }

    /// Whether the site's public address is https (the session cookie is then `Secure` and
    /// `__Host-` named, whatever proxy headers say).
    pub fn https_site(&self) -> bool {
        self.public_url.to_ascii_lowercase().starts_with("https://")
    }

    /// The sqlx URL to connect to.
    pub fn effective_database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}?mode=rwc", self.data_dir.join(SQLITE_FILE).display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_section_then_env_override() {
        let mut c = Config::default();
        c.apply_toml(
            "[other]\nx = 1\n[handoff]\n# comment\ndata_dir = \"/tmp/h\" # trailing\nai_typing_delay_ms = 5\nallowed_origins = [\"https://a.example\", \"https://b.example/\"]\n",
        )
        .unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/tmp/h"));
        assert_eq!(c.ai_typing_delay_ms, 5);
        assert_eq!(c.allowed_origins, vec!["https://a.example", "https://b.example"]);
        c.apply_env(|k| (k == "HANDOFF_AI_TYPING_DELAY_MS").then(|| "7".into())).unwrap();
        assert_eq!(c.ai_typing_delay_ms, 7);
        assert!(c.effective_database_url().starts_with("sqlite:///tmp/h/"));
    }

    /// The shipped Leptos.toml parses and documents every setting the server knows.
    #[test]
    fn shipped_config_documents_every_setting() {
        let text = include_str!("../../Leptos.toml");
        Config::default().apply_toml(text).expect("Leptos.toml parses");
        for key in KEYS {
            assert!(text.lines().any(|l| l.starts_with(&format!("{key} ="))), "Leptos.toml lacks `{key}`");
        }
    }

    #[test]
    fn bad_values_are_reported() {
        let mut c = Config::default();
        assert!(c.apply_toml("[handoff]\nai_typing_delay_ms = soon\n").unwrap_err().contains("line 2"));
        assert!(c.apply_toml("[handoff]\nnope = 1\n").unwrap_err().contains("unknown setting"));
        assert!(c.apply_env(|k| (k == "HANDOFF_SEED_DEMO").then(|| "maybe".into())).is_err());
        let short = c.apply_env(|k| (k == "HANDOFF_METRICS_TOKEN").then(|| "secret".into())).unwrap_err();
        assert!(short.to_string().contains("at least 16 characters"), "{short}");
        let addr = c.apply_env(|k| (k == "HANDOFF_METRICS_ADDR").then(|| "localhost".into())).unwrap_err();
        assert!(addr.to_string().contains("not an address with a port"), "{addr}");
        assert_eq!((c.metrics_token.as_str(), c.metrics_addr.as_str()), ("", ""));
        let format = c.apply_env(|k| (k == "HANDOFF_LOG_FORMAT").then(|| "xml".into())).unwrap_err();
        assert!(format.to_string().contains("not a log format"), "{format}");
        c.apply_env(|k| (k == "HANDOFF_LOG_FORMAT").then(|| "json".into())).unwrap();
        assert_eq!(c.log_format, LogFormat::Json);
    }
}
