//! The visitor's chat page (`/widget/{id}`, opened in an iframe by the embed script) and the
//! widget's own WASM bundle.
//!
//! The widget is not part of the dashboard's bundle: it is the small `handoff-widget` crate,
//! built by `scripts/build-widget.sh` into a directory beside the site root (`target/widget`
//! for `target/site`; `HANDOFF_WIDGET_DIR` overrides it). The page written here loads it; its
//! files are served under `/widget-pkg/{hash}/…`, where the hash is of their content, so a new
//! build gets new addresses and the files can be cached for a year (`immutable`). Each file is
//! compressed once with brotli at the highest quality when it is (re)loaded and goes out as `br`
//! to browsers that accept it. A rebuilt bundle is noticed on the next page load (the files'
//! modification times are compared), so `cargo leptos watch` and `build-widget.sh` work together
//! without a restart.
use crate::security;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use backend::Backend;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

/// The page's script (`widget_page.js`) without its comment lines (every visitor downloads it),
/// its constant filled in once; the rest of its placeholders are filled in per page.
static PAGE_SCRIPT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    include_str!("widget_page.js")
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
        .replace("__MAX_FILE_BYTES__", &domain::email::MAX_FILE_BYTES.to_string())
});

/// The bundle's files: name, content type.
const FILES: [(&str, &str); 3] = [
    ("handoff_widget.js", "text/javascript; charset=utf-8"),
    ("handoff_widget_bg.wasm", "application/wasm"),
    ("handoff_widget.css", "text/css; charset=utf-8"),
];

/// The bundle's file names (what `handoff-server bundle` takes along).
pub const FILE_NAMES: [&str; 3] = [FILES[0].0, FILES[1].0, FILES[2].0];

/// The bundle's directory for a site root: `HANDOFF_WIDGET_DIR`, or `widget` beside the root.
pub fn dir_for_site_root(site_root: &str) -> PathBuf {
    std::env::var_os("HANDOFF_WIDGET_DIR").map(PathBuf::from).unwrap_or_else(|| {
        let root = PathBuf::from(site_root);
        root.parent().map(|p| p.join("widget")).unwrap_or_else(|| PathBuf::from("widget"))
    })
}

/// Where the bundle is and what of it is loaded.
#[derive(Clone)]
pub struct WidgetBundle {
    dir: PathBuf,
    loaded: Arc<tokio::sync::Mutex<Option<Arc<Loaded>>>>,
    /// The bundle's files as a self-contained binary carries them (`crate::assets`), in
    /// [`FILES`]' order: loaded (hashed, compressed) like a directory's, never read from disk.
    fixed: Option<Arc<Vec<Vec<u8>>>>,
}

/// One loaded version of the bundle: its files, their hash, and the stamps it was read at.
pub struct Loaded {
    stamps: Vec<(SystemTime, u64)>,
    hash: String,
    files: Vec<Asset>,
}

struct Asset {
    raw: Bytes,
    brotli: Bytes,
}

impl WidgetBundle {
    /// The bundle of a site root (see [`dir_for_site_root`]).
    pub fn for_site_root(site_root: &str) -> Self {
        Self::in_dir(dir_for_site_root(site_root))
    }

    pub fn in_dir(dir: PathBuf) -> Self {
        Self { dir, loaded: Default::default(), fixed: None }
    }

    /// The bundle carried by a self-contained binary (its files by name); `None` when one of
    /// them is missing.
    pub fn embedded(files: &[(String, Vec<u8>)]) -> Option<Self> {
        let raws = FILE_NAMES
            .iter()
            .map(|name| files.iter().find(|(n, _)| n == name).map(|(_, bytes)| bytes.clone()))
            .collect::<Option<Vec<_>>>()?;
        Some(Self { dir: PathBuf::from("(in the binary)"), loaded: Default::default(), fixed: Some(Arc::new(raws)) })
    }

    /// Modification time and length of every file; `None` when one is missing. A bundle the
    /// binary carries never changes: no stamps.
    fn stamps(&self) -> Option<Vec<(SystemTime, u64)>> {
        if self.fixed.is_some() {
            return Some(Vec::new());
        }
        FILES
            .iter()
            .map(|(name, _)| std::fs::metadata(self.dir.join(name)).and_then(|m| Ok((m.modified()?, m.len()))).ok())
            .collect()
    }

    /// The current bundle, (re)loaded if its files changed; `None` while it is not built.
    pub async fn current(&self) -> Option<Arc<Loaded>> {
        let stamps = self.stamps()?;
        let mut slot = self.loaded.lock().await;
        if let Some(l) = slot.as_ref().filter(|l| l.stamps == stamps) {
            return Some(l.clone());
        }
        let (dir, carried) = (self.dir.clone(), self.fixed.clone());
        let loaded = tokio::task::spawn_blocking(move || match carried {
            Some(raws) => load_bytes(raws.to_vec(), stamps),
            None => load(&dir, stamps),
        })
        .await
        .ok()?;
        match loaded {
            Ok(l) => {
                let l = Arc::new(l);
                tracing::info!(dir = %self.dir.display(), hash = %l.hash, "widget bundle loaded");
                *slot = Some(l.clone());
                Some(l)
            }
            Err(e) => {
                tracing::warn!(dir = %self.dir.display(), error = %e, "widget bundle unreadable");
                None
            }
        }
    }
}

