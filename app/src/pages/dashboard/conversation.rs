//! The open conversation: its header (visitor, who answers, the handoff buttons), its labels, the
//! transfer panel, the transcript with the AI's typing indicator, the private notes and the "Seen"
//! mark, the e-mail reply box and the
//! composer: "Reply" (only for the human agent holding the chat) or "Private note" (any agent).
//! Opened from a search hit (`?at=seq`), it shows that message in the middle of the transcript,
//! marked.
use super::actions::handoff_actions;
use super::canned::{Canned, Picker};
use super::chat_files::ChatFiles;
use super::email_reply::EmailReplyBox;
use super::labels::{LabelBar, Labels};
use super::notes::{NoteComposer, Notes};
use super::outgoing::{ComposerForm, Outgoing};
use super::transfer::TransferPanel;
use super::visitor_panel::VisitorPanel;
use super::{newest, Live};
use crate::api::chat::SendMessage;
use crate::api::conversations::get_conversation;
use crate::components::transcript::{Perspective, Transcript};
use crate::error::AppError;
use crate::util::{follow_bottom, relative_time};
use domain::handoff::HandoffState;
use domain::seen::seen_mark;
use domain::wire::{Author, ConversationDetail, MessageDto};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use std::collections::BTreeMap;

/// The conversation and its transcript as read from the server: `None` while being read.
type Detail = RwSignal<Option<Result<ConversationDetail, AppError>>>;

