//! Typing indicators both ways (issue 23): the visitor's widget says the visitor is typing (with
//! the unsent text, which the organization's dashboards see only when its `typing_preview`
//! setting is on), the dashboard of the agent holding a conversation says they are typing. Never
//! stored; each side's frames count at most once a second per conversation (in this process —
//! frames over it are dropped without an answer: a lost typing hint does no harm, the next one
//! comes a second later). The visitor's hint goes to its organization's dashboards only
//! (`publish_org`), the agent's to the conversation's visitor and dashboards.
use crate::error::Result;
use crate::limits::RateWindow;
use crate::principal::{UserCtx, VisitorCtx};
use crate::services::Backend;
use domain::handoff::HandoffState;
use domain::values::typing_preview;
use domain::wire::ServerFrame;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long an organization's `typing_preview` setting is taken from memory before it is read
/// again (a change reaches other processes within this time; this one's at once).
const SETTING_FOR: Duration = Duration::from_secs(5);

/// The per-conversation rate of typing frames and the organizations' preview settings as last read.
pub(crate) struct Typing {
    rate: RateWindow<String>,
    previews: Mutex<HashMap<String, (bool, Instant)>>,
}

impl Default for Typing {
    fn default() -> Self {
        Self { rate: RateWindow::new(1, Duration::from_secs(1)), previews: Mutex::default() }
    }
}

impl Typing {
    /// Forgets an organization's setting (it was just saved).
    pub(crate) fn forget(&self, org_id: &str) {
        self.previews.lock().expect("typing lock").remove(org_id);
    }
}

impl Backend {
    /// The visitor is typing: tells the organization's dashboards (those watching the
    /// conversation show it), with the unsent text when the organization shows it.
    pub async fn visitor_typing(&self, visitor: &VisitorCtx, preview: &str) {
        if self.typing.rate.hit(&format!("v {}", visitor.conversation_id)).is_err() {
            return;
        }
        let preview = match self.shows_typing_preview(&visitor.org_id).await {
            true => typing_preview(preview),
            false => String::new(),
        };
        let frame = ServerFrame::VisitorTyping { conversation_id: visitor.conversation_id.clone(), preview };
        self.hub.publish_org(&visitor.org_id, frame);
    }

    /// The agent is typing in a conversation: told to its visitor and dashboards when the agent
    /// holds it (anyone else's typing is nobody's business: ignored).
    pub async fn human_typing(&self, user: &UserCtx, conversation_id: &str) -> Result<()> {
        if self.typing.rate.hit(&format!("a {conversation_id} {}", user.id)).is_err() {
            return Ok(());
        }
        let org = self.handling_org(user, conversation_id).await?;
        let (state, _) = self.conversation_state(conversation_id, &org).await?;
        if matches!(state, HandoffState::Human { agent } if agent.id == user.id) {
            let frame =
                ServerFrame::HumanTyping { conversation_id: conversation_id.to_owned(), agent: user.agent_ref() };
            self.hub.publish(&org, conversation_id, frame);
        }
        Ok(())
    }

    /// Whether the organization shows agents what visitors type (a failed read: no).
    async fn shows_typing_preview(&self, org_id: &str) -> bool {
        let now = Instant::now();
        if let Some((on, at)) = self.typing.previews.lock().expect("typing lock").get(org_id) {
            if now.duration_since(*at) < SETTING_FOR {
                return *on;
            }
        }
        let read: Option<(i64,)> = sqlx::query_as("SELECT typing_preview FROM organizations WHERE id = $1")
            .bind(org_id)
            .fetch_optional(self.pool())
            .await
            .unwrap_or_default();
        let on = read.is_some_and(|(v,)| v != 0);
        let mut previews = self.typing.previews.lock().expect("typing lock");
        if previews.len() > 10_000 {
            previews.clear(); // bounded: re-read as needed
        }
        previews.insert(org_id.to_owned(), (on, now));
        on
    }
}
