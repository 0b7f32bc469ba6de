//! Test harness: a real server on 127.0.0.1:0 with a fresh database (a new SQLite file, or a new
//! PostgreSQL schema), driven over HTTP and WebSockets exactly like a browser would.
use backend::{Backend, Config};
use domain::wire::{ConversationSummary, MessageDto, ServerFrame, VisitorSession};
use futures::{SinkExt, StreamExt};
use serde_json::Value;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const PASSWORD: &str = "test-password-123";
pub const ANN: &str = "ann@demo.test";
pub const BOB: &str = "bob@demo.test";
const WAIT: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// Runs a test body once per database. PostgreSQL is skipped when unreachable, unless `CI=true`
/// or `HANDOFF_REQUIRE_PG=1`, where that is a failure.
#[macro_export]
macro_rules! on_both_databases {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::helpers::Db::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if $crate::helpers::postgres_available().await {
                    super::$name($crate::helpers::Db::Postgres).await
                }
            }
        }
    };
}

pub fn pg_base_url() -> String {
    std::env::var("HANDOFF_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

pub async fn postgres_available() -> bool {
    let reachable = TcpStream::connect("127.0.0.1:5432").await.is_ok() || std::env::var("HANDOFF_TEST_PG_URL").is_ok();
    let required =
        std::env::var("CI").as_deref() == Ok("true") || std::env::var("HANDOFF_REQUIRE_PG").as_deref() == Ok("1");
    if !reachable {
        assert!(!required, "PostgreSQL is required (CI=true) but 127.0.0.1:5432 is not reachable");
        eprintln!("skipped: PostgreSQL is not reachable");
    }
    reachable
}

fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("{prefix}_{}_{}_{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst), nanos)
}

pub struct TestApp {
    pub base: String,
    /// The database this node uses (PostgreSQL only), so that a second node can share it.
    pub database_url: Option<String>,
    pub backend: Backend,
    pub http: reqwest::Client,
    pub data_dir: std::path::PathBuf,
}

/// The widget bundle each test server serves: small stand-in files (the real bundle is WASM
/// built by scripts/build-widget.sh; the browser suite uses that one).
pub const WIDGET_FIXTURE: [(&str, &str); 3] = [
    ("handoff_widget.js", "export default async function init() {} export function mount(id) {}"),
    ("handoff_widget_bg.wasm", "\0asm stand-in: the server only stores and serves these bytes"),
    ("handoff_widget.css", ".widget { display: flex; }"),
];

impl TestApp {
    /// Where this server reads its widget bundle from.
    pub fn widget_dir(&self) -> std::path::PathBuf {
        self.data_dir.join("widget")
    }
}

impl TestApp {
    /// A configuration on this server's storage (database, data dir, secret key), e.g. for the
    /// server's commands.
    pub fn storage_config(&self) -> Config {
        Config {
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            seed_demo: false,
            ..Config::default()
        }
    }

    /// The file holding this server's secret key (beside its data dir).
    pub fn secret_key_file(&self) -> std::path::PathBuf {
        backend::secrets::key_file(&Config { data_dir: self.data_dir.clone(), ..Config::default() })
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
        let _ = std::fs::remove_file(self.secret_key_file());
    }
}

/// Another server process on the same PostgreSQL database as `first`.
pub async fn spawn_second_node(first: &TestApp) -> TestApp {
    let url = first.database_url.clone().expect("a second node needs PostgreSQL");
    // Every process of an installation seals and opens secrets with the same key.
    let key_file = first.secret_key_file();
    spawn_app_with(Db::Sqlite, move |c| {
        c.database_url = Some(url);
        c.secret_key_file = key_file;
    })
    .await
}

/// Another server process on the same database as `first` (its SQLite file, or its PostgreSQL
/// schema), e.g. to restart after `first` stopped working.
pub async fn spawn_node_sharing(first: &TestApp, tweak: impl FnOnce(&mut Config)) -> TestApp {
    let (url, dir) = (first.database_url.clone(), first.data_dir.clone());
    spawn_app_with(Db::Sqlite, move |c| {
        c.database_url = url;
        c.data_dir = dir;
        tweak(c);
    })
    .await
}

pub async fn spawn_app(db: Db) -> TestApp {
    spawn_app_with(db, |_| {}).await
}

pub async fn spawn_app_with(db: Db, tweak: impl FnOnce(&mut Config)) -> TestApp {
    let data_dir = std::env::temp_dir().join(unique("handoff_test"));
    let mut config = Config {
        data_dir: data_dir.clone(),
        // The tests use the demo organization (the server's own default seeds nothing).
        seed_demo: true,
        demo_password: PASSWORD.into(),
        ai_typing_delay_ms: 30,
        // Background workers stay off unless a test turns them on (see email.rs).
        outbox_poll_ms: 0,
        email_offer_check_ms: 0,
        ..Config::default()
    };
    if let Db::Postgres = db {
        let schema = unique("t");
        sqlx::any::install_default_drivers();
        let admin = sqlx::AnyPool::connect(&pg_base_url()).await.expect("connect to PostgreSQL");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&admin)
            .await
            .expect("create schema");
        admin.close().await;
        config.database_url = Some(format!("{}?options=-c%20search_path%3D{schema}", pg_base_url()));
    }
    tweak(&mut config);
    let database_url = config.database_url.clone();
    let leptos_options = leptos::config::LeptosOptions::builder()
        .output_name("handoff")
        .site_root("target/site")
        .site_pkg_dir("pkg")
        .build();
    let widget_dir = data_dir.join("widget");
    std::fs::create_dir_all(&widget_dir).unwrap();
    for (name, content) in WIDGET_FIXTURE {
        std::fs::write(widget_dir.join(name), content).unwrap();
    }
    let backend = Backend::start(config).await.expect("start backend");
    let widget = handoff_server::widget::WidgetBundle::in_dir(widget_dir);
    let router = handoff_server::router_with(backend.clone(), leptos_options, widget);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(handoff_server::serve(listener, router, backend.clone()));
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    TestApp { base, database_url, backend, http, data_dir }
}

/// A server-function answer: status and JSON body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    pub fn ok(self) -> Value {
        assert!((200..300).contains(&self.status), "expected success, got {} {}", self.status, self.body);
        self.body
    }
    pub fn err(&self, status: u16) -> &Value {
        assert_eq!(self.status, status, "unexpected answer {}", self.body);
        &self.body
    }
}

