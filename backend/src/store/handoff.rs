//! Writing an applied handoff transition: the compare-and-set on the state version, the event
//! log, and the transition's effects (`domain::handoff::Effect`) that touch the database —
//! announcements and the bell. The effects are the one source of truth: nothing here looks at
//! the states to decide what to write.
use crate::conversation::{Guard, SummaryRow};
use crate::error::Result;
use crate::ids::new_id;
use crate::store::{messages, notes, notifications};
use domain::handoff::{Actor, Effect, HandoffEvent, HandoffState};
use domain::wire::{Author, MessageDto};
use sqlx::AnyConnection;

/// A transition decided on a read of the conversation, to be written if nothing changed since.
pub(crate) struct PendingTransition {
    pub(crate) id: String,
    pub(crate) org: String,
    /// The state version the decision was made at.
    pub(crate) version: i64,
    pub(crate) visitor_name: String,
    pub(crate) from: HandoffState,
    pub(crate) to: HandoffState,
    pub(crate) event: HandoffEvent,
    pub(crate) effects: Vec<Effect>,
    pub(crate) now: i64,
}

/// Writes an applied transition: the compare-and-set on the state version, the event log, the
/// announced notices, the bell. `None` when somebody else changed the conversation first
/// (the caller rolls back, re-reads and re-decides). Returns the notices and whether the
/// bell changed.
pub(crate) async fn write_transition(
    conn: &mut AnyConnection,
    t: &PendingTransition,
) -> Result<Option<(Vec<(MessageDto, SummaryRow)>, bool)>> {
    let holder = t.to.holder();
    // How far "the agent holding it" read (`services::seen`) is the holder's: another holder has
    // read nothing yet.
    let new_holder = i64::from(t.from.holder().map(|a| &a.id) != holder.map(|a| &a.id));
    let updated = sqlx::query(
        "UPDATE conversations SET state = $1, holder_id = $2, holder_name = $3, state_version = state_version + 1,
         state_since = $4, last_activity = $4,
         human_seen_seq = CASE WHEN $8 = 1 THEN 0 ELSE human_seen_seq END
         WHERE id = $5 AND org_id = $6 AND state_version = $7",
    )
    .bind(t.to.kind().as_str())
    .bind(holder.map(|a| a.id.clone()))
    .bind(holder.map(|a| a.name.clone()))
    .bind(t.now)
    .bind(&t.id)
    .bind(&t.org)
    .bind(t.version)
    .bind(new_holder)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if updated == 0 {
        return Ok(None); // somebody else changed it first
    }
    let (actor_kind, actor_id, actor_name) = match t.event.actor() {
        Actor::Visitor => ("visitor", None, None),
        Actor::Ai => ("ai", None, None),
        Actor::Agent { agent } => ("agent", Some(agent.id), Some(agent.name)),
        Actor::System => ("system", None, None),
    };
    sqlx::query(
        "INSERT INTO control_events (conversation_id, event, actor_kind, actor_id, actor_name, from_state, to_state, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&t.id)
    .bind(t.event.name())
    .bind(actor_kind)
    .bind(actor_id)
    .bind(actor_name)
    .bind(t.from.kind().as_str())
    .bind(t.to.kind().as_str())
    .bind(t.now)
    .execute(&mut *conn)
    .await?;
    // The effects that write: announcements, and the bell (a new request notifies the team; a
    // handled one is no longer news; a transfer notifies its receiver). Cancelling the AI is the
    // caller's, after the commit.
    let (mut announced, mut bell_changed) = (Vec::new(), false);
    for effect in &t.effects {
        match effect {
            Effect::Announce { notice } => announced.push(
                messages::append(conn, &t.id, &t.org, &Author::System, Guard::Always, None, &notice.text()).await?,
            ),
            Effect::AlertAgents => {
                notifications::notify_request(conn, &t.org, &t.id, &t.visitor_name, t.now).await?;
                bell_changed = true;
            }
            Effect::StopAlert => {
                notifications::stop_request_alerts(conn, &t.id, t.now).await?;
                bell_changed = true;
            }
            Effect::AlertColleague { agent, from, note } => {
                let mut text = format!("{} passed you the chat with {}", from.name, t.visitor_name);
                if !note.is_empty() {
                    // Kept with the transfer (a conversation with its notes full keeps it in
                    // the notification only).
                    notes::insert(conn, &t.id, &t.org, from, &new_id(), note, t.now).await?;
                    text = format!("{text}: {note}");
                }
                notifications::notify_colleague(conn, &t.org, &t.id, &agent.id, &text, t.now).await?;
                bell_changed = true;
            }
            Effect::CancelAiGeneration => {}
        }
    }
    Ok(Some((announced, bell_changed)))
}
