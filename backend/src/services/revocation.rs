//! Revocation of live dashboard sockets (issue #20, item 4).
//!
//! A session check at upgrade time is not enough: a socket lives for hours. Whenever a user's
//! access may have shrunk — deactivation, a password set or changed, logout, a move to another
//! organization, a change of permissions — [`Backend::revoke`] names the user on a process-wide
//! channel, and on PostgreSQL also to every other process (`NOTIFY handoff_revocations`). Each
//! of that user's dashboard sockets then re-reads its session ([`Backend::dashboard_user`]) and
//! closes when the session, the organization or the *conversations* permission is gone. Sockets
//! also re-check on every `watch` and on their presence tick, so a lost notice (the relay
//! reconnecting) delays a revocation by at most that tick.
use crate::error::Result;
use crate::principal::UserCtx;
use crate::services::human_agent_chat::ListScope;
use crate::services::Backend;
use sqlx::postgres::PgListener;
use std::time::Duration;
use tokio::sync::broadcast;

pub const CHANNEL: &str = "handoff_revocations";

/// The process-wide channel of revoked user ids.
pub struct Revocations(broadcast::Sender<String>);

impl Default for Revocations {
    fn default() -> Self {
        Self(broadcast::channel(1024).0)
    }
}

impl Backend {
    /// The user ids whose access may have changed from now on (a lagging receiver must re-check).
    pub fn revocations(&self) -> broadcast::Receiver<String> {
        self.revocations.0.subscribe()
    }

    /// Tells every process that `user_id`'s access may have shrunk: their live sockets re-check.
    pub(crate) async fn revoke(&self, user_id: &str) {
        let _ = self.revocations.0.send(user_id.to_string());
        if self.db.kind == crate::db::DbKind::Postgres {
            let notified =
                sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(user_id).execute(self.pool()).await;
            if let Err(e) = notified {
                tracing::warn!(error = %e, "could not relay a revocation; other processes re-check on their next tick");
            }
        }
    }

    /// The user of a dashboard socket's session as it is now, if they may still watch `scope`
    /// live (their organization `org`'s conversations, or as a platform admin an AI agent's);
    /// `None` closes the socket (also when the database cannot tell).
    pub async fn dashboard_user(&self, session_token: &str, scope: &ListScope, org: &str) -> Option<UserCtx> {
        let user = self.user_by_session(session_token).await.ok().flatten()?;
        let allowed = match scope {
            ListScope::MyOrganization => user.conversations_org().ok() == Some(org),
            ListScope::AiAgent(_) => user.is_admin(),
        };
        allowed.then_some(user)
    }
}

/// Relays revocations from the other processes into this one's channel.
pub(crate) async fn start_relay(backend: &Backend, url: &str) -> Result<()> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    let tx = backend.revocations.0.clone();
    tokio::spawn(async move {
        loop {
            match listener.try_recv().await {
                Ok(Some(n)) => {
                    let _ = tx.send(n.payload().to_string());
                }
                Ok(None) => tracing::warn!("revocation relay connection lost; reconnecting"),
                Err(e) => {
                    tracing::warn!(error = %e, "revocation relay unavailable; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    });
    Ok(())
}