impl TestApp {
    /// POSTs a server function with form fields, as the browser does.
    pub async fn call(&self, endpoint: &str, cookie: Option<&str>, form: &[(&str, &str)]) -> Answer {
        let mut req = self.http.post(format!("{}/api/{endpoint}", self.base)).form(form);
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Answer { status, body }
    }

    /// POSTs a server function that takes a JSON body.
    pub async fn call_json(&self, endpoint: &str, cookie: &str, body: Value) -> Answer {
        let res = self
            .http
            .post(format!("{}/api/{endpoint}", self.base))
            .header("cookie", cookie)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("request");
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        Answer { status, body: serde_json::from_str(&text).unwrap_or(Value::String(text)) }
    }

    pub async fn visitor_session(&self, widget: &str, token: Option<&str>) -> VisitorSession {
        let mut form = vec![("widget_id", widget)];
        if let Some(t) = token {
            form.push(("token", t));
        }
        serde_json::from_value(self.call("widget/session", None, &form).await.ok()).unwrap()
    }

    /// A new visitor on the demo widget, connected.
    pub async fn visitor(&self) -> Visitor {
        self.visitor_on("demo").await
    }

    /// A new visitor on a widget, connected.
    pub async fn visitor_on(&self, widget: &str) -> Visitor {
        let session = self.visitor_session(widget, None).await;
        let socket = Socket::connect(self, "/ws/visitor", None).await;
        let mut v = Visitor { session, socket, seen: Vec::new() };
        v.hello(0).await;
        v
    }

    /// Signs in (demo password) and returns the session cookie (`name=value`).
    pub async fn login(&self, email: &str) -> String {
        self.sign_in(email, PASSWORD).await.unwrap_or_else(|a| panic!("login failed: {} {}", a.status, a.body))
    }

    /// Signs in: the session cookie (`name=value`), or the refusal.
    pub async fn sign_in(&self, email: &str, password: &str) -> Result<String, Answer> {
        let res = self
            .http
            .post(format!("{}/api/auth/login", self.base))
            .form(&[("email", email), ("password", password)])
            .send()
            .await
            .unwrap();
        if res.status() != 200 {
            let status = res.status().as_u16();
            let text = res.text().await.unwrap();
            return Err(Answer { status, body: serde_json::from_str(&text).unwrap_or(Value::String(text)) });
        }
        let set = res.headers().get("set-cookie").expect("session cookie").to_str().unwrap().to_string();
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax"), "{set}");
        Ok(set.split(';').next().unwrap().to_string())
    }

    pub async fn agent(&self, email: &str) -> Agent {
        let cookie = self.login(email).await;
        let socket = Socket::connect(self, "/ws/agent", Some(&cookie)).await;
        Agent { cookie, socket }
    }

    /// POSTs a server function without a session: the HTTP status.
    pub async fn call_anonymous(&self, endpoint: &str) -> u16 {
        let req = self.http.post(format!("{}/api/{endpoint}", self.base)).header("content-type", "application/json");
        req.body("{}").send().await.expect("request").status().as_u16()
    }

