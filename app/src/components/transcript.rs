//! A conversation's messages, as the visitor or an agent sees them. Text is always rendered as
//! text (Leptos escapes it), never as HTML.
//!
//! Besides chat messages: the e-mail offer (a system notice), a visitor's e-mail form (a card
//! with the address, the text and the files; agents get download links), an agent's e-mail
//! reply (with its delivery status; agents can retry a failed one) and a file sent in the chat
//! (an image inline, any file a download). A `MessageUpdated` frame replaces a message under the
//! same seq, so a row is keyed by what may change too.
use crate::api::email::retry_email;
use crate::components::icons::{Icon, IconKind};
use crate::util::clock;
use domain::email::human_size;
use domain::wire::{AttachmentDto, Author, Delivery, DeliveryStatus, MessageDto, MessageExtra};
use leptos::prelude::*;
use leptos::task::spawn_local;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Perspective {
    Visitor,
    Agent,
}

/// A row's identity: its seq, and the parts a `MessageUpdated` frame may change.
fn row_key(m: &MessageDto) -> (i64, String) {
    let changing = match &m.extra {
        MessageExtra::EmailReply { delivery, .. } => format!(
            "{}/{}/{}",
            delivery_label(delivery.status).0,
            delivery.attempts,
            delivery.error.as_deref().unwrap_or_default()
        ),
        _ => String::new(),
    };
    (m.seq, changing)
}

/// `data-status` value and the badge's words.
fn delivery_label(status: DeliveryStatus) -> (&'static str, &'static str) {
    match status {
        DeliveryStatus::Queued => ("queued", "sending…"),
        DeliveryStatus::Sent => ("sent", "sent"),
        DeliveryStatus::Failed => ("failed", "not delivered"),
    }
}

fn extra_kind(extra: &MessageExtra) -> &'static str {
    match extra {
        MessageExtra::Chat => "chat",
        MessageExtra::EmailOffer => "email_offer",
        MessageExtra::EmailForm { .. } => "email_form",
        MessageExtra::EmailReply { .. } => "email_reply",
        MessageExtra::File { .. } => "file",
    }
}

/// `after(seq)`: what follows the message `seq` in the list (the dashboard's private notes;
/// `after(0)` comes first); the widget gives nothing (`|_| ()`). `seen`: the message marked
/// "Seen" (the other side read up to it; see `domain::seen`).
#[component]
pub fn Transcript<After, V>(
    #[prop(into)] messages: Signal<Vec<MessageDto>>,
    perspective: Perspective,
    #[prop(into)] ai_name: Signal<String>,
    #[prop(into)] visitor_name: Signal<String>,
    #[prop(into)] seen: Signal<Option<i64>>,
    after: After,
) -> impl IntoView
where
    After: Fn(i64) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let first = after(0);
    view! {
        <ol class="transcript" aria-live="polite">
            {first}
            <For each=move || messages.get() key=row_key let:m>
                {
                    let (kind, mine) = match (&m.author, perspective) {
                        (Author::Visitor, Perspective::Visitor) => ("visitor", true),
                        (Author::Visitor, Perspective::Agent) => ("visitor", false),
                        (Author::Ai, _) => ("ai", false),
                        (Author::Agent { .. }, Perspective::Agent) => ("agent", true),
                        (Author::Agent { .. }, Perspective::Visitor) => ("agent", false),
                        (Author::System, _) => ("system", false),
                    };
                    // Followed: the names may arrive after the message (a live frame before the
                    // conversation's details).
                    let author = m.author.clone();
                    let who = move || match &author {
                        Author::Visitor if perspective == Perspective::Visitor => "You".to_string(),
                        Author::Visitor => visitor_name.get(),
                        Author::Ai => format!("{} (AI)", ai_name.get()),
                        Author::Agent { name, .. } => name.clone(),
                        Author::System => String::new(),
                    };
                    let meta = (kind != "system").then(|| view! {
                        <span class="msg-meta"><span class="msg-who">{who}</span> " " <time>{clock(m.created_at)}</time></span>
                    });
                    let extra_kind = extra_kind(&m.extra);
                    let body = match m.extra.clone() {
                        MessageExtra::Chat => view! { <span class="msg-text">{m.text.clone()}</span> }.into_any(),
                        MessageExtra::EmailOffer => {
                            let text = match perspective {
                                Perspective::Visitor => m.text.clone(),
                                Perspective::Agent => "Nobody answered in time: the visitor was offered the e-mail form.".to_string(),
                            };
                            view! { <span class="msg-text"><Icon kind=IconKind::Mail/>" "{text}</span> }.into_any()
                        }
                        MessageExtra::EmailForm { email, attachments } => {
                            let title = match perspective {
                                Perspective::Agent => format!("Email from {email}"),
                                Perspective::Visitor => format!("Your e-mail · we will answer at {email}"),
                            };
                            view! {
                                <span class="email-title"><Icon kind=IconKind::Mail/>" "{title}</span>
                                <span class="msg-text">{m.text.clone()}</span>
                                {(!attachments.is_empty()).then(|| attachment_list(attachments, perspective))}
                            }.into_any()
                        }
                        MessageExtra::EmailReply { to, delivery } => view! {
                            <span class="msg-text">{m.text.clone()}</span>
                            {delivery_line(&m, to, delivery, perspective)}
                        }.into_any(),
                        MessageExtra::File { attachment } => chat_file(attachment, perspective).into_any(),
                    };
                    let seq = m.seq;
                    let seen_here = move || {
                        (seen.get() == Some(seq)).then(|| view! { <span class="seen-mark" data-testid="seen">"Seen"</span> })
                    };
                    view! {
                        <li class="msg" class:mine=mine class:email-card=extra_kind == "email_form"
                            class:email-reply=extra_kind == "email_reply"
                            data-author=kind data-kind=extra_kind data-seq=m.seq>
                            {meta}
                            {body}
                            {seen_here}
                        </li>
                        {after(m.seq)}
                    }
                }
            </For>
        </ol>
    }
}

