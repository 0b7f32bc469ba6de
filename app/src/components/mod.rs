//! Pieces shared by pages.
pub mod transcript;
