//! Server-side helpers shared by the server functions.
use crate::error::AppError;
use backend::Backend;
use backend::UserCtx;
use leptos::prelude::*;
use leptos_axum::ResponseOptions;

pub fn backend() -> Result<Backend, AppError> {
    use_context::<Backend>().ok_or(AppError::Internal)
}

/// Converts a backend error, logs internal ones, and sets the HTTP status of the response.
pub fn fail(e: impl Into<AppError>) -> AppError {
    let e = e.into();
    if let Some(res) = use_context::<ResponseOptions>() {
        res.set_status(
            axum::http::StatusCode::from_u16(e.status()).unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR),
        );
    }
    e
}

/// The session token from the request's cookie, if any.
pub async fn session_token() -> Option<String> {
    let headers: axum::http::HeaderMap = leptos_axum::extract().await.ok()?;
    let cookies = headers.get(axum::http::header::COOKIE)?.to_str().ok()?;
    backend().ok()?.session_from_cookies(cookies).map(str::to_owned)
}

/// The signed-in user, or `Unauthorized`.
pub async fn require_user() -> Result<(Backend, UserCtx), AppError> {
    let backend = backend()?;
    let token = session_token().await;
    let user = match token {
        Some(t) => backend.user_by_session(&t).await.map_err(fail)?,
        None => None,
    };
    match user {
        Some(u) => Ok((backend, u)),
        None => Err(fail(AppError::Unauthorized { message: "please sign in".into() })),
    }
}

/// Whether the request came over TLS (directly or through a proxy that says so).
pub async fn is_https() -> bool {
    let headers: Option<axum::http::HeaderMap> = leptos_axum::extract().await.ok();
    headers
        .and_then(|h| h.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).map(|p| p == "https"))
        .unwrap_or(false)
}

/// The client's address: the configured proxy header's (behind a reverse proxy), else the TCP
/// peer's.
pub async fn client_ip(backend: &Backend) -> Option<std::net::IpAddr> {
    let header = &backend.config.client_ip_header;
    if !header.is_empty() {
        let headers: axum::http::HeaderMap = leptos_axum::extract().await.ok()?;
        let value = headers.get(header.as_str())?.to_str().ok()?;
        return value.rsplit(',').next()?.trim().parse().ok();
    }
    let peer: Option<axum::extract::ConnectInfo<std::net::SocketAddr>> = leptos_axum::extract().await.ok();
    peer.map(|p| p.0.ip())
}

/// Sets the session cookie on the response (`Secure` and `__Host-` named when the public address
/// is https).
pub async fn set_session_cookie(token: &str, max_age_secs: i64) -> Result<(), AppError> {
    let https_site = backend()?.config.https_site();
    let cookie = backend::auth::session_cookie(token, max_age_secs, is_https().await, https_site);
    if let Some(res) = use_context::<ResponseOptions>() {
        res.insert_header(axum::http::header::SET_COOKIE, cookie.parse().map_err(|_| AppError::Internal)?);
    }
    Ok(())
}
