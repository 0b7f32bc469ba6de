//! Field-level validation errors: which input field is wrong and why, in words meant for the
//! person who filled it in. Every rule in `domain` (and the services that check what only the
//! database knows) reports its refusals as a [`FieldError`]; the server answers it as
//! `AppError::Field`, and the forms show the message next to the named field.
use serde::{Deserialize, Serialize};

/// A field-level validation error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// The input's name, as the form calls it (`name`, `email`, `org_id`, …).
    pub field: String,
    /// What is wrong, for the person who filled it in.
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_its_field() {
        let e = FieldError::new("name", format!("must be at most {} characters", 3));
        assert_eq!(e.field, "name");
        assert_eq!(e.to_string(), "name: must be at most 3 characters");
    }
}
