pub mod agents;
pub mod dashboard;
pub mod login;
pub mod widget;
