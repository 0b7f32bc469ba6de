//! What protects sign-in (issue #20, items 5 and 6):
//!
//! * **Attempts are counted in the database before the password is checked**: one atomic
//!   statement (`INSERT … ON CONFLICT DO UPDATE … RETURNING`) records the attempt and returns
//!   the count, so a parallel burst cannot slip past the limit, and every server process sharing
//!   the database sees the same counts. An attempt that succeeds is taken back (the account's
//!   count is cleared, the address's lowered by one), so only failures stay counted. Counts live
//!   in fixed windows of `sign_in_window_secs` from the first attempt.
//! * **Keys are bounded and say nothing**: the SHA-256 of the e-mail address or of the client's
//!   network (IPv6 per /64, see [`crate::limits::client_key`]), never the address itself.
//! * **Unknown addresses cost the same**: the password is verified against a real Argon2 hash
//!   made once per process (a random password), so the answer takes as long as for an account.
use crate::auth::{argon2_verify, hash_password, new_token, token_hash};
use crate::error::{BackendError, Result};
use crate::ids::now_ms;
use crate::services::Backend;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Per process: how many Argon2 verifications sign-in ran (tests check that unknown addresses
/// run one too).
#[derive(Default)]
pub struct SignInStats {
    verifications: Arc<AtomicU64>,
}

/// The stand-in hash verified for addresses without an account: a valid Argon2id hash with the
/// same parameters as real ones.
fn stand_in_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| hash_password(&new_token()).unwrap_or_default())
}

/// The attempt recorded by [`Backend::begin_sign_in`], taken back on success.
pub(crate) struct SignInAttempt {
    account: Option<String>,
    address: Option<String>,
}

impl Backend {
    /// Records a sign-in attempt for the account and the client's network and refuses it when
    /// either is over its limit (then no password is checked).
    pub(crate) async fn begin_sign_in(&self, email: &str, client_ip: Option<IpAddr>) -> Result<SignInAttempt> {
        let c = &self.config;
        let account = (c.sign_in_failures_per_account > 0).then(|| format!("a:{}", token_hash(email)));
        let address = client_ip
            .filter(|_| c.sign_in_failures_per_ip > 0)
            .map(|ip| format!("i:{}", token_hash(&crate::limits::client_key(ip).to_string())));
        if let Some(key) = &account {
            self.count_attempt(key, c.sign_in_failures_per_account).await?;
        }
        if let Some(key) = &address {
            self.count_attempt(key, c.sign_in_failures_per_ip).await?;
        }
        Ok(SignInAttempt { account, address })
    }

    /// Adds one attempt to `key`'s window (a new window when the last one ended) and refuses
    /// when the window now holds more than `max`.
    async fn count_attempt(&self, key: &str, max: u32) -> Result<()> {
        let now = now_ms();
        let window = self.sign_in_window_ms();
        let (attempts, since): (i64, i64) = sqlx::query_as(
            "INSERT INTO sign_in_attempts (limit_key, window_start, attempts) VALUES ($1, $2, 1)
             ON CONFLICT (limit_key) DO UPDATE SET
               attempts = CASE WHEN sign_in_attempts.window_start <= $3 THEN 1 ELSE sign_in_attempts.attempts + 1 END,
               window_start = CASE WHEN sign_in_attempts.window_start <= $3 THEN $2 ELSE sign_in_attempts.window_start END
             RETURNING attempts, window_start",
        )
        .bind(key)
        .bind(now)
        .bind(now - window)
        .fetch_one(self.writer())
        .await?;
        if attempts > i64::from(max) {
            let wait = Duration::from_millis((since + window - now).max(1) as u64);
            return Err(BackendError::RateLimited(format!(
                "too many failed sign-in attempts; try again in {}",
                crate::limits::wait_words(wait)
            )));
        }
        Ok(())
    }

    /// A successful sign-in: its attempt is not a failure.
    pub(crate) async fn sign_in_succeeded(&self, attempt: SignInAttempt) -> Result<()> {
        if let Some(key) = attempt.account {
            sqlx::query("DELETE FROM sign_in_attempts WHERE limit_key = $1").bind(key).execute(self.writer()).await?;
        }
        if let Some(key) = attempt.address {
            sqlx::query("UPDATE sign_in_attempts SET attempts = attempts - 1 WHERE limit_key = $1 AND attempts > 0")
                .bind(key)
                .execute(self.writer())
                .await?;
        }
        Ok(())
    }

    /// Verifies `password` against the account's hash, or against the stand-in hash when there
    /// is no account (`None`): the same work either way.
    pub(crate) async fn verify_sign_in(&self, password: &str, hash: Option<String>) -> bool {
        let (password, ran) = (password.to_string(), self.sign_in_stats.verifications.clone());
        tokio::task::spawn_blocking(move || {
            let verified = argon2_verify(&password, hash.as_deref().unwrap_or_else(|| stand_in_hash()));
            if verified.is_some() {
                ran.fetch_add(1, Ordering::Relaxed);
            }
            verified == Some(true) && hash.is_some()
        })
        .await
        .unwrap_or(false)
    }

    /// How many Argon2 verifications sign-in ran in this process (known and unknown addresses
    /// alike).
    pub fn password_verifications(&self) -> u64 {
        self.sign_in_stats.verifications.load(Ordering::Relaxed)
    }

    pub(crate) fn sign_in_window_ms(&self) -> i64 {
        self.config.sign_in_window_secs as i64 * 1000
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_stand_in_hash_is_a_real_argon2_hash() {
        let hash = super::stand_in_hash();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(argon2::password_hash::PasswordHash::new(hash).is_ok());
        assert!(!crate::auth::verify_password("anything", hash));
    }
}
