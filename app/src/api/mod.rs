//! Server functions: the dashboard's and widget's HTTP API. Every function has a fixed endpoint
//! under `/api/`, checks who calls it first, and answers errors as [`AppError`] JSON with a
//! matching HTTP status. Each file is named after the endpoints' prefix it serves
//! (`org.rs` serves `/api/org/*`, `widget.rs` `/api/widget/*`, …).
//!
//! [`AppError`]: crate::error::AppError
pub mod admin;
pub mod agents;
pub mod auth;
pub mod canned;
pub mod chat;
pub mod conversations;
pub mod email;
pub mod handoff;
pub mod knowledge;
pub mod labels;
pub mod notifications;
pub mod org;
pub mod push;
#[cfg(feature = "ssr")]
pub mod ssr;
pub mod visitor;
pub mod widget;
pub mod widgets;
