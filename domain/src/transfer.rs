//! Transfer (issue 23): the agent holding a conversation hands it to a colleague of their
//! organization who is online, with an optional note (kept as a private note). The state change
//! itself is `crate::handoff::HandoffEvent::Transfer`.
use serde::{Deserialize, Serialize};

/// A colleague a conversation can be passed to: of the organization, active, allowed to handle
/// conversations. Only an online one (their dashboard is open) can receive it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Colleague {
    pub id: String,
    pub name: String,
    pub online: bool,
}
