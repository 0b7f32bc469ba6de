//! The bell: the signed-in user's notifications and notification settings. Every function acts
//! on the caller's own notifications only.
use crate::error::AppError;
use domain::wire::{NotificationList, NotificationPrefs};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[server(name = ListNotifications, prefix = "/api", endpoint = "notifications/list", input = Json)]
pub async fn list_notifications() -> Result<NotificationList, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.notifications(&user).await.map_err(fail)
}

/// Marks one notification read.
#[server(name = ReadNotification, prefix = "/api", endpoint = "notifications/read", input = Json)]
pub async fn read_notification(id: String) -> Result<(), AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.mark_notification_read(&user, &id).await.map_err(fail)
}

/// Marks all notifications read, or only one conversation's.
#[server(name = ReadAllNotifications, prefix = "/api", endpoint = "notifications/read_all", input = Json)]
pub async fn read_all_notifications(conversation_id: Option<String>) -> Result<(), AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.mark_notifications_read(&user, conversation_id.as_deref()).await.map_err(fail)
}

#[server(name = GetNotificationPrefs, prefix = "/api", endpoint = "notifications/prefs", input = Json)]
pub async fn get_notification_prefs() -> Result<NotificationPrefs, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.notification_prefs(&user).await.map_err(fail)
}

#[server(name = SaveNotificationPrefs, prefix = "/api", endpoint = "notifications/save_prefs", input = Json)]
pub async fn save_notification_prefs(prefs: NotificationPrefs) -> Result<NotificationPrefs, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.save_notification_prefs(&user, prefs).await.map_err(fail)
}
