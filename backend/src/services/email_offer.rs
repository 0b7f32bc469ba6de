//! The timed offer of the e-mail form: a worker on every server process
//! ([`Backend::offer_email_forms`]) finds requests that waited longer than the organization's
//! `handoff_timeout_secs`, or that have no agent online (no dashboard refreshed its presence
//! within [`ONLINE_WINDOW_MS`]), and appends one system message of kind `email_offer` per
//! request (`conversations.offer_version` records the request's `state_version`, set in the same
//! transaction, so two processes never both offer). Presence is refreshed by the agent socket.
use crate::conversation::Guard;
use crate::error::Result;
use crate::ids::now_ms;
use crate::services::Backend;
use crate::store::messages;
use domain::wire::{Author, MessageExtra};

/// What the visitor is told when nobody answered in time.
pub const OFFER_TEXT: &str = "Sorry, no one is available to answer right now. Send us an e-mail with your question \
     (files are welcome) and we will get back to you.";
/// An agent counts as online while their dashboard refreshed its presence within this time.
pub const ONLINE_WINDOW_MS: i64 = 45_000;
/// How often an open dashboard refreshes its user's presence.
pub const PRESENCE_EVERY_MS: u64 = 15_000;

impl Backend {
    /// Records that the user's dashboard is open (presence for the e-mail offer).
    pub async fn touch_presence(&self, user_id: &str) -> Result<()> {
        sqlx::query("UPDATE users SET last_seen_at = $2 WHERE id = $1")
            .bind(user_id)
            .bind(now_ms())
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// Offers the e-mail form on every request that waited too long or has nobody online to
    /// answer it; once per request. Returns how many offers were made.
    pub async fn offer_email_forms(&self) -> Result<usize> {
        let now = now_ms();
        let due: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT c.id, c.org_id, c.state_version FROM conversations c
             JOIN organizations o ON o.id = c.org_id JOIN agents a ON a.id = c.agent_id
             WHERE c.state = 'requested' AND c.offer_version <> c.state_version AND a.handoff_enabled = 1
               AND (c.state_since <= $1 - o.handoff_timeout_secs * 1000
                    OR NOT EXISTS (SELECT 1 FROM users u WHERE u.org_id = c.org_id AND u.perm_conversations = 1 AND u.active = 1
                                   AND u.last_seen_at > $2))
             LIMIT 100",
        )
        .bind(now)
        .bind(now - ONLINE_WINDOW_MS)
        .fetch_all(self.pool())
        .await?;
        if !due.is_empty() {
            tracing::debug!(due = due.len(), "requests due for the e-mail offer");
        }
        let mut offered = 0;
        for (conversation_id, org_id, version) in due {
            let mut tx = self.begin_write().await?;
            let claimed = sqlx::query(
                "UPDATE conversations SET offer_version = state_version
                 WHERE id = $1 AND state = 'requested' AND state_version = $2 AND offer_version <> state_version",
            )
            .bind(&conversation_id)
            .bind(version)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if claimed == 0 {
                tx.rollback().await?;
                continue; // handled meanwhile, or another process offered first
            }
            let row =
                messages::take_seq(&mut tx, &conversation_id, &org_id, Guard::Always, &Author::System, OFFER_TEXT)
                    .await?;
            let message =
                messages::insert_message(&mut tx, &row, &Author::System, None, OFFER_TEXT, &MessageExtra::EmailOffer)
                    .await?;
            tx.commit().await?;
            tracing::info!(conversation = %conversation_id, "offered the e-mail form");
            self.after_append(&message, &row);
            offered += 1;
        }
        Ok(offered)
    }
}
