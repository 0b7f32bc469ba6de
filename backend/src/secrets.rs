//! Secrets at rest: values the server must read back (LLM API keys, the VAPID private key) are
//! stored sealed with AES-256-GCM under the server's secret key, so that a copy of the database (a
//! backup, a dump, a read-only SQL hole) does not give them away.
//!
//! The key: `HANDOFF_SECRET_KEY` (64 hex digits or base64 of 32 bytes), or else the key file
//! (`secret_key_file`, by default `<data_dir>.key` beside the data directory, so a copy of the
//! data directory does not contain it), created with mode 0600 at first start.
//!
//! A sealed value reads `sealed:v1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>`; the key id
//! (the first 8 hex digits of the key's SHA-256) says which key opens it, and the purpose of the
//! value (`llm_api_key`, `vapid`) is authenticated with it, so a sealed value cannot be moved to
//! another use. Plain values left by older versions are sealed at start ([`seal_stored_plaintext`]);
//! `handoff-server rotate-secret-key` re-seals everything under a new key ([`rotate`]).
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

const PREFIX: &str = "sealed:v1:";
/// The environment variable holding the key (instead of the key file).
pub const KEY_ENV: &str = "HANDOFF_SECRET_KEY";
/// The new key during `rotate-secret-key` when the key comes from the environment.
pub const NEW_KEY_ENV: &str = "HANDOFF_NEW_SECRET_KEY";

/// What a sealed value is for (authenticated with it).
pub const LLM_API_KEY: &str = "llm_api_key";
pub const VAPID: &str = "vapid";

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("secret key: {0}")]
    Key(String),
    #[error(
        "a sealed {0} cannot be opened with this server's secret key (HANDOFF_SECRET_KEY or the key file changed?)"
    )]
    WrongKey(String),
}

struct Key {
    id: String,
    cipher: Aes256Gcm,
}

impl Key {
    fn new(bytes: &[u8; 32]) -> Self {
        let id = hex::encode(&Sha256::digest(bytes)[..4]);
        Self { id, cipher: Aes256Gcm::new_from_slice(bytes).expect("a 32-byte key") }
    }
}

/// Seals and opens secrets. The first key seals; every key opens what it sealed.
pub struct SecretBox {
    keys: Vec<Key>,
}

impl SecretBox {
    pub fn from_key(bytes: &[u8; 32]) -> Self {
        Self { keys: vec![Key::new(bytes)] }
    }

    /// The server's key, from the environment or the key file (created when missing). A key file
    /// left by an interrupted rotation (`<file>.new`) can open values too.
    pub fn load(config: &crate::config::Config) -> Result<Self, SecretError> {
        if let Some(text) = std::env::var(KEY_ENV).ok().filter(|t| !t.trim().is_empty()) {
            return Ok(Self::from_key(&parse_key(&text)?));
        }
        let path = key_file(config);
        let mut b = Self::from_key(&read_or_create_key_file(&path)?);
        let pending = pending_file(&path);
        if pending.exists() {
            tracing::warn!(file = %pending.display(), "an interrupted key rotation: run `handoff-server rotate-secret-key` again");
            b.keys.push(Key::new(&read_key_file(&pending)?));
        }
        Ok(b)
    }

    /// `value` sealed for `purpose`.
    pub fn seal(&self, purpose: &str, value: &str) -> String {
        let key = &self.keys[0];
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = key
            .cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: value.as_bytes(), aad: purpose.as_bytes() })
            .expect("AES-GCM encryption");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{PREFIX}{}:{}", key.id, URL_SAFE_NO_PAD.encode(out))
    }

    /// The value inside a sealed one. A value that is not sealed (stored by an older version,
    /// before [`seal_stored_plaintext`] ran) is returned as it is.
    pub fn open(&self, purpose: &str, stored: &str) -> Result<String, SecretError> {
        let Some(rest) = stored.strip_prefix(PREFIX) else { return Ok(stored.to_string()) };
        let wrong = || SecretError::WrongKey(purpose.to_string());
        let (id, data) = rest.split_once(':').ok_or_else(wrong)?;
        let key = self.keys.iter().find(|k| k.id == id).ok_or_else(wrong)?;
        let bytes = URL_SAFE_NO_PAD.decode(data).map_err(|_| wrong())?;
        if bytes.len() < 12 {
            return Err(wrong());
        }
        let (nonce, sealed) = bytes.split_at(12);
        let plain = key
            .cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad: purpose.as_bytes() })
            .map_err(|_| wrong())?;
        String::from_utf8(plain).map_err(|_| wrong())
    }

    /// Whether `stored` is sealed under the key that seals now.
    pub fn is_current(&self, stored: &str) -> bool {
        stored.strip_prefix(PREFIX).and_then(|r| r.split_once(':')).is_some_and(|(id, _)| id == self.keys[0].id)
    }
}

