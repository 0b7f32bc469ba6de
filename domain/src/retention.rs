//! Retention: an organization may have the conversations that ended — closed, or left with the
//! AI — deleted, with their messages, files, notifications, events, notes, labels and the
//! visitor's context, a number of days after their last message; a conversation waiting for or
//! held by a person is kept. Off by default (nothing is ever deleted unless an organization asks
//! for it).
use crate::field::FieldError;
use serde::{Deserialize, Serialize};

/// The days an ended conversation may be kept for, when retention is on: at least a day (a
/// conversation closed a moment ago is never deleted by mistake), at most ten years.
pub const RETENTION_DAYS: std::ops::RangeInclusive<i64> = 1..=3650;

/// An organization's retention setting, and what it means today.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    /// Conversations that ended this many days ago are deleted; `None`: kept forever.
    pub closed_days: Option<i64>,
    /// How many ended conversations are past that age now (deleted by the next rounds of the
    /// retention worker); 0 when retention is off.
    pub due: i64,
}

/// Checks the days an organization asks for (`None`, retention off, is always valid).
pub fn check_days(days: Option<i64>) -> Result<Option<i64>, FieldError> {
    match days {
        Some(d) if !RETENTION_DAYS.contains(&d) => Err(FieldError::new(
            "closed_days",
            format!("must be between {} and {} days", RETENTION_DAYS.start(), RETENTION_DAYS.end()),
        )),
        other => Ok(other),
    }
}

/// How a saved setting reads in the settings page ("Closed conversations are deleted after 30
/// days." / "… kept until deleted by hand.").
pub fn describe(r: &Retention) -> String {
    match r.closed_days {
        None => "Conversations are kept forever.".into(),
        Some(d) => {
            let days = if d == 1 { "1 day".to_string() } else { format!("{d} days") };
            let rule =
                format!("Closed conversations and those left with the AI are deleted {days} after their last message");
            match r.due {
                0 => format!("{rule}."),
                1 => format!("{rule}; 1 is older than that and will be deleted within minutes."),
                n => format!("{rule}; {n} are older than that and will be deleted within minutes."),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_between_one_and_ten_years_or_off() {
        assert_eq!(check_days(None), Ok(None));
        assert_eq!(check_days(Some(1)), Ok(Some(1)));
        assert_eq!(check_days(Some(3650)), Ok(Some(3650)));
        for bad in [0, -1, 3651, i64::MAX, i64::MIN] {
            let e = check_days(Some(bad)).unwrap_err();
            assert_eq!(e.field, "closed_days");
            assert_eq!(e.message, "must be between 1 and 3650 days");
        }
    }

    #[test]
    fn describes_the_setting() {
        assert_eq!(describe(&Retention::default()), "Conversations are kept forever.");
        let r = Retention { closed_days: Some(1), due: 0 };
        assert_eq!(
            describe(&r),
            "Closed conversations and those left with the AI are deleted 1 day after their last message."
        );
        let r = Retention { closed_days: Some(30), due: 2 };
        assert!(describe(&r).contains("30 days after their last message; 2 are older"));
    }
}
