//! The retry rule of the dashboard's composers (chat reply, private note, e-mail reply), written once: a
//! retry of the same text keeps its client message id, so the server stores it once however
//! often it is sent; a changed text is a new message.
use super::chat_files::ChatFiles;
use leptos::prelude::*;

/// The message being sent (client id and text) until an answer settles it.
#[derive(Clone, Copy)]
pub struct Outgoing(RwSignal<Option<(String, String)>>);

impl Outgoing {
    pub fn new() -> Self {
        Self(RwSignal::new(None))
    }

    /// The client id to send `text` with: the pending one if this is a retry of the same text,
    /// a fresh one otherwise. Remembers it as pending.
    pub fn client_id_for(self, text: &str) -> String {
        let id = match self.0.get_untracked() {
            Some((id, pending)) if pending == text => id,
            _ => crate::util::client_msg_id(),
        };
        self.0.set(Some((id.clone(), text.to_string())));
        id
    }

    /// Whether the stored message with `client_msg_id` is the pending one; if so it is settled
    /// (forgotten) and the caller clears its draft.
    pub fn settle(self, client_msg_id: Option<&String>) -> bool {
        let mine = self.0.with_untracked(|o| o.as_ref().is_some_and(|(id, _)| Some(id) == client_msg_id));
        if mine {
            self.0.set(None);
        }
        mine
    }
}

/// A composer's form (the chat reply's, the private note's): Enter submits, Shift+Enter is a
/// new line; the button is off while `busy`. With a `picker`, `/` opens the canned responses
/// (whose keys come first).
#[component]
pub fn ComposerForm(
    class: &'static str,
    name: &'static str,
    placeholder: &'static str,
    label: &'static str,
    button: &'static str,
    button_class: &'static str,
    draft: RwSignal<String>,
    #[prop(into)] busy: Signal<bool>,
    submit: Callback<()>,
    #[prop(optional_no_strip)] picker: Option<super::canned::Picker>,
    /// Files sent in the chat: the paperclip before the button.
    #[prop(optional_no_strip)]
    files: Option<ChatFiles>,
) -> impl IntoView {
    view! {
        <form class=class on:submit=move |ev| { ev.prevent_default(); submit.run(()); }
            on:dragover=move |ev: leptos::ev::DragEvent| if files.is_some() { ev.prevent_default() }
            on:drop=move |ev: leptos::ev::DragEvent| if let Some(f) = files { f.drop_on(&ev) }>
            {picker.map(|p| p.menu())}
            <textarea
                name=name rows="2" placeholder=placeholder aria-label=label
                aria-autocomplete=picker.map(|_| "list")
                aria-expanded=move || picker.map(|p| p.is_open().to_string())
                prop:value=move || draft.get()
                on:input=move |ev| draft.set(event_target_value(&ev))
                on:paste=move |ev: leptos::ev::ClipboardEvent| if let Some(f) = files { f.paste(&ev) }
                on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                    if picker.is_some_and(|p| p.key(&ev)) {
                        return;
                    }
                    if ev.key() == "Enter" && !ev.shift_key() { ev.prevent_default(); submit.run(()); }
                }
            ></textarea>
            {files.map(ChatFiles::button)}
            <button type="submit" class=button_class disabled=move || busy.get()>{button}</button>
        </form>
    }
}
