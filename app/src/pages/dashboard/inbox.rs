//! The list's data: the chosen filter (`?filter=…` in the address, so a filtered list is a link
//! and renders without JavaScript) and label (`?label=…`), its pages read from the server (the first with the page —
//! the page's one resource, see `DashboardPage` — then newer first pages after a filter change or
//! a reconnect, older pages as the agent scrolls down), and every filter's count (from the first page, then live from the socket's
//! `Counts` frames). And a search (`?q=…`): its hits replace the list while it is on. Hits are
//! read in the browser only: before pages were rendered on a thread of their own
//! (`server::render`), a second resource on the page (one that follows the address) made
//! server-side rendering stall now and then (leptos-rs/leptos#4673), so the page renders with one.
use crate::api::conversations::{list_conversation_page, search_conversations};
use crate::error::AppError;
use domain::inbox::{ConversationPage, ListCounts, ListCursor, ListFilter, SearchHit};
use domain::wire::ConversationSummary;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_query_map;

#[derive(Clone, Copy)]
pub(super) struct Inbox {
    pub filter: Memo<ListFilter>,
    /// The label filter (`?label=`; `None`: any label).
    pub label: Memo<Option<String>>,
    /// The search (`?q=`; empty: none).
    pub query: Memo<String>,
    /// Its hits: `None` while being read (and on the server).
    pub hits: RwSignal<Option<Result<Vec<SearchHit>, AppError>>>,
    ai_agent: StoredValue<Option<String>>,
    /// The newest first page: the one the page was rendered with, then each read since (another
    /// filter, a reconnect).
    first_page: RwSignal<Option<Result<ConversationPage, AppError>>>,
    /// Older pages read since the first, in order.
    older: RwSignal<Vec<ConversationSummary>>,
    /// Where the next older page starts: `None` = the newest first page's.
    next: RwSignal<Option<Option<ListCursor>>>,
    /// The socket's latest counts (`None`: the first page's).
    live_counts: RwSignal<Option<ListCounts>>,
    pub loading_more: RwSignal<bool>,
    /// Counts first-page reads: only the newest one's answer is kept.
    generation: StoredValue<u64>,
}

impl Inbox {
    /// The filter the address names (`?filter=`; anything else: *All*).
    pub fn filter_in_address() -> Memo<ListFilter> {
        let query = use_query_map();
        Memo::new(move |_| query.read().get("filter").and_then(|f| ListFilter::parse(&f)).unwrap_or_default())
    }

    /// The label filter the address names (`?label=`).
    pub fn label_in_address() -> Memo<Option<String>> {
        let query = use_query_map();
        Memo::new(move |_| query.read().get("label").filter(|l| !l.is_empty()))
    }

    pub fn new(ai_agent: Option<String>, first: Result<ConversationPage, AppError>) -> Self {
        let filter = Self::filter_in_address();
        // Labels are an organization's: an admin's AI agent tab (across organizations) has none.
        let label = match ai_agent {
            Some(_) => Memo::new(|_| None),
            None => Self::label_in_address(),
        };
        let query = use_query_map();
        let query = Memo::new(move |_| query.read().get("q").unwrap_or_default().trim().to_string());
        let hits = RwSignal::new(None);
        {
            // Browser only (effects do not run on the server); the newest search's answer wins.
            let ai_agent = ai_agent.clone();
            let latest = StoredValue::new(0u64);
            Effect::new(move |_| {
                let q = query.get();
                let n = latest.get_value() + 1;
                latest.set_value(n);
                hits.set(None);
                if q.is_empty() {
                    return;
                }
                let ai_agent = ai_agent.clone();
                spawn_local(async move {
                    let answer = search_conversations(q, ai_agent).await;
                    if latest.try_get_value() == Some(n) {
                        hits.try_set(Some(answer));
                    }
                });
            });
        }
        let inbox = Inbox {
            filter,
            label,
            query,
            hits,
            ai_agent: StoredValue::new(ai_agent),
            first_page: RwSignal::new(Some(first)),
            older: RwSignal::new(Vec::new()),
            next: RwSignal::new(None),
            live_counts: RwSignal::new(None),
            loading_more: RwSignal::new(false),
            generation: StoredValue::new(0),
        };
        // Another filter or label: its first page (the rendered one was read with those at the time).
        Effect::new(move |prev: Option<(ListFilter, Option<String>)>| {
            let now = (filter.get(), label.get());
            if prev.is_some_and(|p| p != now) {
                inbox.reload();
            }
            now
        });
        inbox
    }

    fn page(&self) -> Option<Result<ConversationPage, AppError>> {
        self.first_page.get()
    }

    /// The rows read from the server (first page and every older page read since).
    pub fn rows(&self) -> Vec<ConversationSummary> {
        let mut rows = self.page().and_then(Result::ok).map(|p| p.conversations).unwrap_or_default();
        rows.extend(self.older.get());
        rows
    }

    pub fn error(&self) -> Option<AppError> {
        self.page().and_then(Result::err)
    }

    pub fn counts(&self) -> Option<ListCounts> {
        self.live_counts.get().or_else(|| self.page().and_then(Result::ok).and_then(|p| p.counts))
    }

    pub fn set_counts(&self, counts: ListCounts) {
        self.live_counts.set(Some(counts));
    }

    /// Whether older conversations remain to be read.
    pub fn has_more(&self) -> bool {
        match self.next.get() {
            Some(next) => next.is_some(),
            None => self.page().and_then(Result::ok).is_some_and(|p| p.next.is_some()),
        }
    }

    /// Reads the current filter's first page again (another filter, or after a reconnect:
    /// whatever changed meanwhile); older pages are dropped.
    pub fn reload(&self) {
        let this = *self;
        let n = self.generation.get_value() + 1;
        self.generation.set_value(n);
        let (filter, label, ai_agent) =
            (self.filter.get_untracked(), self.label.get_untracked(), self.ai_agent.get_value());
        spawn_local(async move {
            let page = list_conversation_page(filter, label, None, ai_agent).await;
            if this.generation.try_get_value() != Some(n) {
                return; // a newer read was started
            }
            if let Ok(p) = &page {
                this.live_counts.set(p.counts);
            }
            this.older.set(Vec::new());
            this.next.set(None);
            this.first_page.set(Some(page));
        });
    }

    /// Reads the next older page (nothing while one is being read or none is left).
    pub fn load_more(&self) {
        let after = match self.next.get_untracked() {
            Some(next) => next,
            None => self.page().and_then(Result::ok).and_then(|p| p.next),
        };
        let Some(after) = after else { return };
        if self.loading_more.get_untracked() {
            return;
        }
        let this = *self;
        let n = self.generation.get_value();
        let (filter, label, ai_agent) =
            (self.filter.get_untracked(), self.label.get_untracked(), self.ai_agent.get_value());
        self.loading_more.set(true);
        spawn_local(async move {
            let page = list_conversation_page(filter, label, Some(after), ai_agent).await;
            this.loading_more.try_set(false);
            if this.generation.try_get_value() != Some(n) {
                return; // the list was read again meanwhile
            }
            if let Ok(p) = page {
                this.older.update(|o| o.extend(p.conversations));
                this.next.set(Some(p.next));
            }
        });
    }
}
