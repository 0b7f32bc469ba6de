//! The visitor context panel beside the open conversation: the page the visitor is on now and
//! the pages before it, where they came from, their browser, language and local time, the
//! e-mail address they gave, and their earlier conversations; for users with *settings*, the
//! visitor's data on request (`super::privacy`). Everything comes from the
//! visitor's own widget (see `domain::visitor_context`) and is shown as text; page addresses are
//! links only when they are `http(s)` ones, opened in a new tab without an opener or referrer.
//!
//! Read with the conversation; read again when the socket says it changed (a `VisitorContext`
//! frame) and whenever the socket opens. On wide screens a column of its own; on narrower ones a
//! row under the labels that opens.
use super::privacy::VisitorPrivacy;
use super::Live;
use crate::api::conversations::get_visitor_context;
use crate::util::relative_time;
use domain::handoff::HandoffState;
use domain::visitor_context::{describe_user_agent, is_web_link, PageVisit, VisitorContext};
use leptos::prelude::*;

#[component]
pub(super) fn VisitorPanel(
    conversation_id: String,
    /// What the conversation's read brought (`None` while it is being read).
    read: Signal<Option<VisitorContext>>,
    live: Live,
    /// Where conversations open: `{base}/{id}`.
    base: String,
    /// Show the visitor's data export and erasure (`super::privacy`).
    privacy: bool,
) -> impl IntoView {
    let privacy =
        privacy.then(|| view! { <VisitorPrivacy conversation_id=conversation_id.clone() base=base.clone()/> });
    let reread = RwSignal::new(None::<VisitorContext>);
    live.context_bumps.reread(conversation_id, get_visitor_context, reread);
    let context = Signal::derive(move || reread.get().or_else(|| read.get()).unwrap_or_default());
    let open = RwSignal::new(false);
    let now = live.now;
    let current = move || context.with(|c| c.current_page().cloned());

    view! {
        <aside class="visitor-panel" class:open=move || open.get() aria-label="Visitor details">
            <button type="button" class="vp-toggle" aria-expanded=move || open.get().to_string() on:click=move |_| open.update(|o| *o = !*o)>
                <span>"Visitor details"</span>
                <span class="vp-now muted">{move || current().map(|p| page_words(&p))}</span>
            </button>
            <div class="vp-body">
                <h3>"Now on"</h3>
                {move || match current() {
                    Some(p) => view! { <p class="vp-current" data-testid="current-page">{page_link(&p)}</p> }.into_any(),
                    None => view! { <p class="muted">"The widget has not told the page yet."</p> }.into_any(),
                }}
                {move || {
                    let pages = context.with(|c| c.pages.clone());
                    (pages.len() > 1).then(|| view! {
                        <h3>"Pages during this chat"</h3>
                        <ol class="vp-pages">
                            {pages.into_iter().rev().map(|p| {
                                let at = p.at;
                                view! { <li>{page_link(&p)}<span class="muted">{move || relative_time(at, now.get())}</span></li> }
                            }).collect_view()}
                        </ol>
                    })
                }}
                <dl class="vp-facts">
                    {move || context.with(|c| facts(c, now.get())).into_iter().map(|(term, value)| view! {
                        <dt>{term}</dt><dd>{value}</dd>
                    }).collect_view()}
                </dl>
                {move || {
                    let previous = context.with(|c| c.previous.clone());
                    let base = base.clone();
                    (!previous.is_empty()).then(|| view! {
                        <h3>"Previous conversations"</h3>
                        <ul class="vp-previous">
                            {previous.into_iter().map(|p| {
                                let at = p.last_activity;
                                view! {
                                    <li>
                                        <a href=format!("{base}/{}", p.id)>{p.last_message.unwrap_or_else(|| "(no messages)".into())}</a>
                                        <span class="muted">{state_words(&p.state)}" · "{move || relative_time(at, now.get())}</span>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    })
                }}
                {privacy}
            </div>
        </aside>
    }
}

/// A page in words: its title, else its address.
fn page_words(p: &PageVisit) -> String {
    if p.title.is_empty() {
        p.url.clone()
    } else {
        p.title.clone()
    }
}

/// A page as a link (http(s) addresses only: a new tab, no opener, no referrer) or as text; the
/// address shown below a title.
fn page_link(p: &PageVisit) -> impl IntoView {
    let words = page_words(p);
    let url = (!p.title.is_empty()).then(|| view! { <span class="vp-url">{p.url.clone()}</span> });
    let main = if is_web_link(&p.url) {
        view! { <a href=p.url.clone() target="_blank" rel="noopener noreferrer">{words}</a> }.into_any()
    } else {
        view! { <span>{words}</span> }.into_any()
    };
    view! { {main}{url} }
}

/// The facts the widget told, each as (term, value); what it did not tell is left out.
fn facts(c: &VisitorContext, now: i64) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if !c.email.is_empty() {
        out.push(("E-mail", c.email.clone()));
    }
    if !c.referrer.is_empty() {
        out.push(("Came from", c.referrer.clone()));
    }
    let (browser, os) = describe_user_agent(&c.user_agent);
    let browser = match (browser.is_empty(), os.is_empty()) {
        (false, false) => format!("{browser} on {os}"),
        (false, true) => browser,
        (true, false) => os,
        (true, true) => String::new(),
    };
    if !browser.is_empty() {
        out.push(("Browser", browser));
    }
    if !c.language.is_empty() {
        out.push(("Language", c.language.clone()));
    }
    if !c.time_zone.is_empty() {
        out.push(("Local time", local_time(now, c.utc_offset, &c.time_zone)));
    }
    out
}

/// "14:05 (Europe/Berlin, UTC+1)": the visitor's clock now, from the offset their browser gave.
fn local_time(now: i64, offset_minutes: i32, zone: &str) -> String {
    let minutes = (now.div_euclid(60_000) + i64::from(offset_minutes)).rem_euclid(24 * 60);
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let (h, m) = (offset_minutes.abs() / 60, offset_minutes.abs() % 60);
    let offset = if m == 0 { format!("UTC{sign}{h}") } else { format!("UTC{sign}{h}:{m:02}") };
    format!("{:02}:{:02} ({zone}, {offset})", minutes / 60, minutes % 60)
}

fn state_words(state: &HandoffState) -> String {
    match state {
        HandoffState::Ai => "with the AI".into(),
        HandoffState::Requested => "waiting for a human".into(),
        HandoffState::Human { agent } => format!("with {}", agent.name),
        HandoffState::Closed => "closed".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_time_follows_the_offset() {
        // 2026-12-05 23:30 UTC
        let now = 1_796_513_400_000;
        assert_eq!(local_time(now, 60, "Europe/Berlin"), "00:30 (Europe/Berlin, UTC+1)");
        assert_eq!(local_time(now, -300, "America/New_York"), "18:30 (America/New_York, UTC-5)");
        assert_eq!(local_time(now, 330, "Asia/Kolkata"), "05:00 (Asia/Kolkata, UTC+5:30)");
    }
}
