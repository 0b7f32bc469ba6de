//! The handoff state machine.
//!
//! A conversation is always controlled by exactly one party: the AI, nobody yet (a visitor asked
//! for a human and is waiting), one human agent, or nobody ever again (closed). Every change of
//! control goes through [`transition`], which is total: illegal events return a typed
//! [`TransitionError`] and never panic.
use serde::{Deserialize, Serialize};
use std::fmt;

/// A human agent (a client user of the organization), as far as the state machine cares.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentRef {
    pub id: String,
    pub name: String,
}

/// Who controls the conversation. Decoded tag first (`crate::tag_first`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HandoffState {
    /// The AI answers the visitor.
    Ai,
    /// The visitor asked for a human and is waiting; the AI stays silent.
    Requested,
    /// A human agent holds the conversation; the AI stays silent.
    Human { agent: AgentRef },
    /// Nobody answers any more.
    Closed,
}

tag_first_deserialize! {
    HandoffState, tag "kind";
    "human" => Human { agent: AgentRef };
    "ai" => Ai,
    "requested" => Requested,
    "closed" => Closed
}

/// The state without its data, as stored in the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StateKind {
    Ai,
    Requested,
    Human,
    Closed,
}

impl StateKind {
    pub const ALL: [StateKind; 4] = [Self::Ai, Self::Requested, Self::Human, Self::Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ai => "ai",
            Self::Requested => "requested",
            Self::Human => "human",
            Self::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl HandoffState {
    pub fn kind(&self) -> StateKind {
        match self {
            Self::Ai => StateKind::Ai,
            Self::Requested => StateKind::Requested,
            Self::Human { .. } => StateKind::Human,
            Self::Closed => StateKind::Closed,
        }
    }

    /// Rebuilds a state from its stored parts. `agent` is required for (and only used by) `Human`.
    pub fn from_parts(kind: StateKind, agent: Option<AgentRef>) -> Option<Self> {
        Some(match kind {
            StateKind::Ai => Self::Ai,
            StateKind::Requested => Self::Requested,
            StateKind::Human => Self::Human { agent: agent? },
            StateKind::Closed => Self::Closed,
        })
    }

    /// The one invariant the product is built on: the AI may only speak in `Ai`.
    pub fn ai_may_reply(&self) -> bool {
        matches!(self, Self::Ai)
    }

    pub fn holder(&self) -> Option<&AgentRef> {
        match self {
            Self::Human { agent } => Some(agent),
            _ => None,
        }
    }

    /// Whether a visitor is waiting for a human or talking to one ("live" in the dashboard).
    pub fn needs_attention(&self) -> bool {
        matches!(self, Self::Requested | Self::Human { .. })
    }
}

/// Who caused an event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Actor {
    Visitor,
    Ai,
    Agent { agent: AgentRef },
    System,
}

/// Something that asks the conversation to change hands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HandoffEvent {
    /// The visitor pressed "Talk to a human" (or the AI detected that intent): `Ai → Requested`.
    RequestHuman { by: Requester },
    /// An agent accepted a request ("Handle chat"): `Requested → Human`.
    HandleChat { agent: AgentRef },
    /// An agent takes over a conversation the AI is handling ("Continue chat yourself"):
    /// `Ai → Human`.
    ContinueChatYourself { agent: AgentRef },
    /// The holding agent returns control to the AI ("Pass chat to AI"): `Human → Ai`.
    PassChatToAi { agent: AgentRef },
    /// The holding agent hands the conversation to a colleague ("Transfer"): `Human → Human`,
    /// with an optional note for them (checked by the caller, like who may receive it: same
    /// organization, active, online).
    Transfer { from: AgentRef, to: AgentRef, note: String },
    /// The conversation ends: any open state `→ Closed`.
    Close { by: Actor },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Requester {
    Visitor,
    Ai,
}

impl HandoffEvent {
    pub fn name(&self) -> &'static str {
        match self {
            Self::RequestHuman { .. } => "request_human",
            Self::HandleChat { .. } => "handle_chat",
            Self::ContinueChatYourself { .. } => "continue_chat_yourself",
            Self::PassChatToAi { .. } => "pass_chat_to_ai",
            Self::Transfer { .. } => "transfer",
            Self::Close { .. } => "close",
        }
    }

