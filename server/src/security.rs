//! Cross-cutting HTTP security: a same-origin check for state-changing requests (CSRF) and for
//! WebSocket upgrades, the session cookie's user, and security headers on every response.
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use backend::{Backend, UserCtx};

/// The session token in the request's cookies, if any (not checked yet).
pub fn session_token(headers: &HeaderMap, backend: &Backend) -> Option<String> {
    let cookies = headers.get(header::COOKIE)?.to_str().ok()?;
    backend.session_from_cookies(cookies).map(str::to_owned)
}

/// The signed-in user of the request's session cookie (`None`: no cookie, or no live session).
pub async fn session_user(headers: &HeaderMap, backend: &Backend) -> backend::error::Result<Option<UserCtx>> {
    match session_token(headers, backend) {
        Some(token) => backend.user_by_session(&token).await,
        None => Ok(None),
    }
}

/// Whether a browser request comes from our own origin (or a configured one). Requests without
/// `Origin` (not sent by browsers for cross-site requests that matter here) come from non-browser
/// clients and are allowed; cookies are SameSite=Lax besides.
pub fn origin_allowed(headers: &HeaderMap, backend: &Backend) -> bool {
    if headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) == Some("cross-site") {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let bare = origin.split_once("://").map(|(_, rest)| rest).unwrap_or("");
    (!host.is_empty() && bare == host) || backend.config.allowed_origins.iter().any(|o| o == origin)
}

