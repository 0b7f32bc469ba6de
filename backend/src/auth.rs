//! Passwords (argon2id) and sessions (random 256-bit tokens; only their SHA-256 is stored).
use crate::error::{BackendError, Result};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::RngCore;
use sha2::{Digest, Sha256};

pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| BackendError::Internal(format!("hashing password: {e}")))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    argon2_verify(password, hash).unwrap_or(false)
}

/// Whether `password` matches `hash`; `None` when `hash` is not an Argon2 hash (nothing was
/// verified).
pub fn argon2_verify(password: &str, hash: &str) -> Option<bool> {
    let hash = PasswordHash::new(hash).ok()?;
    Some(Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
}

/// A new random token, hex-encoded (256 bits).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// What is stored for a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify() {
        let h = hash_password("s3cret-pass").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("s3cret-pass", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("s3cret-pass", "not a hash"));
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_ne!(token_hash(&a), a);
        assert_eq!(token_hash(&a), token_hash(&a));
    }
}

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "handoff_session";
/// The session cookie's name when the site is served over https: the `__Host-` prefix makes
/// browsers accept it only with `Secure`, `Path=/` and no `Domain` (no subdomain can set it).
pub const SECURE_SESSION_COOKIE: &str = "__Host-handoff_session";

/// The session cookie's name for a site whose public address is https (`https_site`) or not.
pub fn session_cookie_name(https_site: bool) -> &'static str {
    if https_site {
        SECURE_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}

/// Finds a cookie's value in a `Cookie:` header.
pub fn cookie_value<'a>(cookie_header: &'a str, name: &str) -> Option<&'a str> {
    cookie_header.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

/// The `Set-Cookie` value for a session (HttpOnly, SameSite=Lax; Secure when served over TLS;
/// `__Host-` named and Secure when the site's public address is https).
pub fn session_cookie(token: &str, max_age_secs: i64, secure: bool, https_site: bool) -> String {
    format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{}",
        session_cookie_name(https_site),
        if secure || https_site { "; Secure" } else { "" }
    )
}

#[cfg(test)]
mod cookie_tests {
    use super::*;

    #[test]
    fn finds_cookies() {
        assert_eq!(cookie_value("a=1; handoff_session=abc; b=2", SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie_value("a=1", SESSION_COOKIE), None);
        let c = session_cookie("t", 60, false, false);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && !c.contains("Secure"));
        assert!(session_cookie("t", 60, true, false).ends_with("; Secure"));
        let https = session_cookie("t", 60, false, true);
        assert!(https.starts_with("__Host-handoff_session=t; Path=/;") && https.ends_with("; Secure"), "{https}");
    }
}
