//! "Seen" both ways (issue 23; the rule in `domain::seen`): the visitor's widget and the
//! dashboard of the human agent holding a conversation report how far they have shown it; the
//! newest seq each side saw is stored on the conversation (`visitor_seen_seq`,
//! `human_seen_seq`) — only forward, never past its last message, the agent's only while they
//! hold it — and told to the other side: the visitor's to the dashboards watching the
//! conversation, the agent's to its visitor (and those dashboards). Reports are never answered
//! (a report that moves nothing, or comes over the rate, changes nothing); each side counts at
//! most [`SEEN_PER_SECOND`] a second (clients report at most once in 1.1 s).
use crate::conversation::{SummaryRow, SUMMARY_COLS};
use crate::db::Done;
use crate::error::{BackendError, Result};
use crate::ids::MAX_ID_LEN;
use crate::limits::RateWindow;
use crate::principal::{UserCtx, VisitorCtx};
use crate::services::Backend;
use domain::handoff::HandoffState;
use domain::wire::ServerFrame;
use sqlx::AssertSqlSafe;
use std::time::Duration;

/// Reports counted per second: per conversation for its visitor, per user for agents (their
/// dashboard reports the one conversation it shows).
pub const SEEN_PER_SECOND: u32 = 2;

pub(crate) fn seen_rate() -> RateWindow<String> {
    RateWindow::new(SEEN_PER_SECOND, Duration::from_secs(1))
}

#[derive(sqlx::FromRow)]
struct WelcomeRow {
    #[sqlx(flatten)]
    row: SummaryRow,
    human_seen_seq: i64,
}

impl Backend {
    /// What a visitor's socket is told first: the conversation's state, its last seq, and how
    /// far the human agent holding it has read it (one read).
    pub async fn visitor_welcome(&self, visitor: &VisitorCtx) -> Result<(HandoffState, i64, i64)> {
        let w: WelcomeRow = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {SUMMARY_COLS}, human_seen_seq FROM conversations WHERE id = $1 AND org_id = $2"
        )))
        .bind(&visitor.conversation_id)
        .bind(&visitor.org_id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(BackendError::NotFound("conversation"))?;
        Ok((w.row.state()?, w.row.last_seq, w.human_seen_seq))
    }

    /// The visitor's widget showed their conversation up to `seq`.
    pub async fn visitor_seen(&self, visitor: &VisitorCtx, seq: i64) -> Result<()> {
        if self.seen.hit(&format!("v {}", visitor.conversation_id)).is_err() {
            return Ok(());
        }
        let sql = "UPDATE conversations SET visitor_seen_seq = $1 \
                   WHERE id = $2 AND org_id = $3 AND visitor_seen_seq < $1 AND last_seq >= $1";
        if self.store_seen(sql, &visitor.conversation_id, &visitor.org_id, seq, None).await? {
            let frame = ServerFrame::VisitorSeen { conversation_id: visitor.conversation_id.clone(), seq };
            self.hub.publish(&visitor.org_id, &visitor.conversation_id, frame);
        }
        Ok(())
    }

    /// The agent's dashboard showed a conversation up to `seq`: stored and told to its visitor
    /// when the agent holds it (anyone else's reading is not the visitor's business: ignored).
    pub async fn human_seen(&self, user: &UserCtx, conversation_id: &str, seq: i64) -> Result<()> {
        if conversation_id.len() > MAX_ID_LEN || self.seen.hit(&format!("a {}", user.id)).is_err() {
            return Ok(());
        }
        let org = self.handling_org(user, conversation_id).await?;
        let sql = "UPDATE conversations SET human_seen_seq = $1 \
                   WHERE id = $2 AND org_id = $3 AND human_seen_seq < $1 AND last_seq >= $1 \
                   AND state = 'human' AND holder_id = $4";
        if self.store_seen(sql, conversation_id, &org, seq, Some(&user.id)).await? {
            let frame = ServerFrame::HumanSeen { conversation_id: conversation_id.to_owned(), seq };
            self.hub.publish(&org, conversation_id, frame);
        }
        Ok(())
    }

    /// Runs one side's update (in the grouped writes); whether it moved the mark.
    async fn store_seen(
        &self,
        sql: &'static str,
        conv: &str,
        org: &str,
        seq: i64,
        holder: Option<&str>,
    ) -> Result<bool> {
        let (conv, org, holder) = (conv.to_owned(), org.to_owned(), holder.map(str::to_owned));
        self.db
            .write(move |conn| {
                Box::pin(async move {
                    let mut q = sqlx::query(sql).bind(seq).bind(&conv).bind(&org);
                    if let Some(h) = &holder {
                        q = q.bind(h);
                    }
                    let done = q.execute(&mut *conn).await?;
                    Ok(Done::Commit(done.rows_affected() == 1))
                })
            })
            .await
    }
}
