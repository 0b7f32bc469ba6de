//! The dashboard's bell as users read it, their preferences, and notifications of visitor
//! messages (consecutive messages of one conversation collapse into one unread notification per
//! user, the newest text wins, so a chatty visitor does not flood the bell). Request
//! notifications are written by the transition that caused them (`store::handoff`); after a
//! change the organization's dashboards get a `Notifications` frame and re-read their own bell.
use crate::db::Done;
use crate::error::{BackendError, Result};
use crate::ids::{new_id, now_ms};
use crate::principal::UserCtx;
use crate::services::Backend;
use crate::store::notifications::{short, ELIGIBLE};
use crate::store::outbox;
use domain::wire::{NotificationDto, NotificationKind, NotificationList, NotificationPrefs, NotifyEvents, ServerFrame};

/// Newest notifications returned to the bell.
const BELL_SIZE: i64 = 50;

impl Backend {
    /// After a visitor message: notify the users who want every message (batched per
    /// conversation while unread).
    pub(crate) async fn notify_message(&self, org_id: &str, conversation_id: &str, visitor_name: &str, text: &str) {
        if let Err(e) = self.try_notify_message(org_id, conversation_id, visitor_name, text).await {
            tracing::error!(conversation = conversation_id, error = %e, "could not store message notifications");
        }
    }

    async fn try_notify_message(
        &self,
        org_id: &str,
        conversation_id: &str,
        visitor_name: &str,
        text: &str,
    ) -> Result<()> {
        let all = format!("{ELIGIBLE} AND p.events = 'all'");
        let text = format!("{visitor_name}: {}", short(text));
        let now = now_ms();
        let (org, conversation, batch_ms) =
            (org_id.to_string(), conversation_id.to_string(), self.config.email_batch_ms as i64);
        let changed = self
            .db
            .write(move |conn| {
                Box::pin(async move {
                    let updated = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "UPDATE notifications SET text = $3, created_at = $4
                         WHERE conversation_id = $2 AND kind = 'message' AND read_at IS NULL AND user_id IN ({all})"
                    )))
                    .bind(&org)
                    .bind(&conversation)
                    .bind(&text)
                    .bind(now)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected();
                    let inserted = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "INSERT INTO notifications (id, org_id, user_id, conversation_id, kind, text, created_at)
                         SELECT $3 || u.id, $1, u.id, $2, 'message', $4, $5 FROM ({all}) u
                         WHERE NOT EXISTS (SELECT 1 FROM notifications n WHERE n.user_id = u.id AND n.conversation_id = $2
                                           AND n.kind = 'message' AND n.read_at IS NULL)
                         ON CONFLICT DO NOTHING"
                    )))
                    .bind(&org)
                    .bind(&conversation)
                    .bind(format!("{}-", new_id()))
                    .bind(&text)
                    .bind(now)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected();
                    let changed = updated + inserted > 0;
                    if changed {
                        outbox::enqueue_digests(conn, &org, &conversation, now + batch_ms, now).await?;
                    }
                    Ok(Done::Commit(changed))
                })
            })
            .await?;
        if changed {
            self.hub.publish_org(org_id, ServerFrame::Notifications);
        }
        Ok(())
    }

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
