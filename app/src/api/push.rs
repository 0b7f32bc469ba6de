//! Browser push: the dashboard's service worker subscribes with the server's VAPID key and hands
//! the subscription over; the server pushes the notifications the user chose (see
//! `backend::push`).
use crate::error::AppError;
use domain::wire::{PushInfo, PushSubscriptionDto};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// The VAPID public key to subscribe with, and the user's number of subscribed browsers.
#[server(name = GetPushInfo, prefix = "/api", endpoint = "push/info", input = Json)]
pub async fn get_push_info() -> Result<PushInfo, AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    let public_key = backend.vapid().await.map_err(fail)?.public_key();
    let subscriptions = backend.push_subscriptions(&user).await.map_err(fail)?;
    Ok(PushInfo { public_key, subscriptions })
}

/// Stores this browser's subscription for the signed-in user. Endpoints of push services not
/// allowed by the server's `push_endpoints` are a `Field` error (`endpoint`).
#[server(name = PushSubscribe, prefix = "/api", endpoint = "push/subscribe", input = Json)]
pub async fn push_subscribe(subscription: PushSubscriptionDto) -> Result<(), AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.push_subscribe(&user, &subscription.endpoint, &subscription.p256dh, &subscription.auth).await.map_err(fail)
}

/// Forgets this browser's subscription (push turned off here).
#[server(name = PushUnsubscribe, prefix = "/api", endpoint = "push/unsubscribe", input = Json)]
pub async fn push_unsubscribe(endpoint: String) -> Result<(), AppError> {
    use super::ssr::*;
    let (backend, user) = require_user().await?;
    backend.push_unsubscribe(&user, &endpoint).await.map_err(fail)
}
