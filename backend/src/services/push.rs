//! Browser push: the server's VAPID key, users' subscriptions, and sending pushes (see
//! `crate::webpush` for the protocol).
use crate::error::{field, BackendError, Result};
use crate::ids::{new_id, now_ms};
use crate::principal::UserCtx;
use crate::services::Backend;
use crate::webpush::{b64, encrypt, endpoint_allowed, unb64, vapid_subject, Vapid};
use p256::{PublicKey, SecretKey};
use std::time::Duration;

/// How long a push service keeps an undelivered push (seconds).
const TTL_SECS: u32 = 24 * 3600;
const PUSH_TIMEOUT: Duration = Duration::from_secs(15);

/// What a push to a user came to.
pub enum PushOutcome {
    /// At least one of the user's browsers got it.
    Delivered,
    /// Nothing to deliver to (no subscription left); the reason.
    Nowhere(String),
    /// A push service failed for now; try again later.
    Retry(String),
}

/// Sends pushes (one HTTP client, the server's VAPID key).
pub struct Pusher {
    http: reqwest::Client,
    vapid: Vapid,
}

impl Pusher {
    pub async fn new(backend: &Backend) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(PUSH_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| BackendError::Internal(format!("push client: {e}")))?;
        Ok(Self { http, vapid: backend.vapid().await? })
    }

    /// Sends `payload` to every subscription of the user; removes the ones that are gone.
    pub(crate) async fn push_to_user(
        &self,
        backend: &Backend,
        user_id: &str,
        payload: &str,
        urgent: bool,
    ) -> PushOutcome {
        let subs: Vec<(String, String, String, String)> =
            match sqlx::query_as("SELECT id, endpoint, p256dh, auth FROM push_subscriptions WHERE user_id = $1")
                .bind(user_id)
                .fetch_all(backend.pool())
                .await
            {
                Ok(s) => s,
                Err(e) => return PushOutcome::Retry(e.to_string()),
            };
        if subs.is_empty() {
            return PushOutcome::Nowhere("no browser subscribed".into());
        }
        let (mut delivered, mut retry) = (0, None);
        for (id, endpoint, p256dh, auth) in subs {
            match self.push_one(&endpoint, &p256dh, &auth, payload, urgent).await {
                Ok(()) => delivered += 1,
                Err(PushError::Gone) => {
                    tracing::info!(subscription = %id, "push subscription expired; removed");
                    let _ = sqlx::query("DELETE FROM push_subscriptions WHERE id = $1")
                        .bind(&id)
                        .execute(backend.pool())
                        .await;
                }
                Err(PushError::Refused(e)) => tracing::warn!(subscription = %id, error = %e, "push refused"),
                Err(PushError::Later(e)) => retry = Some(e),
            }
        }
        match (delivered, retry) {
            (0, Some(e)) => PushOutcome::Retry(e),
            (0, None) => PushOutcome::Nowhere("every push service refused or the subscriptions are gone".into()),
            _ => PushOutcome::Delivered,
        }
    }

    async fn push_one(
        &self,
        endpoint: &str,
        p256dh: &str,
        auth: &str,
        payload: &str,
        urgent: bool,
    ) -> Result<(), PushError> {
        let (Some(ua_public), Some(auth)) = (unb64(p256dh), unb64(auth)) else {
            return Err(PushError::Gone);
        };
        let body = encrypt(&ua_public, &auth, payload.as_bytes()).map_err(|_| PushError::Gone)?;
        let authorization = self.vapid.authorization(endpoint, now_ms() / 1000).map_err(PushError::Refused)?;
        let res = self
            .http
            .post(endpoint)
            .header("authorization", authorization)
            .header("content-encoding", "aes128gcm")
            .header("content-type", "application/octet-stream")
            .header("ttl", TTL_SECS.to_string())
            .header("urgency", if urgent { "high" } else { "normal" })
            .body(body)
            .send()
            .await
            .map_err(|e| PushError::Later(e.to_string()))?;
        let status = res.status().as_u16();
        match status {
            200..=299 => Ok(()),
            404 | 410 => Err(PushError::Gone),
            429 | 500..=599 => Err(PushError::Later(format!("push service answered {status}"))),
            _ => Err(PushError::Refused(format!("push service answered {status}"))),
        }
    }
}

