//! Pieces shared by pages.
pub mod alerts;
pub mod transcript;
