//! The one error type of every server function: serializable, user-safe messages only.
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::Serialize;

/// Decoded tag first (the server writes it; see `domain::tag_first_deserialize`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
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

domain::tag_first_deserialize! {
    AppError, tag "kind";
    "unauthorized" => Unauthorized { message: String },
    "forbidden" => Forbidden { message: String },
    "not_found" => NotFound { message: String },
    "validation" => Validation { code: String, message: String },
    "field" => Field { field: String, message: String },
    "conflict" => Conflict { code: String, message: String },
    "rate_limited" => RateLimited { message: String },
    "transport" => Transport { message: String };
    "internal" => Internal
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

#[cfg(test)]
mod tests {
    use super::AppError;

    /// Every error decodes to itself (a variant missing from the tag-first decoder fails here).
    #[test]
    fn errors_round_trip() {
        let m = || "m".to_string();
        for e in [
            AppError::Unauthorized { message: m() },
            AppError::Forbidden { message: m() },
            AppError::NotFound { message: m() },
            AppError::Validation { code: "c".into(), message: m() },
            AppError::Field { field: "email".into(), message: m() },
            AppError::Conflict { code: "c".into(), message: m() },
            AppError::RateLimited { message: m() },
            AppError::Internal,
            AppError::Transport { message: m() },
        ] {
            let json = serde_json::to_string(&e).unwrap();
            assert_eq!(serde_json::from_str::<AppError>(&json).unwrap(), e, "{json}");
        }
        assert!(serde_json::from_str::<AppError>(r#"{"message":"m","kind":"forbidden"}"#).is_err());
    }
}