#[component]
pub(super) fn ConversationView(
    id: String,
    /// The conversation as the page read it while rendering (when the page's address opened
    /// this one): shown at once, on the server and while hydrating; otherwise read in the
    /// browser. No resource of its own: it would be created inside the page's `<Suspense>`
    /// (see `PageData`).
    read: Option<Result<ConversationDetail, AppError>>,
    /// Where the page keeps what it read: used once, by the first view in the browser; a
    /// conversation opened again later is read again.
    opened: StoredValue<super::Opened>,
    live: Live,
    labels: Labels,
    me_id: String,
    /// The user may export and erase visitors' data (the *settings* permission).
    can_settings: bool,
    /// The organization's canned responses (`None` in an AI agent's conversations tab).
    canned: Option<Canned>,
    /// The list this conversation was opened from.
    back: String,
) -> impl IntoView {
    let detail: Detail = RwSignal::new(read);
    // Browser only (effects do not run on the server).
    Effect::new({
        let id = id.clone();
        move |_| {
            opened.try_set_value(None);
            if detail.with_untracked(Option::is_none) {
                let id = id.clone();
                leptos::task::spawn_local(async move {
                    let answer = get_conversation(id).await;
                    detail.try_set(Some(answer));
                });
            }
        }
    });
    let send = ServerAction::<SendMessage>::new();
    let draft = RwSignal::new(String::new());
    let outgoing = Outgoing::new();
    let notice = RwSignal::new(None::<String>);

    let cid = id.clone();
    let summary = Signal::derive(move || {
        let fetched = detail.get().and_then(Result::ok).map(|d| d.summary);
        let l = live.summaries.with(|m| m.get(&cid).cloned());
        match (fetched, l) {
            (Some(f), l) => Some(newest(f, l.as_ref())),
            (None, l) => l,
        }
    });
    let cid = id.clone();
    let messages = Signal::derive(move || {
        let mut all: BTreeMap<i64, MessageDto> = BTreeMap::new();
        if let Some(Ok(d)) = detail.get() {
            all.extend(d.messages.into_iter().map(|m| (m.seq, m)));
        }
        live.messages.with(|m| {
            if let Some(b) = m.get(&cid) {
                all.extend(b.iter().map(|(k, v)| (*k, v.clone())));
            }
        });
        all.into_values().collect::<Vec<_>>()
    });
    let context =
        Signal::derive(move || detail.with(|d| d.as_ref().and_then(|r| r.as_ref().ok()).map(|d| d.context.clone())));
    let notes = Notes::new(
        id.clone(),
        Signal::derive(move || detail.with(|d| d.as_ref().and_then(|r| r.as_ref().ok()).map(|d| d.notes.clone()))),
        live,
    );
    let last_seq = Signal::derive(move || messages.with(|m| m.last().map_or(0, |x| x.seq)));
    let note_mode = RwSignal::new(false);
    let note_draft = RwSignal::new(String::new());
    let visitor_name = Signal::derive(move || summary.get().map(|s| s.visitor_name).unwrap_or_default());
    let picker = canned.map(|c| Picker::new(c, draft, visitor_name));
    let note_conv = StoredValue::new(id.clone());
    let files = Some(ChatFiles::new(id.clone()));
    // One name for the AI agent everywhere: the one the visitor sees.
    let ai_name = Signal::derive(move || {
        detail.get().and_then(Result::ok).map(|d| d.ai_name).filter(|n| !n.is_empty()).unwrap_or_else(|| "AI".into())
    });

    Effect::new(move |_| match send.value().get() {
        Some(Ok(m)) => {
            if outgoing.settle(m.client_msg_id.as_ref()) {
                draft.set(String::new());
            }
            live.messages.update(|all| {
                all.entry(m.conversation_id.clone()).or_default().insert(m.seq, m);
            });
        }
        Some(Err(e)) => notice.set(Some(e.to_string())),
        None => {}
    });

    let cid = id.clone();
    // A Callback (Copy): the view's body is built again whenever it is shown.
    let submit = Callback::new(move |()| {
        let text = draft.get_untracked();
        if text.trim().is_empty() {
            return;
        }
        let client_msg_id = outgoing.client_id_for(&text);
        send.dispatch(SendMessage { id: cid.clone(), client_msg_id, text });
    });

    let transfer_open = RwSignal::new(false);
    let buttons = handoff_actions(id.clone(), summary, me_id.clone(), notice, transfer_open);
    let i_hold = {
        let me = me_id.clone();
        Signal::derive(
            move || matches!(summary.get().map(|s| s.state), Some(HandoffState::Human { agent }) if agent.id == me),
        )
    };
    super::typing::tell_while_typing(live.socket, id.clone(), draft, i_hold);
    live.seen.report(live.socket, id.clone(), last_seq, i_hold);
    let cid = id.clone();
    // The agents' newest message the visitor has read.
    let seen = Memo::new(move |_| {
        let read = detail.with(|d| d.as_ref().and_then(|r| r.as_ref().ok()).map_or(0, |d| d.visitor_seen_seq));
        let upto = live.seen.visitor(&cid, read);
        messages.with(|m| seen_mark(m, upto, |a| matches!(a, Author::Agent { .. })))
    });
    let cid = id.clone();
    let typing = Signal::derive(move || live.typing.get().as_deref() == Some(cid.as_str()));
    let scroller = NodeRef::<leptos::html::Div>::new();
    let follow = follow_bottom(scroller, move || {
        messages.track();
        notes.track();
        live.typing.track();
        live.typing_hints.track();
    });
    // A search hit's message: once it is loaded, scrolled into the middle and marked, and the
    // view no longer follows the bottom (until the agent scrolls down). Once per hit.
    let query = use_query_map();
    let at = Memo::new(move |_| query.read().get("at").and_then(|a| a.parse::<i64>().ok()));
    Effect::new(move |shown: Option<Option<i64>>| {
        let target = at.get();
        let shown = shown.flatten();
        let loaded = messages.with(|m| target.is_some_and(|t| m.iter().any(|x| x.seq == t)));
        if !loaded || shown == target {
            return shown;
        }
        #[cfg(feature = "browser")]
        if let Some(t) = target {
            // Tracked: the transcript is in the page only once the conversation is read.
            let Some(el) = scroller.get() else { return shown };
            let el: web_sys::Element = el.into();
            request_animation_frame(move || {
                if let Ok(Some(hit)) = el.query_selector(&format!("[data-seq=\"{t}\"]")) {
                    follow.hold();
                    let _ = hit.set_attribute("data-hit", "true");
                    let opts = web_sys::ScrollIntoViewOptions::new();
                    opts.set_block(web_sys::ScrollLogicalPosition::Center);
                    hit.scroll_into_view_with_scroll_into_view_options(&opts);
                }
            });
        }
        #[cfg(not(feature = "browser"))]
        let _ = follow;
        target
    });

    view! {
        <Show when=move || detail.with(Option::is_some) fallback=|| view! { <p class="muted pad">"Loading…"</p> }>
            {move || detail.get().map(|r| r.err().map(|e| view! { <p class="form-error pad">{e.to_string()}</p> }))}
            <div class="conv-body">
            <div class="conv-col">
            <header class="conv-head">
                <a class="back-link" href=back.clone()>"All conversations"</a>
                <div>
                    <h2>{move || visitor_name.get()}</h2>
                    <span class="muted">{
                        move || summary.get().map(|s| match s.state {
                            HandoffState::Ai => format!("{} (AI) is answering", ai_name.get()),
                            HandoffState::Requested => format!("Asked for a human {}", relative_time(s.state_since, live.now.get())),
                            HandoffState::Human { agent } => format!("{} holds this chat", agent.name),
                            HandoffState::Closed => "Closed".to_string(),
                        })
                    }</span>
                </div>
                <div class="actions">{buttons.clone()}</div>
            </header>
            <Show when=move || transfer_open.get() && i_hold.get()>
                <TransferPanel conversation_id=note_conv.get_value() open=transfer_open/>
            </Show>
            <LabelBar labels conversation_id=id.clone() summary notice/>
            {move || notice.get().map(|n| view! { <p class="notice" role="alert">{n}</p> })}
            <div class="conv-scroll" node_ref=scroller>
                <Transcript messages perspective=Perspective::Agent ai_name visitor_name seen after=notes.after(last_seq)/>
                {move || typing.get().then(|| view! { <p class="typing muted">{format!("{} is typing…", ai_name.get())}</p> })}
                {live.typing_hints.lines(id.clone(), visitor_name, me_id.clone())}
            </div>
            <EmailReplyBox id=id.clone() messages live/>
            <div class="composer-tabs" role="tablist" aria-label="Write">
                <button type="button" role="tab" class="composer-tab" aria-selected=move || (!note_mode.get()).to_string()
                    on:click=move |_| note_mode.set(false)>"Reply"</button>
                <button type="button" role="tab" class="composer-tab note-tab" aria-selected=move || note_mode.get().to_string()
                    on:click=move |_| note_mode.set(true)>"Private note"</button>
            </div>
            <Show when=move || note_mode.get() fallback=move || {
                view! {
                    <Show when=move || i_hold.get() fallback=move || view! {
                        <p class="composer-hint muted">{move || match summary.get().map(|s| s.state) {
                            Some(HandoffState::Closed) => "This conversation is closed: read-only. Private notes can still be added.",
                            _ => "Take the chat to reply. Private notes can be added without it.",
                        }}</p>
                    }>
                        {files.map(|f| f.list())}
                        <ComposerForm
                            class="composer" name="text" placeholder="Write a reply… (/ for canned responses)" label="Reply"
                            button="Send" button_class="btn primary" draft busy=send.pending() submit picker files
                        />
                    </Show>
                }
            }>
                <NoteComposer conversation_id=note_conv.get_value() notes notice canned visitor_name draft=note_draft/>
            </Show>
            </div>
            <VisitorPanel conversation_id=id.clone() read=context live base=back.clone() privacy=can_settings/>
            </div>
        </Show>
    }
}
