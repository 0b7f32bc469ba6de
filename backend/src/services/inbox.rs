//! The agent's inbox: the dashboard list read page by page under a filter (keyset pagination
//! over `(last_activity, id)`, newest first, without a cap), and how many conversations each
//! filter holds. Every first page also carries every waiting request, whatever the filter: the
//! dashboard shows them on top where the filter contains them, and rings for them under any.
//! And search: over message text (with the e-mail address a visitor left in the e-mail form) by
//! each engine's full-text index (SQLite FTS5, PostgreSQL `tsvector` + GIN; both kept in step by
//! the database in the inserting transaction, migration 0012), and over visitor names.
use crate::conversation::{SummaryRow, SUMMARY_COLS};
use crate::db::DbKind;
use crate::error::{BackendError, Result};
use crate::principal::UserCtx;
use crate::services::human_agent_chat::ListScope;
use crate::services::Backend;
use domain::handoff::{AgentRef, HandoffState, StateKind};
use domain::inbox::{
    search_terms, snippet, ConversationPage, ListCounts, ListCursor, ListFilter, SearchHit, MAX_HITS, PAGE_SIZE,
};
use sqlx::AssertSqlSafe;

/// Most waiting requests put on top of a first page.
const REQUESTS_ON_TOP: usize = 500;

/// Most characters of a message shown with a hit.
const SNIPPET_CHARS: usize = 160;
/// How many of the newest messages PostgreSQL searches first (see `search_conversations`).
const RECENT_WINDOW: usize = 20_000;
/// Most characters of a search handed to PostgreSQL's parser.
const MAX_QUERY_CHARS: usize = 512;

/// A bind argument of a statement built here.
enum Arg {
    Text(String),
    Int(i64),
}

/// A `WHERE` clause and its arguments, numbered as they are pushed.
struct Where {
    sql: String,
    args: Vec<Arg>,
}

impl Where {
    fn new(column: &str, value: String) -> Self {
        Self { sql: format!("{column} = $1"), args: vec![Arg::Text(value)] }
    }

    fn next(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        format!("${}", self.args.len())
    }

    fn and(&mut self, clause: &str) {
        self.sql.push_str(" AND ");
        self.sql.push_str(clause);
    }

    /// Restricts to the conversations of `filter` for the user `me`.
    fn filter(&mut self, filter: ListFilter, me: &str) {
        let state = |k: StateKind| format!("state = '{}'", k.as_str());
        match filter {
            ListFilter::All => {}
            ListFilter::Requests => self.and(&state(StateKind::Requested)),
            ListFilter::WithAi => self.and(&state(StateKind::Ai)),
            ListFilter::WithHuman => self.and(&state(StateKind::Human)),
            ListFilter::Closed => self.and(&state(StateKind::Closed)),
            ListFilter::Mine => {
                let p = self.next(Arg::Text(me.to_owned()));
                self.and(&format!("{} AND holder_id = {p}", state(StateKind::Human)));
            }
        }
    }

    async fn rows(self, backend: &Backend, tail: &str) -> Result<Vec<SummaryRow>> {
        let sql = format!("SELECT {SUMMARY_COLS} FROM conversations WHERE {} {tail}", self.sql);
        let mut q = sqlx::query_as::<_, SummaryRow>(AssertSqlSafe(sql));
        for a in self.args {
            q = match a {
                Arg::Text(s) => q.bind(s),
                Arg::Int(i) => q.bind(i),
            };
        }
        Ok(q.fetch_all(backend.pool()).await?)
    }
}