/// The files of an e-mail form: download links for agents, names and sizes for the visitor.
fn attachment_list(files: Vec<AttachmentDto>, perspective: Perspective) -> impl IntoView {
    view! {
        <ul class="attachments" aria-label="Attachments">
            {files.into_iter().map(|f| {
                let size = human_size(usize::try_from(f.size).unwrap_or(0));
                let name = match perspective {
                    Perspective::Agent => view! {
                        <a class="attachment-name" href=format!("/attachments/{}", f.id) download=f.name.clone()>{f.name.clone()}</a>
                    }.into_any(),
                    Perspective::Visitor => view! { <span class="attachment-name">{f.name.clone()}</span> }.into_any(),
                };
                view! {
                    <li class="attachment" data-type=f.content_type.clone()>
                        <Icon kind=IconKind::Paperclip/>" "{name}" "<span class="attachment-size">{size}</span>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

/// A file sent in the chat: an image shown inline, any file a link with its name and size.
/// Agents' addresses carry their session cookie; the widget has none, so there the `/widget/{id}`
/// page's script fetches the file with the visitor's token (`data-attachment`) and fills in the
/// image and the link (a `blob:` address): no token ever goes into a URL.
fn chat_file(f: AttachmentDto, perspective: Perspective) -> impl IntoView {
    let url = match perspective {
        Perspective::Agent => format!("/attachments/{}", f.id),
        // Followed by the page's script (it fetches the file first).
        Perspective::Visitor => "#".to_string(),
    };
    let src = (perspective == Perspective::Agent).then(|| url.clone());
    let size = human_size(usize::try_from(f.size).unwrap_or(0));
    let image = domain::chat_files::is_image(&f.content_type)
        .then(|| view! { <img class="chat-image" src=src alt=f.name.clone() data-attachment=f.id.clone()/> });
    view! {
        <a class="chat-file" href=url download=f.name.clone() data-attachment=f.id.clone() data-type=f.content_type.clone()>
            {image}
            <span class="chat-file-label">
                <Icon kind=IconKind::Paperclip/>" "<span class="attachment-name">{f.name.clone()}</span>
                " "<span class="attachment-size">{size}</span>
            </span>
        </a>
    }
}

/// "Sent by e-mail to …" with the delivery badge; for agents, a failure's reason and Retry.
fn delivery_line(m: &MessageDto, to: String, delivery: Delivery, perspective: Perspective) -> impl IntoView {
    let (status, label) = delivery_label(delivery.status);
    let failed = delivery.status == DeliveryStatus::Failed && perspective == Perspective::Agent;
    let (conversation_id, seq) = (m.conversation_id.clone(), m.seq);
    view! {
        <span class="delivery-line">
            <span>{format!("Sent by e-mail to {to}")}</span>
            " "
            <span class="delivery" data-status=status>{label}</span>
        </span>
        {failed.then(|| view! {
            <span class="delivery-failure">
                {delivery.error.clone().map(|e| view! { <span class="delivery-error">{e}</span> })}
                <RetryEmail conversation_id seq/>
            </span>
        })}
    }
}

/// Queues a failed e-mail reply again; its new status arrives as a `MessageUpdated` frame.
#[component]
fn RetryEmail(conversation_id: String, seq: i64) -> impl IntoView {
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let retry = move |_| {
        let conversation_id = conversation_id.clone();
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            if let Err(e) = retry_email(conversation_id, seq).await {
                error.set(Some(e.to_string()));
            }
            busy.set(false);
        });
    };
    view! {
        <button type="button" class="btn small" disabled=move || busy.get() on:click=retry>"Retry"</button>
        {move || error.get().map(|e| view! { <span class="field-error" role="alert">{e}</span> })}
    }
}
