//! The visitor's "send email" form in the widget: address, question, files. Shown when nobody
//! answered a request in time (an `EmailOffer` message), or when the visitor asks for it while
//! waiting.
//!
//! Everything is checked here first for quick feedback (the server checks again, by content):
//! the address and text with `domain::email`, the files' number, sizes and types. The upload is a
//! multipart `POST /api/widget/email` through `XMLHttpRequest`, for its progress events. One
//! random `submission_id` per form fill makes a retry after a network failure store the e-mail
//! once. A refusal keeps everything typed and names the field it is about.
use crate::components::icons::{Icon, IconKind};
use crate::util::client_msg_id;
use domain::email::{human_size, parse_form_text, EmailAddress, MAX_FILES, MAX_FILE_BYTES, MAX_TOTAL_BYTES};
use leptos::prelude::*;

/// What the file picker offers. The server decides by content (`domain::email::check_files`).
pub const ACCEPT: &str = ".png,.jpg,.jpeg,.gif,.webp,.pdf,.txt,.csv,.log,.md,\
    image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain";

/// A file the visitor picked (the browser's `File` itself stays in the form, browser only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChosenFile {
    pub key: u32,
    pub name: String,
    pub size: u64,
}

/// The first problem with the chosen files, in the server's words, or `None`.
pub fn files_problem(files: &[ChosenFile]) -> Option<String> {
    if files.len() > MAX_FILES {
        return Some(format!("attach at most {MAX_FILES} files (you chose {})", files.len()));
    }
    let total: u64 = files.iter().map(|f| f.size).sum();
    if total > MAX_TOTAL_BYTES as u64 {
        return Some(format!(
            "the files add up to {}; the limit is {} in all",
            human_size(total as usize),
            human_size(MAX_TOTAL_BYTES)
        ));
    }
    files.iter().find_map(|f| {
        if !domain::email::extension_accepted(&f.name) {
            Some(format!(
                "{}: this type of file is not accepted; allowed are {}",
                f.name,
                domain::email::ACCEPTED_DESCRIPTION
            ))
        } else if f.size == 0 {
            Some(format!("{} is empty", f.name))
        } else if f.size > MAX_FILE_BYTES as u64 {
            Some(format!(
                "{} is {}; each file may be at most {}",
                f.name,
                human_size(f.size as usize),
                human_size(MAX_FILE_BYTES)
            ))
        } else {
            None
        }
    })
}

/// The browser's `File`s behind the chosen list. Browser only: on the server the form never has
/// files (and `File` is not `Send`).
#[cfg(feature = "browser")]
pub(crate) type FileStore = StoredValue<Vec<(u32, web_sys::File)>, LocalStorage>;
#[cfg(not(feature = "browser"))]
pub(crate) type FileStore = StoredValue<Vec<(u32, ())>>;

pub(crate) fn file_store() -> FileStore {
    #[cfg(feature = "browser")]
    return StoredValue::new_local(Vec::new());
    #[cfg(not(feature = "browser"))]
    StoredValue::new(Vec::new())
}

/// The form's problems by field name (three fields: a short list is all it takes, and it keeps
/// the widget's bundle free of a map type).
#[derive(Clone, Default)]
struct FieldErrors(Vec<(String, String)>);

impl FieldErrors {
    fn get(&self, field: &str) -> Option<&String> {
        self.0.iter().find(|(f, _)| f == field).map(|(_, m)| m)
    }
    fn contains_key(&self, field: &str) -> bool {
        self.get(field).is_some()
    }
    fn insert(&mut self, field: String, message: String) {
        self.remove(&field);
        self.0.push((field, message));
    }
    fn remove(&mut self, field: &str) {
        self.0.retain(|(f, _)| f != field);
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The form. `on_sent` gets the (normalized) address and the stored message's seq.
#[component]
pub fn EmailForm(
    /// The visitor's token (the upload's credential).
    #[prop(into)]
    token: Signal<String>,
    on_sent: Callback<(String, i64)>,
    on_close: Callback<()>,
) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let message = RwSignal::new(String::new());
    let chosen = RwSignal::new(Vec::<ChosenFile>::new());
    let files = file_store();
    let next_key = StoredValue::new(0u32);
    let errors = RwSignal::new(FieldErrors::default());
    let form_error = RwSignal::new(None::<String>);
    let sending = RwSignal::new(false);
    // Percent of the upload sent.
    let progress = RwSignal::new(0u32);
    // Once per form fill: a resend after a network failure is stored once.
    let submission_id = StoredValue::new(client_msg_id());

    let clear = move |field: &str| {
        if errors.with_untracked(|e| e.contains_key(field)) {
            errors.update(|e| {
                e.remove(field);
            });
        }
    };
    let field_error = move |field: &'static str| {
        move || {
            errors.with(|e| e.get(field).cloned()).map(|m| {
                view! { <span class="field-error" role="alert" data-field=field>{m}</span> }
            })
        }
    };
    // The files' problem shows as soon as they are picked.
    Effect::new(move |_| {
        let problem = chosen.with(|c| files_problem(c));
        errors.update(|e| match problem {
            Some(p) => {
                e.insert("files".into(), p);
            }
            None => {
                e.remove("files");
            }
        });
    });

