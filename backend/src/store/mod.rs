//! Connection-level functions: each takes the caller's connection (inside its transaction or
//! `Db::write` job) and never the service, so that one transaction can combine them.
//!
//! * [`messages`] — appending under a guard with the next sequence number;
//! * [`handoff`] — writing an applied transition and executing its effects;
//! * [`notifications`] — who is notified of what (the bell's routing rules, in SQL);
//! * [`notes`] — writing a private note;
//! * [`outbox`] — queueing e-mail and push digests;
//! * [`knowledge`] — storing knowledge entries;
//! * [`erase`] — deleting a conversation with every row about it.
pub mod erase;
pub mod handoff;
pub mod knowledge;
pub mod messages;
pub mod notes;
pub mod notifications;
pub mod outbox;
