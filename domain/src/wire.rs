//! Frames exchanged over the WebSockets, and the DTOs the dashboard and widget share with the
//! server. Everything is JSON with a `type` tag. Unknown or malformed frames are answered with an
//! [`ServerFrame::Error`] and change nothing.
use crate::handoff::HandoffState;
pub use crate::inbox::ListCounts;
pub use crate::notes::NoteDto;
pub use crate::notifications::{
    NotificationDto, NotificationKind, NotificationList, NotificationPrefs, NotifyEvents, PushInfo, PushSubscriptionDto,
};
pub use crate::summary::{ConversationSummary, ACTIVE_FOR_MS};
use serde::{Deserialize, Serialize};

/// Who wrote a message. Decoded tag first (`crate::tag_first`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Author {
    Visitor,
    Ai,
    Agent { id: String, name: String },
    System,
}

/// One stored message. `seq` is the conversation's gap-free sequence number (1, 2, 3, …).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageDto {
    pub conversation_id: String,
    pub seq: i64,
    pub author: Author,
    pub text: String,
    /// The sender's id for this message, echoed back so that the sender can match it.
    pub client_msg_id: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    /// What the message is besides its text (chat, e-mail form, e-mail reply…).
    #[serde(default)]
    pub extra: MessageExtra,
}

/// What kind of message it is, beyond its text. Decoded tag first (`crate::tag_first`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MessageExtra {
    /// An ordinary chat message.
    #[default]
    Chat,
    /// (System) nobody answered the request in time: the widget offers the "send email" form.
    EmailOffer,
    /// A visitor's "send email" form: their address and files; the message's `text` is what
    /// they wrote.
    EmailForm { email: String, attachments: Vec<AttachmentDto> },
    /// An agent's answer, sent by e-mail to `to`; the message's `text` is the answer.
    EmailReply { to: String, delivery: Delivery },
    /// A file sent in the chat (`crate::chat_files`); the message's `text` is its name.
    File { attachment: AttachmentDto },
}

/// A file attached to the e-mail form or sent in the chat. Downloaded from `/attachments/{id}`
/// (signed-in users of the organization, or the conversation's visitor with the
/// `X-Visitor-Token` header).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentDto {
    pub id: String,
    pub name: String,
    pub content_type: String,
    pub size: i64,
}

/// Where an outgoing e-mail is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting in the outbox (also between retries).
    #[default]
    Queued,
    /// Accepted by the SMTP server.
    Sent,
    /// Given up after the last retry (an agent can retry it).
    Failed,
}

/// An outgoing e-mail's delivery, as the dashboard shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub status: DeliveryStatus,
    pub attempts: i64,
    /// The last error, when an attempt failed.
    pub error: Option<String>,
}

/// An organization's handoff settings (the dashboard's settings page).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgSettings {
    /// A request not handled within this many seconds gets the visitor the e-mail form.
    pub handoff_timeout_secs: i64,
    /// Replies to the e-mails agents send go here (empty: the server's sender address).
    pub reply_to: String,
    /// Agents see what a visitor is typing before it is sent (off: only that they type).
    #[serde(default)]
    pub typing_preview: bool,
}

/// A conversation with its transcript, for the dashboard's conversation view.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationDetail {
    pub summary: ConversationSummary,
    pub messages: Vec<MessageDto>,
    /// The name of the AI agent answering it, as the visitor's widget shows it.
    #[serde(default)]
    pub ai_name: String,
    /// What the visitor's widget told about them (the visitor context panel).
    #[serde(default)]
    pub context: crate::visitor_context::VisitorContext,
    /// The agents' private notes on it, oldest first (never shown to the visitor).
    #[serde(default)]
    pub notes: Vec<NoteDto>,
    /// How far the visitor and the human agent holding it have read it (`crate::seen`).
    #[serde(default)]
    pub visitor_seen_seq: i64,
    #[serde(default)]
    pub human_seen_seq: i64,
}

