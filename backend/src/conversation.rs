//! Conversations and messages as stored: the row types, their column lists and codecs (authors,
//! message kinds), and the guard every append is conditional on.
use crate::error::{BackendError, Result};
use domain::handoff::{AgentRef, HandoffState, StateKind};
use domain::wire::{AttachmentDto, Author, ConversationSummary, Delivery, DeliveryStatus, MessageDto, MessageExtra};

/// Largest page of messages returned at once.
pub const PAGE: i64 = 500;

/// Who may append, checked atomically with the append.
#[derive(Clone, Debug)]
pub(crate) enum Guard {
    /// Anything but a closed conversation (visitor messages).
    Open,
    /// Only while the AI still holds the conversation at this state version.
    AiAt(i64),
    /// Only while this user holds the conversation.
    HeldBy(String),
    /// Unconditional (system notices written inside a transition).
    Always,
}

#[derive(sqlx::FromRow, Clone, Debug)]
pub(crate) struct SummaryRow {
    pub(crate) id: String,
    pub(crate) org_id: String,
    pub(crate) visitor_name: String,
    pub(crate) state: String,
    pub(crate) holder_id: Option<String>,
    pub(crate) holder_name: Option<String>,
    pub(crate) state_version: i64,
    pub(crate) state_since: i64,
    pub(crate) last_seq: i64,
    pub(crate) last_message: Option<String>,
    pub(crate) last_activity: i64,
    pub(crate) last_visitor_at: i64,
    pub(crate) agent_id: String,
    /// The ids of its labels, sorted and comma-separated (`domain::labels::join_label_ids`).
    pub(crate) labels: String,
    pub(crate) labels_version: i64,
}

pub(crate) const SUMMARY_COLS: &str = "id, org_id, visitor_name, state, holder_id, holder_name, state_version, state_since, last_seq, last_message, last_activity, last_visitor_at, agent_id, labels, labels_version";

impl SummaryRow {
    pub(crate) fn state(&self) -> Result<HandoffState> {
        let kind =
            StateKind::parse(&self.state).ok_or_else(|| BackendError::Internal(format!("bad state {}", self.state)))?;
        let agent = match (&self.holder_id, &self.holder_name) {
            (Some(id), Some(name)) => Some(AgentRef { id: id.clone(), name: name.clone() }),
            _ => None,
        };
        HandoffState::from_parts(kind, agent).ok_or_else(|| BackendError::Internal("human state without holder".into()))
    }

