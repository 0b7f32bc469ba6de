//! The visitor's "send email" form (a multipart upload, so that the widget can show progress)
//! and attachment downloads.
//!
//! * `POST /api/widget/email` — fields `token`, `submission_id`, `email`, `message`, and zero or
//!   more `files`. Answers `{"seq", "duplicate"}`, or an `AppError` JSON body: 400 `field`
//!   (which field and why; nothing stored), 403, 413 (body over the limit), 429. The `token`
//!   must come before any file: the visitor is checked as soon as it arrives, and a forged token
//!   (or a file before the token) is refused before a file byte is read. Files are read chunk by
//!   chunk and never buffered past the size limits.
//! * `GET /attachments/{id}` — the e-mail form's files and the chat's (`crate::chat_files`): for
//!   signed-in users of the attachment's organization (session cookie) or the conversation's
//!   visitor (`X-Visitor-Token` header; the widget shows pictures from it). Always a download
//!   (`Content-Disposition: attachment`), with the type found by content, `nosniff` and a CSP
//!   sandbox, so nothing uploaded is ever rendered as a page of this origin. Unknown and
//!   foreign ids are the same 404.
use app::error::AppError;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use backend::{Backend, BackendError};
use domain::email::{UploadedFile, MAX_FILES, MAX_FILE_BYTES, MAX_TOTAL_BYTES};

/// Largest request body of the form: the files plus room for the text fields and multipart
/// framing.
pub const MAX_FORM_BODY: usize = MAX_TOTAL_BYTES + 256 * 1024;
/// Largest text field.
const MAX_TEXT_FIELD: usize = 64 * 1024;

pub(crate) fn error(status: StatusCode, e: AppError) -> Response {
    (status, Json(e)).into_response()
}

pub(crate) fn field_error(status: StatusCode, field: &str, message: impl Into<String>) -> Response {
    error(status, AppError::Field { field: field.into(), message: message.into() })
}

fn too_large() -> Response {
    let limit = domain::email::human_size(MAX_TOTAL_BYTES);
    field_error(StatusCode::PAYLOAD_TOO_LARGE, "files", format!("attach at most {MAX_FILES} files, {limit} in all"))
}

pub(crate) fn backend_error(e: BackendError) -> Response {
    let e = AppError::from(e);
    error(StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), e)
}

/// A multipart error: over the size limit, or a malformed body.
fn multipart_error(e: axum::extract::multipart::MultipartError) -> Response {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large()
    } else {
        error(StatusCode::BAD_REQUEST, AppError::Validation { code: "bad_form".into(), message: e.body_text() })
    }
}

pub(crate) fn unauthorized() -> Response {
    error(StatusCode::UNAUTHORIZED, AppError::Unauthorized { message: "sign in first".into() })
}

pub(crate) fn forbidden(message: &str) -> Response {
    error(StatusCode::FORBIDDEN, AppError::Forbidden { message: message.into() })
}

/// Reads one file chunk by chunk, counting every byte into `total`, and stops with 413 as soon
/// as the form's files exceed the limit (the files' total plus one file's worth, so that a file
/// slightly too large still gets the form's field error naming it): nothing past it is buffered.
async fn read_file(field: &mut axum::extract::multipart::Field<'_>, total: &mut usize) -> Result<Vec<u8>, Response> {
    let mut bytes = Vec::new();
    loop {
        match field.chunk().await {
            Ok(Some(chunk)) => {
                *total += chunk.len();
                if *total > MAX_TOTAL_BYTES + MAX_FILE_BYTES {
                    return Err(too_large());
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(bytes),
            Err(e) => return Err(multipart_error(e)),
        }
    }
}

#[derive(serde::Serialize)]
pub(crate) struct Submitted {
    pub(crate) seq: i64,
    pub(crate) duplicate: bool,
}

/// A body declared too large is still read (and thrown away) up to this much, so that the client
/// gets the 413 answer instead of a connection reset mid-upload.
const MAX_DRAIN: usize = 64 * 1024 * 1024;
const DRAIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

pub(crate) async fn drain(body: axum::body::Body) {
    use futures::StreamExt;
    let mut stream = body.into_data_stream();
    let mut read = 0usize;
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while let Some(Ok(chunk)) = stream.next().await {
            read += chunk.len();
            if read > MAX_DRAIN {
                break;
            }
        }
    })
    .await;
}

