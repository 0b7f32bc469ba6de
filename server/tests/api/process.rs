//! The real `handoff-server` binary as a separate process (crash tests, the demo seed, a second
//! node for revocation), configured by environment variables only.
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub struct ServerProcess {
    pub child: Child,
    pub base: String,
    /// Every line the server printed on standard output so far.
    pub stdout: Arc<Mutex<Vec<String>>>,
}

impl ServerProcess {
    /// What the server printed, as one text (waits briefly for the lines after "listening").
    pub async fn printed(&self) -> String {
        tokio::time::sleep(Duration::from_millis(300)).await;
        self.stdout.lock().unwrap().join("\n")
    }
}

/// Signs in at the server at `base` (e.g. another process): the session cookie (`name=value`),
/// or the HTTP status of the refusal.
pub async fn sign_in_at(base: &str, email: &str, password: &str) -> Result<String, u16> {
    let res = reqwest::Client::new()
        .post(format!("{base}/api/auth/login"))
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap();
    match res.status().as_u16() {
        200 => Ok(res.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string()),
        status => Err(status),
    }
}

/// A new visitor on the demo widget of the server at `base`: its session as JSON (read loosely:
/// the server may be an earlier release).
pub async fn widget_session_at(base: &str) -> serde_json::Value {
    let res = reqwest::Client::new()
        .post(format!("{base}/api/widget/session"))
        .form(&[("widget_id", "demo")])
        .send()
        .await
        .unwrap();
    serde_json::from_str(&res.text().await.unwrap()).unwrap()
}

/// A fresh storage for a server process: a temporary data dir and, on PostgreSQL, a new schema.
pub async fn fresh_storage(db: crate::helpers::Db, name: &str) -> (std::path::PathBuf, Option<String>) {
    let data_dir = std::env::temp_dir().join(format!("handoff_{name}_{}_{:?}", std::process::id(), db));
    let _ = std::fs::remove_dir_all(&data_dir);
    std::fs::create_dir_all(&data_dir).unwrap();
    let url = match db {
        crate::helpers::Db::Sqlite => None,
        crate::helpers::Db::Postgres => {
            let schema = format!("{name}_{}", std::process::id());
            sqlx::any::install_default_drivers();
            let admin = sqlx::AnyPool::connect(&crate::helpers::pg_base_url()).await.unwrap();
            for sql in [format!("DROP SCHEMA IF EXISTS {schema} CASCADE"), format!("CREATE SCHEMA {schema}")] {
                sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&admin).await.unwrap();
            }
            Some(format!("{}?options=-c%20search_path%3D{schema}", crate::helpers::pg_base_url()))
        }
    };
    (data_dir, url)
}

/// Starts `handoff-server` on a free port with `env` (nothing else of the test's environment
/// that configures Handoff); returns once it listens.
pub async fn start_server(
    data_dir: &std::path::Path,
    database_url: Option<&str>,
    env: &[(&str, &str)],
) -> ServerProcess {
    start_server_binary(env!("CARGO_BIN_EXE_handoff-server").as_ref(), data_dir, database_url, env).await
}

/// [`start_server`] with another `handoff-server` binary (e.g. an earlier release's).
pub async fn start_server_binary(
    binary: &std::path::Path,
    data_dir: &std::path::Path,
    database_url: Option<&str>,
    env: &[(&str, &str)],
) -> ServerProcess {
    start_server_in(binary, None, data_dir, database_url, env).await
}

/// [`start_server_binary`] started in the directory `cwd` (default: the test's own).
pub async fn start_server_in(
    binary: &std::path::Path,
    cwd: Option<&std::path::Path>,
    data_dir: &std::path::Path,
    database_url: Option<&str>,
    env: &[(&str, &str)],
) -> ServerProcess {
    let mut cmd = Command::new(binary);
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    cmd.env("HANDOFF_DATA_DIR", data_dir)
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("LEPTOS_OUTPUT_NAME", "handoff")
        .env("LEPTOS_SITE_ROOT", "target/site")
        .env("RUST_LOG", "warn")
        .env_remove("DATABASE_URL")
        .env_remove("HANDOFF_SEED_DEMO")
        .env_remove("HANDOFF_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    if let Some(url) = database_url {
        cmd.env("DATABASE_URL", url);
    }
    let mut child = cmd.spawn().expect("start handoff-server");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let stdout = Arc::new(Mutex::new(Vec::new()));
    let seen = stdout.clone();
    let base = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            seen.lock().unwrap().push(line.clone());
            if let Some(url) = line.split("listening on ").nth(1) {
                return url.trim().to_string();
            }
        }
        panic!("server exited before listening");
    })
    .await
    .expect("server did not start in 30 s");
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            seen.lock().unwrap().push(line);
        }
    });
    ServerProcess { child, base, stdout }
}
