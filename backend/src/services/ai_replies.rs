//! The AI agent's replies: one at a time per conversation, handoff intent first, then the
//! reply rate, then the responder; stored only while the AI still holds the conversation at the
//! state version the generation started from.
use crate::ai::{AiContext, AiReply, DraftSink};
use crate::conversation::{Guard, MessageRow, MESSAGE_COLS};
use crate::db::Done;
use crate::error::{BackendError, Result};
use crate::ids::now_ms;
use crate::services::Backend;
use crate::store::messages;
use domain::handoff::{HandoffEvent, Requester};
use domain::values::MessageText;
use domain::wire::{Author, MessageDto, MessageExtra, ServerFrame};
use sqlx::AssertSqlSafe;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How many messages of history the AI sees (the OpenAI backend cuts them to a token budget).
const AI_HISTORY: i64 = 60;
/// Said (once) when a conversation exceeds its AI reply rate.
const RATE_NOTICE: &str = "You're sending messages faster than I can answer. Please wait a moment before asking again.";

impl Backend {
    pub(crate) fn spawn_ai_reply(&self, conversation_id: String, org_id: String, version: i64) {
        let this = self.clone();
        let key = conversation_id.clone();
        // In the span of whatever asked for it (a visitor's socket: its request id).
        let asked_in = tracing::Span::current();
        let task = tokio::spawn(tracing::Instrument::instrument(
            async move {
                this.hub.publish(
                    &org_id,
                    &conversation_id,
                    ServerFrame::Typing { conversation_id: conversation_id.clone() },
                );
                if let Err(e) = this.ai_reply(&conversation_id, &org_id, version).await {
                    match e {
                        BackendError::Conflict(_) | BackendError::Transition(_) => {
                            tracing::debug!(conversation = %conversation_id, "AI reply dropped: {e}")
                        }
                        e => tracing::error!(conversation = %conversation_id, error = %e, "AI reply failed"),
                    }
                }
            },
            asked_in,
        ));
        let mut map = self.generating.lock().expect("generating lock");
        let handles = map.entry(key).or_default();
        handles.retain(|h| !h.is_finished());
        handles.push(task.abort_handle());
    }

    async fn ai_reply(&self, conversation_id: &str, org_id: &str, version: i64) -> Result<()> {
        // One reply at a time per conversation (in this process): answers come in the order of
        // the questions, and the rate limit below sees every earlier reply of a burst.
        let lock = self.ai_locks.lock().expect("ai locks").entry(conversation_id.to_string()).or_default().clone();
        let guard = lock.lock().await;
        let result = self.ai_reply_locked(conversation_id, org_id, version).await;
        drop(guard);
        let mut locks = self.ai_locks.lock().expect("ai locks");
        if Arc::strong_count(&lock) == 2 {
            locks.remove(conversation_id); // nobody else waits
        }
        result
    }