    pub fn actor(&self) -> Actor {
        match self {
            Self::RequestHuman { by: Requester::Visitor } => Actor::Visitor,
            Self::RequestHuman { by: Requester::Ai } => Actor::Ai,
            Self::HandleChat { agent }
            | Self::ContinueChatYourself { agent }
            | Self::PassChatToAi { agent }
            | Self::Transfer { from: agent, .. } => Actor::Agent { agent: agent.clone() },
            Self::Close { by } => by.clone(),
        }
    }
}

/// What the caller must do after a successful transition, in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Effect {
    /// Drop any AI reply being generated: it must never be delivered or stored.
    CancelAiGeneration,
    /// Post a system message to the conversation that the visitor sees.
    Announce { notice: Notice },
    /// Alert the organization's agents that a visitor is waiting (ring, toast, bell).
    AlertAgents,
    /// Stop alerting: the request was answered or withdrawn.
    StopAlert,
    /// Alert one agent that a colleague passed them the conversation (ring, toast, bell), and
    /// keep the colleague's note, if any, as a private note by them.
    AlertColleague { agent: AgentRef, from: AgentRef, note: String },
}

/// System messages shown in the transcript.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notice {
    HumanRequested,
    AgentJoined {
        agent_name: String,
    },
    ReturnedToAi {
        agent_name: String,
    },
    /// Told to the visitor: who took over from whom.
    Transferred {
        from_name: String,
        to_name: String,
    },
    Closed,
}

impl Notice {
    pub fn text(&self) -> String {
        match self {
            Self::HumanRequested => "You asked for a human. We are getting someone for you — please stay here.".into(),
            Self::AgentJoined { agent_name } => format!("{agent_name} joined the chat."),
            Self::ReturnedToAi { agent_name } => {
                format!("{agent_name} passed the chat back to the AI assistant.")
            }
            Self::Transferred { from_name, to_name } => format!("{to_name} took over the chat from {from_name}."),
            Self::Closed => "This conversation was closed.".into(),
        }
    }
}

/// Why an event was refused. The state is unchanged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TransitionError {
    #[error("this conversation is already taken by {}", by.name)]
    AlreadyTaken { by: AgentRef },
    #[error("a human has already been requested")]
    AlreadyRequested,
    #[error("a human ({}) is already in this conversation", by.name)]
    HumanAlreadyPresent { by: AgentRef },
    #[error("nobody asked for a human in this conversation; use \"Continue chat yourself\"")]
    NotRequested,
    #[error("the AI is not holding this conversation")]
    NotWithHuman,
    #[error("only {} can pass this chat back to the AI", holder.name)]
    NotHolder { holder: AgentRef },
    #[error("this conversation is closed")]
    ConversationClosed,
    #[error("take the chat first: only the agent holding it can transfer it")]
    NotHeld,
    #[error("you already hold this chat: choose a colleague")]
    TransferToSelf,
}

impl TransitionError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::AlreadyTaken { .. } => "already_taken",
            Self::AlreadyRequested => "already_requested",
            Self::HumanAlreadyPresent { .. } => "human_already_present",
            Self::NotRequested => "not_requested",
            Self::NotWithHuman => "not_with_human",
            Self::NotHolder { .. } => "not_holder",
            Self::ConversationClosed => "conversation_closed",
            Self::NotHeld => "not_held",
            Self::TransferToSelf => "transfer_to_self",
        }
    }
}