/// The body length a request declares (`Content-Length`), if any.
pub fn declared_length(headers: &HeaderMap) -> Option<usize> {
    headers.get(header::CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}

/// Largest request body, except the uploads' ([`UPLOADS`]).
pub const MAX_BODY: usize = 64 * 1024;
/// The routes that take files and check their bodies' sizes themselves (`crate::upload`,
/// `crate::chat_files`).
const UPLOADS: [&str; 3] = ["/api/widget/email", "/api/widget/file", "/api/chat/file"];

/// `Cache-Control` of files whose address changes with their content.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Caching of the dashboard's bundle under `/pkg/`: for a year when cargo-leptos hashes the file
/// names (`hash-files`; a new build has new names), otherwise revalidated on every use.
pub async fn pkg_caching(hashed: bool, req: Request, next: Next) -> Response {
    let pkg = req.uri().path().starts_with("/pkg/");
    let mut res = next.run(req).await;
    if pkg && res.status().is_success() {
        let value = if hashed { IMMUTABLE } else { "no-cache" };
        res.headers_mut().insert(axum::http::header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    res
}

pub async fn guard(State(backend): State<Backend>, req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && !origin_allowed(req.headers(), &backend) {
        return (StatusCode::FORBIDDEN, "cross-origin request refused").into_response();
    }
    // Bodies over the limit are refused before anything reads them (server functions would
    // otherwise report the cut-off body as an internal error). The uploads have their own.
    let declared = declared_length(req.headers());
    if declared.is_some_and(|n| n > MAX_BODY) && !UPLOADS.contains(&req.uri().path()) {
        let e = app::error::AppError::Validation {
            code: "too_large".into(),
            message: format!("the request is larger than {} KiB", MAX_BODY / 1024),
        };
        return (StatusCode::PAYLOAD_TOO_LARGE, axum::Json(e)).into_response();
    }
    let widget = req.uri().path().strip_prefix("/widget/").map(|rest| rest.split('/').next().unwrap_or("").to_string());
    let framable = widget.is_some();
    let ancestors = match &widget {
        Some(id) => Some(frame_ancestors(&backend, id).await),
        None => None,
    };
    let api = req.uri().path().starts_with("/api/");
    let mut res = next.run(req).await;
    if api && res.status() == StatusCode::INTERNAL_SERVER_ERROR {
        res = malformed_is_bad_request(res).await;
    }
    let h = res.headers_mut();
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert("referrer-policy", HeaderValue::from_static("strict-origin-when-cross-origin"));
    if !framable {
        h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    }
    // The response's own policy (pages: scripts by nonce; attachments: sandbox) plus who may
    // frame it: a widget's allowed sites, nobody for everything else.
    let ancestors = ancestors.unwrap_or_else(|| "frame-ancestors 'none'".into());
    let own = h.get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or("");
    let policy = with_frame_ancestors(own, &ancestors);
    if let Ok(v) = HeaderValue::from_str(&policy) {
        h.insert("content-security-policy", v);
    }
    res
}

/// The Content-Security-Policy of the app's pages (dashboard and widget): scripts only from this
/// origin or inline with this response's nonce (Leptos' hydration script), WebAssembly allowed,
/// connections (server functions, WebSockets) to this origin only, no plugins, no `<base>`.
/// Inline `style` attributes stay allowed (they cannot run code).
pub fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; media-src 'self' blob:; worker-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'"
    )
}

/// `policy` with its `frame-ancestors` directive (if any) replaced by `ancestors`.
fn with_frame_ancestors(policy: &str, ancestors: &str) -> String {
    let mut parts: Vec<&str> = policy
        .split(';')
        .map(str::trim)
        .filter(|d| !d.is_empty() && !d.to_ascii_lowercase().starts_with("frame-ancestors"))
        .collect();
    parts.push(ancestors);
    parts.join("; ")
}

#[cfg(test)]
mod policy_tests {
    use super::*;

    #[test]
    fn frame_ancestors_are_merged_into_the_policy() {
        assert_eq!(with_frame_ancestors("", "frame-ancestors 'none'"), "frame-ancestors 'none'");
        assert_eq!(
            with_frame_ancestors("sandbox; default-src 'none'", "frame-ancestors 'none'"),
            "sandbox; default-src 'none'; frame-ancestors 'none'"
        );
        assert_eq!(
            with_frame_ancestors("default-src 'self'; frame-ancestors *", "frame-ancestors https://a.test"),
            "default-src 'self'; frame-ancestors https://a.test"
        );
        let p = page_policy("abc");
        assert!(p.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval';") && !p.contains(" 'unsafe-eval'"));
    }
}

/// Server functions answer arguments they cannot decode with a `validation` error but status
/// 500 (the framework's default): that is the client's mistake, so it becomes 400.
async fn malformed_is_bad_request(res: Response) -> Response {
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
    };
    let validation = serde_json::from_slice::<app::error::AppError>(&bytes)
        .is_ok_and(|e| matches!(e, app::error::AppError::Validation { .. }));
    if validation {
        parts.status = StatusCode::BAD_REQUEST;
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// The `frame-ancestors` policy of a widget page: the widget's allowed origins (besides this
/// site), any site when it names none, no one for an unknown widget.
async fn frame_ancestors(backend: &Backend, widget_id: &str) -> String {
    match backend.widget_allowed_origins(widget_id).await {
        Ok(Some(origins)) if origins.is_empty() => "frame-ancestors *".into(),
        Ok(Some(origins)) => {
            let valid: Vec<&str> = origins.iter().map(String::as_str).filter(|o| is_origin(o)).collect();
            format!("frame-ancestors 'self' {}", valid.join(" ")).trim_end().to_string()
        }
        _ => "frame-ancestors 'none'".into(),
    }
}

/// `scheme://host[:port]`, nothing else (so a stored value cannot smuggle policy directives).
fn is_origin(o: &str) -> bool {
    let Some((scheme, rest)) = o.split_once("://") else { return false };
    matches!(scheme, "http" | "https")
        && !rest.is_empty()
        && rest.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
}

#[cfg(test)]
mod tests {
    #[test]
    fn origins_are_strict() {
        assert!(super::is_origin("https://shop.example"));
        assert!(super::is_origin("http://127.0.0.1:8080"));
        assert!(!super::is_origin("https://shop.example; script-src *"));
        assert!(!super::is_origin("https://shop.example/path"));
        assert!(!super::is_origin("javascript://x"));
        assert!(!super::is_origin("shop.example"));
    }
}
