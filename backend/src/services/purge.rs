//! The purge (issue #20, item 9): every `purge_every_ms` each process's worker (started in
//! `crate::runtime`) deletes expired sessions and sign-in counts whose window ended, and retires
//! visitor tokens older than `visitor_token_days` (the token is replaced by an unusable value;
//! the visitor's conversations stay for the organization). An old token is refused even before the worker runs: see
//! [`Backend::visitor_token_cutoff`].
use crate::error::Result;
use crate::ids::now_ms;
use crate::services::Backend;

impl Backend {
    /// Visitor tokens created before this instant (epoch ms) are expired (0: none expire).
    pub(crate) fn visitor_token_cutoff(&self) -> i64 {
        match self.config.visitor_token_days {
            0 => 0,
            days => now_ms() - days * 86_400_000,
        }
    }

    /// One purge: (sessions, visitor tokens, sign-in counts) removed.
    pub async fn purge_expired(&self) -> Result<(u64, u64, u64)> {
        let now = now_ms();
        let sessions =
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now).execute(self.writer()).await?;
        let tokens = sqlx::query(
            "UPDATE visitors SET token_hash = 'expired:' || id WHERE created_at < $1 AND token_hash NOT LIKE 'expired:%'",
        )
        .bind(self.visitor_token_cutoff())
        .execute(self.writer())
        .await?;
        let counts = sqlx::query("DELETE FROM sign_in_attempts WHERE window_start <= $1")
            .bind(now - self.sign_in_window_ms())
            .execute(self.writer())
            .await?;
        Ok((sessions.rows_affected(), tokens.rows_affected(), counts.rows_affected()))
    }
}