/// Whether a stored value is sealed (by any key).
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(PREFIX)
}

fn parse_key(text: &str) -> Result<[u8; 32], SecretError> {
    let t = text.trim();
    let bytes = hex::decode(t)
        .ok()
        .or_else(|| STANDARD.decode(t).ok())
        .or_else(|| URL_SAFE_NO_PAD.decode(t.trim_end_matches('=')).ok())
        .ok_or_else(|| SecretError::Key("expected 64 hex digits or the base64 of 32 bytes".into()))?;
    bytes.try_into().map_err(|_| SecretError::Key("the key must be 32 bytes (64 hex digits)".into()))
}

/// Where the key file is: `secret_key_file`, or `<data_dir>.key` beside the data directory.
pub fn key_file(config: &crate::config::Config) -> PathBuf {
    if !config.secret_key_file.as_os_str().is_empty() {
        return config.secret_key_file.clone();
    }
    let dir = &config.data_dir;
    match dir.file_name() {
        Some(name) if dir.components().count() > 0 => dir.with_file_name(format!("{}.key", name.to_string_lossy())),
        _ => dir.join("secret.key"),
    }
}

fn pending_file(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".new");
    PathBuf::from(p)
}

fn read_key_file(path: &Path) -> Result<[u8; 32], SecretError> {
    let text = std::fs::read_to_string(path).map_err(|e| SecretError::Key(format!("{}: {e}", path.display())))?;
    parse_key(&text).map_err(|e| SecretError::Key(format!("{}: {e}", path.display())))
}

/// Writes a fresh key to `path` with mode 0600, atomically (another process starting at the same
/// time reads the same key): written to a temporary file, then linked into place.
fn create_key_file(path: &Path) -> Result<[u8; 32], SecretError> {
    let err = |e: std::io::Error| SecretError::Key(format!("cannot create {}: {e}", path.display()));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    let tmp = PathBuf::from(format!("{}.tmp{}", path.display(), std::process::id()));
    write_private(&tmp, &format!("{}\n", hex::encode(key))).map_err(err)?;
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            tracing::info!(file = %path.display(), "created the server's secret key");
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read_key_file(path),
        Err(e) => Err(err(e)),
    }
}

fn read_or_create_key_file(path: &Path) -> Result<[u8; 32], SecretError> {
    if path.exists() {
        warn_if_readable_by_others(path);
        read_key_file(path)
    } else {
        create_key_file(path)
    }
}

/// Creates `path` (which must not exist) readable and writable by its owner only.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(file = %path.display(), "the secret key file is readable by others; chmod 600 it");
            }
        }
    }
}

/// Every sealed or sealable value in the database: (table, key column, key, value column, purpose).
const STORED: [(&str, &str, &str, &str); 2] =
    [("agents", "id", "llm_api_key", LLM_API_KEY), ("server_keys", "name", "value", VAPID)];

fn select(table: &str, id_col: &str, col: &str, purpose: &str) -> String {
    let only = if purpose == VAPID { format!(" AND {id_col} = 'vapid'") } else { String::new() };
    format!("SELECT {id_col}, {col} FROM {table} WHERE {col} IS NOT NULL AND {col} <> ''{only}")
}

/// Re-seals stored secrets that are plain (older versions) or sealed under another key with
/// `to`. Returns how many values changed. One transaction.
async fn reseal(
    pool: &sqlx::AnyPool,
    from: &SecretBox,
    to: &SecretBox,
    all: bool,
) -> Result<usize, crate::error::BackendError> {
    let mut tx = pool.begin().await?;
    let mut changed = 0;
    for (table, id_col, col, purpose) in STORED {
        let rows: Vec<(String, String)> =
            sqlx::query_as(sqlx::AssertSqlSafe(select(table, id_col, col, purpose))).fetch_all(&mut *tx).await?;
        for (id, stored) in rows {
            if !all && to.is_current(&stored) {
                continue;
            }
            let plain = from
                .open(purpose, &stored)
                .map_err(|e| crate::error::BackendError::Internal(format!("{table} {id}: {e}")))?;
            sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE {table} SET {col} = $1 WHERE {id_col} = $2")))
                .bind(to.seal(purpose, &plain))
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            changed += 1;
        }
    }
    tx.commit().await?;
    Ok(changed)
}

