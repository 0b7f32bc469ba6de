//! Keyboard shortcuts of the dashboard: move through the list (`j`/`k` or the arrow keys focus
//! the next or previous conversation, Enter opens it), `h` Handle chat / Continue chat yourself,
//! `p` Pass chat to AI, `r` the reply box, `/` the search, `?` this list, Escape closes it.
//! Nothing fires while the agent types in a field or holds Ctrl, Alt or Meta.
use leptos::prelude::*;

/// The shortcuts as the `?` list shows them: (keys, what they do).
pub const SHORTCUTS: [(&str, &str); 7] = [
    ("j / ↓", "Next conversation"),
    ("k / ↑", "Previous conversation"),
    ("Enter", "Open the conversation"),
    ("h", "Handle chat, or Continue chat yourself"),
    ("p", "Pass chat to AI"),
    ("r", "Write a reply"),
    ("/", "Search"),
];

/// Installs the shortcuts for the page's lifetime and shows their list on `?`.
#[component]
pub(super) fn Shortcuts() -> impl IntoView {
    let open = RwSignal::new(false);
    #[cfg(feature = "browser")]
    {
        let handle = window_event_listener(leptos::ev::keydown, move |ev| {
            if let Some(key) = shortcut_key(&ev) {
                if act(&key, open) {
                    ev.prevent_default();
                }
            }
        });
        on_cleanup(move || handle.remove());
    }
    move || {
        open.get().then(|| {
            view! {
                <div class="shortcuts" role="dialog" aria-modal="false" aria-labelledby="shortcuts-title">
                    <div class="shortcuts-head">
                        <h2 id="shortcuts-title">"Keyboard shortcuts"</h2>
                        <button type="button" class="btn small" on:click=move |_| open.set(false)>"Close"</button>
                    </div>
                    <dl>
                        {SHORTCUTS.iter().map(|(k, what)| view! { <dt><kbd>{*k}</kbd></dt><dd>{*what}</dd> }).collect_view()}
                        <dt><kbd>"?"</kbd></dt><dd>"This list (Escape closes it)"</dd>
                    </dl>
                </div>
            }
        })
    }
}

/// The key of a keydown that may be a shortcut: none while typing in a field or with a modifier
/// (so browser and system shortcuts stay theirs).
#[cfg(feature = "browser")]
fn shortcut_key(ev: &web_sys::KeyboardEvent) -> Option<String> {
    use wasm_bindgen::JsCast;
    if ev.ctrl_key() || ev.meta_key() || ev.alt_key() || ev.default_prevented() {
        return None;
    }
    let target = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(t) = target {
        let tag = t.tag_name().to_ascii_lowercase();
        if matches!(tag.as_str(), "input" | "textarea" | "select") || t.is_content_editable() {
            return None;
        }
    }
    Some(ev.key())
}

/// Does what `key` stands for; whether it was a shortcut.
#[cfg(feature = "browser")]
fn act(key: &str, open: RwSignal<bool>) -> bool {
    use wasm_bindgen::JsCast;
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return false };
    let element = |selector: &str| {
        doc.query_selector(selector).ok().flatten().and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    };
    match key {
        "?" => open.update(|o| *o = !*o),
        "Escape" if open.get_untracked() => open.set(false),
        "j" | "k" | "ArrowDown" | "ArrowUp" => {
            let Ok(items) = doc.query_selector_all(".conv-list .conv-item") else { return false };
            let items: Vec<web_sys::HtmlElement> =
                (0..items.length()).filter_map(|i| items.item(i)?.dyn_into::<web_sys::HtmlElement>().ok()).collect();
            if items.is_empty() {
                return false;
            }
            let active = doc.active_element();
            let at = items
                .iter()
                .position(|e| active.as_ref().is_some_and(|a| a == e.as_ref() as &web_sys::Element))
                .or_else(|| items.iter().position(|e| e.class_list().contains("selected")));
            let next = match (key, at) {
                ("j" | "ArrowDown", Some(i)) => (i + 1).min(items.len() - 1),
                ("k" | "ArrowUp", Some(i)) => i.saturating_sub(1),
                _ => 0,
            };
            let _ = items[next].focus();
        }
        "h" => return element(".conv-head [data-action=\"take\"]").map(|b| b.click()).is_some(),
        "p" => return element(".conv-head [data-action=\"pass\"]").map(|b| b.click()).is_some(),
        "r" => return element(".composer textarea").map(|t| t.focus()).is_some(),
        "/" => return element(".search input").map(|i| i.focus()).is_some(),
        _ => return false,
    }
    true
}