    let on_pick = move |ev: leptos::ev::Event| {
        #[cfg(feature = "browser")]
        {
            for f in crate::components::upload::picked(&ev) {
                let (name, size) = (f.name(), f.size() as u64);
                if chosen.with_untracked(|c| c.iter().any(|x| x.name == name && x.size == size)) {
                    continue; // picked twice
                }
                let key = next_key.get_value();
                next_key.set_value(key + 1);
                files.update_value(|s| s.push((key, f)));
                chosen.update(|c| c.push(ChosenFile { key, name, size }));
            }
            form_error.set(None);
        }
        #[cfg(not(feature = "browser"))]
        let _ = (ev, next_key);
    };
    let remove = move |key: u32| {
        files.update_value(|s| s.retain(|(k, _)| *k != key));
        chosen.update(|c| c.retain(|f| f.key != key));
    };

    let submit = move || {
        if sending.get_untracked() {
            return;
        }
        let mut errs = FieldErrors::default();
        let address = match EmailAddress::parse(&email.get_untracked()) {
            Ok(a) => a.as_str().to_string(),
            Err(e) => {
                errs.insert("email".into(), e.message);
                String::new()
            }
        };
        let text = message.get_untracked();
        if let Err(e) = parse_form_text("message", &text) {
            errs.insert("message".to_string(), e.message);
        }
        if let Some(p) = chosen.with_untracked(|c| files_problem(c)) {
            errs.insert("files".to_string(), p);
        }
        let ok = errs.is_empty();
        errors.set(errs);
        form_error.set(None);
        if !ok {
            return;
        }
        #[cfg(feature = "browser")]
        {
            use crate::components::upload::{self, Outcome};
            let form = match web_sys::FormData::new() {
                Ok(f) => f,
                Err(_) => {
                    form_error.set(Some("this browser cannot send files".into()));
                    return;
                }
            };
            let keys: Vec<u32> = chosen.with_untracked(|c| c.iter().map(|f| f.key).collect());
            let mut filled = form.append_with_str("token", &token.get_untracked()).is_ok()
                && form.append_with_str("submission_id", &submission_id.get_value()).is_ok()
                && form.append_with_str("email", &address).is_ok()
                && form.append_with_str("message", &text).is_ok();
            files.with_value(|s| {
                for (_, f) in s.iter().filter(|(k, _)| keys.contains(k)) {
                    filled &= form.append_with_blob_and_filename("files", f, &f.name()).is_ok();
                }
            });
            if !filled {
                form_error.set(Some("could not prepare the files; please pick them again".into()));
                return;
            }
            sending.set(true);
            progress.set(0);
            let sent_to = address.clone();
            let started = upload::send(
                "/api/widget/email",
                &form,
                move |p| progress.set(p),
                move |outcome| {
                    sending.set(false);
                    match outcome {
                        Outcome::Stored { seq } => on_sent.run((sent_to, seq)),
                        Outcome::Refused(crate::error::AppError::Field { field, message }) => {
                            if ["email", "message", "files"].contains(&field.as_str()) {
                                errors.update(|e| {
                                    e.insert(field, message);
                                });
                            } else {
                                form_error.set(Some(message));
                            }
                        }
                        Outcome::Refused(e) => form_error.set(Some(e.to_string())),
                        Outcome::Network => form_error.set(Some(
                            "Could not reach the server. Your message is still here: check your connection and press Send again."
                                .into(),
                        )),
                    }
                },
            );
            if started.is_err() {
                sending.set(false);
                form_error.set(Some("could not start the upload; please try again".into()));
            }
        }
        #[cfg(not(feature = "browser"))]
        let _ = (address, token, submission_id, on_sent);
    };