    /// Adds organization `other-org` with a user `eve@other.test` (every permission); signs her in.
    pub async fn other_org_user(&self) -> String {
        let pool = &self.backend.db.pool;
        let hash = backend::auth::hash_password(PASSWORD).unwrap();
        sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ('other-org', 'Other', 0)")
            .execute(pool)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO users (id, org_id, email, name, password_hash, role, perm_conversations, perm_settings, perm_users, created_at)
             VALUES ('other-user', 'other-org', 'eve@other.test', 'Eve', $1, 'client', 1, 1, 1, 0)",
        )
        .bind(&hash)
        .execute(pool)
        .await
        .unwrap();
        self.login("eve@other.test").await
    }

    /// A conversation's control events, oldest first: (event, from state, to state, actor's name).
    pub async fn control_events(&self, conversation_id: &str) -> Vec<(String, String, String, Option<String>)> {
        sqlx::query_as(
            "SELECT event, from_state, to_state, actor_name FROM control_events WHERE conversation_id = $1 ORDER BY id",
        )
        .bind(conversation_id)
        .fetch_all(&self.backend.db.pool)
        .await
        .unwrap()
    }

    /// The messages stored for a conversation, straight from the database.
    pub async fn stored(&self, conversation_id: &str) -> Vec<MessageDto> {
        self.backend.messages_after(conversation_id, 0).await.unwrap()
    }
}

pub struct Socket {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Socket {
    pub async fn connect(app: &TestApp, path: &str, cookie: Option<&str>) -> Self {
        Self::try_connect(app, path, cookie, Some(&app.base)).await.expect("websocket upgrade")
    }

    pub async fn try_connect(
        app: &TestApp,
        path: &str,
        cookie: Option<&str>,
        origin: Option<&str>,
    ) -> Result<Self, tokio_tungstenite::tungstenite::Error> {
        Self::try_connect_at(&app.base, path, cookie, origin).await
    }

    /// A socket to the server at `base` (e.g. another process), from its own origin.
    /// A socket to `base` (as its own origin) whose upgrade request also carries `headers`.
    pub async fn connect_with(base: &str, path: &str, headers: &[(&str, &str)]) -> Self {
        let mut req = format!("{}{path}", base.replacen("http", "ws", 1)).into_client_request().unwrap();
        req.headers_mut().insert("origin", base.parse().unwrap());
        for (name, value) in headers {
            let name = tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(name.as_bytes()).unwrap();
            req.headers_mut().insert(name, value.parse().unwrap());
        }
        let (ws, _) = tokio_tungstenite::connect_async(req).await.expect("websocket upgrade");
        Self { ws }
    }

    pub async fn connect_at(base: &str, path: &str, cookie: Option<&str>) -> Self {
        Self::try_connect_at(base, path, cookie, Some(base)).await.expect("websocket upgrade")
    }

    async fn try_connect_at(
        base: &str,
        path: &str,
        cookie: Option<&str>,
        origin: Option<&str>,
    ) -> Result<Self, tokio_tungstenite::tungstenite::Error> {
        let mut req = format!("{}{path}", base.replacen("http", "ws", 1)).into_client_request().unwrap();
        if let Some(o) = origin {
            req.headers_mut().insert("origin", o.parse().unwrap());
        }
        if let Some(c) = cookie {
            req.headers_mut().insert("cookie", c.parse().unwrap());
        }
        let (ws, _) = tokio_tungstenite::connect_async(req).await?;
        Ok(Self { ws })
    }

    pub async fn send_json(&mut self, v: Value) {
        self.ws.send(Message::Text(v.to_string().into())).await.unwrap();
    }

    pub async fn send_raw(&mut self, m: Message) {
        self.ws.send(m).await.unwrap();
    }

    /// The next server frame (skipping pings); panics after a timeout.
    pub async fn next(&mut self) -> ServerFrame {
        self.try_next(WAIT).await.expect("timed out waiting for a frame")
    }

