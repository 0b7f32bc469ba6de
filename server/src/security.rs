//! Cross-cutting HTTP security: a same-origin check for state-changing requests (CSRF) and for
//! WebSocket upgrades, and security headers on every response.
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use backend::Backend;

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

pub async fn guard(State(backend): State<Backend>, req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && !origin_allowed(req.headers(), &backend) {
        return (StatusCode::FORBIDDEN, "cross-origin request refused").into_response();
    }
    let framable = req.uri().path().starts_with("/widget/");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert("referrer-policy", HeaderValue::from_static("strict-origin-when-cross-origin"));
    if !framable {
        h.insert("x-frame-options", HeaderValue::from_static("DENY"));
        // A response with a stricter policy of its own (attachments) keeps it.
        h.entry("content-security-policy").or_insert(HeaderValue::from_static("frame-ancestors 'none'"));
    }
    res
}
