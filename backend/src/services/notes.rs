//! Agents' private notes in a conversation (issue 23): written and read by the organization's
//! users with the *conversations* permission (platform admins: in any organization, from an AI
//! agent's conversations tab), never by the visitor.
//!
//! Kept out of the visitor's reach by construction: notes live in their own table, which the
//! visitor's socket, the widget's reads, the AI's context and the e-mails to the visitor never
//! read (they read `messages`), and their live hint (`NotesChanged`) is published on the
//! organization's channel, which no visitor socket hears. The server tests `notes::*` check each
//! of those four places.
use crate::error::{field, Result};
use crate::ids::now_ms;
use crate::principal::UserCtx;
use crate::services::Backend;
use crate::store;
use domain::notes::{NoteDto, MAX_NOTES_PER_CONVERSATION};
use domain::values::{ClientMsgId, MessageText};
use domain::wire::ServerFrame;

const NOTE_COLS: &str =
    "n.id, n.conversation_id, n.author_id, n.author_name, n.text, n.after_seq, n.client_note_id, n.created_at";

#[derive(sqlx::FromRow)]
struct NoteRow {
    id: String,
    conversation_id: String,
    author_id: String,
    author_name: String,
    text: String,
    after_seq: i64,
    client_note_id: String,
    created_at: i64,
}

impl From<NoteRow> for NoteDto {
    fn from(r: NoteRow) -> Self {
        NoteDto {
            id: r.id,
            conversation_id: r.conversation_id,
            author_id: r.author_id,
            author_name: r.author_name,
            text: r.text,
            after_seq: r.after_seq,
            client_note_id: r.client_note_id,
            created_at: r.created_at,
        }
    }
}

impl Backend {
    /// Writes a private note after the conversation's last message, in the writer's name. A retry
    /// with the same `client_note_id` stores nothing more and answers the stored note. Open and
    /// closed conversations alike; whoever holds it. Text: the message rules; at most
    /// [`MAX_NOTES_PER_CONVERSATION`] per conversation (counted in the insert: on PostgreSQL two
    /// notes at once may both pass at the limit, by one).
    pub async fn add_note(
        &self,
        user: &UserCtx,
        conversation_id: &str,
        client_note_id: &str,
        text: &str,
    ) -> Result<NoteDto> {
        let org = self.handling_org(user, conversation_id).await?;
        let client = ClientMsgId::parse(client_note_id)?;
        let text = MessageText::parse(text)?;
        // One statement: the conversation's organization is checked and its last seq read where
        // the note is inserted.
        let mut conn = self.writer().acquire().await?;
        let inserted = store::notes::insert(
            &mut conn,
            conversation_id,
            &org,
            &user.agent_ref(),
            client.as_str(),
            text.as_str(),
            now_ms(),
        )
        .await?;
        drop(conn);
        let row: Option<NoteRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {NOTE_COLS} FROM notes n JOIN conversations c ON c.id = n.conversation_id
             WHERE n.conversation_id = $1 AND c.org_id = $2 AND n.author_id = $3 AND n.client_note_id = $4"
        )))
        .bind(conversation_id)
        .bind(&org)
        .bind(&user.id)
        .bind(client.as_str())
        .fetch_optional(self.pool())
        .await?;
        let Some(note) = row else {
            // Not stored: the conversation is not the organization's, or it is full.
            self.summary_row(conversation_id, &org).await?;
            return Err(field("text", format!("a conversation keeps at most {MAX_NOTES_PER_CONVERSATION} notes")));
        };
        if inserted > 0 {
            tracing::info!(conversation = %conversation_id, by = %user.id, "private note written");
            self.hub.publish_org(&org, ServerFrame::NotesChanged { conversation_id: conversation_id.to_owned() });
        }
        Ok(note.into())
    }

    /// A conversation's notes, oldest first. `NotFound` for other organizations' conversations.
    pub async fn conversation_notes(&self, user: &UserCtx, conversation_id: &str) -> Result<Vec<NoteDto>> {
        let org = self.handling_org(user, conversation_id).await?;
        self.summary_row(conversation_id, &org).await?; // an unknown id is "not found"
        self.notes_of(conversation_id, &org).await
    }

    /// The notes of a conversation of `org`, oldest first.
    pub(crate) async fn notes_of(&self, conversation_id: &str, org: &str) -> Result<Vec<NoteDto>> {
        let rows: Vec<NoteRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {NOTE_COLS} FROM notes n JOIN conversations c ON c.id = n.conversation_id
             WHERE n.conversation_id = $1 AND c.org_id = $2 ORDER BY n.pos"
        )))
        .bind(conversation_id)
        .bind(org)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(NoteDto::from).collect())
    }
}
