//! Transfer (issue 23; `domain::transfer`): the agent holding a conversation passes it to a
//! colleague of the organization who is active, may handle conversations and is online (their
//! dashboard refreshed its presence within `email_offer::ONLINE_WINDOW_MS`). The transition
//! (`HandoffEvent::Transfer`) tells the visitor who took over, notifies the colleague (bell,
//! toast with a ring, e-mail or push as they chose; the note in the notification's text) and
//! keeps the optional note as a private note — all in one transaction. Anything refused — an
//! offline, deactivated or unknown colleague, another organization's user, a note over the
//! message limit, a chat the caller does not hold — answers a clear error and changes nothing.
use crate::error::{field, Result};
use crate::ids::{now_ms, MAX_ID_LEN};
use crate::principal::UserCtx;
use crate::services::email_offer::ONLINE_WINDOW_MS;
use crate::services::Backend;
use domain::handoff::{AgentRef, HandoffEvent, HandoffState};
use domain::transfer::Colleague;
use domain::values::MessageText;

/// Users of an organization who may receive a conversation (`$1`: the organization).
const RECEIVERS: &str = "FROM users WHERE org_id = $1 AND active = 1 AND perm_conversations = 1";

impl Backend {
    /// Who a conversation could be passed to: the organization's other users who may handle
    /// conversations, by name, each said online or not.
    pub async fn transfer_colleagues(&self, user: &UserCtx, conversation_id: &str) -> Result<Vec<Colleague>> {
        let org = self.handling_org(user, conversation_id).await?;
        self.summary_row(conversation_id, &org).await?; // an unknown id is "not found"
        let rows: Vec<(String, String, i64)> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT id, name, last_seen_at {RECEIVERS} AND id <> $2")))
                .bind(&org)
                .bind(&user.id)
                .fetch_all(self.pool())
                .await?;
        let since = now_ms() - ONLINE_WINDOW_MS;
        let mut colleagues: Vec<Colleague> =
            rows.into_iter().map(|(id, name, seen)| Colleague { id, name, online: seen >= since }).collect();
        // By name, the same on both engines (their text orders differ).
        colleagues.sort_by_cached_key(|c| (c.name.to_lowercase(), c.id.clone()));
        Ok(colleagues)
    }

    /// Passes a conversation the user holds to a colleague (see the module's rules).
    pub async fn transfer(
        &self,
        user: &UserCtx,
        conversation_id: &str,
        to_user_id: &str,
        note: &str,
    ) -> Result<HandoffState> {
        let org = self.handling_org(user, conversation_id).await?;
        self.summary_row(conversation_id, &org).await?; // another organization's: "not found"
        let note = match note.trim() {
            "" => String::new(),
            _ => MessageText::parse(note).map_err(|e| field("note", e.to_string()))?.into_inner(),
        };
        let unknown = || field("to", "choose a colleague of your organization");
        if to_user_id.len() > MAX_ID_LEN {
            return Err(unknown());
        }
        let row: Option<(String, String, i64, i64, i64)> = sqlx::query_as(
            "SELECT id, name, active, perm_conversations, last_seen_at FROM users WHERE id = $1 AND org_id = $2",
        )
        .bind(to_user_id)
        .bind(&org)
        .fetch_optional(self.pool())
        .await?;
        let Some((id, name, active, may_handle, seen_at)) = row else { return Err(unknown()) };
        if active == 0 {
            return Err(field("to", format!("{name} is deactivated")));
        }
        if may_handle == 0 {
            return Err(field("to", format!("{name} may not handle conversations")));
        }
        if seen_at < now_ms() - ONLINE_WINDOW_MS {
            return Err(field("to", format!("{name} is offline: choose a colleague who is online")));
        }
        let event = HandoffEvent::Transfer { from: user.agent_ref(), to: AgentRef { id, name }, note };
        self.handoff(conversation_id, &org, event).await
    }
}
