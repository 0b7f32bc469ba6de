//! The handoff buttons of the open conversation (Handle chat, Continue chat yourself, Pass chat
//! to AI, Transfer, Close) and the notice saying why one was refused or who was faster.
use crate::api::handoff::{CloseConversation, ContinueChat, HandleChat, PassChatToAi};
use domain::handoff::HandoffState;
use domain::wire::ConversationSummary;
use leptos::prelude::*;

/// The buttons for the conversation's state (a view function, so it can sit in the
/// conversation's `<Show>`); `notice` is the conversation's notice line, set here on a
/// refusal; "Transfer" opens the transfer panel (`transfer_open`).
pub(super) fn handoff_actions(
    id: String,
    summary: Signal<Option<ConversationSummary>>,
    me_id: String,
    notice: RwSignal<Option<String>>,
    transfer_open: RwSignal<bool>,
) -> impl Fn() -> Option<AnyView> + Clone + Send + Sync + 'static {
    let handle = ServerAction::<HandleChat>::new();
    let take = ServerAction::<ContinueChat>::new();
    let pass = ServerAction::<PassChatToAi>::new();
    let close = ServerAction::<CloseConversation>::new();

    // Show the outcome of the buttons; a refusal names who was faster.
    Effect::new(move |_| {
        for r in [handle.value().get(), take.value().get(), pass.value().get(), close.value().get()] {
            match r {
                Some(Err(e)) => notice.set(Some(e.to_string())),
                Some(Ok(_)) => notice.set(None),
                None => {}
            }
        }
    });
    // Someone else took the request while it was open here (their click was first, or ours
    // never left because the button went away): say who.
    {
        let me = me_id.clone();
        Effect::new(move |prev: Option<Option<HandoffState>>| {
            let state = summary.get().map(|s| s.state);
            if let (Some(Some(HandoffState::Requested)), Some(HandoffState::Human { agent })) = (&prev, &state) {
                if agent.id != me {
                    notice.set(Some(format!("This chat was already taken by {}.", agent.name)));
                }
            }
            state
        });
    }

    move || {
        let s = summary.get()?;
        let id = id.clone();
        Some(match s.state {
            HandoffState::Requested => view! {
                <button class="btn primary" data-action="take" aria-keyshortcuts="h" on:click=move |_| { handle.dispatch(HandleChat { id: id.clone() }); }>"Handle chat"</button>
            }.into_any(),
            HandoffState::Ai => view! {
                <button class="btn" data-action="take" aria-keyshortcuts="h" on:click=move |_| { take.dispatch(ContinueChat { id: id.clone() }); }>"Continue chat yourself"</button>
            }.into_any(),
            HandoffState::Human { agent } if agent.id == me_id => {
                let id2 = id.clone();
                view! {
                    <button class="btn" data-action="pass" aria-keyshortcuts="p" on:click=move |_| { pass.dispatch(PassChatToAi { id: id.clone() }); }>"Pass chat to AI"</button>
                    <button class="btn" data-action="transfer" aria-expanded=move || transfer_open.get().to_string()
                        on:click=move |_| transfer_open.update(|o| *o = !*o)>"Transfer"</button>
                    <button class="btn subtle" data-action="close" on:click=move |_| { close.dispatch(CloseConversation { id: id2.clone() }); }>"Close"</button>
                }.into_any()
            }
            HandoffState::Human { agent } => view! { <span class="muted">{format!("{} is handling this chat", agent.name)}</span> }.into_any(),
            HandoffState::Closed => view! { <span class="muted">"Closed"</span> }.into_any(),
        })
    }
}
