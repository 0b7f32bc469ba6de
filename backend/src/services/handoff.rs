//! Applying a handoff event: `domain::handoff::transition` decides, `store::handoff` writes the
//! transition and its database effects, then this publishes and runs the in-process effects.
use crate::db::Done;
use crate::error::{BackendError, Result};
use crate::ids::now_ms;
use crate::services::Backend;
use crate::store::handoff::{write_transition, PendingTransition};
use domain::handoff::{transition, Effect, HandoffEvent, HandoffState};
use domain::wire::ServerFrame;

impl Backend {
    /// Applies a handoff event: transition, compare-and-set, event log, announcements, effects.
    pub async fn handoff(&self, conversation_id: &str, org_id: &str, event: HandoffEvent) -> Result<HandoffState> {
        for _ in 0..8 {
            let row = self.summary_row(conversation_id, org_id).await?;
            let from = row.state()?;
            let (to, effects) = transition(&from, &event)?;
            let pending = PendingTransition {
                id: conversation_id.to_string(),
                org: org_id.to_string(),
                version: row.state_version,
                visitor_name: row.visitor_name.clone(),
                from: from.clone(),
                to: to.clone(),
                event: event.clone(),
                effects: effects.clone(),
                now: now_ms(),
            };
            let applied = self
                .db
                .write(move |conn| {
                    Box::pin(async move {
                        Ok(match write_transition(conn, &pending).await? {
                            Some(done) => Done::Commit(Some(done)),
                            None => Done::Rollback(None),
                        })
                    })
                })
                .await?;
            let Some((announced, bell_changed)) = applied else {
                continue; // re-read and re-decide
            };
            if matches!((&from, &to), (HandoffState::Requested, HandoffState::Human { .. })) {
                self.metrics.time_to_handle.observe((now_ms() - row.state_since).max(0) as f64 / 1000.0);
            }
            if bell_changed {
                self.hub.publish_org(org_id, ServerFrame::Notifications);
            }
            if effects.iter().any(|e| matches!(e, Effect::AlertColleague { note, .. } if !note.is_empty())) {
                self.hub
                    .publish_org(org_id, ServerFrame::NotesChanged { conversation_id: conversation_id.to_string() });
            }
            if effects.contains(&Effect::CancelAiGeneration) {
                self.cancel_generation(conversation_id);
            }
            self.hub.publish(
                org_id,
                conversation_id,
                ServerFrame::State { conversation_id: conversation_id.to_string(), state: to.clone() },
            );
            for (message, row) in &announced {
                self.after_append(message, row);
            }
            if announced.is_empty() {
                let row = self.summary_row(conversation_id, org_id).await?;
                self.hub.publish_org(org_id, ServerFrame::Conversation { summary: row.summary()? });
            }
            tracing::info!(conversation = conversation_id, event = event.name(), from = %from.kind(), to = %to.kind(), "handoff");
            return Ok(to);
        }
        Err(BackendError::Conflict("the conversation is changing too fast; try again".into()))
    }
}
