//! Errors of the server-side services. Each has a stable `code` and a message safe to show to the
//! user; internal details are logged, never returned.
use domain::field::FieldError;
use domain::handoff::TransitionError;
use domain::values::ValueError;

#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("{0}")]
    Invalid(#[from] ValueError),
    #[error("{0}")]
    Transition(#[from] TransitionError),
    /// One field of a form is wrong.
    #[error("{}", .0.message)]
    Field(#[from] FieldError),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    /// Too many requests of one kind; try again later.
    #[error("{0}")]
    RateLimited(String),
    #[error("wrong e-mail or password")]
    BadCredentials,
    #[error("internal error")]
    Internal(String),
}

impl BackendError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid(e) => e.code(),
            Self::Transition(e) => e.code(),
            Self::Field(_) => "invalid_field",
            Self::NotFound(_) => "not_found",
            Self::Forbidden(_) => "forbidden",
            Self::Conflict(_) => "conflict",
            Self::RateLimited(_) => "rate_limited",
            Self::BadCredentials => "bad_credentials",
            Self::Internal(_) => "internal",
        }
    }
}

impl From<sqlx::Error> for BackendError {
    fn from(e: sqlx::Error) -> Self {
        tracing::error!(error = %e, "database error");
        Self::Internal(e.to_string())
    }
}

impl From<sqlx::migrate::MigrateError> for BackendError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        tracing::error!(error = %e, "migration error");
        Self::Internal(e.to_string())
    }
}

pub type Result<T, E = BackendError> = std::result::Result<T, E>;

/// Whether a write failed on a unique constraint (a taken e-mail address, label name, …): the
/// caller answers it as a field error.
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// A [`BackendError::Field`]: `message` about the form field `name`.
pub fn field(name: &str, message: impl Into<String>) -> BackendError {
    FieldError::new(name, message).into()
}
