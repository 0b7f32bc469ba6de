//! Icons as inline SVG: no emoji (an empty box on systems without an emoji font) and no icon
//! font to download. Every icon is decorative (`aria-hidden`); the control that carries it has
//! the accessible name (its text or `aria-label`). Drawn on a 24×24 grid with `currentColor`
//! strokes, so they follow the text colour and size (1em).
use leptos::prelude::*;

/// The icons the UI uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IconKind {
    Bell,
    Gear,
    Chat,
    Mail,
    Person,
    Paperclip,
    Warning,
    Sound,
    Close,
    More,
}

impl IconKind {
    /// The shapes (SVG path data) of the icon.
    fn paths(self) -> &'static [&'static str] {
        match self {
            Self::Bell => &["M6 16v-5a6 6 0 0 1 12 0v5l2 2H4z", "M10 20.5a2 2 0 0 0 4 0"],
            Self::Gear => &[
                "M12 8.5a3.5 3.5 0 1 0 0 7a3.5 3.5 0 1 0 0-7z",
                "M12 2.5v3M12 18.5v3M2.5 12h3M18.5 12h3M5.3 5.3l2.1 2.1M16.6 16.6l2.1 2.1M5.3 18.7l2.1-2.1M16.6 7.4l2.1-2.1",
            ],
            Self::Chat => &["M4 5h16v11H10l-5 4v-4H4z"],
            Self::Mail => &["M3 6h18v12H3z", "M3 6l9 7l9-7"],
            Self::Person => &["M12 4a4 4 0 1 0 0 8a4 4 0 1 0 0-8z", "M4 21c0-4 3.6-7 8-7s8 3 8 7"],
            Self::Paperclip => &["M16 7l-7.5 7.5a2 2 0 0 0 2.8 2.8L19 9.6a4 4 0 0 0-5.7-5.7L5.6 11.6a6 6 0 0 0 8.5 8.5L20 14"],
            Self::Warning => &["M12 3l10 18H2z", "M12 10v5M12 18v.5"],
            Self::Sound => &["M4 9h4l5-4v14l-5-4H4z", "M16.5 9a4 4 0 0 1 0 6M19 6.5a7.5 7.5 0 0 1 0 11"],
            Self::Close => &["M6 6l12 12M18 6L6 18"],
            Self::More => &["M5 12h.01M12 12h.01M19 12h.01"],
        }
    }
}

/// One icon, 1em square, in the current text colour.
#[component]
pub fn Icon(kind: IconKind) -> impl IntoView {
    view! {
        <svg class="icon" viewBox="0 0 24 24" width="1em" height="1em" aria-hidden="true" focusable="false"
            fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
            {kind.paths().iter().map(|d| view! { <path d=*d/> }).collect_view()}
        </svg>
    }
}
