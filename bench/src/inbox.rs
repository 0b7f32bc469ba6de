//! `inbox`: the agent's inbox over a large organization (issue 22's target: p95 ≤ 50 ms for
//! opening the list, one filter page and a search over 100,000 conversations with 2,000,000
//! messages, on each engine). Seeds the demo organization with that much data straight into
//! the database (batched multi-row inserts; the full-text indexes are written by the database as
//! they are in production), then times the inbox's service calls in process, each repeated, and
//! prints p50/p95/max per query.
use crate::process::PASSWORD;
use crate::stats::{fmt_ms, ms, Samples};
use backend::{Backend, ListScope};
use domain::inbox::{ListCursor, ListFilter};
use sqlx::AssertSqlSafe;
use std::time::{Duration, Instant};

pub struct Options {
    pub conversations: usize,
    pub messages: usize,
    pub postgres: bool,
    /// Times each query is run.
    pub rounds: usize,
}

/// Rows per multi-row `INSERT` (bind parameters stay under both engines' limits).
const BATCH: usize = 400;

/// A small deterministic generator (xorshift), so runs seed the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Message words: a vocabulary of pronounceable made-up words with a skewed frequency (a few are
/// in many messages, most in few), plus the word the searches look for.
fn vocabulary() -> Vec<String> {
    let (c, v) = (["b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z"], ["a", "e", "i", "o", "u"]);
    let mut words = Vec::new();
    for a in c {
        for b in v {
            for d in c {
                for e in v {
                    words.push(format!("{a}{b}{d}{e}"));
                }
            }
        }
    }
    words
}

