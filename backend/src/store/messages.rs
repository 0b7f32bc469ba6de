//! Appending messages. A message takes the conversation's next sequence number inside the
//! transaction that stores it, and only if the [`Guard`] allows it in that same statement.
use crate::conversation::{author_columns, extra_columns, preview, Guard, SummaryRow, SUMMARY_COLS};
use crate::error::{BackendError, Result};
use crate::ids::{new_id, now_ms};
use domain::chat_files::MAX_VISITOR_FILES_PER_HOUR;
use domain::email::CheckedFile;
use domain::values::ClientMsgId;
use domain::wire::{AttachmentDto, Author, MessageDto, MessageExtra};
use sha2::Digest;
use sqlx::{AnyConnection, AssertSqlSafe};

/// Appends a message inside `tx`, taking the next sequence number, if the guard allows.
pub(crate) async fn append(
    tx: &mut AnyConnection,
    conversation_id: &str,
    org_id: &str,
    author: &Author,
    guard: Guard,
    client_msg_id: Option<&ClientMsgId>,
    text: &str,
) -> Result<(MessageDto, SummaryRow)> {
    let row = take_seq(tx, conversation_id, org_id, guard, author, text).await?;
    let message = insert_message(tx, &row, author, client_msg_id, text, &MessageExtra::Chat).await?;
    Ok((message, row))
}

/// Takes the conversation's next sequence number if the guard allows (this also takes the
/// conversation's write lock until `tx` ends). The list's preview follows what people and the
/// AI write (a system notice leaves it), and a visitor's message marks the conversation active.
pub(crate) async fn take_seq(
    tx: &mut AnyConnection,
    conversation_id: &str,
    org_id: &str,
    guard: Guard,
    author: &Author,
    text: &str,
) -> Result<SummaryRow> {
    let now = now_ms();
    let cond = match &guard {
        Guard::Open => "state <> 'closed'",
        Guard::AiAt(_) => "state = 'ai' AND state_version = $5",
        Guard::HeldBy(_) => "state = 'human' AND holder_id = $5",
        Guard::Always => "1 = 1",
    };
    let visitor_at = if matches!(author, Author::Visitor) { "$3" } else { "last_visitor_at" };
    let sql = format!(
        "UPDATE conversations SET last_seq = last_seq + 1, last_message = COALESCE($2, last_message),
         last_activity = $3, last_visitor_at = {visitor_at}
         WHERE id = $1 AND org_id = $4 AND {cond} RETURNING {SUMMARY_COLS}"
    );
    let shown = (!matches!(author, Author::System)).then(|| preview(text));
    let q =
        sqlx::query_as::<_, SummaryRow>(AssertSqlSafe(sql)).bind(conversation_id).bind(shown).bind(now).bind(org_id);
    let q = match &guard {
        Guard::AiAt(version) => q.bind(*version),
        Guard::HeldBy(user) => q.bind(user.clone()),
        Guard::Open | Guard::Always => q,
    };
    match q.fetch_optional(&mut *tx).await? {
        Some(row) => Ok(row),
        None => Err(explain_refusal(tx, conversation_id, org_id, &guard).await),
    }
}

/// Stores a message under the sequence number `row` took.
pub(crate) async fn insert_message(
    tx: &mut AnyConnection,
    row: &SummaryRow,
    author: &Author,
    client_msg_id: Option<&ClientMsgId>,
    text: &str,
    extra: &MessageExtra,
) -> Result<MessageDto> {
    insert_message_once(tx, row, author, client_msg_id, text, extra)
        .await?
        .ok_or_else(|| BackendError::Conflict("this message was already sent".into()))
}

/// Like [`insert_message`], but `None` (and nothing stored) when the sender already stored a
/// message under this client message id: one statement finds a resend and stores a new message.
pub(crate) async fn insert_message_once(
    tx: &mut AnyConnection,
    row: &SummaryRow,
    author: &Author,
    client_msg_id: Option<&ClientMsgId>,
    text: &str,
    extra: &MessageExtra,
) -> Result<Option<MessageDto>> {
    let (conversation_id, now) = (row.id.as_str(), row.last_activity);
    let (kind, author_id, author_name, sender) = author_columns(author);
    let (extra_kind, meta) = extra_columns(extra);
    let stored = sqlx::query(
        "INSERT INTO messages (conversation_id, seq, sender, author_kind, author_id, author_name, body, client_msg_id, created_at, kind, meta)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING",
    )
    .bind(conversation_id)
    .bind(row.last_seq)
    .bind(sender)
    .bind(kind)
    .bind(author_id)
    .bind(author_name)
    .bind(text)
    .bind(client_msg_id.map(|c| c.as_str().to_string()))
    .bind(now)
    .bind(extra_kind)
    .bind(meta)
    .execute(&mut *tx)
    .await?;
    if stored.rows_affected() == 0 {
        return Ok(None);
    }
    Ok(Some(MessageDto {
        conversation_id: conversation_id.to_string(),
        seq: row.last_seq,
        author: author.clone(),
        text: text.to_string(),
        client_msg_id: client_msg_id.map(|c| c.as_str().to_string()),
        created_at: now,
        extra: extra.clone(),
    }))
}

