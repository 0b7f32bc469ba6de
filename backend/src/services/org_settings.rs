//! The organization's handoff settings (request timeout, reply-to address, typing preview).
use crate::error::{BackendError, Result};
use crate::principal::UserCtx;
use crate::services::Backend;
use domain::email::EmailAddress;
use domain::field::FieldError;
use domain::wire::OrgSettings;

/// Allowed range of the request timeout, in seconds.
const TIMEOUT_RANGE: std::ops::RangeInclusive<i64> = 10..=86_400;

impl Backend {
    /// The user's organization's handoff settings.
    pub async fn org_settings(&self, user: &UserCtx) -> Result<OrgSettings> {
        let org = user.org_id.as_deref().ok_or(BackendError::NotFound("organization"))?;
        let (handoff_timeout_secs, reply_to, typing_preview): (i64, String, i64) =
            sqlx::query_as("SELECT handoff_timeout_secs, reply_to, typing_preview FROM organizations WHERE id = $1")
                .bind(org)
                .fetch_optional(self.pool())
                .await?
                .ok_or(BackendError::NotFound("organization"))?;
        Ok(OrgSettings { handoff_timeout_secs, reply_to, typing_preview: typing_preview != 0 })
    }

    /// Saves the organization's handoff settings (the *settings* permission is required).
    pub async fn save_org_settings(&self, user: &UserCtx, settings: OrgSettings) -> Result<OrgSettings> {
        let org = user.org_id.as_deref().ok_or(BackendError::NotFound("organization"))?;
        user.require_settings("change handoff settings")?;
        if !TIMEOUT_RANGE.contains(&settings.handoff_timeout_secs) {
            return Err(FieldError {
                field: "handoff_timeout_secs".into(),
                message: format!("must be between {} and {} seconds", TIMEOUT_RANGE.start(), TIMEOUT_RANGE.end()),
            }
            .into());
        }
        let reply_to = if settings.reply_to.trim().is_empty() {
            String::new()
        } else {
            EmailAddress::parse(&settings.reply_to)
                .map_err(|e| FieldError::new("reply_to", e.message))?
                .as_str()
                .to_string()
        };
        sqlx::query(
            "UPDATE organizations SET handoff_timeout_secs = $2, reply_to = $3, typing_preview = $4 WHERE id = $1",
        )
        .bind(org)
        .bind(settings.handoff_timeout_secs)
        .bind(&reply_to)
        .bind(i64::from(settings.typing_preview))
        .execute(self.writer())
        .await?;
        self.typing.forget(org);
        Ok(OrgSettings {
            handoff_timeout_secs: settings.handoff_timeout_secs,
            reply_to,
            typing_preview: settings.typing_preview,
        })
    }
}
