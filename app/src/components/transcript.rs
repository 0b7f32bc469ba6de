//! A conversation's messages, as the visitor or an agent sees them. Text is always rendered as
//! text (Leptos escapes it), never as HTML.
use crate::util::clock;
use domain::wire::{Author, MessageDto};
use leptos::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Perspective {
    Visitor,
    Agent,
}

#[component]
pub fn Transcript(
    #[prop(into)] messages: Signal<Vec<MessageDto>>,
    perspective: Perspective,
    #[prop(into)] ai_name: Signal<String>,
    #[prop(into)] visitor_name: Signal<String>,
) -> impl IntoView {
    view! {
        <ol class="transcript" aria-live="polite">
            <For each=move || messages.get() key=|m| m.seq let:m>
                {
                    let (kind, mine) = match (&m.author, perspective) {
                        (Author::Visitor, Perspective::Visitor) => ("visitor", true),
                        (Author::Visitor, Perspective::Agent) => ("visitor", false),
                        (Author::Ai, _) => ("ai", false),
                        (Author::Agent { .. }, Perspective::Agent) => ("agent", true),
                        (Author::Agent { .. }, Perspective::Visitor) => ("agent", false),
                        (Author::System, _) => ("system", false),
                    };
                    let who = match &m.author {
                        Author::Visitor if perspective == Perspective::Visitor => "You".to_string(),
                        Author::Visitor => visitor_name.get_untracked(),
                        Author::Ai => format!("{} (AI)", ai_name.get_untracked()),
                        Author::Agent { name, .. } => name.clone(),
                        Author::System => String::new(),
                    };
                    view! {
                        <li class="msg" class:mine=mine data-author=kind data-seq=m.seq>
                            {(kind != "system").then(|| view! {
                                <span class="msg-meta"><span class="msg-who">{who}</span> " " <time>{clock(m.created_at)}</time></span>
                            })}
                            <span class="msg-text">{m.text.clone()}</span>
                        </li>
                    }
                }
            </For>
        </ol>
    }
}