/// At start: seals the secrets an older version stored in plain text.
pub async fn seal_stored_plaintext(
    pool: &sqlx::AnyPool,
    secrets: &SecretBox,
) -> Result<(), crate::error::BackendError> {
    let n = reseal(pool, secrets, secrets, false).await?;
    if n > 0 {
        tracing::info!(count = n, "sealed stored secrets with the server's secret key");
    }
    Ok(())
}

/// `handoff-server rotate-secret-key`: every stored secret re-sealed under a new key, in one
/// transaction. With the key file: a new key is written to `<file>.new`, the secrets are
/// re-sealed, then the new file replaces the old one (a run interrupted in between is finished by
/// running it again). With `HANDOFF_SECRET_KEY`: the new key comes from `HANDOFF_NEW_SECRET_KEY`
/// and the operator replaces the variable afterwards. Stop every server process first.
pub async fn rotate(config: &crate::config::Config) -> Result<String, crate::error::BackendError> {
    let internal = |e: SecretError| crate::error::BackendError::Internal(e.to_string());
    let old = SecretBox::load(config).map_err(internal)?;
    let db = crate::db::Db::connect(&config.effective_database_url()).await?;
    if std::env::var(KEY_ENV).is_ok_and(|t| !t.trim().is_empty()) {
        let text = std::env::var(NEW_KEY_ENV).map_err(|_| {
            crate::error::BackendError::Internal(format!(
                "the key comes from {KEY_ENV}: set {NEW_KEY_ENV} to the new key (e.g. `openssl rand -hex 32`)"
            ))
        })?;
        let new = SecretBox::from_key(&parse_key(&text).map_err(internal)?);
        let n = reseal(&db.writer, &old, &new, true).await?;
        return Ok(format!("re-sealed {n} secrets; now set {KEY_ENV} to the value of {NEW_KEY_ENV} and restart"));
    }
    let path = key_file(config);
    let pending = pending_file(&path);
    let new_key = if pending.exists() {
        read_key_file(&pending).map_err(internal)?
    } else {
        create_key_file(&pending).map_err(internal)?
    };
    let new = SecretBox::from_key(&new_key);
    let n = reseal(&db.writer, &old, &new, true).await?;
    std::fs::rename(&pending, &path)
        .map_err(|e| crate::error::BackendError::Internal(format!("cannot replace {}: {e}", path.display())))?;
    Ok(format!("re-sealed {n} secrets under a new key in {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_bound_to_purpose_and_key() {
        let a = SecretBox::from_key(&[7; 32]);
        let sealed = a.seal(LLM_API_KEY, "sk-123");
        assert!(is_sealed(&sealed) && !sealed.contains("sk-123") && a.is_current(&sealed));
        assert_ne!(sealed, a.seal(LLM_API_KEY, "sk-123"), "a fresh nonce each time");
        assert_eq!(a.open(LLM_API_KEY, &sealed).unwrap(), "sk-123");
        assert!(a.open(VAPID, &sealed).is_err(), "the purpose is authenticated");
        assert!(SecretBox::from_key(&[8; 32]).open(LLM_API_KEY, &sealed).is_err());
        let mut tampered = sealed.clone();
        tampered.pop();
        assert!(a.open(LLM_API_KEY, &tampered).is_err());
        assert_eq!(a.open(LLM_API_KEY, "legacy-plain").unwrap(), "legacy-plain");
    }

    #[test]
    fn key_file_is_private_and_shared() {
        let dir = std::env::temp_dir().join(format!("handoff_secret_{}", std::process::id()));
        let config = crate::config::Config { data_dir: dir.join("data"), ..Default::default() };
        let path = key_file(&config);
        assert_eq!(path, dir.join("data.key"));
        let first = read_or_create_key_file(&path).unwrap();
        assert_eq!(read_or_create_key_file(&path).unwrap(), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let _ = std::fs::remove_dir_all(&dir);
        assert!(parse_key("zz").is_err() && parse_key(&"ab".repeat(32)).is_ok());
    }
}
