//! Signing in and out; the signed-in user of a session.
use crate::auth::{cookie_value, new_token, session_cookie_name, token_hash};
use crate::error::{BackendError, Result};
use crate::ids::now_ms;
use crate::principal::UserCtx;
use crate::principal::{UserRow, USER_COLS};
use crate::services::Backend;
use sqlx::AssertSqlSafe;

impl Backend {
    /// Signs in. Failed attempts are limited per account and per client network
    /// (`sign_in_failures_per_account` / `_per_ip` within `sign_in_window_secs`, counted in the
    /// database before the password is checked: see [`crate::services::sign_in_limits`]); over
    /// the limit every attempt, right or wrong, answers "try again in N s" without checking the
    /// password. An unknown address costs a real Argon2 verification too. A deactivated user
    /// cannot sign in (the same error as a wrong password).
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        client_ip: Option<std::net::IpAddr>,
    ) -> Result<(String, UserCtx)> {
        let email = email.trim().to_lowercase();
        let attempt = self.begin_sign_in(&email, client_ip).await?;
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT id, password_hash FROM users WHERE email = $1 AND active = 1")
                .bind(&email)
                .fetch_optional(self.pool())
                .await?;
        let (user_id, hash) = row.map_or((String::new(), None), |(id, hash)| (id, Some(hash)));
        // Without an account, a stand-in hash is verified: e-mails cannot be probed by timing.
        if !self.verify_sign_in(password, hash).await {
            tracing::info!(ip = ?client_ip, "failed sign-in");
            return Err(BackendError::BadCredentials);
        }
        self.sign_in_succeeded(attempt).await?;
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

    /// Ends the session; the user's live sockets of that session close (see
    /// [`crate::services::revocation`]).
    pub async fn logout(&self, token: &str) -> Result<()> {
        let ended: Option<(String,)> = sqlx::query_as("DELETE FROM sessions WHERE token_hash = $1 RETURNING user_id")
            .bind(token_hash(token))
            .fetch_optional(self.writer())
            .await?;
        if let Some((user_id,)) = ended {
            self.revoke(&user_id).await;
        }
        Ok(())
    }

    /// The session cookie's name on this site (see [`session_cookie_name`]).
    pub fn session_cookie_name(&self) -> &'static str {
        session_cookie_name(self.config.https_site())
    }

    /// The session token in a `Cookie:` header, under this site's cookie name.
    pub fn session_from_cookies<'a>(&self, cookie_header: &'a str) -> Option<&'a str> {
        cookie_value(cookie_header, self.session_cookie_name())
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
