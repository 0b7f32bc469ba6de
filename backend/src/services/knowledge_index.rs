//! Agents' knowledge indexes, built once per change and shared by every visitor message and every
//! "try it" of the agent.
//!
//! Every knowledge edit bumps `agents.knowledge_version` after writing the entries, in the same
//! transaction where there is one (`crate::store::knowledge::knowledge_changed`). A reader takes the version first, then the entries: an index
//! is kept under a version at most as new as its entries, so an edit racing with a build only
//! causes one more build, never a stale index. Other processes see the new version at their next
//! use (one indexed read per message), so no relay message is needed. Builds run on the blocking
//! thread pool (they take time proportional to the knowledge base), one at a time per agent:
//! concurrent askers wait for the build in progress instead of starting their own.
use crate::ai::retrieval::KnowledgeIndex;
use crate::error::{BackendError, Result};
use crate::principal::UserCtx;
use crate::services::Backend;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Slot = Arc<tokio::sync::Mutex<Option<(i64, Arc<KnowledgeIndex>)>>>;

/// The per-agent indexes of this process, and the rate of "try it" that uses them.
pub struct KnowledgeIndexes {
    slots: Mutex<HashMap<String, Slot>>,
    builds: AtomicU64,
    /// "Try it" answers per user.
    previews: crate::limits::RateWindow<String>,
}

impl KnowledgeIndexes {
    pub fn new(previews_per_minute: u32) -> Self {
        Self {
            slots: Mutex::default(),
            builds: AtomicU64::new(0),
            previews: crate::limits::RateWindow::new(previews_per_minute, Duration::from_secs(60)),
        }
    }

    fn slot(&self, agent_id: &str) -> Slot {
        self.slots.lock().unwrap_or_else(|e| e.into_inner()).entry(agent_id.to_string()).or_default().clone()
    }
}

impl Backend {
    /// The agent's knowledge index for answering: the cached one while the knowledge is
    /// unchanged, else a fresh one.
    pub async fn knowledge_index(&self, agent_id: &str) -> Result<Arc<KnowledgeIndex>> {
        let (version,): (i64,) = sqlx::query_as("SELECT knowledge_version FROM agents WHERE id = $1")
            .bind(agent_id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(BackendError::NotFound("agent"))?;
        let slot = self.knowledge_indexes.slot(agent_id);
        let mut cached = slot.lock().await;
        if let Some((v, index)) = cached.as_ref() {
            if *v == version {
                return Ok(index.clone());
            }
        }
        let entries = self.knowledge_of(agent_id).await?;
        let index = tokio::task::spawn_blocking(move || KnowledgeIndex::build(&entries))
            .await
            .map_err(|e| BackendError::Internal(format!("building the knowledge index: {e}")))?;
        let index = Arc::new(index);
        self.knowledge_indexes.builds.fetch_add(1, Ordering::SeqCst);
        *cached = Some((version, index.clone()));
        Ok(index)
    }

    /// How many knowledge indexes this process has built (tests, diagnostics).
    pub fn knowledge_index_builds(&self) -> u64 {
        self.knowledge_indexes.builds.load(Ordering::SeqCst)
    }

    /// Counts a "try it" of `user`, or refuses it (`previews_per_minute`).
    pub(crate) fn preview_allowed(&self, user: &UserCtx) -> Result<()> {
        self.knowledge_indexes.previews.hit(&user.id).map_err(|wait| {
            BackendError::RateLimited(format!("too many tries; try again in {}", crate::limits::wait_words(wait)))
        })
    }
}