    async fn ai_reply_locked(&self, conversation_id: &str, org_id: &str, version: i64) -> Result<()> {
        tokio::time::sleep(Duration::from_millis(self.config.ai_typing_delay_ms)).await;
        let (agent_id,): (String,) = sqlx::query_as("SELECT agent_id FROM conversations WHERE id = $1 AND org_id = $2")
            .bind(conversation_id)
            .bind(org_id)
            .fetch_one(self.pool())
            .await?;
        let agent = self.agent_row(&agent_id).await?;
        let rows: Vec<MessageRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {MESSAGE_COLS} FROM messages WHERE conversation_id = $1 ORDER BY seq DESC LIMIT {AI_HISTORY}"
        )))
        .bind(conversation_id)
        .fetch_all(self.pool())
        .await?;
        let history: Vec<MessageDto> = rows.into_iter().rev().map(MessageRow::dto).map(told_to_ai).collect();

        let ctx = AiContext {
            conversation_id: conversation_id.to_string(),
            knowledge: self.knowledge_index(&agent_id).await?,
            agent: agent.ai_agent(),
            history,
        };
        let reply = if let Some(text) = ctx.handoff_reply() {
            AiReply::Handoff(text)
        } else {
            // A visitor cannot make the server call a model in a loop: at most N AI replies a minute.
            match self.ai_rate_limited(conversation_id, &ctx.history).await? {
                None => {
                    let asked = std::time::Instant::now();
                    let reply = self.ai.reply(&ctx, self.draft_sink(conversation_id, org_id)).await;
                    self.metrics.ai_reply.observe(asked.elapsed().as_secs_f64());
                    if matches!(reply, AiReply::Failed(_)) {
                        self.metrics.ai_errors.inc();
                    }
                    reply
                }
                Some(Some(notice)) => AiReply::Say(notice.into()),
                Some(None) => return Ok(()),
            }
        };
        let (text, then_handoff) = match reply {
            AiReply::Say(t) | AiReply::Failed(t) => (t, false),
            AiReply::Handoff(t) => (t, true),
        };
        let stored = self.store_ai_reply(conversation_id, org_id, version, &text, then_handoff).await;
        if stored.is_err() {
            // The reply is no longer wanted (takeover): drop any streamed draft.
            self.hub.publish(
                org_id,
                conversation_id,
                ServerFrame::DraftEnd { conversation_id: conversation_id.into() },
            );
        }
        stored
    }

    async fn store_ai_reply(
        &self,
        conversation_id: &str,
        org_id: &str,
        version: i64,
        text: &str,
        then_handoff: bool,
    ) -> Result<()> {
        let text = MessageText::parse(text).unwrap_or_else(|_| MessageText::parse("…").expect("literal"));
        let (id, org) = (conversation_id.to_string(), org_id.to_string());
        let (message, row) = self
            .db
            .write(move |conn| {
                Box::pin(async move {
                    let stored =
                        messages::append(conn, &id, &org, &Author::Ai, Guard::AiAt(version), None, text.as_str())
                            .await?;
                    Ok(Done::Commit(stored))
                })
            })
            .await?;
        self.after_append(&message, &row);
        tracing::debug!(conversation = %conversation_id, seq = message.seq, "AI answered");
        if then_handoff {
            self.handoff(conversation_id, org_id, HandoffEvent::RequestHuman { by: Requester::Ai }).await?;
        }
        Ok(())
    }

    /// `None`: go ahead. `Some(Some(notice))`: over the limit, say so once. `Some(None)`: over the
    /// limit and already said. Counted in the database, so it holds across server processes.
    async fn ai_rate_limited(
        &self,
        conversation_id: &str,
        history: &[MessageDto],
    ) -> Result<Option<Option<&'static str>>> {
        let limit = self.config.ai_replies_per_minute;
        if limit == 0 {
            return Ok(None);
        }
        let (recent,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM messages WHERE conversation_id = $1 AND author_kind = 'ai' AND created_at > $2",
        )
        .bind(conversation_id)
        .bind(now_ms() - 60_000)
        .fetch_one(self.pool())
        .await?;
        if recent < limit as i64 {
            return Ok(None);
        }
        let last_ai = history.iter().rev().find(|m| m.author == Author::Ai);
        tracing::info!(conversation = %conversation_id, "AI reply rate limit reached");
        Ok(Some(if last_ai.is_some_and(|m| m.text == RATE_NOTICE) { None } else { Some(RATE_NOTICE) }))
    }

    /// Streams the growing reply to the visitor and dashboards, at most every 50 ms.
    fn draft_sink(&self, conversation_id: &str, org_id: &str) -> DraftSink {
        let this = self.clone();
        let (conv, org) = (conversation_id.to_string(), org_id.to_string());
        let last = Mutex::new(None::<std::time::Instant>);
        Arc::new(move |text: &str| {
            let mut last = last.lock().expect("draft lock");
            if last.is_some_and(|t| t.elapsed() < Duration::from_millis(50)) {
                return;
            }
            *last = Some(std::time::Instant::now());
            this.hub.publish(&org, &conv, ServerFrame::Draft { conversation_id: conv.clone(), text: text.to_string() });
        })
    }

    pub(crate) fn cancel_generation(&self, conversation_id: &str) {
        let handles = self.generating.lock().expect("generating lock").remove(conversation_id);
        for h in handles.into_iter().flatten() {
            h.abort();
        }
    }

    /// How many AI generations are running (for tests and diagnostics).
    pub fn generations_running(&self) -> usize {
        self.generating.lock().expect("generating lock").values().flatten().filter(|h| !h.is_finished()).count()
    }
}

/// A message as the AI reads it: a file sent in the chat is a line saying it arrived (its name,
/// type and size), never its content.
fn told_to_ai(mut m: MessageDto) -> MessageDto {
    if let MessageExtra::File { attachment } = &m.extra {
        m.text = domain::chat_files::told_to_ai(&m.author, attachment);
    }
    m
}
