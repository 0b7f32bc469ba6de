//! "Transfer" in the open conversation (issue 23): the agent holding it picks a colleague —
//! online ones can be chosen, offline ones are listed greyed out — adds an optional note (kept as
//! a private note) and passes the chat; the colleague is rung, the visitor told who took over.
//! A refusal (the colleague went offline meanwhile, …) shows next to the field it is about and
//! changes nothing.
use crate::api::handoff::{transfer_chat, transfer_colleagues};
use crate::components::form::{field_error, form_status, submit_form, Feedback};
use domain::transfer::Colleague;
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub(super) fn TransferPanel(conversation_id: String, open: RwSignal<bool>) -> impl IntoView {
    let colleagues = RwSignal::new(None::<Result<Vec<Colleague>, String>>);
    let to = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    let fb = RwSignal::new(Feedback::default());
    let busy = RwSignal::new(false);
    // Read when opened (browser only), so who is online is current.
    Effect::new({
        let id = conversation_id.clone();
        move |_| {
            let id = id.clone();
            spawn_local(async move {
                let answer = transfer_colleagues(id).await.map_err(|e| e.to_string());
                if let Ok(list) = &answer {
                    if let Some(first) = list.iter().find(|c| c.online) {
                        let _ = to.try_set(first.id.clone());
                    }
                }
                let _ = colleagues.try_set(Some(answer));
            });
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if to.get_untracked().is_empty() {
            fb.set(Feedback::field("to", "choose a colleague who is online"));
            return;
        }
        let call = transfer_chat(conversation_id.clone(), to.get_untracked(), note.get_untracked());
        submit_form(fb, Some(busy), call, move |_| {
            open.set(false);
            Feedback::default()
        });
    };
    let options = move || {
        colleagues.get().map(|answer| match answer {
            Err(e) => view! { <p class="form-error">{e}</p> }.into_any(),
            Ok(list) if !list.iter().any(|c| c.online) => view! {
                <p class="muted" data-testid="nobody-online">"No colleague is online right now."</p>
            }
            .into_any(),
            Ok(list) => view! {
                <select name="to" aria-label="Colleague" prop:value=move || to.get()
                    on:change=move |ev| to.set(event_target_value(&ev))>
                    {list.into_iter().map(|c| {
                        let label = if c.online { c.name.clone() } else { format!("{} (offline)", c.name) };
                        let id = c.id.clone();
                        view! { <option value=c.id.clone() disabled=!c.online selected=move || to.get() == id>{label}</option> }
                    }).collect_view()}
                </select>
            }
            .into_any(),
        })
    };
    view! {
        <form class="transfer-panel" on:submit=submit aria-label="Transfer this chat">
            <label class="field">
                <span>"Pass this chat to"</span>
                {options}
                {field_error(fb, "to")}
            </label>
            <label class="field">
                <span>"Note for your colleague (optional, kept as a private note)"</span>
                <textarea name="note" rows="2" prop:value=move || note.get()
                    on:input=move |ev| note.set(event_target_value(&ev))></textarea>
                {field_error(fb, "note")}
            </label>
            {form_status(fb)}
            <div class="actions">
                <button type="submit" class="btn primary" disabled=move || busy.get()>"Transfer"</button>
                <button type="button" class="btn subtle" on:click=move |_| open.set(false)>"Cancel"</button>
            </div>
        </form>
    }
}
