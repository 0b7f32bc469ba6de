//! Files the holder sends in the chat (issue 23): the paperclip beside the reply's composer (or
//! a paste — a screenshot — or a drop on it) and the uploads in flight above it
//! (`/api/chat/file`, for the conversation held; the widget's side is its page's script,
//! `server/src/widget_page.js`, for the bundle's weight: this component cost the widget 13 KB).
//! One message per file; each picked file is checked here first (`email_form::files_problem`:
//! name, size), then uploaded with its progress shown; the server checks the content
//! (`domain::chat_files`) and a refusal stays on screen, in its words, until dismissed. A file
//! whose upload got no answer (the network) can be sent again: under the same client message id,
//! so it is stored once. A stored file leaves the list: its message arrives on the socket like
//! any other.
use crate::components::email_form::{file_store, FileStore, ACCEPT};
#[cfg(feature = "browser")]
use crate::components::email_form::{files_problem, ChosenFile};
use crate::components::icons::{Icon, IconKind};
#[cfg(feature = "browser")]
use crate::util::client_msg_id;
use domain::email::human_size;
use leptos::prelude::*;

/// One file on its way (or refused).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Upload {
    key: u32,
    name: String,
    size: u64,
    client_msg_id: String,
    /// Percent sent.
    progress: u32,
    /// Why it was not sent.
    error: Option<String>,
    /// No answer came: it may be sent again.
    retry: bool,
}

/// A conversation's files on their way: `button` goes in the composer, `list` above it.
#[derive(Clone, Copy)]
pub struct ChatFiles {
    conversation_id: StoredValue<String>,
    uploads: RwSignal<Vec<Upload>>,
    next: StoredValue<u32>,
    /// The browser's `File`s behind the uploads, by key.
    files: FileStore,
}

impl ChatFiles {
    pub fn new(conversation_id: String) -> Self {
        Self {
            conversation_id: StoredValue::new(conversation_id),
            uploads: RwSignal::new(Vec::new()),
            next: StoredValue::new(0),
            files: file_store(),
        }
    }

    /// The paperclip: picks one or more files and sends each.
    pub fn button(self) -> impl IntoView {
        let pick = move |ev: leptos::ev::Event| {
            #[cfg(feature = "browser")]
            for file in crate::components::upload::picked(&ev) {
                self.add(file);
            }
            #[cfg(not(feature = "browser"))]
            let _ = ev;
        };
        view! {
            <label class="attach-btn" title="Send a file">
                <Icon kind=IconKind::Paperclip/>
                <input type="file" multiple=true accept=ACCEPT aria-label="Send a file" on:change=pick/>
            </label>
        }
    }

    /// A paste into the composer: its files (a screenshot from the clipboard) are sent like
    /// picked ones; pasted text is left to the text box.
    pub fn paste(self, ev: &leptos::ev::ClipboardEvent) {
        #[cfg(feature = "browser")]
        self.take(ev, ev.clipboard_data());
        #[cfg(not(feature = "browser"))]
        let _ = ev;
    }

    /// Files dragged onto the composer and dropped: sent like picked ones.
    pub fn drop_on(self, ev: &leptos::ev::DragEvent) {
        #[cfg(feature = "browser")]
        self.take(ev, ev.data_transfer());
        #[cfg(not(feature = "browser"))]
        let _ = ev;
    }

    #[cfg(feature = "browser")]
    fn take(self, ev: &web_sys::Event, data: Option<web_sys::DataTransfer>) {
        let files = crate::components::upload::files_of(data.and_then(|d| d.files()));
        if files.is_empty() {
            return;
        }
        ev.prevent_default();
        for file in files {
            self.add(file);
        }
    }