fn load(dir: &std::path::Path, stamps: Vec<(SystemTime, u64)>) -> std::io::Result<Loaded> {
    let raws = FILES.iter().map(|(name, _)| std::fs::read(dir.join(name))).collect::<std::io::Result<Vec<_>>>()?;
    load_bytes(raws, stamps)
}

/// The bundle from its files' bytes (in [`FILES`]' order): hashed, each compressed once.
fn load_bytes(raws: Vec<Vec<u8>>, stamps: Vec<(SystemTime, u64)>) -> std::io::Result<Loaded> {
    let mut digest = Sha256::new();
    let mut files = Vec::new();
    for raw in raws {
        digest.update((raw.len() as u64).to_le_bytes());
        digest.update(&raw);
        let mut brotli = Vec::new();
        let params = brotli::enc::BrotliEncoderParams { quality: 11, lgwin: 22, ..Default::default() };
        brotli::BrotliCompress(&mut raw.as_slice(), &mut brotli, &params)?;
        files.push(Asset { raw: raw.into(), brotli: brotli.into() });
    }
    Ok(Loaded { stamps, hash: hex::encode(&digest.finalize()[..8]), files })
}

/// `GET /widget/{id}`: the page inside the iframe. Unknown widgets get 404; a server whose
/// bundle is not built says so (503) instead of showing a dead page.
pub async fn page(
    State(backend): State<Backend>,
    State(bundle): State<WidgetBundle>,
    Path(id): Path<String>,
) -> Response {
    let known = matches!(backend.widget_allowed_origins(&id).await, Ok(Some(_)));
    if !known {
        return message_page(StatusCode::NOT_FOUND, "This chat is not available.");
    }
    let Some(loaded) = bundle.current().await else {
        tracing::error!(dir = %bundle.dir.display(), "the widget bundle is missing: run scripts/build-widget.sh");
        return message_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "The chat is not available right now. Please try again later.",
        );
    };
    // A token is 32 random bytes in hex: a fine nonce, fresh per page.
    let nonce = backend::auth::new_token();
    let pkg = format!("/widget-pkg/{}", loaded.hash);
    // The id goes into a script as a JSON string; `<` is escaped so it cannot end the script.
    let id_js = serde_json::to_string(&id).unwrap_or_else(|_| "\"\"".into()).replace('<', "\\u003c");
    let preview = backend.widget_typing_preview(&id).await;
    let script = PAGE_SCRIPT
        .replace("__PKG__", &pkg)
        .replace("__WIDGET_ID__", &id_js)
        .replace("__PREVIEW__", &preview.to_string());
    let html = format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Chat</title>
<link rel="stylesheet" href="{pkg}/handoff_widget.css">
<link rel="modulepreload" href="{pkg}/handoff_widget.js" nonce="{nonce}">
<link rel="preload" href="{pkg}/handoff_widget_bg.wasm" as="fetch" type="application/wasm" crossorigin>
</head><body><p class="muted pad" id="boot">Connecting…</p><noscript><p class="pad">The chat needs JavaScript.</p></noscript>
<script type="module" nonce="{nonce}">{script}</script>
</body></html>"#
    );
    let mut res = Html(html).into_response();
    set(&mut res, header::CONTENT_SECURITY_POLICY, &security::page_policy(&nonce));
    set(&mut res, header::CACHE_CONTROL, "no-cache");
    res
}

fn message_page(status: StatusCode, text: &str) -> Response {
    let html = format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Chat</title></head><body style="font-family:system-ui,sans-serif;padding:1rem;color:#475569"><p>{text}</p></body></html>"#
    );
    let mut res = (status, Html(html)).into_response();
    set(&mut res, header::CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'unsafe-inline'");
    res
}

fn set(res: &mut Response, name: header::HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        res.headers_mut().insert(name, v);
    }
}

/// `GET /widget-pkg/{hash}/{file}`: a file of the current bundle. An old hash is 404 (its page
/// is gone too; a reload gets the new one).
pub async fn asset(
    State(bundle): State<WidgetBundle>,
    Path((hash, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let Some(loaded) = bundle.current().await else { return StatusCode::NOT_FOUND.into_response() };
    let Some(i) = FILES.iter().position(|(name, _)| *name == file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if hash != loaded.hash {
        return StatusCode::NOT_FOUND.into_response();
    }
    let accepts_br = accepts_brotli(&headers);
    let asset = &loaded.files[i];
    let mut res = if accepts_br { asset.brotli.clone().into_response() } else { asset.raw.clone().into_response() };
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(FILES[i].1));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(security::IMMUTABLE));
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if accepts_br {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
    }
    res
}

/// Whether `Accept-Encoding` allows brotli (`br`, not with `q=0`).
fn accepts_brotli(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(
        |item| {
            let mut parts = item.split(';').map(str::trim);
            parts.next().is_some_and(|coding| coding.eq_ignore_ascii_case("br"))
                && parts.all(|p| p.strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()).is_none_or(|q| q > 0.0))
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brotli_only_when_accepted() {
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
            accepts_brotli(&m)
        };
        assert!(h("gzip, deflate, br, zstd"));
        assert!(h("br;q=0.5"));
        assert!(!h("gzip, deflate"));
        assert!(!h("br;q=0, gzip"));
        assert!(!h("brotli"));
        assert!(!accepts_brotli(&HeaderMap::new()));
    }
}