fn sentence(rng: &mut Rng, words: &[String]) -> String {
    let n = 6 + rng.below(10);
    (0..n)
        .map(|_| {
            // Zipf-like: the square of a uniform pick favours the start of the list.
            let u = rng.below(1000) as f64 / 1000.0;
            words[((u * u) * words.len() as f64) as usize].as_str()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Inserts `rows` (each a list of already-quoted SQL values) into `table (columns)`.
async fn insert(pool: &sqlx::AnyPool, table: &str, columns: &str, rows: &[String]) {
    for chunk in rows.chunks(BATCH) {
        let sql = format!("INSERT INTO {table} ({columns}) VALUES {}", chunk.join(", "));
        sqlx::query(AssertSqlSafe(sql)).execute(pool).await.expect("seed insert");
    }
}

/// SQL text literal of `s` (the seed's own ASCII words and ids).
fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

async fn seed(backend: &Backend, o: &Options) -> Duration {
    let started = Instant::now();
    let pool = &backend.db.writer;
    let words = vocabulary();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let per = (o.messages / o.conversations.max(1)).max(1);
    let now = backend::now_ms();
    // Labels: five, one conversation in ten carries one.
    let labels: Vec<String> = (0..5).map(|i| format!("bench-label-{i}")).collect();
    let label_rows: Vec<String> = labels
        .iter()
        .enumerate()
        .map(|(i, id)| {
            format!(
                "({}, 'demo-org', {}, {}, 'blue', {now})",
                lit(id),
                lit(&format!("Label {i}")),
                lit(&format!("label {i}"))
            )
        })
        .collect();
    insert(pool, "labels", "id, org_id, name, name_key, color, created_at", &label_rows).await;

    let step = 10_000 / BATCH.max(1) * BATCH; // conversations per round of inserts
    let mut done = 0;
    while done < o.conversations {
        let n = step.min(o.conversations - done);
        let (mut visitors, mut conversations, mut messages, mut tagged) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for k in done..done + n {
            let id = format!("bench-c{k:07}");
            let visitor = format!("bench-v{k:07}");
            let name = format!("Visitor {}", words[rng.below(words.len())]);
            // Older conversations first; the newest ends now.
            let last = now - ((o.conversations - k) as i64) * 60_000;
            let (state, holder, holder_name) = match rng.below(100) {
                0 => ("requested", "NULL".to_string(), "NULL".to_string()),
                1..=10 => ("human", lit("demo-user-1"), lit("Ann")),
                11..=70 => ("closed", "NULL".to_string(), "NULL".to_string()),
                _ => ("ai", "NULL".to_string(), "NULL".to_string()),
            };
            let label = (rng.below(10) == 0).then(|| labels[rng.below(labels.len())].clone());
            visitors.push(format!(
                "({}, 'demo', {}, {}, {last})",
                lit(&visitor),
                lit(&format!("bench-token-{k}")),
                lit(&name)
            ));
            let mut last_message = String::new();
            for seq in 1..=per {
                let body = sentence(&mut rng, &words);
                let (kind, author) = if seq % 2 == 1 { ("visitor", "'visitor'") } else { ("ai", "'ai'") };
                messages.push(format!(
                    "({}, {seq}, {author}, '{kind}', NULL, NULL, {}, NULL, {})",
                    lit(&id),
                    lit(&body),
                    last - (per - seq) as i64 * 1000
                ));
                last_message = body;
            }
            conversations.push(format!(
                "({}, 'demo-org', 'demo', 'demo-agent', {}, {}, '{state}', {holder}, {holder_name}, 1, {last}, {per}, {}, {last}, {last}, {last}, {})",
                lit(&id),
                lit(&visitor),
                lit(&name),
                lit(&last_message),
                lit(label.as_deref().unwrap_or("")),
            ));
            if let Some(l) = label {
                tagged.push(format!("({}, {}, {last})", lit(&id), lit(&l)));
            }
        }
        insert(pool, "visitors", "id, widget_id, token_hash, name, created_at", &visitors).await;
        insert(
            pool,
            "conversations",
            "id, org_id, widget_id, agent_id, visitor_id, visitor_name, state, holder_id, holder_name, state_version, \
             state_since, last_seq, last_message, last_activity, last_visitor_at, created_at, labels",
            &conversations,
        )
        .await;
        insert(
            pool,
            "messages",
            "conversation_id, seq, sender, author_kind, author_id, author_name, body, client_msg_id, created_at",
            &messages,
        )
        .await;
        insert(pool, "conversation_labels", "conversation_id, label_id, added_at", &tagged).await;
        done += n;
        eprint!("\r  seeded {done} of {} conversations ({} messages)", o.conversations, done * per);
    }
    eprintln!();
    // Fresh statistics for both planners and PostgreSQL's visibility map (index-only scans), as
    // a database in use has them from autovacuum.
    let settle = if o.postgres { "VACUUM ANALYZE" } else { "ANALYZE" };
    sqlx::query(settle).execute(pool).await.expect("analyze");
    started.elapsed()
}

/// Runs `query` `rounds` times; prints and returns its p95 in ms.
async fn time<F, Fut>(what: &str, rounds: usize, mut query: F) -> f64
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = usize>,
{
    let mut s = Samples::default();
    let mut rows = 0;
    for _ in 0..rounds {
        let t = Instant::now();
        rows = query().await;
        s.add(t.elapsed());
    }
    let p95 = ms(s.quantile(0.95));
    println!(
        "  {what:<34} rows {rows:>4}   p50 {:>7} ms  p95 {:>7} ms  max {:>7} ms",
        fmt_ms(ms(s.quantile(0.5))),
        fmt_ms(p95),
        fmt_ms(ms(s.quantile(1.0)))
    );
    p95
}

pub async fn inbox(backend: &Backend, o: &Options) {
    let seeded = seed(backend, o).await;
    let (_, ann) = backend.login("ann@demo.test", PASSWORD, None).await.expect("demo agent");
    let scope = ListScope::MyOrganization;
    println!(
        "inbox ({}): {} conversations, {} messages, seeded in {:.0} s; each query {} times",
        if o.postgres { "PostgreSQL" } else { "SQLite, WAL" },
        o.conversations,
        o.conversations * (o.messages / o.conversations.max(1)).max(1),
        seeded.as_secs_f64(),
        o.rounds
    );
    let b = backend;
    let page = |filter: ListFilter, label: Option<&'static str>, after: Option<ListCursor>| {
        let (ann, scope) = (&ann, &scope);
        async move {
            let p = b.list_page(ann, scope, filter, label, after.as_ref()).await.expect("page");
            p.conversations.len()
        }
    };
    let mut worst: f64 = 0.0;
    worst = worst.max(time("open the list (All, first page)", o.rounds, || page(ListFilter::All, None, None)).await);
    worst = worst.max(time("Requests", o.rounds, || page(ListFilter::Requests, None, None)).await);
    worst = worst.max(time("Mine", o.rounds, || page(ListFilter::Mine, None, None)).await);
    worst = worst.max(time("Closed", o.rounds, || page(ListFilter::Closed, None, None)).await);
    worst = worst.max(time("label filter", o.rounds, || page(ListFilter::All, Some("bench-label-3"), None)).await);
    // A page deep in the list: after the conversation in the middle.
    let middle =
        ListCursor { last_activity: backend::now_ms() - (o.conversations as i64 / 2) * 60_000, id: "bench-c~".into() };
    worst = worst
        .max(time("a page in the middle (All)", o.rounds, || page(ListFilter::All, None, Some(middle.clone()))).await);
    let search = |q: &'static str| {
        let (ann, scope) = (&ann, &scope);
        async move { b.search_conversations(ann, scope, q).await.expect("search").len() }
    };
    worst = worst.max(time("search: a rare word", o.rounds, || search("zuzu")).await);
    worst = worst.max(time("search: a common word", o.rounds, || search("baba")).await);
    worst = worst.max(time("search: two words", o.rounds, || search("baba bebe")).await);
    worst = worst.max(time("search: a visitor's name", o.rounds, || search("kipo")).await);
    println!("  slowest p95 {} ms: {} the 50 ms target", fmt_ms(worst), if worst <= 50.0 { "within" } else { "OVER" });
}
