//! The visitor's side: sessions on a widget, messages, "talk to a human".
use crate::auth::{new_token, token_hash};
use crate::conversation::{Guard, Posted};
use crate::error::{BackendError, Result};
use crate::ids::{new_id, now_ms};
use crate::principal::VisitorCtx;
use crate::services::transcript::Content;
use crate::services::Backend;
use crate::store::messages;
use domain::handoff::{HandoffEvent, HandoffState, Requester};
use domain::values::{ClientMsgId, MessageText};
use domain::wire::{Author, VisitorSession, WidgetConfig};

impl Backend {
    async fn widget_config(&self, widget_id: &str) -> Result<(WidgetConfig, String, String)> {
        let row: Option<(String, String, String, String, i64, i64)> = sqlx::query_as(
            "SELECT w.org_id, w.agent_id, a.name, a.greeting, a.handoff_enabled, a.handoff_fixed
             FROM widgets w JOIN agents a ON a.id = w.agent_id WHERE w.id = $1",
        )
        .bind(widget_id)
        .fetch_optional(self.pool())
        .await?;
        let (org_id, agent_id, agent_name, greeting, enabled, fixed) = row.ok_or(BackendError::NotFound("widget"))?;
        Ok((
            WidgetConfig {
                widget_id: widget_id.to_string(),
                agent_name,
                greeting,
                handoff_enabled: enabled != 0,
                handoff_fixed: fixed != 0 && enabled != 0,
            },
            org_id,
            agent_id,
        ))
    }

