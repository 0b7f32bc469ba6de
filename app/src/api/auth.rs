//! Sign-in, sign-out and "who am I".
use crate::error::AppError;
use domain::wire::UserDto;
use leptos::prelude::*;

/// Signs in with e-mail and password. Sets an HttpOnly, SameSite=Lax session cookie.
/// Errors: `Unauthorized` for a wrong e-mail or password (never says which).
#[server(name = Login, prefix = "/api", endpoint = "auth/login")]
pub async fn login(email: String, password: String) -> Result<UserDto, AppError> {
    use super::ssr::*;
    let backend = backend()?;
    if email.trim().is_empty() || password.is_empty() {
        return Err(fail(AppError::Validation {
            code: "missing_credentials".into(),
            message: "enter your e-mail and password".into(),
        }));
    }
    let (token, user) = backend.login(&email, &password).await.map_err(fail)?;
    let cookie = backend::auth::session_cookie(&token, backend.config.session_hours * 3600, is_https().await);
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.insert_header(axum::http::header::SET_COOKIE, cookie.parse().map_err(|_| AppError::Internal)?);
    }
    leptos_axum::redirect("/conversations");
    Ok(user.dto())
}

/// Ends the session and clears the cookie.
#[server(name = Logout, prefix = "/api", endpoint = "auth/logout")]
pub async fn logout() -> Result<(), AppError> {
    use super::ssr::*;
    let backend = backend()?;
    if let Some(token) = session_token().await {
        backend.logout(&token).await.map_err(fail)?;
    }
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        let cookie = backend::auth::session_cookie("", 0, is_https().await);
        res.insert_header(axum::http::header::SET_COOKIE, cookie.parse().map_err(|_| AppError::Internal)?);
    }
    leptos_axum::redirect("/login");
    Ok(())
}

/// The signed-in user, or `None`.
#[server(name = CurrentUser, prefix = "/api", endpoint = "auth/me")]
pub async fn current_user() -> Result<Option<UserDto>, AppError> {
    use super::ssr::*;
    let backend = backend()?;
    match session_token().await {
        Some(t) => Ok(backend.user_by_session(&t).await.map_err(fail)?.map(|u| u.dto())),
        None => Ok(None),
    }
}
