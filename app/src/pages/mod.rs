pub mod account;
pub mod admin;
pub mod ai_agents;
pub mod dashboard;
pub mod labels;
pub mod login;
pub mod users;
pub mod widgets;
