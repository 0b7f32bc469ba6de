//! Files sent in the chat (issue 23), multipart so that both sides see the upload's progress.
//!
//! * `POST /api/widget/file` — the visitor: fields `token`, `client_msg_id`, `file`.
//! * `POST /api/chat/file` — the human agent holding the chat (session cookie; the same-origin
//!   check of every state-changing request applies): fields `conversation_id`, `client_msg_id`,
//!   `file`.
//!
//! One file a request, one message a file. Answers `{"seq", "duplicate"}` (a resend under the
//! same `client_msg_id` gets the stored message), or an `AppError` JSON body: 400 `field`
//! (`file`: refused by content or name, empty, too large; nothing stored), 403, 404, 409 (the
//! conversation closed), 413 (the body over the limit), 429. The caller is known before a file
//! byte is read (the visitor's token must come before the file); the file is read chunk by chunk
//! and never buffered past the limit. Checked and stored by `backend::services::chat_files`;
//! downloaded from `/attachments/{id}` (`crate::upload`).
use crate::upload::{backend_error, drain, error, field_error, forbidden, Submitted};
use app::error::AppError;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use backend::{Backend, UserCtx};
use domain::chat_files::FILE_FIELD;
use domain::email::{human_size, UploadedFile, MAX_FILE_BYTES};

/// Largest request body: one file plus room for the text fields and multipart framing.
pub const MAX_CHAT_FILE_BODY: usize = MAX_FILE_BYTES + 64 * 1024;
/// Largest text field (ids and tokens are far shorter).
const MAX_TEXT_FIELD: usize = 1024;

fn too_large() -> Response {
    field_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        FILE_FIELD,
        format!("the file is too large; each file may be at most {}", human_size(MAX_FILE_BYTES)),
    )
}

fn bad_form(e: axum::extract::multipart::MultipartError) -> Response {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large()
    } else {
        error(StatusCode::BAD_REQUEST, AppError::Validation { code: "bad_form".into(), message: e.body_text() })
    }
}

/// Who sends.
enum Sender {
    /// The visitor, once their token has been read.
    Visitor(Option<backend::VisitorCtx>),
    /// A signed-in user (the cookie is read before the body).
    Agent(UserCtx),
}

/// What the form carried.
#[derive(Default)]
struct Form {
    conversation_id: String,
    client_msg_id: String,
    file: Option<UploadedFile>,
}

/// Reads the form: the visitor's token is checked when it arrives, a file before it (or a second
/// file) is refused, and the file is read chunk by chunk up to a little past the limit (so that a
/// file slightly too large gets the field error naming its size, from `domain::chat_files`).
async fn read_form(backend: &Backend, request: Request, sender: &mut Sender) -> Result<Form, Response> {
    if crate::security::declared_length(request.headers()).is_some_and(|n| n > MAX_CHAT_FILE_BODY) {
        drain(request.into_body()).await;
        return Err(too_large());
    }
    let mut multipart = Multipart::from_request(request, &()).await.map_err(|rejection| {
        error(StatusCode::BAD_REQUEST, AppError::Validation { code: "bad_form".into(), message: rejection.body_text() })
    })?;
    let mut form = Form::default();
    let mut refused = None;
    while let Some(mut field) = multipart.next_field().await.map_err(bad_form)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == FILE_FIELD {
            if matches!(sender, Sender::Visitor(None)) {
                refused = Some(forbidden("send the visitor token before the file"));
            }
            if refused.is_some() {
                // Thrown away unread: the client gets the answer, not a reset mid-upload.
                while let Ok(Some(_)) = field.chunk().await {}
                continue;
            }
            if form.file.is_some() {
                return Err(field_error(StatusCode::BAD_REQUEST, FILE_FIELD, "send one file at a time"));
            }
            let file_name = field.file_name().unwrap_or_default().to_string();
            let mut bytes = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(bad_form)? {
                if bytes.len() + chunk.len() > MAX_FILE_BYTES + 1024 {
                    return Err(too_large());
                }
                bytes.extend_from_slice(&chunk);
            }
            form.file = Some(UploadedFile { name: file_name, bytes });
            continue;
        }
        let text = match field.text().await {
            Ok(t) if t.len() <= MAX_TEXT_FIELD => t,
            Ok(_) => return Err(field_error(StatusCode::BAD_REQUEST, &name, "is too long")),
            Err(e) => return Err(bad_form(e)),
        };
        match (name.as_str(), &mut *sender) {
            ("token", Sender::Visitor(visitor)) => match backend.visitor_by_token(&text).await {
                Ok(v) if !text.is_empty() => *visitor = Some(v),
                Ok(_) => return Err(forbidden("unknown visitor token")),
                Err(e) => return Err(backend_error(e)),
            },
            ("conversation_id", Sender::Agent(_)) => form.conversation_id = text,
            ("client_msg_id", _) => form.client_msg_id = text,
            _ => {} // unknown fields are ignored
        }
    }
    refused.map_or(Ok(form), Err)
}

fn answer(result: backend::error::Result<backend::conversation::Posted>) -> Response {
    match result {
        Ok(p) => Json(Submitted { seq: p.message.seq, duplicate: p.duplicate }).into_response(),
        Err(e) => backend_error(e),
    }
}

fn no_file() -> Response {
    field_error(StatusCode::BAD_REQUEST, FILE_FIELD, "choose a file to send")
}

/// `POST /api/widget/file`.
pub async fn visitor_file(State(backend): State<Backend>, request: Request) -> Response {
    let mut sender = Sender::Visitor(None);
    let form = match read_form(&backend, request, &mut sender).await {
        Ok(f) => f,
        Err(response) => return response,
    };
    let Sender::Visitor(Some(visitor)) = sender else { return forbidden("unknown visitor token") };
    let Some(file) = form.file else { return no_file() };
    answer(backend.visitor_send_file(&visitor, &form.client_msg_id, file).await)
}

/// `POST /api/chat/file`.
pub async fn agent_file(State(backend): State<Backend>, request: Request) -> Response {
    let user = match crate::security::session_user(request.headers(), &backend).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            drain(request.into_body()).await;
            return crate::upload::unauthorized();
        }
        Err(e) => return backend_error(e),
    };
    let mut sender = Sender::Agent(user);
    let form = match read_form(&backend, request, &mut sender).await {
        Ok(f) => f,
        Err(response) => return response,
    };
    let Sender::Agent(user) = sender else { return forbidden("sign in first") };
    let Some(file) = form.file else { return no_file() };
    answer(backend.agent_send_file(&user, &form.conversation_id, &form.client_msg_id, file).await)
}