pub async fn submit_email_form(State(backend): State<Backend>, request: Request) -> Response {
    let declared = crate::security::declared_length(request.headers());
    if declared.is_some_and(|n| n > MAX_FORM_BODY) {
        drain(request.into_body()).await;
        return too_large();
    }
    // The route's `DefaultBodyLimit` still cuts bodies without a length (chunked) at the limit.
    let mut form = match Multipart::from_request(request, &()).await {
        Ok(f) => f,
        Err(rejection) => {
            let message = rejection.body_text();
            return error(StatusCode::BAD_REQUEST, AppError::Validation { code: "bad_form".into(), message });
        }
    };
    let (mut visitor, mut submission_id, mut email, mut message) = (None, None, None, None);
    let mut files = Vec::new();
    let mut total = 0usize;
    loop {
        let mut field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return multipart_error(e),
        };
        let name = field.name().unwrap_or_default().to_string();
        if name == "files" {
            if visitor.is_none() {
                return forbidden("send the visitor token before the files");
            }
            let file_name = field.file_name().unwrap_or_default().to_string();
            let bytes = match read_file(&mut field, &mut total).await {
                Ok(b) => b,
                Err(response) => return response,
            };
            if file_name.is_empty() && bytes.is_empty() {
                continue; // an empty file input
            }
            if files.len() >= MAX_FILES * 4 {
                return too_large();
            }
            files.push(UploadedFile { name: file_name, bytes });
            continue;
        }
        let text = match field.text().await {
            Ok(t) if t.len() <= MAX_TEXT_FIELD => t,
            Ok(_) => {
                let field = if name == "email" { "email" } else { "message" };
                return field_error(StatusCode::BAD_REQUEST, field, "is too long");
            }
            Err(e) => return multipart_error(e),
        };
        match name.as_str() {
            "token" if text.is_empty() => return forbidden("unknown visitor token"),
            "token" => match backend.visitor_by_token(&text).await {
                Ok(v) => visitor = Some(v),
                Err(e) => return backend_error(e),
            },
            "submission_id" => submission_id = Some(text),
            "email" => email = Some(text),
            "message" => message = Some(text),
            _ => {} // unknown fields are ignored
        }
    }
    let Some(visitor) = visitor else {
        return forbidden("unknown visitor token");
    };
    let result = backend
        .submit_email_form(
            &visitor,
            submission_id.as_deref().unwrap_or_default(),
            email.as_deref().unwrap_or_default(),
            message.as_deref().unwrap_or_default(),
            files,
        )
        .await;
    match result {
        Ok((m, duplicate)) => Json(Submitted { seq: m.seq, duplicate }).into_response(),
        Err(e) => backend_error(e),
    }
}

pub async fn download_attachment(
    State(backend): State<Backend>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let visitor_token = headers.get("x-visitor-token").and_then(|v| v.to_str().ok()).filter(|t| !t.is_empty());
    let file = match visitor_token {
        Some(token) => backend.attachment_for_visitor(token, &id).await,
        None => match crate::security::session_user(&headers, &backend).await {
            Ok(Some(user)) => backend.attachment_for_user(&user, &id).await,
            Ok(None) => Err(BackendError::NotFound("attachment")),
            Err(e) => Err(e),
        },
    };
    let file = match file {
        Ok(f) => f,
        // Forbidden and not found look the same: ids of other organizations are not confirmed.
        Err(BackendError::Forbidden(_)) | Err(BackendError::NotFound(_)) => {
            return error(StatusCode::NOT_FOUND, AppError::NotFound { message: "attachment not found".into() })
        }
        Err(e) => return backend_error(e),
    };
    let ascii: String =
        file.name.chars().map(|c| if c.is_ascii_alphanumeric() || "._- ()".contains(c) { c } else { '_' }).collect();
    let encoded: String = file
        .name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b".-_".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let disposition = format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}");
    let mut res = file.bytes.into_response();
    let h = res.headers_mut();
    let set =
        |v: &str| HeaderValue::from_str(v).unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    h.insert(header::CONTENT_TYPE, set(&file.content_type));
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment")),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox; default-src 'none'"));
    res
}
