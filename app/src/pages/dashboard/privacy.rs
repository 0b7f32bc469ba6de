//! The visitor's data on request (GDPR), at the foot of the visitor panel, for users with the
//! *settings* permission: **Export data** downloads everything stored about the visitor (a zip,
//! `GET /api/visitor/export`); **Erase data…** first shows what would be deleted, then erases it
//! only after a second, explicit click. Once erased the page goes back to the list, read afresh.
use crate::api::visitor::{erase_visitor, visitor_erasure};
use domain::privacy::ErasureCounts;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// Where the erasure stands in this panel.
#[derive(Clone, PartialEq)]
enum Step {
    Idle,
    Counting,
    /// What would go; waiting for the confirmation.
    Confirm(ErasureCounts),
    Erasing,
    Failed(String),
}

#[component]
pub(super) fn VisitorPrivacy(
    conversation_id: String,
    /// The list to go back to.
    base: String,
) -> impl IntoView {
    let step = RwSignal::new(Step::Idle);
    let export = format!("/api/visitor/export?conversation_id={conversation_id}");
    let id = StoredValue::new(conversation_id);
    let base = StoredValue::new(base);
    let ask = move |_| {
        step.set(Step::Counting);
        spawn_local(async move {
            step.set(match visitor_erasure(id.get_value()).await {
                Ok(counts) => Step::Confirm(counts),
                Err(e) => Step::Failed(e.to_string()),
            });
        });
    };
    let erase = move |_| {
        step.set(Step::Erasing);
        spawn_local(async move {
            match erase_visitor(id.get_value(), true).await {
                Ok(_) => leave(&base.get_value()),
                Err(e) => step.set(Step::Failed(e.to_string())),
            }
        });
    };

    view! {
        <section class="vp-privacy" aria-label="Visitor's data">
            <h3>"Visitor's data"</h3>
            <p class="muted small">"Everything stored about this visitor (this browser): all their conversations, files and notes."</p>
            <div class="row">
                <a class="btn" href=export download="" rel="noopener">"Export data"</a>
                <button type="button" class="btn danger" on:click=ask
                    disabled=move || matches!(step.get(), Step::Counting | Step::Erasing)>"Erase data…"</button>
            </div>
            {move || match step.get() {
                Step::Idle => ().into_any(),
                Step::Counting => view! { <p class="muted">"Counting…"</p> }.into_any(),
                Step::Confirm(c) if c.open > 0 => view! {
                    <p class="notice" role="alert">"This visitor has a conversation that is not closed yet. Close it first, then erase."</p>
                }.into_any(),
                Step::Confirm(c) => view! {
                    <div class="erase-confirm" role="alertdialog" aria-label="Erase the visitor's data">
                        <p>{format!("This deletes {} of this visitor, for good, and forgets their browser. It cannot be undone.", c.describe())}</p>
                        <div class="row">
                            <button type="button" class="btn danger" on:click=erase>"Erase for good"</button>
                            <button type="button" class="btn" on:click=move |_| step.set(Step::Idle)>"Cancel"</button>
                        </div>
                    </div>
                }.into_any(),
                Step::Erasing => view! { <p class="muted">"Erasing…"</p> }.into_any(),
                Step::Failed(e) => view! { <p class="form-error" role="alert">{e}</p> }.into_any(),
            }}
        </section>
    }
}

/// Back to the list, loaded afresh (the erased conversations leave every list and count).
fn leave(base: &str) {
    #[cfg(feature = "browser")]
    if let Some(w) = web_sys::window() {
        let _ = w.location().assign(base);
    }
    #[cfg(not(feature = "browser"))]
    let _ = base;
}
