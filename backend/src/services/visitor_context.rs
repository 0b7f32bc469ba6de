//! The visitor context panel (issue 22): what a visitor's widget tells about them — the pages of
//! the customer's site they are on, where they came from, their browser's language, time zone
//! and user agent — stored per conversation as the widget sends it, and read for the dashboard
//! with the e-mail address they gave and their earlier conversations.
//!
//! Only what the widget sent is stored (cleaned by `domain::visitor_context`); nothing is looked
//! up elsewhere. A conversation keeps its newest [`MAX_PAGES`] pages; a page is recorded when its
//! address differs from the newest one (a reload or a reconnect records nothing). Watching
//! dashboards get a `VisitorContext` hint and read the context again.
use crate::conversation::{extra_from_columns, SummaryRow, SUMMARY_COLS};
use crate::db::Done;
use crate::error::{BackendError, Result};
use crate::ids::now_ms;
use crate::principal::{UserCtx, VisitorCtx};
use crate::services::Backend;
use domain::visitor_context::{PageVisit, PreviousConversation, VisitorContext, VisitorEnv, MAX_PAGES, MAX_PREVIOUS};
use domain::wire::{MessageExtra, ServerFrame};
use sqlx::AssertSqlSafe;
use std::time::Duration;

/// The per-conversation rate of context updates in this process (`visitor_context_per_minute`:
/// navigations and reconnects); more are refused with a wait. Storage is bounded by
/// [`MAX_PAGES`] whatever the rate.
pub(crate) fn context_rate(per_minute: u32) -> crate::limits::RateWindow<String> {
    crate::limits::RateWindow::new(per_minute, Duration::from_secs(60))
}

/// A conversation's stored [`EnvRow`] (empty before the widget's first report).
const ENV_SELECT: &str =
    "SELECT referrer, language, time_zone, utc_offset, user_agent FROM visitor_context WHERE conversation_id = $1";

#[derive(sqlx::FromRow, PartialEq, Default)]
struct EnvRow {
    referrer: String,
    language: String,
    time_zone: String,
    utc_offset: i64,
    user_agent: String,
}

