//! Pieces shared by pages.
pub mod alerts;
pub mod bell;
pub mod email_form;
pub mod form;
pub mod icons;
pub mod topbar;
pub mod transcript;
#[cfg(feature = "browser")]
pub mod upload;
