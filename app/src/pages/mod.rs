pub mod dashboard;
pub mod login;
pub mod widget;