/// What the widget needs to know about its AI agent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WidgetConfig {
    pub widget_id: String,
    pub agent_name: String,
    pub greeting: String,
    /// Show the "Talk to a human" UI.
    pub handoff_enabled: bool,
    /// Keep the handoff UI pinned at the top of the chat.
    pub handoff_fixed: bool,
}

/// A visitor's identity and current conversation. The token is the visitor's only credential:
/// the widget keeps it in local storage and sends it in `Hello`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitorSession {
    pub token: String,
    pub conversation_id: String,
    pub visitor_name: String,
    pub widget: WidgetConfig,
}

/// The signed-in user, as the dashboard sees them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDto {
    pub id: String,
    pub name: String,
    pub email: String,
    pub org_name: Option<String>,
    pub is_admin: bool,
    pub can_settings: bool,
    /// May manage users (admins: all; clients with the *users* permission: their organization's).
    #[serde(default)]
    pub can_users: bool,
}

impl UserDto {
    /// A platform admin of no organization: no organization dashboard; they start at `/admin`,
    /// where each AI agent's conversations tab is.
    pub fn is_admin_without_org(&self) -> bool {
        self.is_admin && self.org_name.is_none()
    }
}

/// Frames a visitor's widget sends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum VisitorFrame {
    /// First frame on every connection: who I am and what I have already seen.
    Hello {
        token: String,
        last_seq: i64,
    },
    /// A chat message. Retrying with the same `client_msg_id` stores it once.
    Send {
        client_msg_id: String,
        text: String,
    },
    /// "Talk to a human".
    RequestHuman,
    /// Where the visitor is and with what browser: sent on connecting and whenever the customer
    /// page reports another address (see `domain::visitor_context`). Only read: the widget page's
    /// script writes it as JSON (the widget forwards the text), so serializing it is refused and
    /// its code stays out of the widget's bundle.
    #[serde(skip_serializing)]
    Context {
        env: crate::visitor_context::VisitorEnv,
    },
    /// The visitor is typing; `preview` is the unsent text (shown to agents only where the
    /// organization allows it). At most one a second counts; never stored. Written by the widget
    /// page's script, like `Context`.
    #[serde(skip_serializing)]
    Typing {
        #[serde(default)]
        preview: String,
    },
    /// The visitor's widget showed the conversation up to `seq` (see `crate::seen`). Written by
    /// the widget page's script, like `Context`.
    #[serde(skip_serializing)]
    Seen {
        seq: i64,
    },
    Ping,
}

/// Frames an agent's dashboard sends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentFrame {
    /// Receive this conversation's messages from `last_seq + 1` on, then live.
    Watch {
        conversation_id: String,
        last_seq: i64,
    },
    Unwatch {
        conversation_id: String,
    },
    /// The agent holding this conversation is typing a reply (at most one a second counts).
    Typing {
        conversation_id: String,
    },
    /// The agent's dashboard showed this conversation up to `seq` (it counts only while the
    /// agent holds it; see `crate::seen`).
    Seen {
        conversation_id: String,
        seq: i64,
    },
    Ping,
}

