//! The pure core of Handoff: no I/O, no async, no HTTP, no SQL.
//!
//! * [`admin`] — organizations, users, permissions and widgets: DTOs and input rules.
//! * [`agent`] — AI agent settings and knowledge base entries, their validation and file import.
//! * [`chat_files`] — files sent in the chat by either side: checked like the e-mail form's
//!   attachments; what the AI and the transcript are told of them.
//! * [`canned`] — canned responses: title, `/shortcut` and text rules, placeholders, the
//!   composer's suggestions.
//! * [`email`] — the visitor's "send email" form and agents' e-mail replies: addresses, text,
//!   attachments checked by content.
//! * [`field`] — [`field::FieldError`]: which input is wrong and why, shared by every rule.
//! * [`labels`] — an organization's conversation labels: names, colours, limits.
//! * [`notes`] — agents' private notes in a conversation (never the visitor's to see).
//! * [`notifications`] — the bell: notifications, their preferences, push subscriptions.
//! * [`handoff`] — the conversation control state machine (who answers the visitor: the AI or a
//!   human agent) as a pure `transition(state, event)` function; [`transfer`] — passing a held
//!   chat to a colleague.
//! * [`privacy`] — a visitor's data on request: the export's layout, what erasure deletes, the
//!   audit log.
//! * [`retention`] — an organization's choice to delete ended conversations after some days.
//! * [`seen`] — how far each side of a conversation has read it ("Seen").
//! * [`transcript`] — the transcript e-mailed to a visitor who asks for it.
//! * [`values`] — validated newtypes for everything that crosses a trust boundary
//!   (message text, client message ids).
//! * `tag_first` — decoding the server's internally tagged enums without buffering them.
//! * [`visitor_context`] — what the widget tells about the visitor (pages, browser, time zone),
//!   cleaned, and the panel's content.
//! * [`wire`] — the JSON frames exchanged over WebSockets and the DTOs shared by server and
//!   browser code.
#[macro_use]
mod tag_first;
pub mod admin;
pub mod agent;
pub mod canned;
pub mod chat_files;
pub mod email;
pub mod field;
pub mod handoff;
pub mod inbox;
pub mod labels;
pub mod notes;
pub mod notifications;
pub mod privacy;
pub mod retention;
pub mod seen;
pub mod summary;
#[cfg(test)]
mod test_support;
pub mod transcript;
pub mod transfer;
pub mod values;
pub mod visitor_context;
pub mod wire;
