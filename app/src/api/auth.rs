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
    let ip = client_ip(&backend).await;
    let (token, user) = backend.login(&email, &password, ip).await.map_err(fail)?;
    set_session_cookie(&token, backend.config.session_hours * 3600).await?;
    // Platform admins without an organization have no conversations: their start page is /admin.
    leptos_axum::redirect(if user.is_admin() && user.org_id.is_none() { "/admin" } else { "/conversations" });
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
    set_session_cookie("", 0).await?;
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

/// Changes the caller's password. Every other session of the user ends; this browser gets a
/// fresh session. Errors: `Field` on `current_password` or `password`.
#[server(name = ChangePassword, prefix = "/api", endpoint = "auth/password", input = leptos::server_fn::codec::Json)]
pub async fn change_password(current_password: String, password: String) -> Result<(), AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    let token = backend.change_own_password(&user, &current_password, &password).await.map_err(fail)?;
    set_session_cookie(&token, backend.config.session_hours * 3600).await
}