impl Backend {
    /// Stores what the visitor's widget reports (see [`VisitorEnv`]); tells the dashboards
    /// watching the conversation when anything changed. The referrer kept is the first one told
    /// (where the visitor came from, not the site's previous page).
    pub async fn visitor_context_update(&self, visitor: &VisitorCtx, env: &VisitorEnv) -> Result<()> {
        if let Err(wait) = self.context_updates.hit(&visitor.conversation_id) {
            return Err(BackendError::RateLimited(format!(
                "too many page updates; the next is taken in {}",
                crate::limits::wait_words(wait)
            )));
        }
        let env = env.cleaned();
        let (conversation, kind) = (visitor.conversation_id.clone(), self.db.kind);
        let changed = self
            .db
            .write(move |conn| {
                Box::pin(async move {
                    let now = now_ms();
                    sqlx::query(
                        "INSERT INTO visitor_context (conversation_id, updated_at) VALUES ($1, $2)
                         ON CONFLICT (conversation_id) DO NOTHING",
                    )
                    .bind(&conversation)
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
                    // Held until commit, so two processes' updates of one visitor take turns.
                    let old: EnvRow = sqlx::query_as(AssertSqlSafe(format!("{ENV_SELECT}{}", kind.row_lock("UPDATE"))))
                        .bind(&conversation)
                        .fetch_one(&mut *conn)
                        .await?;
                    let new = EnvRow {
                        referrer: if old.referrer.is_empty() { env.referrer.clone() } else { old.referrer.clone() },
                        language: env.language.clone(),
                        time_zone: env.time_zone.clone(),
                        utc_offset: env.utc_offset.into(),
                        user_agent: env.user_agent.clone(),
                    };
                    let mut changed = false;
                    if new != old {
                        sqlx::query(
                            "UPDATE visitor_context SET referrer = $2, language = $3, time_zone = $4, utc_offset = $5,
                             user_agent = $6, updated_at = $7 WHERE conversation_id = $1",
                        )
                        .bind(&conversation)
                        .bind(&new.referrer)
                        .bind(&new.language)
                        .bind(&new.time_zone)
                        .bind(new.utc_offset)
                        .bind(&new.user_agent)
                        .bind(now)
                        .execute(&mut *conn)
                        .await?;
                        changed = true;
                    }
                    let newest: Option<(String,)> = sqlx::query_as(
                        "SELECT url FROM visitor_pages WHERE conversation_id = $1 ORDER BY id DESC LIMIT 1",
                    )
                    .bind(&conversation)
                    .fetch_optional(&mut *conn)
                    .await?;
                    if !env.url.is_empty() && newest.is_none_or(|(url,)| url != env.url) {
                        sqlx::query(
                            "INSERT INTO visitor_pages (conversation_id, url, title, at) VALUES ($1, $2, $3, $4)",
                        )
                        .bind(&conversation)
                        .bind(&env.url)
                        .bind(&env.title)
                        .bind(now)
                        .execute(&mut *conn)
                        .await?;
                        sqlx::query(AssertSqlSafe(format!(
                            "DELETE FROM visitor_pages WHERE conversation_id = $1 AND id <= (
                                 SELECT id FROM visitor_pages WHERE conversation_id = $1
                                 ORDER BY id DESC LIMIT 1 OFFSET {MAX_PAGES})"
                        )))
                        .bind(&conversation)
                        .execute(&mut *conn)
                        .await?;
                        changed = true;
                    }
                    Ok(if changed { Done::Commit(true) } else { Done::Rollback(false) })
                })
            })
            .await?;
        if changed {
            let frame = ServerFrame::VisitorContext { conversation_id: visitor.conversation_id.clone() };
            self.hub.publish_org(&visitor.org_id, frame);
        }
        Ok(())
    }

    /// The visitor context of a conversation of the user's organization (platform admins: any).
    pub async fn conversation_visitor_context(&self, user: &UserCtx, conversation_id: &str) -> Result<VisitorContext> {
        let org = self.handling_org(user, conversation_id).await?;
        self.read_visitor_context(conversation_id, &org).await
    }

    /// The context of a conversation of `org_id` (another organization's: "not found").
    pub(crate) async fn read_visitor_context(&self, conversation_id: &str, org_id: &str) -> Result<VisitorContext> {
        let visitor: Option<(String,)> =
            sqlx::query_as("SELECT visitor_id FROM conversations WHERE id = $1 AND org_id = $2")
                .bind(conversation_id)
                .bind(org_id)
                .fetch_optional(self.pool())
                .await?;
        let (visitor,) = visitor.ok_or(BackendError::NotFound("conversation"))?;
        let env: Option<EnvRow> = sqlx::query_as(ENV_SELECT).bind(conversation_id).fetch_optional(self.pool()).await?;
        let mut pages: Vec<(String, String, i64)> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT url, title, at FROM visitor_pages WHERE conversation_id = $1 ORDER BY id DESC LIMIT {MAX_PAGES}"
        )))
        .bind(conversation_id)
        .fetch_all(self.pool())
        .await?;
        pages.reverse();
        // The newest address given in an e-mail form of any of the visitor's conversations.
        let email: Option<(Option<String>,)> = sqlx::query_as(
            "SELECT m.meta FROM messages m JOIN conversations c ON c.id = m.conversation_id
             WHERE c.visitor_id = $1 AND c.org_id = $2 AND m.kind = 'email_form'
             ORDER BY m.created_at DESC LIMIT 1",
        )
        .bind(&visitor)
        .bind(org_id)
        .fetch_optional(self.pool())
        .await?;
        let email = match email.map(|(meta,)| extra_from_columns("email_form", meta.as_deref())) {
            Some(MessageExtra::EmailForm { email, .. }) => email,
            _ => String::new(),
        };
        let previous: Vec<SummaryRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {SUMMARY_COLS} FROM conversations WHERE visitor_id = $1 AND org_id = $2 AND id <> $3
             ORDER BY last_activity DESC LIMIT {MAX_PREVIOUS}"
        )))
        .bind(&visitor)
        .bind(org_id)
        .bind(conversation_id)
        .fetch_all(self.pool())
        .await?;
        let previous = previous
            .into_iter()
            .map(|row| {
                Ok(PreviousConversation {
                    state: row.state()?,
                    id: row.id,
                    last_message: row.last_message,
                    last_activity: row.last_activity,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let env = env.unwrap_or_default();
        Ok(VisitorContext {
            pages: pages.into_iter().map(|(url, title, at)| PageVisit { url, title, at }).collect(),
            referrer: env.referrer,
            language: env.language,
            time_zone: env.time_zone,
            utc_offset: i32::try_from(env.utc_offset).unwrap_or_default(),
            user_agent: env.user_agent,
            email,
            previous,
        })
    }
}
