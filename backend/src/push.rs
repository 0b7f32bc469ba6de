//! Browser push notifications (Web Push): RFC 8030 delivery, RFC 8291 message encryption
//! (`aes128gcm`), RFC 8292 VAPID identification.
//!
//! * The server's VAPID key pair is generated at first start and stored in `server_keys`, so
//!   every process signs with the same key and subscriptions survive restarts.
//! * A dashboard subscribes through its service worker and hands the subscription (endpoint,
//!   `p256dh`, `auth`) to [`Backend::push_subscribe`]. Endpoints must belong to a configured push
//!   service (`push_endpoints`): the server never POSTs to arbitrary URLs a user supplies.
//! * Pushes go through the outbox (kind `push`, one queued row per user, see `mail`): the
//!   payload is composed at send time from the user's unread, not yet pushed notifications and
//!   sent to each of the user's subscriptions. Gone subscriptions (404/410) are removed.
use crate::config::Config;
use crate::error::{BackendError, Result};
use crate::{new_id, now_ms, Backend};
use aes_gcm::aead::Aead;
use aes_gcm::{Aes128Gcm, KeyInit, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use domain::field::FieldError;
use hkdf::Hkdf;
use p256::ecdsa::signature::Signer;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use sha2::Sha256;
use std::time::Duration;

/// Record size announced in the encrypted body; payloads stay far below it.
const RECORD_SIZE: u32 = 4096;
/// Largest payload (JSON) the server sends.
pub const MAX_PAYLOAD: usize = 3000;
/// How long a push service keeps an undelivered push (seconds).
const TTL_SECS: u32 = 24 * 3600;
const PUSH_TIMEOUT: Duration = Duration::from_secs(15);

/// Base64url without padding, as Web Push uses it; decoding also accepts padding.
pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn unb64(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.trim().trim_end_matches('=')).ok()
}

/// An uncompressed P-256 point (65 bytes) of a public key.
pub fn public_bytes(key: &PublicKey) -> Vec<u8> {
    key.to_encoded_point(false).as_bytes().to_vec()
}

/// RFC 8291 key schedule: the content-encryption key and nonce for one message.
fn content_keys(
    ecdh_secret: &[u8],
    auth: &[u8],
    ua_public: &[u8],
    as_public: &[u8],
    salt: &[u8],
) -> ([u8; 16], [u8; 12]) {
    let mut key_info = b"WebPush: info\0".to_vec();
    key_info.extend_from_slice(ua_public);
    key_info.extend_from_slice(as_public);
    let mut ikm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(auth), ecdh_secret).expand(&key_info, &mut ikm).expect("32 bytes is a valid length");
    let prk = Hkdf::<Sha256>::new(Some(salt), &ikm);
    let (mut cek, mut nonce) = ([0u8; 16], [0u8; 12]);
    prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek).expect("valid length");
    prk.expand(b"Content-Encoding: nonce\0", &mut nonce).expect("valid length");
    (cek, nonce)
}

