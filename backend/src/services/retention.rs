//! Retention (issue 27): an organization's users with *settings* choose to have conversations
//! that ended — closed, or left with the AI (nothing closes an AI chat the visitor walked away
//! from) — deleted some days after their last message (off by default); a conversation waiting
//! for or held by a person is never deleted. Every `retention_every_ms` each process's worker
//! (started in `crate::runtime`) deletes those past their organization's age, a few conversations
//! per transaction (`store::erase`), with their visitors once none of their conversations is left,
//! pausing between transactions so that chats' writes are never held behind a long deletion.
use crate::error::{BackendError, Result};
use crate::ids::now_ms;
use crate::principal::UserCtx;
use crate::services::Backend;
use crate::store::erase;
use domain::retention::{check_days, Retention};
use std::time::Duration;

/// Conversations deleted per transaction.
const BATCH: i64 = 20;
/// The pause between two transactions of the worker, leaving the writer to the chats.
const PAUSE: Duration = Duration::from_millis(25);
const DAY_MS: i64 = 86_400_000;

/// The instant (epoch ms) before which a conversation is past `days` of retention.
fn cutoff(days: i64) -> i64 {
    now_ms() - days * DAY_MS
}

impl Backend {
    /// The user's organization's retention setting (any of its users may read it).
    pub async fn retention(&self, user: &UserCtx) -> Result<Retention> {
        let org = user.org_id.as_deref().ok_or(BackendError::NotFound("organization"))?;
        let (days,): (Option<i64>,) = sqlx::query_as("SELECT retention_days FROM organizations WHERE id = $1")
            .bind(org)
            .fetch_optional(self.pool())
            .await?
            .ok_or(BackendError::NotFound("organization"))?;
        let due = match days {
            None => 0,
            Some(d) => {
                let sql = format!("SELECT COUNT(*) FROM conversations WHERE {}", erase::ended_before());
                let (n,): (i64,) =
                    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(org).bind(cutoff(d)).fetch_one(self.pool()).await?;
                n
            }
        };
        Ok(Retention { closed_days: days, due })
    }

    /// Saves the retention setting (the *settings* permission is required; 1 to 3,650 days, or
    /// `None` to keep everything).
    pub async fn save_retention(&self, user: &UserCtx, closed_days: Option<i64>) -> Result<Retention> {
        let org = user.org_id.as_deref().ok_or(BackendError::NotFound("organization"))?;
        user.require_settings("change how long conversations are kept")?;
        let days = check_days(closed_days)?;
        sqlx::query("UPDATE organizations SET retention_days = $2 WHERE id = $1")
            .bind(org)
            .bind(days)
            .execute(self.writer())
            .await?;
        tracing::info!(org_id = org, user_id = %user.id, days = ?days, "retention setting changed");
        self.retention(user).await
    }

    /// One round of the retention worker: for every organization with retention on, deletes its
    /// ended conversations past the age, [`BATCH`] per transaction. Returns how many went.
    pub async fn apply_retention(&self) -> Result<u64> {
        let orgs: Vec<(String, i64)> =
            sqlx::query_as("SELECT id, retention_days FROM organizations WHERE retention_days IS NOT NULL")
                .fetch_all(self.pool())
                .await?;
        let mut deleted = 0;
        for (org, days) in orgs {
            // A stored value outside the range (written by hand) is never read as "delete all".
            let Ok(Some(days)) = check_days(Some(days)) else { continue };
            let cutoff = cutoff(days);
            loop {
                let n = self.delete_ended_batch(&org, cutoff).await?;
                deleted += n;
                if n < BATCH as u64 {
                    break;
                }
                tokio::time::sleep(PAUSE).await;
            }
        }
        Ok(deleted)
    }

    /// Deletes up to [`BATCH`] of the organization's ended conversations older than `cutoff`, in
    /// one transaction.
    async fn delete_ended_batch(&self, org: &str, cutoff: i64) -> Result<u64> {
        let mut tx = self.db.begin_write().await?;
        let ids = erase::lock_ended_before(&mut tx, self.db.kind, org, cutoff, BATCH).await?;
        let mut visitors = Vec::new();
        for id in &ids {
            visitors.extend(erase::delete_conversation(&mut tx, org, id).await?);
        }
        for visitor in &visitors {
            erase::forget_visitor_if_unused(&mut tx, visitor).await?;
        }
        tx.commit().await?;
        if !ids.is_empty() {
            self.metrics.retention_deleted.inc_by(ids.len() as u64);
            tracing::info!(org_id = org, conversations = ids.len(), "retention deleted ended conversations");
        }
        Ok(ids.len() as u64)
    }
}
