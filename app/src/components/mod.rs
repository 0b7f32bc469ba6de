//! Pieces shared by pages.
pub mod alerts;
pub mod bell;
pub mod email_form;
pub mod transcript;