    /// The uploads in flight and the refused ones.
    pub fn list(self) -> impl IntoView {
        let uploads = self.uploads;
        view! {
            <Show when=move || uploads.with(|u| !u.is_empty())>
                <ul class="uploads" aria-label="Files being sent">
                    <For each=move || uploads.get() key=|u| (u.key, u.progress, u.error.clone()) let:u>
                        {
                            let key = u.key;
                            let state = match &u.error {
                                Some(e) => view! { <span class="field-error" role="alert">{format!("Not sent: {e}")}</span> }.into_any(),
                                None => view! {
                                    <progress class="upload-progress" max="100" prop:value=f64::from(u.progress)
                                        aria-label=format!("Sending {}", u.name)></progress>
                                    <span class="muted small">{format!("{}%", u.progress)}</span>
                                }.into_any(),
                            };
                            view! {
                                <li class="upload-item" data-failed=u.error.is_some().to_string()>
                                    <Icon kind=IconKind::Paperclip/>
                                    <span class="file-name">{u.name.clone()}</span>
                                    <span class="file-size">{human_size(u.size as usize)}</span>
                                    {state}
                                    {u.retry.then(|| view! {
                                        <button type="button" class="btn small" on:click=move |_| self.start(key)>"Retry"</button>
                                    })}
                                    {u.error.is_some().then(|| view! {
                                        <button type="button" class="file-remove" aria-label=format!("Dismiss {}", u.name)
                                            on:click=move |_| self.forget(key)>"×"</button>
                                    })}
                                </li>
                            }
                        }
                    </For>
                </ul>
            </Show>
        }
    }

    #[cfg(feature = "browser")]
    fn update(self, key: u32, f: impl FnOnce(&mut Upload)) {
        self.uploads.update(|list| {
            if let Some(u) = list.iter_mut().find(|u| u.key == key) {
                f(u);
            }
        });
    }

    fn forget(self, key: u32) {
        self.uploads.update(|list| list.retain(|u| u.key != key));
        self.files.update_value(|s| s.retain(|(k, _)| *k != key));
    }

    #[cfg(feature = "browser")]
    fn add(self, file: web_sys::File) {
        let key = self.next.get_value();
        self.next.set_value(key + 1);
        let (name, size) = (file.name(), file.size() as u64);
        let problem = files_problem(&[ChosenFile { key, name: name.clone(), size }]);
        let upload = Upload {
            key,
            name,
            size,
            client_msg_id: client_msg_id(),
            progress: 0,
            error: problem.clone(),
            retry: false,
        };
        self.uploads.update(|list| list.push(upload));
        if problem.is_none() {
            self.files.update_value(|s| s.push((key, file)));
            self.start(key);
        }
    }

    /// Sends (or sends again) the file `key`.
    fn start(self, key: u32) {
        #[cfg(feature = "browser")]
        {
            use crate::components::upload::{self, Outcome};
            let Some(id) =
                self.uploads.with_untracked(|l| l.iter().find(|u| u.key == key).map(|u| u.client_msg_id.clone()))
            else {
                return;
            };
            let file = self.files.with_value(|s| s.iter().find(|(k, _)| *k == key).map(|(_, f)| f.clone()));
            let conversation_id = self.conversation_id.get_value();
            let form = web_sys::FormData::new().ok().filter(|form| {
                file.as_ref().is_some_and(|f| {
                    form.append_with_str("conversation_id", &conversation_id).is_ok()
                        && form.append_with_str("client_msg_id", &id).is_ok()
                        && form.append_with_blob_and_filename("file", f, &f.name()).is_ok()
                })
            });
            let Some(form) = form else {
                self.update(key, |u| u.error = Some("this browser could not read the file".into()));
                return;
            };
            self.update(key, |u| {
                (u.error, u.retry, u.progress) = (None, false, 0);
            });
            let started = upload::send(
                "/api/chat/file",
                &form,
                move |p| self.update(key, |u| u.progress = p),
                move |outcome| match outcome {
                    Outcome::Stored { .. } => self.forget(key),
                    Outcome::Refused(e) => self.update(key, |u| u.error = Some(e.to_string())),
                    Outcome::Network => self.update(key, |u| {
                        u.error = Some("no answer from the server; check your connection".into());
                        u.retry = true;
                    }),
                },
            );
            if started.is_err() {
                self.update(key, |u| u.error = Some("the upload could not start".into()));
            }
        }
        #[cfg(not(feature = "browser"))]
        let _ = (key, self.conversation_id, self.next);
    }
}
