//! Small helpers for the UI.

/// Milliseconds since the Unix epoch, in the browser or on the server.
pub fn now_ms() -> i64 {
    #[cfg(feature = "browser")]
    {
        js_sys::Date::now() as i64
    }
    #[cfg(not(feature = "browser"))]
    {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
    }
}

/// A fresh id for a message the client sends (unique enough; not a secret).
pub fn client_msg_id() -> String {
    #[cfg(feature = "browser")]
    let (a, b) = ((js_sys::Math::random() * 1e15) as u64, (js_sys::Math::random() * 1e15) as u64);
    #[cfg(not(feature = "browser"))]
    let (a, b) = (now_ms() as u64, std::process::id() as u64);
    format!("m{:x}{:x}", a, b)
}

/// Runs `tick` every `ms` milliseconds while the calling component lives (browser only). The
/// timer is cancelled when the owner is cleaned up, so a tick never reads a signal of a
/// component that is gone (that read panics the WASM module).
pub fn every(ms: u32, tick: impl FnMut() + 'static) {
    #[cfg(feature = "browser")]
    {
        use leptos::prelude::*;
        let timer = StoredValue::new_local(Some(gloo_timers::callback::Interval::new(ms, tick)));
        on_cleanup(move || {
            // Dropping the Interval cancels it.
            timer.try_update_value(Option::take);
        });
    }
    #[cfg(not(feature = "browser"))]
    let _ = (ms, tick);
}

/// Keeps a scrolling container at its bottom whenever `track` (e.g. the message list) changes,
/// so the newest message stays in view — while the reader is there: one who scrolled up, or was
/// taken to a message far up ([`FollowBottom::hold`]), stays where they are. Browser only; a
/// no-op on the server.
pub fn follow_bottom(
    container: leptos::prelude::NodeRef<leptos::html::Div>,
    track: impl Fn() + 'static,
) -> FollowBottom {
    use leptos::prelude::*;
    let state = StoredValue::new(Following::default());
    Effect::new(move |_| {
        track();
        #[cfg(feature = "browser")]
        if let Some(el) = container.get() {
            let el: web_sys::Element = el.into();
            request_animation_frame(move || {
                let Some(Following { left_at, held }) = state.try_get_value() else { return };
                let top = el.scroll_top();
                let at_bottom = el.scroll_height() - top - el.client_height() < 4;
                // Held: until the reader scrolls down to the bottom themselves.
                let follow = match held {
                    true => at_bottom && top > 0,
                    // The reader is still where the view was left (a box that only got taller or
                    // shorter keeps its scroll position), or at the bottom anyway.
                    false => left_at.is_none_or(|t| top >= t - 2) || at_bottom,
                };
                if follow {
                    el.set_scroll_top(el.scroll_height());
                    state.try_set_value(Following { left_at: Some(el.scroll_top()), held: false });
                }
            });
        }
        #[cfg(not(feature = "browser"))]
        let _ = (container, state);
    });
    FollowBottom { state }
}

#[derive(Clone, Copy, Default)]
#[cfg_attr(not(feature = "browser"), allow(dead_code))] // read in the browser only
struct Following {
    /// Where the view was left when it was last scrolled to the bottom here (`None`: never).
    left_at: Option<i32>,
    /// Taken to a message far up: not followed until the reader is back at the bottom.
    held: bool,
}

/// A container kept at its bottom by [`follow_bottom`].
#[derive(Clone, Copy)]
pub struct FollowBottom {
    state: leptos::prelude::StoredValue<Following>,
}

impl FollowBottom {
    /// The view is taken to a message far up (a search hit): it stays there, however the list
    /// changes, until the reader scrolls back down to the bottom.
    pub fn hold(self) {
        use leptos::prelude::*;
        self.state.try_update_value(|f| f.held = true);
    }
}

/// "a few seconds ago", "2 minutes ago", "3 hours ago", "5 days ago".
pub fn relative_time(then_ms: i64, now_ms: i64) -> String {
    let s = ((now_ms - then_ms).max(0) / 1000) as u64;
    let plural = |n: u64, unit: &str| if n == 1 { format!("1 {unit} ago") } else { format!("{n} {unit}s ago") };
    match s {
        0..=44 => "a few seconds ago".into(),
        45..=89 => "a minute ago".into(),
        90..=3599 => plural(s.div_ceil(60).clamp(2, 59), "minute"),
        3600..=86_399 => plural(s / 3600, "hour"),
        _ => plural(s / 86_400, "day"),
    }
}

/// Clock time "14:05" of a timestamp, in the browser's time zone (UTC on the server).
pub fn clock(ms: i64) -> String {
    #[cfg(feature = "browser")]
    {
        let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
        format!("{:02}:{:02}", d.get_hours(), d.get_minutes())
    }
    #[cfg(not(feature = "browser"))]
    {
        let mins = (ms / 60_000) % (24 * 60);
        format!("{:02}:{:02}", mins / 60, mins % 60)
    }
}

/// Puts `message` into `list`, which is kept in sequence order: replaces the one with the same
/// seq, or inserts it where it belongs (a sorted list, not a map: it keeps the widget's bundle
/// free of a map type).
pub fn upsert_by_seq(list: &mut Vec<domain::wire::MessageDto>, message: domain::wire::MessageDto) {
    match list.binary_search_by_key(&message.seq, |m| m.seq) {
        Ok(i) => list[i] = message,
        Err(i) => list.insert(i, message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::wire::{Author, MessageDto, MessageExtra};

    #[test]
    fn relative_times() {
        assert_eq!(relative_time(0, 3_000), "a few seconds ago");
        assert_eq!(relative_time(0, 60_000), "a minute ago");
        assert_eq!(relative_time(0, 120_000), "2 minutes ago");
        assert_eq!(relative_time(0, 7_200_000), "2 hours ago");
        assert_eq!(relative_time(0, 86_400_000), "1 day ago");
        assert_eq!(relative_time(10, 0), "a few seconds ago");
    }

    fn message(seq: i64, text: &str) -> MessageDto {
        MessageDto {
            conversation_id: "c1".into(),
            seq,
            author: Author::Visitor,
            text: text.into(),
            client_msg_id: None,
            created_at: 0,
            extra: MessageExtra::Chat,
        }
    }

    #[test]
    fn messages_stay_in_sequence_order_and_replace_by_seq() {
        let mut list = Vec::new();
        for seq in [3, 1, 4, 2] {
            upsert_by_seq(&mut list, message(seq, "first"));
        }
        upsert_by_seq(&mut list, message(2, "updated"));
        let seen: Vec<_> = list.iter().map(|m| (m.seq, m.text.as_str())).collect();
        assert_eq!(seen, [(1, "first"), (2, "updated"), (3, "first"), (4, "first")]);
    }
}