impl fmt::Display for StateKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The whole state machine. Pure and total.
pub fn transition(state: &HandoffState, event: &HandoffEvent) -> Result<(HandoffState, Vec<Effect>), TransitionError> {
    use HandoffEvent as E;
    use HandoffState as S;
    let joined = |agent: &AgentRef| Effect::Announce { notice: Notice::AgentJoined { agent_name: agent.name.clone() } };
    match (state, event) {
        (S::Closed, _) => Err(TransitionError::ConversationClosed),

        (S::Ai, E::RequestHuman { .. }) => Ok((
            S::Requested,
            vec![Effect::CancelAiGeneration, Effect::Announce { notice: Notice::HumanRequested }, Effect::AlertAgents],
        )),
        (S::Requested, E::RequestHuman { .. }) => Err(TransitionError::AlreadyRequested),
        (S::Human { agent }, E::RequestHuman { .. }) => Err(TransitionError::HumanAlreadyPresent { by: agent.clone() }),

        (S::Requested, E::HandleChat { agent } | E::ContinueChatYourself { agent }) => {
            Ok((S::Human { agent: agent.clone() }, vec![Effect::CancelAiGeneration, Effect::StopAlert, joined(agent)]))
        }
        (S::Ai, E::HandleChat { .. }) => Err(TransitionError::NotRequested),
        (S::Ai, E::ContinueChatYourself { agent }) => {
            Ok((S::Human { agent: agent.clone() }, vec![Effect::CancelAiGeneration, joined(agent)]))
        }
        (S::Human { agent: holder }, E::HandleChat { .. } | E::ContinueChatYourself { .. }) => {
            Err(TransitionError::AlreadyTaken { by: holder.clone() })
        }

        (S::Human { agent: holder }, E::PassChatToAi { agent }) => {
            if holder.id == agent.id {
                Ok((S::Ai, vec![Effect::Announce { notice: Notice::ReturnedToAi { agent_name: agent.name.clone() } }]))
            } else {
                Err(TransitionError::NotHolder { holder: holder.clone() })
            }
        }
        (S::Ai | S::Requested, E::PassChatToAi { .. }) => Err(TransitionError::NotWithHuman),

        (S::Human { agent: holder }, E::Transfer { from, to, note }) => {
            if holder.id != from.id {
                Err(TransitionError::NotHolder { holder: holder.clone() })
            } else if to.id == from.id {
                Err(TransitionError::TransferToSelf)
            } else {
                let notice = Notice::Transferred { from_name: from.name.clone(), to_name: to.name.clone() };
                let alert = Effect::AlertColleague { agent: to.clone(), from: from.clone(), note: note.clone() };
                Ok((S::Human { agent: to.clone() }, vec![Effect::Announce { notice }, alert]))
            }
        }
        (S::Ai | S::Requested, E::Transfer { .. }) => Err(TransitionError::NotHeld),

        (S::Requested, E::Close { .. }) => Ok((
            S::Closed,
            vec![Effect::CancelAiGeneration, Effect::StopAlert, Effect::Announce { notice: Notice::Closed }],
        )),
        (S::Ai | S::Human { .. }, E::Close { .. }) => {
            Ok((S::Closed, vec![Effect::CancelAiGeneration, Effect::Announce { notice: Notice::Closed }]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ann() -> AgentRef {
        AgentRef { id: "u1".into(), name: "Ann".into() }
    }
    fn bob() -> AgentRef {
        AgentRef { id: "u2".into(), name: "Bob".into() }
    }
    fn human(a: AgentRef) -> HandoffState {
        HandoffState::Human { agent: a }
    }
    use HandoffEvent as E;
    use HandoffState as S;

    /// What the dashboard and the visitor read of a state, a notice, an error.
    #[test]
    fn states_notices_and_errors_read_as_documented() {
        let attention: Vec<bool> =
            [S::Ai, S::Requested, human(ann()), S::Closed].iter().map(HandoffState::needs_attention).collect();
        assert_eq!(attention, [false, true, true, false]);
        for k in StateKind::ALL {
            assert_eq!(k.to_string(), k.as_str());
        }
        assert_eq!(Notice::AgentJoined { agent_name: "Ann".into() }.text(), "Ann joined the chat.");
        assert_eq!(
            Notice::ReturnedToAi { agent_name: "Ann".into() }.text(),
            "Ann passed the chat back to the AI assistant."
        );
        assert!(Notice::HumanRequested.text().starts_with("You asked for a human."));
        assert_eq!(Notice::Closed.text(), "This conversation was closed.");
        let codes: Vec<&str> = [
            TransitionError::AlreadyTaken { by: ann() },
            TransitionError::AlreadyRequested,
            TransitionError::HumanAlreadyPresent { by: ann() },
            TransitionError::NotRequested,
            TransitionError::NotWithHuman,
            TransitionError::NotHolder { holder: ann() },
            TransitionError::ConversationClosed,
            TransitionError::NotHeld,
            TransitionError::TransferToSelf,
        ]
        .iter()
        .map(TransitionError::code)
        .collect();
        assert_eq!(
            codes,
            [
                "already_taken",
                "already_requested",
                "human_already_present",
                "not_requested",
                "not_with_human",
                "not_holder",
                "conversation_closed",
                "not_held",
                "transfer_to_self"
            ]
        );
    }

    fn ok(state: S, event: E) -> (S, Vec<Effect>) {
        transition(&state, &event).expect("transition should be legal")
    }
    fn err(state: S, event: E) -> TransitionError {
        transition(&state, &event).expect_err("transition should be refused")
    }

    #[test]
    fn visitor_requests_human_from_ai() {
        let (s, fx) = ok(S::Ai, E::RequestHuman { by: Requester::Visitor });
        assert_eq!(s, S::Requested);
        assert_eq!(
            fx,
            vec![Effect::CancelAiGeneration, Effect::Announce { notice: Notice::HumanRequested }, Effect::AlertAgents]
        );
    }

    #[test]
    fn ai_detected_intent_requests_human() {
        let (s, _) = ok(S::Ai, E::RequestHuman { by: Requester::Ai });
        assert_eq!(s, S::Requested);
    }

    #[test]
    fn request_twice_is_refused() {
        assert_eq!(err(S::Requested, E::RequestHuman { by: Requester::Visitor }), TransitionError::AlreadyRequested);
    }

    #[test]
    fn request_while_human_present_is_refused() {
        assert_eq!(
            err(human(ann()), E::RequestHuman { by: Requester::Visitor }),
            TransitionError::HumanAlreadyPresent { by: ann() }
        );
    }

    #[test]
    fn handle_chat_accepts_request() {
        let (s, fx) = ok(S::Requested, E::HandleChat { agent: ann() });
        assert_eq!(s, human(ann()));
        assert_eq!(
            fx,
            vec![
                Effect::CancelAiGeneration,
                Effect::StopAlert,
                Effect::Announce { notice: Notice::AgentJoined { agent_name: "Ann".into() } }
            ]
        );
    }

    #[test]
    fn handle_chat_without_request_is_refused() {
        assert_eq!(err(S::Ai, E::HandleChat { agent: ann() }), TransitionError::NotRequested);
    }

    #[test]
    fn second_handle_chat_loses_and_names_winner() {
        let (s, _) = ok(S::Requested, E::HandleChat { agent: ann() });
        let e = err(s, E::HandleChat { agent: bob() });
        assert_eq!(e, TransitionError::AlreadyTaken { by: ann() });
        assert_eq!(e.to_string(), "this conversation is already taken by Ann");
    }

    #[test]
    fn continue_chat_yourself_takes_over_ai() {
        let (s, fx) = ok(S::Ai, E::ContinueChatYourself { agent: bob() });
        assert_eq!(s, human(bob()));
        assert_eq!(fx[0], Effect::CancelAiGeneration);
        assert!(!fx.contains(&Effect::StopAlert));
    }

    #[test]
    fn continue_chat_yourself_on_request_accepts_it() {
        let (s, fx) = ok(S::Requested, E::ContinueChatYourself { agent: bob() });
        assert_eq!(s, human(bob()));
        assert!(fx.contains(&Effect::StopAlert));
    }

    #[test]
    fn continue_chat_yourself_when_taken_is_refused() {
        assert_eq!(
            err(human(ann()), E::ContinueChatYourself { agent: bob() }),
            TransitionError::AlreadyTaken { by: ann() }
        );
    }

    #[test]
    fn pass_chat_to_ai_by_holder() {
        let (s, fx) = ok(human(ann()), E::PassChatToAi { agent: ann() });
        assert_eq!(s, S::Ai);
        assert_eq!(fx, vec![Effect::Announce { notice: Notice::ReturnedToAi { agent_name: "Ann".into() } }]);
    }

    #[test]
    fn pass_chat_to_ai_by_other_agent_is_refused() {
        assert_eq!(err(human(ann()), E::PassChatToAi { agent: bob() }), TransitionError::NotHolder { holder: ann() });
    }

    #[test]
    fn pass_chat_to_ai_without_human_is_refused() {
        assert_eq!(err(S::Ai, E::PassChatToAi { agent: ann() }), TransitionError::NotWithHuman);
        assert_eq!(err(S::Requested, E::PassChatToAi { agent: ann() }), TransitionError::NotWithHuman);
    }

    #[test]
    fn transfer_by_the_holder_to_a_colleague() {
        let (s, fx) = ok(human(ann()), E::Transfer { from: ann(), to: bob(), note: "VIP".into() });
        assert_eq!(s, human(bob()));
        let notice = Notice::Transferred { from_name: "Ann".into(), to_name: "Bob".into() };
        assert_eq!(notice.text(), "Bob took over the chat from Ann.");
        assert_eq!(
            fx,
            vec![Effect::Announce { notice }, Effect::AlertColleague { agent: bob(), from: ann(), note: "VIP".into() }]
        );
        assert!(!s.ai_may_reply(), "a transfer never wakes the AI");
    }

    #[test]
    fn transfer_is_refused_unless_held_by_the_sender_for_someone_else() {
        let pass = |from: AgentRef, to: AgentRef| E::Transfer { from, to, note: String::new() };
        assert_eq!(err(human(ann()), pass(bob(), bob())), TransitionError::NotHolder { holder: ann() });
        assert_eq!(err(human(ann()), pass(ann(), ann())), TransitionError::TransferToSelf);
        assert_eq!(err(S::Ai, pass(ann(), bob())), TransitionError::NotHeld);
        assert_eq!(err(S::Requested, pass(ann(), bob())), TransitionError::NotHeld);
        assert_eq!(err(S::Closed, pass(ann(), bob())), TransitionError::ConversationClosed);
        assert_eq!(pass(ann(), bob()).actor(), Actor::Agent { agent: ann() });
        assert_eq!(pass(ann(), bob()).name(), "transfer");
    }

    #[test]
    fn close_from_every_open_state() {
        for s in [S::Ai, S::Requested, human(ann())] {
            let was_requested = s == S::Requested;
            let (next, fx) = ok(s, E::Close { by: Actor::System });
            assert_eq!(next, S::Closed);
            assert!(fx.contains(&Effect::CancelAiGeneration));
            assert_eq!(fx.contains(&Effect::StopAlert), was_requested);
            assert!(fx.contains(&Effect::Announce { notice: Notice::Closed }));
        }
    }

    #[test]
    fn closed_refuses_everything() {
        let events = [
            E::RequestHuman { by: Requester::Visitor },
            E::HandleChat { agent: ann() },
            E::ContinueChatYourself { agent: ann() },
            E::PassChatToAi { agent: ann() },
            E::Close { by: Actor::Visitor },
        ];
        for e in events {
            assert_eq!(err(S::Closed, e), TransitionError::ConversationClosed);
        }
    }

    #[test]
    fn state_kind_round_trips() {
        for k in StateKind::ALL {
            assert_eq!(StateKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(StateKind::parse("bogus"), None);
        assert_eq!(HandoffState::from_parts(StateKind::Human, None), None);
        assert_eq!(HandoffState::from_parts(StateKind::Human, Some(ann())), Some(human(ann())));
    }

    #[test]
    fn event_actor_and_names() {
        assert_eq!(E::RequestHuman { by: Requester::Visitor }.actor(), Actor::Visitor);
        assert_eq!(E::RequestHuman { by: Requester::Ai }.actor(), Actor::Ai);
        assert_eq!(E::HandleChat { agent: ann() }.actor(), Actor::Agent { agent: ann() });
        assert_eq!(E::PassChatToAi { agent: ann() }.name(), "pass_chat_to_ai");
    }

    fn arb_agent() -> impl Strategy<Value = AgentRef> {
        prop_oneof![Just(ann()), Just(bob())]
    }
    fn arb_event() -> impl Strategy<Value = HandoffEvent> {
        prop_oneof![
            prop_oneof![Just(Requester::Visitor), Just(Requester::Ai)].prop_map(|by| E::RequestHuman { by }),
            arb_agent().prop_map(|agent| E::HandleChat { agent }),
            arb_agent().prop_map(|agent| E::ContinueChatYourself { agent }),
            arb_agent().prop_map(|agent| E::PassChatToAi { agent }),
            (arb_agent(), arb_agent()).prop_map(|(from, to)| E::Transfer { from, to, note: String::new() }),
            Just(E::Close { by: Actor::System }),
        ]
    }

    proptest! {
        /// Random event sequences: never a panic; a refused event changes nothing; the AI may only
        /// speak in `Ai`; every move away from `Ai` cancels generation; only the holder passes back.
        #[test]
        fn invariants_hold_for_random_sequences(events in proptest::collection::vec(arb_event(), 0..40)) {
            let mut state = S::Ai;
            for event in events {
                match transition(&state, &event) {
                    Ok((next, effects)) => {
                        prop_assert_ne!(&next, &state);
                        if state.ai_may_reply() {
                            prop_assert!(effects.contains(&Effect::CancelAiGeneration));
                        }
                        // Only the holder gives a held chat away (to the AI or a colleague).
                        if let (S::Human { agent: holder }, S::Ai | S::Human { .. }) = (&state, &next) {
                            prop_assert_eq!(Actor::Agent { agent: holder.clone() }, event.actor());
                        }
                        prop_assert_eq!(next.ai_may_reply(), next == S::Ai);
                        prop_assert_eq!(next.holder().is_some(), next.kind() == StateKind::Human);
                        state = next;
                    }
                    Err(e) => {
                        prop_assert!(!e.code().is_empty());
                    }
                }
            }
        }
    }
}
