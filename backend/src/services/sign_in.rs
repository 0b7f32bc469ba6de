//! Signing in and out; the signed-in user of a session.
use crate::auth::{new_token, token_hash, verify_password};
use crate::error::{BackendError, Result};
use crate::ids::now_ms;
use crate::principal::UserCtx;
use crate::principal::{UserRow, USER_COLS};
use crate::services::Backend;
use sqlx::AssertSqlSafe;

impl Backend {
    /// Signs in. Failed attempts are limited per account and per client address
    /// (`sign_in_failures_per_account` / `_per_ip` within `sign_in_window_secs`); over the limit
    /// every attempt, right or wrong, answers "try again in N s" without checking the password.
    /// A deactivated user cannot sign in (the same error as a wrong password).
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        client_ip: Option<std::net::IpAddr>,
    ) -> Result<(String, UserCtx)> {
        let email = email.trim().to_lowercase();
        let limited = |wait: std::time::Duration| {
            BackendError::RateLimited(format!(
                "too many failed sign-in attempts; try again in {}",
                crate::limits::wait_words(wait)
            ))
        };
        self.sign_in_failures.0.check(&email).map_err(limited)?;
        if let Some(ip) = client_ip {
            self.sign_in_failures.1.check(&ip).map_err(limited)?;
        }
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT id, password_hash FROM users WHERE email = $1 AND active = 1")
                .bind(&email)
                .fetch_optional(self.pool())
                .await?;
        let (user_id, hash) = match row {
            Some(r) => r,
            // Spend the same time as a real check, so that e-mails cannot be probed by timing.
            None => (String::new(), "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaA".to_string()),
        };
        let ok = {
            let password = password.to_string();
            tokio::task::spawn_blocking(move || verify_password(&password, &hash)).await.unwrap_or(false)
        };
        if !ok || user_id.is_empty() {
            let _ = self.sign_in_failures.0.hit(&email);
            if let Some(ip) = client_ip {
                let _ = self.sign_in_failures.1.hit(&ip);
            }
            tracing::info!(ip = ?client_ip, "failed sign-in");
            return Err(BackendError::BadCredentials);
        }
        self.sign_in_failures.0.clear(&email);
        let token = new_token();
        let now = now_ms();
        sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(token_hash(&token))
            .bind(&user_id)
            .bind(now)
            .bind(now + self.config.session_hours * 3_600_000)
            .execute(self.writer())
            .await?;
        let user = self.user_by_id(&user_id).await?.ok_or(BackendError::BadCredentials)?;
        Ok((token, user))
    }

    pub async fn logout(&self, token: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash(token))
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// The signed-in user of a session token: one query (it runs on every request).
    pub async fn user_by_session(&self, token: &str) -> Result<Option<UserCtx>> {
        let row: Option<UserRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {USER_COLS} FROM sessions s JOIN users u ON u.id = s.user_id
             LEFT JOIN organizations o ON o.id = u.org_id
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active = 1"
        )))
        .bind(token_hash(token))
        .bind(now_ms())
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(UserRow::ctx))
    }

    async fn user_by_id(&self, id: &str) -> Result<Option<UserCtx>> {
        let row: Option<UserRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {USER_COLS} FROM users u LEFT JOIN organizations o ON o.id = u.org_id WHERE u.id = $1 AND u.active = 1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(UserRow::ctx))
    }
}
