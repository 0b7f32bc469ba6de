//! `GET /api/visitor/export?conversation_id=…`: everything stored about the visitor of a
//! conversation (GDPR access request) as one zip — `visitor.json` (`domain::privacy`), the files
//! under `files/`, and a `README.txt` saying what is where. For a signed-in user of the
//! conversation's organization with the *settings* permission (a platform admin: any); another
//! organization's conversation is the same 404 as a missing one; a request from another site is
//! refused. A download, never cached.
use crate::upload::backend_error;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use backend::services::visitor_data::VisitorArchive;
use backend::{Backend, BackendError};
use serde::Deserialize;
use std::io::Write;

#[derive(Deserialize)]
pub struct ExportQuery {
    conversation_id: String,
}

const README: &str = "What this organization stores about one visitor (one browser), exported on request.\n\
\n\
visitor.json  the visitor, every conversation with its messages, private notes, labels and what\n\
              the chat widget told about the visitor's browser; times are milliseconds since 1970.\n\
files/        the files sent in the chat (either way) and attached to e-mail forms, one folder per\n\
              conversation, named <message>-<position>-<file name>; visitor.json lists each with\n\
              its SHA-256.\n";

pub async fn export_visitor(
    State(backend): State<Backend>,
    Query(q): Query<ExportQuery>,
    headers: HeaderMap,
) -> Response {
    // A GET, so the guard lets it through: a link on another site must not make a signed-in
    // user's browser export (and log an export).
    if !crate::security::origin_allowed(&headers, &backend) {
        return crate::upload::forbidden("cross-site request refused");
    }
    let user = match crate::security::session_user(&headers, &backend).await {
        Ok(Some(user)) => user,
        Ok(None) => return crate::upload::unauthorized(),
        Err(e) => return backend_error(e),
    };
    let archive = match backend.export_visitor(&user, &q.conversation_id).await {
        Ok(a) => a,
        Err(e) => return backend_error(e),
    };
    let archive = std::sync::Arc::new(archive);
    let zipping = archive.clone();
    let zipped = match tokio::task::spawn_blocking(move || zip_archive(&zipping)).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(e)) => return backend_error(BackendError::Internal(format!("the export could not be written: {e}"))),
        Err(_) => return backend_error(BackendError::Internal("the export could not be written".into())),
    };
    if let Err(e) = backend.record_export(&user, &archive).await {
        return backend_error(e);
    }
    let name: String = q.conversation_id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').take(64).collect();
    let mut res = zipped.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/zip"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment;filename=visitor-{name}.zip")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    res
}

/// The zip: `README.txt`, `visitor.json` and every file at its path.
fn zip_archive(archive: &VisitorArchive) -> zip::result::ZipResult<Vec<u8>> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let deflated = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("README.txt", deflated)?;
    zip.write_all(README.as_bytes())?;
    zip.start_file("visitor.json", deflated)?;
    let json = serde_json::to_vec_pretty(&archive.export).map_err(std::io::Error::other)?;
    zip.write_all(&json)?;
    // Pictures and documents are mostly compressed already.
    let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (path, bytes) in &archive.files {
        zip.start_file(path.as_str(), stored)?;
        zip.write_all(bytes)?;
    }
    Ok(zip.finish()?.into_inner())
}
