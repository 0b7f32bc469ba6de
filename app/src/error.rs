//! The one error type of every server function: serializable, user-safe messages only.
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AppError {
    #[error("{message}")]
    Unauthorized { message: String },
    #[error("{message}")]
    Forbidden { message: String },
    #[error("{message}")]
    NotFound { message: String },
    /// Bad input; `code` names the rule (e.g. `empty_message`).
    #[error("{message}")]
    Validation { code: String, message: String },
    /// One form field is wrong; the UI shows `message` next to `field`.
    #[error("{message}")]
    Field { field: String, message: String },
    /// The state changed under the caller (e.g. "already taken by Ann").
    #[error("{message}")]
    Conflict { code: String, message: String },
    /// Too many requests; the message says when to try again.
    #[error("{message}")]
    RateLimited { message: String },
    #[error("something went wrong on our side; please try again")]
    Internal,
    #[error("could not reach the server: {message}")]
    Transport { message: String },
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(m) | ServerFnErrorErr::Response(m) => Self::Transport { message: m },
            ServerFnErrorErr::Args(m) | ServerFnErrorErr::Deserialization(m) => {
                Self::Validation { code: "bad_request".into(), message: m }
            }
            _ => Self::Internal,
        }
    }
}

#[cfg(feature = "ssr")]
impl AppError {
    pub fn status(&self) -> u16 {
        match self {
            Self::Unauthorized { .. } => 401,
            Self::Forbidden { .. } => 403,
            Self::NotFound { .. } => 404,
            Self::Validation { .. } | Self::Field { .. } => 400,
            Self::Conflict { .. } => 409,
            Self::RateLimited { .. } => 429,
            Self::Internal | Self::Transport { .. } => 500,
        }
    }
}

#[cfg(feature = "ssr")]
impl From<backend::BackendError> for AppError {
    fn from(e: backend::BackendError) -> Self {
        use backend::BackendError as B;
        let message = e.to_string();
        match e {
            B::Invalid(v) => Self::Validation { code: v.code().into(), message },
            B::Field(f) => Self::Field { field: f.field, message: f.message },
            B::Transition(t) => Self::Conflict { code: t.code().into(), message },
            B::Conflict(_) => Self::Conflict { code: "conflict".into(), message },
            B::NotFound(_) => Self::NotFound { message },
            B::Forbidden(_) => Self::Forbidden { message },
            B::RateLimited(_) => Self::RateLimited { message },
            B::BadCredentials => Self::Unauthorized { message },
            B::Internal(_) => Self::Internal,
        }
    }
}
