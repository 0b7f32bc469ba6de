//! Typing indicators both ways (issue 23): the visitor's widget says the visitor is typing (with
//! the unsent text, which the organization's dashboards see only when its `typing_preview`
//! setting is on), the dashboard of the agent holding a conversation says they are typing. Never
//! stored; each side's frames count at most once a second per conversation (in this process —
//! frames over it are dropped without an answer: a lost typing hint does no harm, the next one
//! comes a second later). The visitor's hint goes to its organization's dashboards only
//! (`publish_org`), the agent's to the conversation's visitor and dashboards.
use crate::error::Result;
use crate::ids::MAX_ID_LEN;
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
    /// Per organization: the setting, when it was read, and the generation it was read in.
    previews: Mutex<(HashMap<String, (bool, Instant)>, u64)>,
}

impl Default for Typing {
    fn default() -> Self {
        Self { rate: RateWindow::new(1, Duration::from_secs(1)), previews: Mutex::default() }
    }
}

impl Typing {
    /// Forgets an organization's setting (it was just saved); a read begun before this one is
    /// not kept.
    pub(crate) fn forget(&self, org_id: &str) {
        let mut previews = self.previews.lock().expect("typing lock");
        previews.0.remove(org_id);
        previews.1 += 1;
    }

    /// Whether the organization shows the preview, if known and fresh; else the generation to
    /// read it in.
    fn known(&self, org_id: &str, now: Instant) -> Result<bool, u64> {
        let previews = self.previews.lock().expect("typing lock");
        match previews.0.get(org_id) {
            Some((on, at)) if now.duration_since(*at) < SETTING_FOR => Ok(*on),
            _ => Err(previews.1),
        }
    }

    fn remember(&self, org_id: &str, on: bool, at: Instant, generation: u64) {
        let mut previews = self.previews.lock().expect("typing lock");
        if previews.1 != generation {
            return; // saved meanwhile: the next read asks again
        }
        if previews.0.len() > 10_000 {
            previews.0.clear(); // bounded: re-read as needed
        }
        previews.0.insert(org_id.to_owned(), (on, at));
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
        // Per user, whatever the conversation: ids are the client's to choose, keys stay few.
        if conversation_id.len() > MAX_ID_LEN || self.typing.rate.hit(&format!("a {}", user.id)).is_err() {
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

    /// Whether the widget's organization shows agents what visitors type: the widget's page sends
    /// no text where it does not (unknown widgets, failed reads: no).
    pub async fn widget_typing_preview(&self, widget_id: &str) -> bool {
        let org: Option<(String,)> = sqlx::query_as("SELECT org_id FROM widgets WHERE id = $1")
            .bind(widget_id)
            .fetch_optional(self.pool())
            .await
            .unwrap_or_default();
        match org {
            Some((org,)) => self.shows_typing_preview(&org).await,
            None => false,
        }
    }

    /// Whether the organization shows agents what visitors type (a failed read: no).
    pub async fn shows_typing_preview(&self, org_id: &str) -> bool {
        let now = Instant::now();
        let generation = match self.typing.known(org_id, now) {
            Ok(on) => return on,
            Err(generation) => generation,
        };
        let read: Option<(i64,)> = sqlx::query_as("SELECT typing_preview FROM organizations WHERE id = $1")
            .bind(org_id)
            .fetch_optional(self.pool())
            .await
            .unwrap_or_default();
        let on = read.is_some_and(|(v,)| v != 0);
        self.typing.remember(org_id, on, now, generation);
        on
    }
}
