//! The bell: a user's notifications as the dashboard lists them, their preferences (the bell's
//! gear) and browser push subscriptions. Re-exported by [`crate::wire`], where the server and the
//! browser name them.
use serde::{Deserialize, Serialize};

/// What a notification is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// A visitor asked for a human.
    Request,
    /// New visitor messages (for users who chose "all messages").
    Message,
    /// A visitor sent the e-mail form.
    EmailForm,
    /// A colleague passed the user a conversation they held.
    Transfer,
}

/// One entry of the bell.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationDto {
    pub id: String,
    pub conversation_id: String,
    pub kind: NotificationKind,
    pub text: String,
    pub created_at: i64,
    pub read: bool,
}

/// The bell's contents: the newest notifications and how many are unread in all.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationList {
    pub items: Vec<NotificationDto>,
    pub unread: i64,
}

/// Which events a user is notified of.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyEvents {
    /// Every visitor message, and requests.
    All,
    /// Handoff requests (and e-mail form submissions) only.
    #[default]
    Requests,
}

/// What a dashboard needs to subscribe to browser push: the server's VAPID application server
/// key, and how many browsers of the user are subscribed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushInfo {
    pub public_key: String,
    pub subscriptions: i64,
}

/// A browser's push subscription (`PushSubscription.toJSON()`: endpoint and keys, base64url).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushSubscriptionDto {
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
}

/// A user's notification settings (the bell's gear).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationPrefs {
    pub via_email: bool,
    pub via_push: bool,
    pub events: NotifyEvents,
}