impl Backend {
    /// One page of `scope`'s conversations under `filter` (and with the label `label`, if
    /// given), newest activity first, starting after `after` (`None`: the first page, which also
    /// carries every waiting request and every filter's count).
    pub async fn list_page(
        &self,
        user: &UserCtx,
        scope: &ListScope,
        filter: ListFilter,
        label: Option<&str>,
        after: Option<&ListCursor>,
    ) -> Result<ConversationPage> {
        let (column, value) = Self::list_filter(user, scope)?;
        let mut w = Where::new(column, value.clone());
        w.filter(filter, &user.id);
        if let Some(label) = label {
            // Another organization's label is on none of this scope's conversations.
            let p = w.next(Arg::Text(label.to_owned()));
            w.and(&format!("id IN (SELECT conversation_id FROM conversation_labels WHERE label_id = {p})"));
        }
        if let Some(c) = after {
            let at = w.next(Arg::Int(c.last_activity));
            let id = w.next(Arg::Text(c.id.clone()));
            w.and(&format!("(last_activity < {at} OR (last_activity = {at} AND id < {id}))"));
        }
        let mut rows = w.rows(self, &format!("ORDER BY last_activity DESC, id DESC LIMIT {}", PAGE_SIZE + 1)).await?;
        let next = match rows.len() > PAGE_SIZE {
            true => {
                rows.truncate(PAGE_SIZE);
                rows.last().map(|r| ListCursor { last_activity: r.last_activity, id: r.id.clone() })
            }
            false => None,
        };
        let mut conversations = rows.iter().map(SummaryRow::summary).collect::<Result<Vec<_>>>()?;
        let mut counts = None;
        if after.is_none() {
            if filter != ListFilter::Requests {
                let mut w = Where::new(column, value);
                w.filter(ListFilter::Requests, &user.id);
                let waiting = w.rows(self, &format!("ORDER BY state_since LIMIT {REQUESTS_ON_TOP}")).await?;
                for r in waiting {
                    if !conversations.iter().any(|c| c.id == r.id) {
                        conversations.push(r.summary()?);
                    }
                }
            }
            counts = Some(self.list_counts(user, scope).await?);
        }
        Ok(ConversationPage { conversations, next, counts })
    }

