//! The dashboard's bell as users read it, and their preferences. Notifications are written by
//! what causes them, in its own write: a chat message's by the append (`store::notifications::
//! note_message`: consecutive messages of one conversation collapse into one unread notification
//! per user, the newest text wins), a request's by the transition (`store::handoff`); after a
//! change the organization's dashboards get a `Notifications` frame and re-read their own bell.
use crate::error::{BackendError, Result};
use crate::ids::now_ms;
use crate::principal::UserCtx;
use crate::services::Backend;
use domain::wire::{NotificationDto, NotificationKind, NotificationList, NotificationPrefs, NotifyEvents};

/// Newest notifications returned to the bell.
const BELL_SIZE: i64 = 50;

impl Backend {
    /// The user's newest notifications and unread count, of their current organization only
    /// (a user moved to another organization sees nothing of the old one).
    pub async fn notifications(&self, user: &UserCtx) -> Result<NotificationList> {
        let uid = user.bell_user()?;
        let org = user.conversations_org()?;
        let rows: Vec<(String, String, String, String, i64, Option<i64>)> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT id, conversation_id, kind, text, created_at, read_at FROM notifications
             WHERE user_id = $1 AND org_id = $2 ORDER BY created_at DESC, id LIMIT {BELL_SIZE}"
            )))
            .bind(uid)
            .bind(org)
            .fetch_all(self.pool())
            .await?;
        let (unread,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND org_id = $2 AND read_at IS NULL")
                .bind(uid)
                .bind(org)
                .fetch_one(self.pool())
                .await?;
        let items = rows
            .into_iter()
            .map(|(id, conversation_id, kind, text, created_at, read_at)| NotificationDto {
                id,
                conversation_id,
                kind: match kind.as_str() {
                    "request" => NotificationKind::Request,
                    "email_form" => NotificationKind::EmailForm,
                    "transfer" => NotificationKind::Transfer,
                    _ => NotificationKind::Message,
                },
                text,
                created_at,
                read: read_at.is_some(),
            })
            .collect();
        Ok(NotificationList { items, unread })
    }

    /// Marks one notification read (only the user's own; others are "not found").
    pub async fn mark_notification_read(&self, user: &UserCtx, id: &str) -> Result<()> {
        let uid = user.bell_user()?;
        let done =
            sqlx::query("UPDATE notifications SET read_at = COALESCE(read_at, $3) WHERE id = $1 AND user_id = $2")
                .bind(id)
                .bind(uid)
                .bind(now_ms())
                .execute(self.writer())
                .await?;
        if done.rows_affected() == 0 {
            return Err(BackendError::NotFound("notification"));
        }
        Ok(())
    }

    /// Marks every notification of the user read; with a conversation id, only that
    /// conversation's (opening a conversation reads its notifications).
    pub async fn mark_notifications_read(&self, user: &UserCtx, conversation_id: Option<&str>) -> Result<()> {
        let uid = user.bell_user()?;
        sqlx::query(
            "UPDATE notifications SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL
             AND ($3 = '' OR conversation_id = $3)",
        )
        .bind(uid)
        .bind(now_ms())
        .bind(conversation_id.unwrap_or(""))
        .execute(self.writer())
        .await?;
        Ok(())
    }

    pub async fn notification_prefs(&self, user: &UserCtx) -> Result<NotificationPrefs> {
        let uid = user.bell_user()?;
        let row: Option<(i64, i64, String)> =
            sqlx::query_as("SELECT via_email, via_push, events FROM notification_prefs WHERE user_id = $1")
                .bind(uid)
                .fetch_optional(self.pool())
                .await?;
        Ok(row
            .map(|(e, p, ev)| NotificationPrefs {
                via_email: e != 0,
                via_push: p != 0,
                events: if ev == "all" { NotifyEvents::All } else { NotifyEvents::Requests },
            })
            .unwrap_or_default())
    }

    pub async fn save_notification_prefs(&self, user: &UserCtx, prefs: NotificationPrefs) -> Result<NotificationPrefs> {
        let uid = user.bell_user()?;
        let events = match prefs.events {
            NotifyEvents::All => "all",
            NotifyEvents::Requests => "requests",
        };
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM notification_prefs WHERE user_id = $1").bind(uid).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO notification_prefs (user_id, via_email, via_push, events) VALUES ($1, $2, $3, $4)")
            .bind(uid)
            .bind(prefs.via_email as i64)
            .bind(prefs.via_push as i64)
            .bind(events)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(prefs)
    }
}