    let limits = format!(
        "Up to {MAX_FILES} files (images, PDF, text), {} each, {} in all.",
        human_size(MAX_FILE_BYTES),
        human_size(MAX_TOTAL_BYTES)
    );
    view! {
        <form class="email-form" aria-label="Send us an email" novalidate=true
            on:submit=move |ev| { ev.prevent_default(); submit(); }>
            <div class="email-form-head">
                <strong><Icon kind=IconKind::Mail/>" Send us an email"</strong>
                <button type="button" class="email-form-close" aria-label="Close the e-mail form"
                    disabled=move || sending.get() on:click=move |_| on_close.run(())>"×"</button>
            </div>
            <p class="muted small">"Leave your address and your question: we will answer you by e-mail."</p>
            <label>
                "Your e-mail address"
                <input type="email" name="email" autocomplete="email" placeholder="name@example.com"
                    prop:value=move || email.get()
                    on:input=move |ev| { email.set(event_target_value(&ev)); clear("email"); }
                    aria-invalid=move || errors.with(|e| e.contains_key("email")).to_string()/>
                {field_error("email")}
            </label>
            <label>
                "Your question"
                <textarea name="message" rows="4"
                    prop:value=move || message.get()
                    on:input=move |ev| { message.set(event_target_value(&ev)); clear("message"); }
                    aria-invalid=move || errors.with(|e| e.contains_key("message")).to_string()></textarea>
                {field_error("message")}
            </label>
            <div class="email-files">
                <label class="btn small file-pick">
                    "Attach files"
                    <input type="file" name="files" multiple=true accept=ACCEPT on:change=on_pick/>
                </label>
                <span class="muted small">{limits}</span>
            </div>
            <ul class="file-list">
                <For each=move || chosen.get() key=|f| f.key let:f>
                    {
                        let key = f.key;
                        view! {
                            <li class="file">
                                <span class="file-name">{f.name.clone()}</span>
                                <span class="file-size">{human_size(f.size as usize)}</span>
                                <button type="button" class="file-remove" aria-label=format!("Remove {}", f.name)
                                    disabled=move || sending.get() on:click=move |_| remove(key)>"×"</button>
                            </li>
                        }
                    }
                </For>
            </ul>
            {field_error("files")}
            <Show when=move || sending.get()>
                <div class="upload">
                    <progress class="upload-progress" max="100" prop:value=move || f64::from(progress.get())
                        aria-label="Upload progress"></progress>
                    <span class="muted small">{move || format!("Sending… {}%", progress.get())}</span>
                </div>
            </Show>
            {move || form_error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            <div class="email-form-actions">
                <button type="submit" class="btn primary" disabled=move || sending.get()>
                    {move || if sending.get() { "Sending…" } else { "Send e-mail" }}
                </button>
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(name: &str, size: u64) -> ChosenFile {
        ChosenFile { key: 0, name: name.into(), size }
    }

    #[test]
    fn chosen_files_are_checked_like_the_server_does() {
        assert_eq!(files_problem(&[f("a.txt", 3), f("shot.PNG", 2000)]), None);
        assert!(files_problem(&[f("run.exe", 3)]).unwrap().contains("not accepted"));
        assert!(files_problem(&[f("logo.svg", 3)]).unwrap().contains("not accepted"));
        assert!(files_problem(&[f("a.txt", 0)]).unwrap().contains("is empty"));
        let big = MAX_FILE_BYTES as u64 + 1;
        assert!(files_problem(&[f("a.pdf", big)]).unwrap().contains("each file"));
        let part = MAX_FILE_BYTES as u64;
        assert!(files_problem(&[f("a.pdf", part), f("b.pdf", part), f("c.txt", 1)]).unwrap().contains("in all"));
        let many: Vec<_> = (0..=MAX_FILES).map(|_| f("a.txt", 1)).collect();
        assert!(files_problem(&many).unwrap().contains("at most 5 files"));
    }
}