/// Encrypts a push message for a subscription (`ua_public`: its `p256dh`, `auth`: its secret)
/// with a fresh sender key and salt. The result is the request body (`aes128gcm`, one record).
pub fn encrypt(ua_public: &[u8], auth: &[u8], plaintext: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let ua = PublicKey::from_sec1_bytes(ua_public).map_err(|_| "the subscription's p256dh key is not a P-256 point")?;
    let local = SecretKey::random(&mut rand::rngs::OsRng);
    let as_public = public_bytes(&local.public_key());
    let shared = p256::ecdh::diffie_hellman(local.to_nonzero_scalar(), ua.as_affine());
    let salt: [u8; 16] = rand::random();
    let (cek, nonce) = content_keys(shared.raw_secret_bytes(), auth, ua_public, &as_public, &salt);
    let mut padded = plaintext.to_vec();
    padded.push(2); // the last (and only) record's delimiter
    let cipher = Aes128Gcm::new_from_slice(&cek).map_err(|e| e.to_string())?;
    let sealed = cipher.encrypt(Nonce::from_slice(&nonce), padded.as_slice()).map_err(|e| e.to_string())?;
    let mut body = Vec::with_capacity(86 + sealed.len());
    body.extend_from_slice(&salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(as_public.len() as u8);
    body.extend_from_slice(&as_public);
    body.extend_from_slice(&sealed);
    Ok(body)
}

/// Decrypts an `aes128gcm` push body as the browser does (`ua_secret`: the subscription's
/// private key). Used by tests, and a check of [`encrypt`].
pub fn decrypt(ua_secret: &SecretKey, auth: &[u8], body: &[u8]) -> std::result::Result<Vec<u8>, String> {
    if body.len() < 21 {
        return Err("body too short".into());
    }
    let (salt, rest) = body.split_at(16);
    let id_len = rest[4] as usize;
    let rest = &rest[5..];
    if rest.len() < id_len {
        return Err("body too short".into());
    }
    let (as_public, sealed) = rest.split_at(id_len);
    let sender = PublicKey::from_sec1_bytes(as_public).map_err(|_| "bad sender key")?;
    let shared = p256::ecdh::diffie_hellman(ua_secret.to_nonzero_scalar(), sender.as_affine());
    let ua_public = public_bytes(&ua_secret.public_key());
    let (cek, nonce) = content_keys(shared.raw_secret_bytes(), auth, &ua_public, as_public, salt);
    let cipher = Aes128Gcm::new_from_slice(&cek).map_err(|e| e.to_string())?;
    let mut plain = cipher.decrypt(Nonce::from_slice(&nonce), sealed).map_err(|_| "authentication failed")?;
    match plain.iter().rposition(|&b| b != 0) {
        Some(i) if plain[i] == 2 => {
            plain.truncate(i);
            Ok(plain)
        }
        _ => Err("bad padding".into()),
    }
}

/// The server's VAPID identity.
#[derive(Clone)]
pub struct Vapid {
    key: SecretKey,
    /// `mailto:` or `https:` contact of the operator, as the push services ask for.
    subject: String,
}

impl Vapid {
    /// The application server key browsers subscribe with (base64url, uncompressed point).
    pub fn public_key(&self) -> String {
        b64(&public_bytes(&self.key.public_key()))
    }

    /// The `Authorization` header for a push to `endpoint`: a signed JWT (ES256) naming the
    /// endpoint's origin, valid for 12 hours.
    pub fn authorization(&self, endpoint: &str, now_secs: i64) -> std::result::Result<String, String> {
        let url = reqwest::Url::parse(endpoint).map_err(|e| e.to_string())?;
        let audience = url.origin().ascii_serialization();
        let header = b64(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = b64(serde_json::json!({"aud": audience, "exp": now_secs + 12 * 3600, "sub": self.subject})
            .to_string()
            .as_bytes());
        let signing_input = format!("{header}.{claims}");
        let signer = p256::ecdsa::SigningKey::from(&self.key);
        let signature: p256::ecdsa::Signature = signer.sign(signing_input.as_bytes());
        Ok(format!("vapid t={signing_input}.{}, k={}", b64(&signature.to_bytes()), self.public_key()))
    }
}

/// Whether `endpoint` belongs to one of the configured push services. Entries are URL prefixes;
/// `https://*.example.com/` matches any subdomain of example.com.
pub fn endpoint_allowed(endpoint: &str, allowed: &[String]) -> bool {
    let Ok(url) = reqwest::Url::parse(endpoint) else { return false };
    if url.username() != "" || url.password().is_some() {
        return false;
    }
    allowed.iter().any(|prefix| match prefix.split_once("://*.") {
        Some((scheme, rest)) => {
            let (suffix, path) = rest.split_once('/').unwrap_or((rest, ""));
            url.scheme() == scheme
                && url.host_str().is_some_and(|h| h.ends_with(&format!(".{suffix}")))
                && url.path().trim_start_matches('/').starts_with(path)
        }
        None => endpoint.starts_with(prefix.as_str()),
    })
}

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
                .bind(b64(&fresh.to_bytes()))
                .bind(now_ms())
                .execute(self.writer())
                .await?;
                stored().fetch_one(self.pool()).await?.0
            }
        };
        unb64(&value)
            .and_then(|b| SecretKey::from_slice(&b).ok())
            .ok_or_else(|| BackendError::Internal("the stored VAPID key is unreadable".into()))
    }

    /// Stores (or refreshes) a browser's push subscription for the user.
    pub async fn push_subscribe(
        &self,
        user: &crate::chat::UserCtx,
        endpoint: &str,
        p256dh: &str,
        auth: &str,
    ) -> Result<()> {
        user.conversations_org()?;
        if endpoint.len() > 2000 || !endpoint_allowed(endpoint, &self.config.push_endpoints) {
            return Err(FieldError::new("endpoint", "this browser's push service is not allowed on this server").into());
        }
        let key_ok = unb64(p256dh).is_some_and(|k| PublicKey::from_sec1_bytes(&k).is_ok());
        if !key_ok {
            return Err(FieldError::new("p256dh", "not a P-256 public key").into());
        }
        if unb64(auth).is_none_or(|a| a.len() != 16) {
            return Err(FieldError::new("auth", "must be 16 bytes, base64url").into());
        }
        let mut tx = self.writer().begin().await?;
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
    pub async fn push_unsubscribe(&self, user: &crate::chat::UserCtx, endpoint: &str) -> Result<()> {
        sqlx::query("DELETE FROM push_subscriptions WHERE endpoint = $1 AND user_id = $2")
            .bind(endpoint)
            .bind(&user.id)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// How many browsers the user has subscribed.
    pub async fn push_subscriptions(&self, user: &crate::chat::UserCtx) -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM push_subscriptions WHERE user_id = $1")
            .bind(&user.id)
            .fetch_one(self.pool())
            .await?;
        Ok(n)
    }
}

