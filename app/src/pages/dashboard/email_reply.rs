//! "Reply by e-mail": answers the conversation's newest e-mail form. Holding the chat is not
//! needed. A retry of the same text keeps its client id ([`Outgoing`]), so it is stored and
//! mailed once; the reply joins the thread by seq (from the answer or the live frame, whichever
//! comes first).
use super::outgoing::Outgoing;
use super::Live;
use crate::api::email::SendEmailReply;
use crate::error::AppError;
use domain::wire::{MessageDto, MessageExtra};
use leptos::prelude::*;

#[component]
pub(super) fn EmailReplyBox(id: String, messages: Signal<Vec<MessageDto>>, live: Live) -> impl IntoView {
    let latest_form = Memo::new(move |_| {
        messages.with(|ms| {
            ms.iter().rev().find_map(|m| match &m.extra {
                MessageExtra::EmailForm { email, .. } => Some((m.seq, email.clone())),
                _ => None,
            })
        })
    });
    let send = ServerAction::<SendEmailReply>::new();
    let draft = RwSignal::new(String::new());
    let outgoing = Outgoing::new();
    // The last refusal: the field it is about (if any) and why.
    let refusal = RwSignal::new(None::<(Option<String>, String)>);
    let sent = RwSignal::new(false);

    Effect::new(move |_| match send.value().get() {
        Some(Ok(m)) => {
            if outgoing.settle(m.client_msg_id.as_ref()) {
                draft.set(String::new());
            }
            refusal.set(None);
            sent.set(true);
            // A delivery update may have come in meanwhile: never replace a newer copy.
            live.messages.update(|all| {
                all.entry(m.conversation_id.clone()).or_default().entry(m.seq).or_insert(m);
            });
        }
        Some(Err(AppError::Field { field, message })) => refusal.set(Some((Some(field), message))),
        Some(Err(e)) => refusal.set(Some((None, e.to_string()))),
        None => {}
    });

    let submit = move || {
        let Some((form_seq, _)) = latest_form.get_untracked() else { return };
        let text = draft.get_untracked();
        if text.trim().is_empty() {
            refusal.set(Some((Some("text".into()), "write your answer first".into())));
            return;
        }
        let client_msg_id = outgoing.client_id_for(&text);
        refusal.set(None);
        sent.set(false);
        send.dispatch(SendEmailReply { conversation_id: id.clone(), form_seq, client_msg_id, text });
    };
    let field_error = move || {
        refusal
            .get()
            .filter(|(f, _)| f.as_deref() == Some("text"))
            .map(|(_, m)| view! { <span class="field-error" role="alert" data-field="text">{m}</span> })
    };
    let other_error = move || {
        refusal
            .get()
            .filter(|(f, _)| f.as_deref() != Some("text"))
            .map(|(_, m)| view! { <p class="form-error" role="alert">{m}</p> })
    };

    move || {
        let submit = submit.clone();
        latest_form.get().map(|(_, email)| {
            view! {
                <form class="email-reply-box" on:submit=move |ev| { ev.prevent_default(); submit(); }>
                    <div class="email-reply-head">
                        <strong>"Reply by e-mail"</strong>
                        <span class="muted small">{format!("to {email}")}</span>
                    </div>
                    <textarea name="email_reply" rows="3" aria-label="E-mail answer"
                        placeholder="Write the answer the visitor gets by e-mail…"
                        prop:value=move || draft.get()
                        on:input=move |ev| { draft.set(event_target_value(&ev)); sent.set(false); }></textarea>
                    {field_error}
                    {other_error}
                    <div class="email-reply-actions">
                        <button type="submit" class="btn primary" disabled=move || send.pending().get()>
                            {move || if send.pending().get() { "Sending…" } else { "Send by e-mail" }}
                        </button>
                        {move || sent.get().then(|| view! { <span class="form-ok small" role="status">"Handed to the outbox; the thread shows its delivery."</span> })}
                    </div>
                </form>
            }
        })
    }
}
