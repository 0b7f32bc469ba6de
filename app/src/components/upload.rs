//! A multipart upload through `XMLHttpRequest`, for its progress events (browser only): the
//! e-mail form's files (`/api/widget/email`) and files sent in the chat (`/api/widget/file`,
//! `/api/chat/file`). The answer is `{"seq", …}` or an `AppError` body.
use crate::error::AppError;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use web_sys::{FormData, ProgressEvent, XmlHttpRequest};

/// The files a file input's `change` event picked; the input is emptied, so that picking the same
/// file again fires `change` again.
pub fn picked(ev: &leptos::ev::Event) -> Vec<web_sys::File> {
    let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else {
        return Vec::new();
    };
    let files = files_of(input.files());
    input.set_value("");
    files
}

/// The files of a `FileList` (a file input's, a paste's, a drop's).
pub fn files_of(list: Option<web_sys::FileList>) -> Vec<web_sys::File> {
    list.map(|list| (0..list.length()).filter_map(|i| list.get(i)).collect()).unwrap_or_default()
}

pub enum Outcome {
    /// Stored (or stored before, for a resubmission) under this seq.
    Stored { seq: i64 },
    /// The server said no.
    Refused(AppError),
    /// No answer: the network, or the server went away.
    Network,
}

/// Called once with the outcome, whichever handler fires first.
type Done = Rc<RefCell<Option<Box<dyn FnOnce(Outcome)>>>>;

#[derive(serde::Deserialize)]
struct Submitted {
    seq: i64,
}

fn outcome(status: u16, body: &str) -> Outcome {
    if status == 200 {
        return match serde_json::from_str::<Submitted>(body) {
            Ok(s) => Outcome::Stored { seq: s.seq },
            Err(_) => Outcome::Refused(AppError::Internal),
        };
    }
    if let Ok(e) = serde_json::from_str::<AppError>(body) {
        return Outcome::Refused(e);
    }
    Outcome::Refused(match status {
        0 => return Outcome::Network,
        413 => AppError::Field { field: "files".into(), message: "the files are too large to send".into() },
        429 => AppError::RateLimited { message: "too many uploads; please try again later".into() },
        _ => AppError::Internal,
    })
}

/// Posts `form` to `url`; `on_progress` gets the percent sent (0–100), `done` the outcome, once.
pub fn send(
    url: &str,
    form: &FormData,
    on_progress: impl Fn(u32) + 'static,
    done: impl FnOnce(Outcome) + 'static,
) -> Result<(), JsValue> {
    let xhr = XmlHttpRequest::new()?;
    xhr.open_with_async("POST", url, true)?;
    xhr.set_timeout(120_000);
    let done: Done = Rc::new(RefCell::new(Some(Box::new(done))));
    let finish = {
        let done = done.clone();
        move |o: Outcome| {
            if let Some(f) = done.borrow_mut().take() {
                f(o);
            }
        }
    };
    let progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |e: ProgressEvent| {
        if e.length_computable() && e.total() > 0.0 {
            // A float-to-integer cast saturates: no float formatting in the bundle.
            on_progress((e.loaded() / e.total() * 100.0).clamp(0.0, 100.0) as u32);
        }
    });
    xhr.upload()?.set_onprogress(Some(progress.as_ref().unchecked_ref()));
    let load = {
        let (xhr, finish) = (xhr.clone(), finish.clone());
        Closure::<dyn FnMut()>::new(move || {
            let status = xhr.status().unwrap_or(0);
            let body = xhr.response_text().ok().flatten().unwrap_or_default();
            finish(outcome(status, &body));
        })
    };
    let fail = Closure::<dyn FnMut()>::new(move || finish(Outcome::Network));
    xhr.set_onload(Some(load.as_ref().unchecked_ref()));
    xhr.set_onerror(Some(fail.as_ref().unchecked_ref()));
    xhr.set_ontimeout(Some(fail.as_ref().unchecked_ref()));
    xhr.set_onabort(Some(fail.as_ref().unchecked_ref()));
    // One upload per click; its handlers live until it ends (a few small closures).
    progress.forget();
    load.forget();
    fail.forget();
    xhr.send_with_opt_form_data(Some(form))
}
