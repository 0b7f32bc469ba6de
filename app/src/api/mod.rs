//! Server functions: the dashboard's and widget's HTTP API. Every function has a fixed endpoint
//! under `/api/`, checks who calls it first, and answers errors as [`AppError`] JSON with a
//! matching HTTP status.
pub mod admin;
pub mod agents;
pub mod auth;
pub mod chat;
pub mod email;
pub mod notifications;
pub mod push;
#[cfg(feature = "ssr")]
pub mod ssr;