/// Frames the server sends to widgets and dashboards. Decoded tag first (`crate::tag_first`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// Reply to `Hello`: the conversation as it is now. Missed messages follow as `Message`s.
    Welcome {
        conversation_id: String,
        state: HandoffState,
        last_seq: i64,
        /// How far the human agent holding the chat has read it (`crate::seen`).
        human_seen_seq: i64,
    },
    /// A message, in sequence order, each at most once per connection.
    Message {
        message: MessageDto,
    },
    /// A sent message was stored (or had been stored before, for a retry) under this seq.
    Ack {
        client_msg_id: String,
        seq: i64,
    },
    /// The handoff state changed.
    State {
        conversation_id: String,
        state: HandoffState,
    },
    /// A conversation's summary changed: new, new message, or new state. Published inside the
    /// server for every change; dashboard sockets send `Conversations` instead.
    Conversation {
        summary: ConversationSummary,
    },
    /// (Dashboard) the conversations that changed since the socket's previous list frame, each
    /// once, in its newest state: at most a few such frames a second per socket, at once for
    /// handoff state changes. Each replaces the row of its conversation whose `version` is lower.
    Conversations {
        summaries: Vec<ConversationSummary>,
    },
    /// (Dashboard) how many conversations each list filter holds now for this socket's user:
    /// sent after a list frame that changed a conversation's state or showed a new one.
    Counts {
        counts: ListCounts,
    },
    /// The AI is composing a reply.
    Typing {
        conversation_id: String,
    },
    /// The AI's reply so far, while it streams in (`text` is everything so far, not a delta, so a
    /// lost frame does no harm). Never stored: the finished reply arrives as a `Message` and
    /// replaces the draft. A `State` change away from `ai` or a `DraftEnd` discards it.
    Draft {
        conversation_id: String,
        text: String,
    },
    /// (Dashboard) the signed-in user's notifications changed: re-read the bell.
    Notifications,
    /// A stored message changed (an e-mail reply's delivery status): replace it by seq.
    MessageUpdated {
        message: MessageDto,
    },
    /// The streamed draft was abandoned (takeover, error): clients remove it.
    DraftEnd {
        conversation_id: String,
    },
    /// (Dashboard) the organization's labels changed (made, renamed, recoloured, deleted): read
    /// them again.
    LabelsChanged,
    /// (Dashboard, watched conversations) what the widget tells about the visitor changed (another
    /// page, another browser): re-read the visitor context.
    VisitorContext {
        conversation_id: String,
    },
    /// (Dashboard, watched conversations) the visitor is typing; `preview`: the unsent text, empty
    /// unless the organization shows it. Never stored; gone after a few seconds without another.
    VisitorTyping {
        conversation_id: String,
        preview: String,
    },
    /// The human agent holding the conversation is typing (to its visitor and the dashboards
    /// watching it). Never stored; gone after a few seconds without another.
    HumanTyping {
        conversation_id: String,
        agent: crate::handoff::AgentRef,
    },
    /// (Dashboard, watched conversations) a private note was written: read the notes again.
    /// Published on the organization's channel only, which no visitor socket hears.
    NotesChanged {
        conversation_id: String,
    },
    /// (Dashboard, watched conversations) the visitor has read the conversation up to `seq`.
    VisitorSeen {
        conversation_id: String,
        seq: i64,
    },
    /// The human agent holding the conversation has read it up to `seq` (to its visitor and the
    /// dashboards watching it).
    HumanSeen {
        conversation_id: String,
        seq: i64,
    },
    Error {
        code: String,
        message: String,
        client_msg_id: Option<String>,
    },
    Pong,
}

tag_first_deserialize! {
    ServerFrame, tag "type";
    "welcome" => Welcome { conversation_id: String, state: HandoffState, last_seq: i64, human_seen_seq: i64 },
    "message" => Message { message: MessageDto },
    "ack" => Ack { client_msg_id: String, seq: i64 },
    "state" => State { conversation_id: String, state: HandoffState },
    "conversation" => Conversation { summary: ConversationSummary },
    "conversations" => Conversations { summaries: Vec<ConversationSummary> },
    "counts" => Counts { counts: ListCounts },
    "typing" => Typing { conversation_id: String },
    "draft" => Draft { conversation_id: String, text: String },
    "message_updated" => MessageUpdated { message: MessageDto },
    "draft_end" => DraftEnd { conversation_id: String },
    "visitor_context" => VisitorContext { conversation_id: String },
    "notes_changed" => NotesChanged { conversation_id: String },
    "visitor_typing" => VisitorTyping { conversation_id: String, preview: String },
    "human_typing" => HumanTyping { conversation_id: String, agent: crate::handoff::AgentRef },
    "visitor_seen" => VisitorSeen { conversation_id: String, seq: i64 },
    "human_seen" => HumanSeen { conversation_id: String, seq: i64 },
    "error" => Error { code: String, message: String, client_msg_id: Option<String> };
    "notifications" => Notifications,
    "labels_changed" => LabelsChanged,
    "pong" => Pong
}