    pub async fn try_next(&mut self, wait: Duration) -> Option<ServerFrame> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.ws.next()).await.ok()??;
            match msg.ok()? {
                Message::Text(t) => return Some(serde_json::from_str(&t).expect("server frame")),
                Message::Close(_) => return None,
                _ => continue,
            }
        }
    }

    /// Reads frames until `pick` returns something; panics after a timeout.
    pub async fn until<T>(&mut self, mut pick: impl FnMut(&ServerFrame) -> Option<T>) -> T {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let f = self.try_next(left).await.expect("timed out waiting for a matching frame");
            if let Some(t) = pick(&f) {
                return t;
            }
        }
    }

    /// Whether the server ends the connection within `wait` (frames before that are skipped);
    /// false if it is still open then.
    pub async fn closes_within(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return false,
                Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return true,
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// Asserts that nothing arriving within 300 ms of quiet names `conversation_id` or `word`
    /// (another organization's dashboard hears nothing of a conversation).
    pub async fn hears_nothing_of(&mut self, conversation_id: &str, word: &str) {
        while let Some(f) = self.try_next(Duration::from_millis(300)).await {
            let f = serde_json::to_string(&f).unwrap();
            assert!(!f.contains(conversation_id) && !f.contains(word), "another organization heard {f}");
        }
    }

    /// Sends a ping frame and waits for the pong: the connection's loop is running.
    pub async fn ready(&mut self) {
        self.send_json(serde_json::json!({"type": "ping"})).await;
        self.until(|f| matches!(f, ServerFrame::Pong).then_some(())).await;
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

pub struct Visitor {
    pub session: VisitorSession,
    pub socket: Socket,
    /// Every message frame received, in order of arrival.
    pub seen: Vec<MessageDto>,
}

impl Visitor {
    pub fn conversation_id(&self) -> String {
        self.session.conversation_id.clone()
    }

    pub async fn hello(&mut self, last_seq: i64) -> ServerFrame {
        let token = self.session.token.clone();
        self.socket.send_json(serde_json::json!({"type": "hello", "token": token, "last_seq": last_seq})).await;
        let welcome = self.socket.next().await;
        assert!(matches!(welcome, ServerFrame::Welcome { .. }), "expected welcome, got {welcome:?}");
        welcome
    }

    pub async fn send(&mut self, client_msg_id: &str, text: &str) {
        self.socket.send_json(serde_json::json!({"type": "send", "client_msg_id": client_msg_id, "text": text})).await;
    }

    /// Waits for a message matching `pred`, recording all messages seen.
    pub async fn message(&mut self, pred: impl Fn(&MessageDto) -> bool) -> MessageDto {
        let seen = &mut self.seen;
        self.socket
            .until(|f| match f {
                ServerFrame::Message { message } => {
                    seen.push(message.clone());
                    pred(message).then(|| message.clone())
                }
                _ => None,
            })
            .await
    }

    pub async fn ack(&mut self, id: &str) -> i64 {
        let seen = &mut self.seen;
        self.socket
            .until(|f| match f {
                ServerFrame::Message { message } => {
                    seen.push(message.clone());
                    None
                }
                ServerFrame::Ack { client_msg_id, seq } if client_msg_id == id => Some(*seq),
                _ => None,
            })
            .await
    }

    pub async fn error(&mut self) -> (String, String) {
        self.socket
            .until(|f| match f {
                ServerFrame::Error { code, message, .. } => Some((code.clone(), message.clone())),
                _ => None,
            })
            .await
    }
}

pub struct Agent {
    pub cookie: String,
    pub socket: Socket,
}

impl Agent {
    pub async fn act(&self, app: &TestApp, endpoint: &str, conversation_id: &str) -> Answer {
        app.call(endpoint, Some(&self.cookie), &[("id", conversation_id)]).await
    }

    pub async fn say(&self, app: &TestApp, conversation_id: &str, client_msg_id: &str, text: &str) -> Answer {
        app.call(
            "chat/send",
            Some(&self.cookie),
            &[("id", conversation_id), ("client_msg_id", client_msg_id), ("text", text)],
        )
        .await
    }

    pub async fn watch(&mut self, conversation_id: &str, last_seq: i64) {
        self.socket
            .send_json(serde_json::json!({"type": "watch", "conversation_id": conversation_id, "last_seq": last_seq}))
            .await;
    }

    pub async fn message(&mut self, pred: impl Fn(&MessageDto) -> bool) -> MessageDto {
        self.socket
            .until(|f| match f {
                ServerFrame::Message { message } if pred(message) => Some(message.clone()),
                _ => None,
            })
            .await
    }
}

/// The conversation summaries a dashboard frame carries for the list.
pub fn list_rows(frame: &ServerFrame) -> &[ConversationSummary] {
    match frame {
        ServerFrame::Conversations { summaries } => summaries,
        ServerFrame::Conversation { summary } => std::slice::from_ref(summary),
        _ => &[],
    }
}

/// Asserts that sequence numbers are exactly 1..=n.
pub fn assert_gap_free(messages: &[MessageDto]) {
    let seqs: Vec<i64> = messages.iter().map(|m| m.seq).collect();
    let expected: Vec<i64> = (1..=messages.len() as i64).collect();
    assert_eq!(seqs, expected, "sequence numbers must be gap-free and ordered");
}
