//! Pieces shared by pages.
pub mod alerts;
pub mod bell;
pub mod transcript;