tag_first_deserialize! {
    Author, tag "kind";
    "agent" => Agent { id: String, name: String };
    "visitor" => Visitor,
    "ai" => Ai,
    "system" => System
}

tag_first_deserialize! {
    MessageExtra, tag "type";
    "email_form" => EmailForm { email: String, attachments: Vec<AttachmentDto> },
    "email_reply" => EmailReply { to: String, delivery: Delivery },
    "file" => File { attachment: AttachmentDto };
    "chat" => Chat,
    "email_offer" => EmailOffer
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every server frame decodes to itself (a variant missing from the tag-first decoder
    /// would fail here); a frame not led by its type, or of an unknown type, is refused.
    #[test]
    fn server_frames_round_trip_tag_first() {
        let message = MessageDto {
            conversation_id: "c1".into(),
            seq: 7,
            author: Author::Agent { id: "u1".into(), name: "Ann".into() },
            text: "hello <b>".into(),
            client_msg_id: Some("m1".into()),
            created_at: 1,
            extra: MessageExtra::EmailReply { to: "v@example.com".into(), delivery: Delivery::default() },
        };
        let human = HandoffState::Human { agent: crate::handoff::AgentRef { id: "u1".into(), name: "Ann".into() } };
        let frames = vec![
            ServerFrame::Welcome { conversation_id: "c1".into(), state: human.clone(), last_seq: 3, human_seen_seq: 2 },
            ServerFrame::Message { message: message.clone() },
            ServerFrame::Ack { client_msg_id: "m1".into(), seq: 7 },
            ServerFrame::State { conversation_id: "c1".into(), state: HandoffState::Requested },
            ServerFrame::Conversation {
                summary: ConversationSummary {
                    id: "c1".into(),
                    visitor_name: "Visitor 1".into(),
                    state: human,
                    state_since: 5,
                    last_seq: 7,
                    last_message: None,
                    last_activity: 6,
                    last_visitor_at: 4,
                    version: 8,
                    ai_agent_id: String::new(),
                    labels: Vec::new(),
                },
            },
            ServerFrame::Conversations {
                summaries: vec![ConversationSummary {
                    id: "c2".into(),
                    visitor_name: "Visitor 2".into(),
                    state: HandoffState::Requested,
                    state_since: 5,
                    last_seq: 2,
                    last_message: Some("hi".into()),
                    last_activity: 6,
                    last_visitor_at: 6,
                    version: 3,
                    ai_agent_id: String::new(),
                    labels: Vec::new(),
                }],
            },
            ServerFrame::Counts {
                counts: ListCounts { requests: 1, mine: 2, with_ai: 3, with_human: 4, closed: 5, all: 13 },
            },
            ServerFrame::Typing { conversation_id: "c1".into() },
            ServerFrame::Draft { conversation_id: "c1".into(), text: "Hel".into() },
            ServerFrame::Notifications,
            ServerFrame::MessageUpdated { message: message.clone() },
            ServerFrame::DraftEnd { conversation_id: "c1".into() },
            ServerFrame::VisitorContext { conversation_id: "c1".into() },
            ServerFrame::NotesChanged { conversation_id: "c1".into() },
            ServerFrame::VisitorTyping { conversation_id: "c1".into(), preview: "Hel".into() },
            ServerFrame::HumanTyping {
                conversation_id: "c1".into(),
                agent: crate::handoff::AgentRef { id: "u1".into(), name: "Ann".into() },
            },
            ServerFrame::LabelsChanged,
            ServerFrame::VisitorSeen { conversation_id: "c1".into(), seq: 3 },
            ServerFrame::HumanSeen { conversation_id: "c1".into(), seq: 4 },
            ServerFrame::Error { code: "invalid".into(), message: "no".into(), client_msg_id: None },
            ServerFrame::Pong,
        ];
        for frame in frames {
            let json = serde_json::to_string(&frame).unwrap();
            assert!(json.starts_with(r#"{"type":""#), "{json}");
            assert_eq!(serde_json::from_str::<ServerFrame>(&json).unwrap(), frame, "{json}");
        }
        // Every variant of the tagged enums nested in frames, each in a message.
        let authors =
            [Author::Visitor, Author::Ai, Author::Agent { id: "u1".into(), name: "Ann".into() }, Author::System];
        let extras = [
            MessageExtra::Chat,
            MessageExtra::EmailOffer,
            MessageExtra::EmailForm {
                email: "v@example.com".into(),
                attachments: vec![AttachmentDto {
                    id: "a1".into(),
                    name: "a.png".into(),
                    content_type: "image/png".into(),
                    size: 3,
                }],
            },
            MessageExtra::EmailReply { to: "v@example.com".into(), delivery: Delivery::default() },
        ];
        for (author, extra) in
            authors.iter().cycle().zip(extras.iter()).chain(authors.iter().zip(extras.iter().cycle()))
        {
            let frame = ServerFrame::Message {
                message: MessageDto { author: author.clone(), extra: extra.clone(), ..message.clone() },
            };
            let json = serde_json::to_string(&frame).unwrap();
            assert_eq!(serde_json::from_str::<ServerFrame>(&json).unwrap(), frame, "{json}");
        }
        let agent = crate::handoff::AgentRef { id: "u1".into(), name: "Ann".into() };
        for state in [HandoffState::Ai, HandoffState::Requested, HandoffState::Human { agent }, HandoffState::Closed] {
            let frame = ServerFrame::State { conversation_id: "c1".into(), state };
            let json = serde_json::to_string(&frame).unwrap();
            assert_eq!(serde_json::from_str::<ServerFrame>(&json).unwrap(), frame, "{json}");
        }
        // Unknown fields are ignored, a missing optional one is None.
        let f: ServerFrame = serde_json::from_str(r#"{"type":"error","code":"x","message":"y","later":1}"#).unwrap();
        assert_eq!(f, ServerFrame::Error { code: "x".into(), message: "y".into(), client_msg_id: None });
        for bad in [
            r#"{"seq":1,"type":"ack","client_msg_id":"m"}"#,
            r#"{"type":"nope"}"#,
            r#"{"type":"ack","seq":1}"#,
            r#"{"type":"ack","client_msg_id":"m","seq":"one"}"#,
            r#"[]"#,
            r#"{}"#,
        ] {
            assert!(serde_json::from_str::<ServerFrame>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn frames_use_type_tags() {
        let f: VisitorFrame = serde_json::from_str(r#"{"type":"send","client_msg_id":"a1","text":"hi"}"#).unwrap();
        assert_eq!(f, VisitorFrame::Send { client_msg_id: "a1".into(), text: "hi".into() });
        let s = serde_json::to_string(&ServerFrame::Ack { client_msg_id: "a1".into(), seq: 3 }).unwrap();
        assert_eq!(s, r#"{"type":"ack","client_msg_id":"a1","seq":3}"#);
        assert!(serde_json::from_str::<VisitorFrame>(r#"{"type":"nope"}"#).is_err());
    }

    /// The context frame as the widget page's script writes it (every field a string but the
    /// offset; missing ones empty); never written by Rust.
    #[test]
    fn context_frames_are_read_as_the_widget_page_writes_them() {
        let f: VisitorFrame = serde_json::from_str(
            r#"{"type":"context","env":{"url":"https://shop.example/a","title":"A","referrer":"","language":"de-DE",
               "time_zone":"Europe/Berlin","utc_offset":60,"user_agent":"UA"}}"#,
        )
        .unwrap();
        let VisitorFrame::Context { env } = f else { panic!("{f:?}") };
        assert_eq!((env.url.as_str(), env.utc_offset, env.user_agent.as_str()), ("https://shop.example/a", 60, "UA"));
        let f: VisitorFrame = serde_json::from_str(r#"{"type":"context","env":{}}"#).unwrap();
        assert_eq!(f, VisitorFrame::Context { env: Default::default() });
        assert!(serde_json::from_str::<VisitorFrame>(r#"{"type":"context","env":{"utc_offset":"soon"}}"#).is_err());
        assert!(serde_json::to_string(&VisitorFrame::Context { env: Default::default() }).is_err());
    }

    use proptest::prelude::*;

    fn arb_visitor_frame() -> impl Strategy<Value = VisitorFrame> {
        prop_oneof![
            (".*", any::<i64>()).prop_map(|(token, last_seq)| VisitorFrame::Hello { token, last_seq }),
            (".*", ".*").prop_map(|(client_msg_id, text)| VisitorFrame::Send { client_msg_id, text }),
            Just(VisitorFrame::RequestHuman),
            Just(VisitorFrame::Ping),
        ]
    }

    fn arb_agent_frame() -> impl Strategy<Value = AgentFrame> {
        prop_oneof![
            (".*", any::<i64>())
                .prop_map(|(conversation_id, last_seq)| AgentFrame::Watch { conversation_id, last_seq }),
            ".*".prop_map(|conversation_id| AgentFrame::Unwatch { conversation_id }),
            Just(AgentFrame::Ping),
        ]
    }

    proptest! {
        /// Whatever arrives on a socket, parsing answers Ok or Err and never panics.
        #[test]
        fn parsing_arbitrary_input_never_panics(raw in ".*", bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = serde_json::from_str::<VisitorFrame>(&raw);
            let _ = serde_json::from_str::<AgentFrame>(&raw);
            let _ = serde_json::from_slice::<VisitorFrame>(&bytes);
            let _ = serde_json::from_slice::<AgentFrame>(&bytes);
        }

        /// JSON-shaped noise around the real tags: wrong field types, missing fields, extra
        /// fields — refused or accepted, never a panic, and accepted frames re-serialize.
        #[test]
        fn near_miss_frames_never_panic(
            tag in prop_oneof![Just("hello".to_string()), Just("send".to_string()), Just("request_human".to_string()), Just("ping".to_string()), Just("watch".to_string()), Just("unwatch".to_string()), ".{0,8}"],
            key in prop_oneof![Just("token".to_string()), Just("text".to_string()), Just("client_msg_id".to_string()), Just("last_seq".to_string()), Just("conversation_id".to_string()), ".{0,8}"],
            value in prop_oneof![Just(serde_json::json!(null)), any::<i64>().prop_map(|n| serde_json::json!(n)), ".*".prop_map(|s| serde_json::json!(s)), Just(serde_json::json!([1, {"a": 2}])), Just(serde_json::json!(1e300))],
        ) {
            let mut object = serde_json::Map::new();
            object.insert("type".into(), serde_json::json!(tag));
            object.insert(key, value);
            let frame = serde_json::Value::Object(object).to_string();
            if let Ok(f) = serde_json::from_str::<VisitorFrame>(&frame) {
                prop_assert!(serde_json::to_string(&f).is_ok());
            }
            if let Ok(f) = serde_json::from_str::<AgentFrame>(&frame) {
                prop_assert!(serde_json::to_string(&f).is_ok());
            }
        }

        /// Every frame a client can send survives the trip through JSON unchanged.
        #[test]
        fn client_frames_round_trip(v in arb_visitor_frame(), a in arb_agent_frame()) {
            let back: VisitorFrame = serde_json::from_str(&serde_json::to_string(&v).unwrap()).unwrap();
            prop_assert_eq!(back, v);
            let back: AgentFrame = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
            prop_assert_eq!(back, a);
        }
    }
}