    pub(crate) fn summary(&self) -> Result<ConversationSummary> {
        Ok(ConversationSummary {
            id: self.id.clone(),
            visitor_name: self.visitor_name.clone(),
            state: self.state()?,
            state_since: self.state_since,
            last_seq: self.last_seq,
            last_message: self.last_message.clone(),
            last_activity: self.last_activity,
            last_visitor_at: self.last_visitor_at,
            // Every change takes the next sequence number, state version or labels version.
            version: self.last_seq + self.state_version + self.labels_version,
            ai_agent_id: self.agent_id.clone(),
            labels: domain::labels::split_label_ids(&self.labels),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct MessageRow {
    pub(crate) conversation_id: String,
    pub(crate) seq: i64,
    pub(crate) author_kind: String,
    pub(crate) author_id: Option<String>,
    pub(crate) author_name: Option<String>,
    pub(crate) body: String,
    pub(crate) client_msg_id: Option<String>,
    pub(crate) created_at: i64,
    pub(crate) kind: String,
    pub(crate) meta: Option<String>,
}

pub(crate) const MESSAGE_COLS: &str =
    "conversation_id, seq, author_kind, author_id, author_name, body, client_msg_id, created_at, kind, meta";

impl MessageRow {
    /// The message without the details kept in other tables (attachments, delivery):
    /// `Backend::complete_messages` adds those.
    pub(crate) fn dto(self) -> MessageDto {
        let author = match self.author_kind.as_str() {
            "visitor" => Author::Visitor,
            "ai" => Author::Ai,
            "agent" => {
                Author::Agent { id: self.author_id.unwrap_or_default(), name: self.author_name.unwrap_or_default() }
            }
            _ => Author::System,
        };
        MessageDto {
            conversation_id: self.conversation_id,
            seq: self.seq,
            author,
            text: self.body,
            client_msg_id: self.client_msg_id,
            created_at: self.created_at,
            extra: extra_from_columns(&self.kind, self.meta.as_deref()),
        }
    }
}

pub(crate) fn author_columns(author: &Author) -> (&'static str, Option<String>, Option<String>, String) {
    match author {
        Author::Visitor => ("visitor", None, None, "visitor".into()),
        Author::Ai => ("ai", None, None, "ai".into()),
        Author::Agent { id, name } => ("agent", Some(id.clone()), Some(name.clone()), format!("agent:{id}")),
        Author::System => ("system", None, None, "system".into()),
    }
}

pub(crate) fn preview(text: &str) -> String {
    const MAX: usize = 140;
    match text.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

/// The outcome of an append.
#[derive(Clone, Debug)]
pub struct Posted {
    pub message: MessageDto,
    /// The message had been stored before under the same client message id.
    pub duplicate: bool,
}

/// The `kind` and `meta` columns of a message.
pub(crate) fn extra_columns(extra: &MessageExtra) -> (&'static str, Option<String>) {
    match extra {
        MessageExtra::Chat => ("chat", None),
        MessageExtra::EmailOffer => ("email_offer", None),
        MessageExtra::EmailForm { email, .. } => {
            ("email_form", Some(serde_json::json!({ "email": email }).to_string()))
        }
        MessageExtra::EmailReply { to, .. } => ("email_reply", Some(serde_json::json!({ "to": to }).to_string())),
        MessageExtra::File { attachment: a } => (
            "file",
            Some(serde_json::json!({ "id": a.id, "name": a.name, "type": a.content_type, "size": a.size }).to_string()),
        ),
    }
}

/// The message's extra from its columns (attachments and delivery are filled in later).
pub(crate) fn extra_from_columns(kind: &str, meta: Option<&str>) -> MessageExtra {
    let meta: serde_json::Value = meta.and_then(|m| serde_json::from_str(m).ok()).unwrap_or_default();
    let get = |k: &str| meta.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_string();
    match kind {
        "email_offer" => MessageExtra::EmailOffer,
        "email_form" => MessageExtra::EmailForm { email: get("email"), attachments: Vec::new() },
        "email_reply" => MessageExtra::EmailReply { to: get("to"), delivery: Delivery::default() },
        "file" => MessageExtra::File {
            attachment: AttachmentDto {
                id: get("id"),
                name: get("name"),
                content_type: get("type"),
                size: meta.get("size").and_then(|v| v.as_i64()).unwrap_or(0),
            },
        },
        _ => MessageExtra::Chat,
    }
}

pub(crate) fn delivery_status(status: &str) -> DeliveryStatus {
    match status {
        "sent" => DeliveryStatus::Sent,
        "failed" => DeliveryStatus::Failed,
        _ => DeliveryStatus::Queued,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extras_round_trip_through_columns() {
        for extra in [
            MessageExtra::Chat,
            MessageExtra::EmailOffer,
            MessageExtra::EmailForm { email: "a@b.co".into(), attachments: vec![] },
            MessageExtra::EmailReply { to: "a@b.co".into(), delivery: Delivery::default() },
            MessageExtra::File {
                attachment: AttachmentDto {
                    id: "f1".into(),
                    name: "shot \"1\".png".into(),
                    content_type: "image/png".into(),
                    size: 1234,
                },
            },
        ] {
            let (kind, meta) = extra_columns(&extra);
            assert_eq!(extra_from_columns(kind, meta.as_deref()), extra);
        }
        assert_eq!(extra_from_columns("nonsense", Some("{")), MessageExtra::Chat);
    }
}
