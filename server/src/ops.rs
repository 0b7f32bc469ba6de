//! Operators' endpoints: `/healthz` (the process answers), `/readyz` (it can serve: database,
//! migrations, relay — see `backend::services::health`) and `/metrics` (Prometheus).
//!
//! `/metrics` is off unless the operator turns it on (`metrics_token`, `metrics_addr`): it tells
//! how busy the installation is. With a token it answers only `Authorization: Bearer <token>`
//! (401 otherwise); with `metrics_addr` it is served on a listener of its own ([`ops_router`],
//! [`serve_ops`]) and not on the main address. `/readyz` answers every check by name with a
//! fixed sentence (no database error text) and `Cache-Control: no-store`.
//!
//! Every request runs in a `request` span with its id ([`request_span`]): a proxy's
//! `x-request-id` when it is a plain token, else a new one; the response carries it back. The
//! WebSockets keep their upgrade request's span for their whole life, and the work they start
//! (the AI's reply) inherits it, so a JSON log line says which request it belongs to.
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use backend::Backend;
use sha2::{Digest, Sha256};

/// The content type of the OpenMetrics text format that `prometheus-client` writes.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(backend): State<Backend>) -> Response {
    let readiness = backend.readiness().await;
    let checks: serde_json::Map<String, serde_json::Value> = readiness
        .checks
        .iter()
        .map(|(name, check)| (name.to_string(), serde_json::Value::from(check.err().unwrap_or("ok"))))
        .collect();
    let ready = readiness.ready();
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, [(header::CACHE_CONTROL, "no-store")], Json(serde_json::json!({ "ready": ready, "checks": checks })))
        .into_response()
}

/// `/metrics` on the main address: only with a token and without a listener of its own.
pub async fn metrics_on_main(State(backend): State<Backend>, headers: HeaderMap) -> Response {
    let config = &backend.config;
    if config.metrics_token.is_empty() || !config.metrics_addr.is_empty() {
        return (StatusCode::NOT_FOUND, "metrics are not served here").into_response();
    }
    metrics(State(backend), headers).await
}

/// `/metrics`, the token checked when one is configured.
pub async fn metrics(State(backend): State<Backend>, headers: HeaderMap) -> Response {
    if !authorized(&backend.config.metrics_token, &headers) {
        return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\"")], "token required")
            .into_response();
    }
    let text = backend.render_metrics().await;
    ([(header::CONTENT_TYPE, OPENMETRICS), (header::CACHE_CONTROL, "no-store")], text).into_response()
}

/// Whether the request carries the token (always, when none is configured). Compared as
/// SHA-256 digests, so the time taken tells nothing about how much of the token was right.
fn authorized(token: &str, headers: &HeaderMap) -> bool {
    if token.is_empty() {
        return true;
    }
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    Sha256::digest(given.trim().as_bytes()) == Sha256::digest(token.as_bytes())
}

/// A request id from a proxy is used when it is at most this long (letters, digits, `-_.:`).
const MAX_REQUEST_ID: usize = 64;

/// Runs the request in a `request` span (id, method, path — never the query, which may hold
/// what a visitor typed) and answers with its `x-request-id`.
pub async fn request_span(req: Request, next: Next) -> Response {
    use tracing::Instrument;
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= MAX_REQUEST_ID
                && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        })
        .map(str::to_string)
        .unwrap_or_else(backend::new_id);
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path());
    let mut res = next.run(req).instrument(span).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert("x-request-id", value);
    }
    res
}

/// The separate listener's routes (`metrics_addr`): `/metrics`, `/healthz`, `/readyz`.
pub fn ops_router(backend: Backend) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(backend)
}

/// Serves [`ops_router`] on `listener` until the process ends.
pub async fn serve_ops(listener: tokio::net::TcpListener, backend: Backend) -> std::io::Result<()> {
    axum::serve(listener, ops_router(backend)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_required_exactly() {
        let token = "0123456789abcdef-token";
        let with = |value: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, value.parse().unwrap());
            h
        };
        assert!(authorized(token, &with("Bearer 0123456789abcdef-token")));
        assert!(!authorized(token, &with("Bearer 0123456789abcdef-toke")));
        assert!(!authorized(token, &with("Basic 0123456789abcdef-token")));
        assert!(!authorized(token, &HeaderMap::new()));
        assert!(authorized("", &HeaderMap::new()));
    }
}