/// `mailto:` + the sender address (push services contact the operator there).
fn vapid_subject(config: &Config) -> String {
    let from = &config.mail_from;
    let address = match (from.find('<'), from.rfind('>')) {
        (Some(a), Some(b)) if a < b => &from[a + 1..b],
        _ => from.as_str(),
    };
    format!("mailto:{}", address.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encryption_round_trips_and_is_fresh_each_time() {
        let ua = SecretKey::random(&mut rand::rngs::OsRng);
        let ua_public = public_bytes(&ua.public_key());
        let auth: [u8; 16] = rand::random();
        let a = encrypt(&ua_public, &auth, b"{\"title\":\"hi\"}").unwrap();
        let b = encrypt(&ua_public, &auth, b"{\"title\":\"hi\"}").unwrap();
        assert_ne!(a, b, "fresh salt and sender key per message");
        assert_eq!(decrypt(&ua, &auth, &a).unwrap(), b"{\"title\":\"hi\"}");
        assert_eq!(u32::from_be_bytes(a[16..20].try_into().unwrap()), RECORD_SIZE);
        assert_eq!(a[20], 65);
        // Another secret, or a flipped bit, does not decrypt.
        let other: [u8; 16] = rand::random();
        assert!(decrypt(&ua, &other, &a).is_err());
        let mut bad = a.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert!(decrypt(&ua, &auth, &bad).is_err());
        assert!(encrypt(b"not a key", &auth, b"x").is_err());
    }

    #[test]
    fn vapid_header_is_a_verifiable_es256_jwt() {
        use p256::ecdsa::signature::Verifier;
        let vapid = Vapid { key: SecretKey::random(&mut rand::rngs::OsRng), subject: "mailto:ops@example.com".into() };
        let header = vapid.authorization("https://push.example.net/send/abc?x=1", 1_000).unwrap();
        let (t, k) = header.strip_prefix("vapid t=").unwrap().split_once(", k=").unwrap();
        assert_eq!(k, vapid.public_key());
        let parts: Vec<&str> = t.split('.').collect();
        let claims: serde_json::Value = serde_json::from_slice(&unb64(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["aud"], "https://push.example.net");
        assert_eq!(claims["exp"], 1_000 + 12 * 3600);
        assert_eq!(claims["sub"], "mailto:ops@example.com");
        let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&unb64(k).unwrap()).unwrap();
        let sig = p256::ecdsa::Signature::from_slice(&unb64(parts[2]).unwrap()).unwrap();
        key.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig).unwrap();
    }

    #[test]
    fn only_configured_push_services_are_allowed() {
        let allowed = vec!["https://fcm.googleapis.com/".to_string(), "https://*.notify.windows.com/w/".to_string()];
        assert!(endpoint_allowed("https://fcm.googleapis.com/fcm/send/abc", &allowed));
        assert!(endpoint_allowed("https://db5p.notify.windows.com/w/?token=x", &allowed));
        assert!(!endpoint_allowed("https://fcm.googleapis.com.evil.test/x", &allowed));
        assert!(!endpoint_allowed("http://fcm.googleapis.com/fcm/send/abc", &allowed));
        assert!(!endpoint_allowed("https://notify.windows.com.evil.test/w/", &allowed));
        assert!(!endpoint_allowed("https://user@fcm.googleapis.com/x", &allowed));
        assert!(!endpoint_allowed("http://169.254.169.254/latest/meta-data", &allowed));
        assert!(!endpoint_allowed("not a url", &allowed));
    }

    #[test]
    fn subject_comes_from_the_sender_address() {
        let config = Config { mail_from: "Support <help@example.com>".into(), ..Config::default() };
        assert_eq!(vapid_subject(&config), "mailto:help@example.com");
    }
}