    /// Starts or resumes a visitor's session on a widget. A token that is unknown or belongs to
    /// another widget starts a new visitor (it never grants access to anything else).
    /// The origins allowed to embed a widget (`None`: no such widget; empty: any). Stored as a
    /// list separated by spaces, commas or line breaks.
    pub async fn widget_allowed_origins(&self, widget_id: &str) -> Result<Option<Vec<String>>> {
        let row: Option<(String,)> = sqlx::query_as("SELECT allowed_origins FROM widgets WHERE id = $1")
            .bind(widget_id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|(list,)| {
            list.split(|c: char| c == ',' || c.is_whitespace())
                .map(|o| o.trim_end_matches('/').to_string())
                .filter(|o| !o.is_empty())
                .collect()
        }))
    }

    /// `client_ip`: where the request came from, for the limit on new chats per address.
    pub async fn visitor_session(
        &self,
        widget_id: &str,
        token: Option<&str>,
        client_ip: Option<std::net::IpAddr>,
    ) -> Result<VisitorSession> {
        let (widget, org_id, agent_id) = self.widget_config(widget_id).await?;
        let known: Option<(String, String)> = match token.filter(|t| !t.is_empty()) {
            Some(t) => {
                sqlx::query_as(
                    "SELECT id, name FROM visitors WHERE token_hash = $1 AND widget_id = $2 AND created_at >= $3",
                )
                .bind(token_hash(t))
                .bind(widget_id)
                .bind(self.visitor_token_cutoff())
                .fetch_optional(self.pool())
                .await?
            }
            None => None,
        };
        let (token, visitor_id, visitor_name) = match known {
            Some((id, name)) => (token.unwrap_or_default().to_string(), id, name),
            None => {
                let network = client_ip.map(crate::limits::client_key);
                if let Some(wait) = network.and_then(|ip| self.new_visitors.hit(&ip).err()) {
                    return Err(BackendError::RateLimited(format!(
                        "too many new chats from your network; please try again in {}",
                        crate::limits::wait_words(wait)
                    )));
                }
                let token = new_token();
                let id = new_id();
                let name = format!("Visitor {}", id[..4].to_uppercase());
                sqlx::query(
                    "INSERT INTO visitors (id, widget_id, token_hash, name, created_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&id)
                .bind(widget_id)
                .bind(token_hash(&token))
                .bind(&name)
                .bind(now_ms())
                .execute(self.writer())
                .await?;
                (token, id, name)
            }
        };
        let open: Option<(String,)> = sqlx::query_as(
            "SELECT id FROM conversations WHERE visitor_id = $1 AND state <> 'closed' ORDER BY created_at DESC LIMIT 1",
        )
        .bind(&visitor_id)
        .fetch_optional(self.pool())
        .await?;
        let conversation_id = match open {
            Some((id,)) => id,
            None => {
                let id = new_id();
                let now = now_ms();
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO conversations (id, org_id, widget_id, agent_id, visitor_id, visitor_name, state, state_version, state_since, last_seq, last_activity, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, 'ai', 0, $7, 0, $7, $7)",
                )
                .bind(&id)
                .bind(&org_id)
                .bind(widget_id)
                .bind(&agent_id)
                .bind(&visitor_id)
                .bind(&visitor_name)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                let (greeting, row) =
                    messages::append(&mut tx, &id, &org_id, &Author::Ai, Guard::Always, None, &widget.greeting).await?;
                tx.commit().await?;
                self.after_append(&greeting, &row);
                id
            }
        };
        Ok(VisitorSession { token, conversation_id, visitor_name, widget })
    }

    /// Resolves a visitor token to the visitor's latest conversation.
    pub async fn visitor_by_token(&self, token: &str) -> Result<VisitorCtx> {
        let row: Option<(String, String, String)> = sqlx::query_as(
            "SELECT v.id, c.org_id, c.id FROM visitors v JOIN conversations c ON c.visitor_id = v.id
             WHERE v.token_hash = $1 AND v.created_at >= $2 ORDER BY c.created_at DESC LIMIT 1",
        )
        .bind(token_hash(token))
        .bind(self.visitor_token_cutoff())
        .fetch_optional(self.pool())
        .await?;
        let (visitor_id, org_id, conversation_id) =
            row.ok_or_else(|| BackendError::Forbidden("unknown visitor token".into()))?;
        Ok(VisitorCtx { visitor_id, org_id, conversation_id })
    }

    /// A visitor's chat message. Triggers the AI when it holds the conversation.
    pub async fn visitor_send(&self, v: &VisitorCtx, client_msg_id: &str, text: &str) -> Result<Posted> {
        let id = ClientMsgId::parse(client_msg_id)?;
        let text = MessageText::parse(text)?;
        self.visitor_post(v, &id, Content::Text(text.as_str().to_string())).await
    }

    /// Appends a visitor's message or file (published with the bell's notifications once stored)
    /// and, when the AI holds the conversation, asks it for a reply.
    pub(crate) async fn visitor_post(&self, v: &VisitorCtx, id: &ClientMsgId, content: Content) -> Result<Posted> {
        let posted =
            self.append_or_replay(&v.conversation_id, &v.org_id, &Author::Visitor, Guard::Open, id, content).await?;
        if let (false, Some(row)) = (posted.duplicate, &posted.row) {
            if row.state == "ai" {
                self.spawn_ai_reply(v.conversation_id.clone(), v.org_id.clone(), row.state_version);
            }
        }
        Ok(Posted { message: posted.message, duplicate: posted.duplicate })
    }

    /// Refuses (`Forbidden`, with `refusal`) when the visitor's conversation's AI agent has
    /// handoff disabled: then neither a human nor the e-mail form is on offer.
    pub(crate) async fn require_handoff_enabled(&self, v: &VisitorCtx, refusal: &str) -> Result<()> {
        let enabled: Option<(i64,)> = sqlx::query_as(
            "SELECT a.handoff_enabled FROM conversations c JOIN agents a ON a.id = c.agent_id WHERE c.id = $1 AND c.org_id = $2",
        )
        .bind(&v.conversation_id)
        .bind(&v.org_id)
        .fetch_optional(self.pool())
        .await?;
        match enabled {
            None => Err(BackendError::NotFound("conversation")),
            Some((0,)) => Err(BackendError::Forbidden(refusal.into())),
            Some(_) => Ok(()),
        }
    }

    /// "Talk to a human". Refused when the conversation's AI agent has handoff disabled (the
    /// widget hides the button then; this is the server-side check).
    pub async fn visitor_request_human(&self, v: &VisitorCtx) -> Result<HandoffState> {
        self.require_handoff_enabled(v, "talking to a human is not available here").await?;
        self.handoff(&v.conversation_id, &v.org_id, HandoffEvent::RequestHuman { by: Requester::Visitor }).await
    }
}