pub(crate) async fn explain_refusal(
    tx: &mut AnyConnection,
    conversation_id: &str,
    org_id: &str,
    guard: &Guard,
) -> BackendError {
    let state: Option<(String,)> = match sqlx::query_as("SELECT state FROM conversations WHERE id = $1 AND org_id = $2")
        .bind(conversation_id)
        .bind(org_id)
        .fetch_optional(&mut *tx)
        .await
    {
        Ok(s) => s,
        Err(e) => return e.into(),
    };
    match (state, guard) {
        (None, _) => BackendError::NotFound("conversation"),
        (Some((s,)), _) if s == "closed" => domain::handoff::TransitionError::ConversationClosed.into(),
        (_, Guard::AiAt(_)) => BackendError::Conflict("the AI reply is no longer wanted".into()),
        (_, Guard::HeldBy(_)) => {
            BackendError::Forbidden("take the chat first (Handle chat or Continue chat yourself) to reply".into())
        }
        _ => BackendError::Conflict("the conversation changed; try again".into()),
    }
}

/// At most `limit` visitor messages a minute per conversation (0: no limit), counted inside the
/// append's transaction, which holds the conversation's lock: exact across processes.
pub(crate) async fn check_visitor_rate(conn: &mut AnyConnection, conversation_id: &str, limit: i64) -> Result<()> {
    if limit == 0 {
        return Ok(());
    }
    let (recent,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM messages WHERE conversation_id = $1 AND sender = 'visitor' AND created_at > $2",
    )
    .bind(conversation_id)
    .bind(now_ms() - 60_000)
    .fetch_one(&mut *conn)
    .await?;
    if recent >= limit {
        return Err(BackendError::RateLimited(format!(
            "you are sending messages too fast (at most {limit} a minute); please wait a moment"
        )));
    }
    Ok(())
}

/// At most [`MAX_VISITOR_FILES_PER_HOUR`] files from the visitor per conversation and hour,
/// counted inside the append's transaction (which holds the conversation's lock): exact across
/// processes.
pub(crate) async fn check_visitor_files(conn: &mut AnyConnection, conversation_id: &str) -> Result<()> {
    let (recent,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM messages WHERE conversation_id = $1 AND sender = 'visitor' AND kind = 'file' AND created_at > $2",
    )
    .bind(conversation_id)
    .bind(now_ms() - 3_600_000)
    .fetch_one(&mut *conn)
    .await?;
    if recent >= MAX_VISITOR_FILES_PER_HOUR {
        return Err(BackendError::RateLimited(format!(
            "you have sent {MAX_VISITOR_FILES_PER_HOUR} files in this chat in the last hour; please wait before sending another"
        )));
    }
    Ok(())
}

/// At most `limit_mb` megabytes of files uploaded by an organization's visitors an hour (the
/// chat's files and the e-mail forms'; `Config::visitor_upload_mb_per_hour`, 0: no limit),
/// `adding` included; counted in the database, so across processes (two uploads in different
/// conversations at the same moment may both pass).
pub(crate) async fn check_upload_budget(
    conn: &mut AnyConnection,
    org_id: &str,
    adding: i64,
    limit_mb: u32,
) -> Result<()> {
    if limit_mb == 0 {
        return Ok(());
    }
    let (recent,): (i64,) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM attachments WHERE org_id = $1 AND created_at > $2",
    )
    .bind(org_id)
    .bind(now_ms() - 3_600_000)
    .fetch_one(&mut *conn)
    .await?;
    if recent + adding > i64::from(limit_mb) * 1024 * 1024 {
        return Err(BackendError::RateLimited(
            "too many files were sent to this team in the last hour; please try again later".into(),
        ));
    }
    Ok(())
}

/// Stores a file of the message under the sequence number `row` took (an e-mail form's, at
/// `position` among its files; a file sent in the chat, at 0), for the conversation's
/// organization and visitor (the visitor may download it whoever sent it: `services::email_form`'s
/// download rules).
pub(crate) async fn insert_file(
    conn: &mut AnyConnection,
    row: &SummaryRow,
    position: i64,
    file: &CheckedFile,
) -> Result<AttachmentDto> {
    let attachment = AttachmentDto {
        id: new_id(),
        name: file.name.clone(),
        content_type: file.kind.content_type().to_string(),
        size: file.bytes.len() as i64,
    };
    let stored = sqlx::query(
        "INSERT INTO attachments (id, org_id, conversation_id, seq, position, visitor_id, file_name, content_type, size, sha256, data, created_at)
         SELECT $1, org_id, id, $3, $11, visitor_id, $4, $5, $6, $7, $8, $9 FROM conversations WHERE id = $2 AND org_id = $10",
    )
    .bind(&attachment.id)
    .bind(&row.id)
    .bind(row.last_seq)
    .bind(&attachment.name)
    .bind(&attachment.content_type)
    .bind(attachment.size)
    .bind(hex::encode(sha2::Sha256::digest(&file.bytes)))
    .bind(file.bytes.as_slice())
    .bind(row.last_activity)
    .bind(&row.org_id)
    .bind(position)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if stored != 1 {
        return Err(BackendError::NotFound("conversation"));
    }
    Ok(attachment)
}
