//! The servers under test, each in its own process: the release Handoff binary, or this binary's
//! `relay-server` (the baselines). Also what the benchmarks read about a process from `/proc`:
//! CPU time and resident memory.
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::AsyncBufReadExt;

/// A server process the benchmark started; killed when dropped.
pub struct Server {
    pub base: String,
    pub pid: u32,
    child: tokio::process::Child,
    /// A SQLite data directory or relay log to remove, and a PostgreSQL schema to drop.
    data_dir: PathBuf,
    schema: Option<(String, String)>,
}

/// What a benchmark run starts and where it keeps its data: a fresh directory on the same disk
/// as the repository (not a RAM disk), so that `fsync` costs what it costs in production.
pub fn scratch_dir(what: &str) -> PathBuf {
    let root = std::env::var_os("HANDOFF_BENCH_DIR").map(PathBuf::from).unwrap_or_else(|| "target/bench-data".into());
    let dir = root.join(format!("{what}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

/// The release server binary (`HANDOFF_SERVER_BIN` overrides it).
pub fn handoff_bin() -> String {
    std::env::var("HANDOFF_SERVER_BIN").unwrap_or_else(|_| "target/release/handoff-server".into())
}

/// The benchmark's demo password, for the seeded agents.
pub const PASSWORD: &str = "bench-password";

/// A fresh PostgreSQL schema (`HANDOFF_TEST_PG_URL`, default the local `test` database): the
/// server's `DATABASE_URL` for it, and (admin URL, schema) to drop it afterwards.
pub async fn fresh_pg_schema(tag: &str) -> (String, (String, String)) {
    let base =
        std::env::var("HANDOFF_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let schema = format!("bench_{}_{tag}", std::process::id());
    sqlx::any::install_default_drivers();
    let admin = sqlx::AnyPool::connect(&base).await.expect("PostgreSQL");
    for sql in [format!("DROP SCHEMA IF EXISTS {schema} CASCADE"), format!("CREATE SCHEMA {schema}")] {
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&admin).await.expect("create schema");
    }
    admin.close().await;
    (format!("{base}?options=-c%20search_path%3D{schema}"), (base, schema))
}

impl Server {
    /// The Handoff release binary with a fresh database: SQLite in a scratch directory, or a
    /// fresh PostgreSQL schema. Benchmark settings: no rate limits, no AI typing delay, no
    /// background e-mail workers (nothing in the load needs them).
    pub async fn handoff(postgres: bool, tag: &str) -> Server {
        let bin = handoff_bin();
        let dir = scratch_dir(&format!("handoff-{tag}"));
        let mut cmd = tokio::process::Command::new(&bin);
        cmd.env("HANDOFF_DATA_DIR", &dir)
            .env("HANDOFF_SEED_DEMO", "true")
            .env("HANDOFF_DEMO_PASSWORD", PASSWORD)
            .env("HANDOFF_AI_TYPING_DELAY_MS", "0")
            .env("HANDOFF_AI_REPLIES_PER_MINUTE", "0")
            .env("HANDOFF_VISITOR_MESSAGES_PER_MINUTE", "0")
            .env("HANDOFF_NEW_CHATS_PER_IP_PER_HOUR", "0")
            .env("HANDOFF_OUTBOX_POLL_MS", "0")
            .env("HANDOFF_EMAIL_OFFER_CHECK_MS", "0")
            .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
            .env("LEPTOS_OUTPUT_NAME", "handoff")
            .env("LEPTOS_SITE_ROOT", "target/site")
            .env("RUST_LOG", "warn")
            .env_remove("DATABASE_URL");
        let mut schema = None;
        if postgres {
            let (url, s) = fresh_pg_schema(tag).await;
            cmd.env("DATABASE_URL", url);
            schema = Some(s);
        }
        let what = format!("{bin} (build it with `cargo leptos build --release`)");
        Server::spawn(cmd, &what, dir, schema).await
    }

    /// This binary's `relay-server`: bare, or durable with its log in a scratch directory.
    pub async fn relay(durable: bool, tag: &str) -> Server {
        let exe = std::env::current_exe().expect("own path");
        let dir = scratch_dir(&format!("relay-{tag}"));
        let mut cmd = tokio::process::Command::new(&exe);
        cmd.arg("relay-server");
        if durable {
            cmd.arg("--durable").arg(dir.join("relay.log"));
        }
        Server::spawn(cmd, &exe.display().to_string(), dir, None).await
    }

    /// Starts `cmd` and waits for its `listening on <url>` line. The rest of its output goes to
    /// this process's stderr, prefixed.
    async fn spawn(
        mut cmd: tokio::process::Command,
        what: &str,
        data_dir: PathBuf,
        schema: Option<(String, String)>,
    ) -> Server {
        cmd.stdout(std::process::Stdio::piped()).kill_on_drop(true);
        let mut child = cmd.spawn().unwrap_or_else(|e| {
            let _ = std::fs::remove_dir_all(&data_dir);
            eprintln!("{what}: {e}");
            std::process::exit(1)
        });
        let pid = child.id().expect("pid");
        let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
        let base = loop {
            match lines.next_line().await {
                Ok(Some(line)) => {
                    if let Some(url) = line.split("listening on ").nth(1) {
                        break url.trim().to_string();
                    }
                }
                _ => panic!("{what} exited before listening"),
            }
        };
        // Its banner is noise here; warnings, errors and panics are not.
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                if ["WARN", "ERROR", "panic"].iter().any(|w| line.contains(w)) {
                    eprintln!("  [server {pid}] {line}");
                }
            }
        });
        Server { base, pid, child, data_dir, schema }
    }

    /// Stops the process and removes its data.
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
        let _ = std::fs::remove_dir_all(&self.data_dir);
        if let Some((base, schema)) = self.schema.take() {
            if let Ok(admin) = sqlx::AnyPool::connect(&base).await {
                let sql = format!("DROP SCHEMA IF EXISTS {schema} CASCADE");
                let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&admin).await;
                admin.close().await;
            }
        }
    }
}

/// User plus system CPU time a process has used so far (`/proc/<pid>/stat`, fields 14 and 15).
pub fn cpu_time(pid: u32) -> Duration {
    cpu_time_of(&format!("/proc/{pid}/stat"))
}

/// This process's CPU time.
pub fn own_cpu_time() -> Duration {
    cpu_time_of("/proc/self/stat")
}

fn cpu_time_of(path: impl AsRef<Path>) -> Duration {
    let Ok(stat) = std::fs::read_to_string(path) else { return Duration::ZERO };
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    // After ")": field 3 is index 0, so utime (14) is index 11 and stime (15) index 12.
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    Duration::from_secs_f64((ticks(11) + ticks(12)) as f64 / hz)
}

/// Resident memory of a process, in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(|l| l.split_whitespace().nth(1).unwrap_or("0").parse().unwrap_or(0))
        })
        .unwrap_or(0)
}

/// The open-file limit is raised to its hard maximum (the server code never does it; the
/// servers this process starts inherit the raised limit).
pub fn raise_fd_limit() -> u64 {
    // SAFETY: getrlimit/setrlimit with a valid pointer to a local struct.
    unsafe {
        let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
        lim.rlim_cur
    }
}
