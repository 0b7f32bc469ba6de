//! `widgets/*`: the organization's chat widgets. Reading needs a signed-in user; changing needs
//! the *settings* permission. Widgets of other organizations answer `NotFound`. JSON bodies.
use crate::error::AppError;
use domain::admin::{WidgetDto, WidgetInput};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// The widgets the caller may see, and the address customers' pages load the widget from (the
/// address this dashboard is reached at; for the embed snippets).
#[server(name = ListWidgets, prefix = "/api", endpoint = "widgets/list", input = Json)]
pub async fn list_widgets() -> Result<(Vec<WidgetDto>, String), AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    let widgets = backend.list_widgets(&user).await.map_err(fail)?;
    let headers: Option<axum::http::HeaderMap> = leptos_axum::extract().await.ok();
    let host = headers.as_ref().and_then(|h| h.get(axum::http::header::HOST)).and_then(|v| v.to_str().ok());
    let base = match host {
        Some(h) if !h.is_empty() && !h.contains(['/', '"', '<', '>', ' ']) => {
            format!("{}://{h}", if is_https().await { "https" } else { "http" })
        }
        _ => backend.config.public_url.clone(),
    };
    Ok((widgets, base))
}

/// Creates (`widget_id: null`) or changes a widget; needs the *settings* permission.
#[server(name = SaveWidget, prefix = "/api", endpoint = "widgets/save", input = Json)]
pub async fn save_widget(widget_id: Option<String>, input: WidgetInput) -> Result<WidgetDto, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.save_widget(&user, widget_id.as_deref(), input).await.map_err(fail)
}
