//! Files in the chat (issue 23), both ways: the visitor sends one to whoever answers, the human
//! agent holding the chat sends one to the visitor. A file is checked by content like the e-mail
//! form's attachments (`domain::chat_files`), then stored with its message in one write (the
//! append's own: idempotent under its client message id, in sequence, under the same guards as
//! a text message — the visitor's while the conversation is open, the agent's only while they
//! hold it). The visitor sends files only where handoff is enabled (as the e-mail form), at most
//! `MAX_VISITOR_FILES_PER_HOUR` per conversation and hour besides the messages' own rate, within
//! the organization's hourly upload budget (`Config::visitor_upload_mb_per_hour`, shared with the
//! e-mail forms). The AI is asked to reply as after any visitor message,
//! and is told only that a file arrived (`services::ai_replies`).
use crate::conversation::Posted;
use crate::error::Result;
use crate::principal::{UserCtx, VisitorCtx};
use crate::services::transcript::Content;
use crate::services::Backend;
use domain::email::UploadedFile;
use domain::values::ClientMsgId;

impl Backend {
    /// A file from the visitor, in their conversation.
    pub async fn visitor_send_file(&self, v: &VisitorCtx, client_msg_id: &str, file: UploadedFile) -> Result<Posted> {
        let id = ClientMsgId::parse(client_msg_id)?;
        let content = Content::file(file)?;
        // Like the e-mail form: only where a human may read it.
        self.require_handoff_enabled(v, "files cannot be sent in this chat").await?;
        self.visitor_post(v, &id, content).await
    }

    /// A file from the human agent holding the conversation, to its visitor.
    pub async fn agent_send_file(
        &self,
        user: &UserCtx,
        conversation_id: &str,
        client_msg_id: &str,
        file: UploadedFile,
    ) -> Result<Posted> {
        let id = ClientMsgId::parse(client_msg_id)?;
        self.agent_post(user, conversation_id, &id, Content::file(file)?).await
    }
}