    /// How many of `scope`'s conversations each filter holds, for `user`.
    pub async fn list_counts(&self, user: &UserCtx, scope: &ListScope) -> Result<ListCounts> {
        let (column, value) = Self::list_filter(user, scope)?;
        let rows: Vec<(String, Option<String>, i64)> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT state, holder_id, COUNT(*) FROM conversations WHERE {column} = $1 GROUP BY state, holder_id"
        )))
        .bind(value)
        .fetch_all(self.pool())
        .await?;
        let mut counts = ListCounts::default();
        for (state, holder, n) in rows {
            let kind = StateKind::parse(&state).ok_or_else(|| BackendError::Internal(format!("bad state {state}")))?;
            let agent = holder.map(|id| AgentRef { id, name: String::new() });
            if let Some(state) = HandoffState::from_parts(kind, agent) {
                counts.add(&state, &user.id, n);
            }
        }
        Ok(counts)
    }

    /// The conversations of `scope` whose messages match every word of `query` (whole words, any
    /// case) or whose visitor's name has every word's beginning, newest first (on SQLite newest
    /// stored: the full-text index's order, read without a sort), at most [`MAX_HITS`]: one hit
    /// per matching message, and one per conversation whose visitor's name matches. The query is
    /// data: it is reduced to words ([`search_terms`], letters and digits) or handed to
    /// `plainto_tsquery`, which has no syntax.
    pub async fn search_conversations(&self, user: &UserCtx, scope: &ListScope, query: &str) -> Result<Vec<SearchHit>> {
        let (column, value) = Self::list_filter(user, scope)?;
        let terms = search_terms(query);
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        let (sql, text) = match self.db.kind {
            DbKind::Sqlite => (
                format!(
                    "SELECT m.conversation_id, m.seq, m.body FROM message_search s \
                     JOIN messages m ON m.conversation_id = s.conversation_id AND m.seq = s.seq \
                     JOIN conversations c ON c.id = m.conversation_id \
                     WHERE message_search MATCH $1 AND c.{column} = $2 \
                     ORDER BY s.rowid DESC LIMIT {MAX_HITS}"
                ),
                terms.iter().map(|t| format!("\"{t}\"")).collect::<Vec<_>>().join(" "),
            ),
            DbKind::Postgres => (
                format!(
                    "SELECT m.conversation_id, m.seq, m.body FROM messages m \
                     JOIN conversations c ON c.id = m.conversation_id \
                     WHERE m.search @@ plainto_tsquery('simple', $1) AND c.{column} = $2 \
                     ORDER BY m.created_at + 0 DESC, m.seq DESC LIMIT {MAX_HITS}"
                ),
                query.chars().take(MAX_QUERY_CHARS).collect(),
            ),
        };
        let mut messages: Vec<(String, i64, String)> = Vec::new();
        if self.db.kind == DbKind::Postgres {
            // GIN gives matches in no order, and sorting a common word's hundreds of thousands
            // by date took a second. The newest messages are read first (a materialized window
            // by `messages_created`): a word common enough to matter has its hits there. Only
            // when they are too few is every match read by the GIN index and sorted — then they
            // are few. (`created_at + 0` there keeps the planner from walking `messages_created`
            // instead, which it estimates cheaper for rare words and is not: 0.5 s.)
            let recent = format!(
                "WITH recent AS MATERIALIZED (SELECT conversation_id, seq, body, created_at, search FROM messages \
                 ORDER BY created_at DESC, seq DESC LIMIT {RECENT_WINDOW}) \
                 SELECT m.conversation_id, m.seq, m.body FROM recent m JOIN conversations c ON c.id = m.conversation_id \
                 WHERE m.search @@ plainto_tsquery('simple', $1) AND c.{column} = $2 \
                 ORDER BY m.created_at DESC, m.seq DESC LIMIT {MAX_HITS}"
            );
            messages = sqlx::query_as(AssertSqlSafe(recent)).bind(&text).bind(&value).fetch_all(self.pool()).await?;
        }
        if messages.len() < MAX_HITS {
            messages = sqlx::query_as(AssertSqlSafe(sql)).bind(text).bind(&value).fetch_all(self.pool()).await?;
        }
        // Names: every word of the search begins a word of the name, through each engine's
        // full-text index of names (migration 0015); newest conversation first.
        let (sql, words) = match self.db.kind {
            DbKind::Sqlite => (
                format!(
                    "SELECT {SUMMARY_COLS} FROM conversation_name_search n JOIN conversations c ON c.rowid = n.rowid \
                     WHERE conversation_name_search MATCH $1 AND c.{column} = $2 ORDER BY n.rowid DESC LIMIT {MAX_HITS}"
                ),
                terms.iter().map(|t| format!("\"{t}\"*")).collect::<Vec<_>>().join(" "),
            ),
            DbKind::Postgres => (
                format!(
                    "SELECT {SUMMARY_COLS} FROM conversations WHERE name_search @@ to_tsquery('simple', $1) \
                     AND {column} = $2 ORDER BY last_activity DESC LIMIT {MAX_HITS}"
                ),
                // Terms are letters and digits only: quoted, no word is syntax.
                terms.iter().map(|t| format!("'{t}':*")).collect::<Vec<_>>().join(" & "),
            ),
        };
        let named: Vec<SummaryRow> =
            sqlx::query_as(AssertSqlSafe(sql)).bind(words).bind(&value).fetch_all(self.pool()).await?;

        let ids: Vec<String> = messages.iter().map(|(c, _, _)| c.clone()).collect();
        let summaries = self.summaries_of(&ids).await?;
        let mut hits: Vec<SearchHit> = named
            .iter()
            .map(|r| Ok(SearchHit { summary: r.summary()?, seq: None, text: r.visitor_name.clone() }))
            .collect::<Result<_>>()?;
        for (conv, seq, body) in messages {
            if let Some(summary) = summaries.iter().find(|s| s.id == conv) {
                hits.push(SearchHit {
                    summary: summary.clone(),
                    seq: Some(seq),
                    text: snippet(&body, &terms, SNIPPET_CHARS),
                });
            }
        }
        hits.truncate(MAX_HITS);
        Ok(hits)
    }

    /// The summaries of these conversations (each once; unknown ids are skipped).
    async fn summaries_of(&self, ids: &[String]) -> Result<Vec<domain::wire::ConversationSummary>> {
        let mut unique: Vec<&String> = ids.iter().collect();
        unique.sort();
        unique.dedup();
        if unique.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (1..=unique.len()).map(|i| format!("${i}")).collect();
        let sql = format!("SELECT {SUMMARY_COLS} FROM conversations WHERE id IN ({})", marks.join(", "));
        let mut q = sqlx::query_as::<_, SummaryRow>(AssertSqlSafe(sql));
        for id in unique {
            q = q.bind(id.clone());
        }
        q.fetch_all(self.pool()).await?.iter().map(SummaryRow::summary).collect()
    }
}
