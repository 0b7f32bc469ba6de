//! The organization's data on `/settings/ai`: the "Data retention" card — whether, and after how
//! many days, ended conversations (closed, or left with the AI) are deleted with their messages,
//! files and notes; read by every user of the organization, changed with the *settings*
//! permission — and the "Audit log" card (visitors' data exported or erased; *settings* only).
use crate::api::org::save_retention;
use crate::components::form::{field_error, form_status, submit_form, Feedback};
use crate::error::AppError;
use crate::util::{now_ms, relative_time};
use domain::privacy::AuditEntry;
use domain::retention::{describe, Retention};
use leptos::prelude::*;

/// `read`: the page's read of the setting.
#[component]
pub fn RetentionSettings(editable: bool, read: Result<Retention, AppError>) -> impl IntoView {
    let on = RwSignal::new(false);
    let days = RwSignal::new(String::from("365"));
    let saved = RwSignal::new(None::<Retention>);
    let fb = RwSignal::new(Feedback::default());
    let saving = RwSignal::new(false);
    let show = move |r: Retention| {
        on.set(r.closed_days.is_some());
        if let Some(d) = r.closed_days {
            days.set(d.to_string());
        }
        saved.set(Some(r));
    };
    let unread = read.as_ref().err().map(ToString::to_string);
    if let Ok(r) = read {
        show(r);
    }
    let save = move || {
        let closed_days = if on.get_untracked() {
            match days.get_untracked().trim().parse::<i64>() {
                Ok(d) => Some(d),
                Err(_) => {
                    fb.set(Feedback::field("closed_days", "enter a whole number of days"));
                    return;
                }
            }
        } else {
            None
        };
        submit_form(fb, Some(saving), save_retention(closed_days), move |r| {
            show(r);
            Feedback::ok("Saved.")
        });
    };
    let disabled = {
        let unread = unread.is_some();
        move || !editable || unread
    };

    view! {
        <form class="card stack retention-settings" novalidate=true on:submit=move |ev| { ev.prevent_default(); save(); }>
            <h2>"Data retention"</h2>
            <p class="muted">"Conversations that ended — closed, or left with the AI — can be deleted automatically some time after their last message: the messages, files, notes, labels and what the widget told about the visitor, for good. A conversation waiting for or held by a person is never deleted."</p>
            {(!editable).then(|| view! { <p class="muted notice">"You can view this setting. Changing it needs the settings permission."</p> })}
            {unread.map(|e| view! { <p class="form-error">{e}</p> })}
            <label class="check">
                <input type="checkbox" name="retention_on" checked=on.get_untracked() prop:checked=move || on.get()
                    on:change=move |ev| on.set(event_target_checked(&ev)) disabled=disabled/>
                "Delete ended conversations automatically"
            </label>
            <label>
                "Keep ended conversations for (days)"
                <input type="number" name="closed_days" min="1" max="3650" step="1" inputmode="numeric"
                    value=days.get_untracked() prop:value=move || days.get() on:input=move |ev| days.set(event_target_value(&ev))
                    disabled=move || disabled() || !on.get()/>
                {field_error(fb, "closed_days")}
            </label>
            <p class="muted small">"Between 1 day and 10 years (3650 days)."</p>
            <p class="retention-now" data-testid="retention-now">{move || saved.get().map(|r| describe(&r))}</p>
            {form_status(fb)}
            <div>
                <button type="submit" class="btn primary" disabled=move || disabled() || saving.get()>
                    {move || if saving.get() { "Saving…" } else { "Save retention" }}
                </button>
            </div>
        </form>
    }
}

/// The organization's newest audit entries (`read`: the page's read of them).
#[component]
pub fn AuditLog(read: Result<Vec<AuditEntry>, AppError>) -> impl IntoView {
    let now = now_ms();
    view! {
        <section class="card stack audit-log">
            <h2>"Audit log"</h2>
            <p class="muted">"Visitors' data exported or erased on request, newest first. The entries never name the visitor."</p>
            {match read {
                Ok(list) if list.is_empty() => view! { <p class="muted">"Nothing yet."</p> }.into_any(),
                Ok(list) => view! {
                    <ul class="audit-entries">
                        {list.into_iter().map(|e| view! {
                            <li><span>{e.text}</span><span class="muted">{format!("{} · {}", e.actor_name, relative_time(e.at, now))}</span></li>
                        }).collect_view()}
                    </ul>
                }.into_any(),
                Err(e) => view! { <p class="form-error">{e.to_string()}</p> }.into_any(),
            }}
        </section>
    }
}