enum PushError {
    /// The subscription no longer exists (or is unusable): remove it.
    Gone,
    /// A permanent refusal of this push (e.g. a bad request).
    Refused(String),
    /// Temporary: retry.
    Later(String),
}

impl Backend {
    /// The server's VAPID key pair, created at first use and shared by every process; read from
    /// the database once per process.
    pub async fn vapid(&self) -> Result<Vapid> {
        let key = self.vapid_key.get_or_try_init(|| self.load_vapid_key()).await?.clone();
        Ok(Vapid { key, subject: vapid_subject(&self.config) })
    }

    async fn load_vapid_key(&self) -> Result<SecretKey> {
        let stored = || sqlx::query_as::<_, (String,)>("SELECT value FROM server_keys WHERE name = 'vapid'");
        let value = match stored().fetch_optional(self.pool()).await? {
            Some((v,)) => v,
            None => {
                // Several processes may start at once: the first insert wins, all read it back.
                let fresh = SecretKey::random(&mut rand::rngs::OsRng);
                sqlx::query(
                    "INSERT INTO server_keys (name, value, created_at) VALUES ('vapid', $1, $2) ON CONFLICT (name) DO NOTHING",
                )
                .bind(self.secrets.seal(crate::secrets::VAPID, &b64(&fresh.to_bytes())))
                .bind(now_ms())
                .execute(self.writer())
                .await?;
                stored().fetch_one(self.pool()).await?.0
            }
        };
        let value =
            self.secrets.open(crate::secrets::VAPID, &value).map_err(|e| BackendError::Internal(e.to_string()))?;
        unb64(&value)
            .and_then(|b| SecretKey::from_slice(&b).ok())
            .ok_or_else(|| BackendError::Internal("the stored VAPID key is unreadable".into()))
    }

    /// Stores (or refreshes) a browser's push subscription for the user.
    pub async fn push_subscribe(&self, user: &UserCtx, endpoint: &str, p256dh: &str, auth: &str) -> Result<()> {
        user.conversations_org()?;
        if endpoint.len() > 2000 || !endpoint_allowed(endpoint, &self.config.push_endpoints) {
            return Err(field("endpoint", "this browser's push service is not allowed on this server"));
        }
        let key_ok = unb64(p256dh).is_some_and(|k| PublicKey::from_sec1_bytes(&k).is_ok());
        if !key_ok {
            return Err(field("p256dh", "not a P-256 public key"));
        }
        if unb64(auth).is_none_or(|a| a.len() != 16) {
            return Err(field("auth", "must be 16 bytes, base64url"));
        }
        let mut tx = self.begin_write().await?;
        // An endpoint belongs to one browser profile: whoever subscribed last owns it.
        sqlx::query("DELETE FROM push_subscriptions WHERE endpoint = $1").bind(endpoint).execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO push_subscriptions (id, user_id, endpoint, p256dh, auth, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(new_id())
        .bind(&user.id)
        .bind(endpoint)
        .bind(p256dh.trim_end_matches('='))
        .bind(auth.trim_end_matches('='))
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes one of the user's subscriptions (a browser turning push off).
    pub async fn push_unsubscribe(&self, user: &UserCtx, endpoint: &str) -> Result<()> {
        sqlx::query("DELETE FROM push_subscriptions WHERE endpoint = $1 AND user_id = $2")
            .bind(endpoint)
            .bind(&user.id)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// How many browsers the user has subscribed.
    pub async fn push_subscriptions(&self, user: &UserCtx) -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM push_subscriptions WHERE user_id = $1")
            .bind(&user.id)
            .fetch_one(self.pool())
            .await?;
        Ok(n)
    }
}
