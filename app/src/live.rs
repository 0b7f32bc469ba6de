//! A self-reconnecting WebSocket for the browser. It calls `on_open` after every (re)connect,
//! so the caller can say hello / re-watch from the last sequence number it has, and `on_frame`
//! for every server frame. On the server (SSR) it is an inert stub: sockets only open in the
//! browser.
use domain::wire::ServerFrame;
use serde::Serialize;

#[cfg(feature = "browser")]
mod imp {
    use super::*;
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;
    use wasm_bindgen::prelude::*;
    use web_sys::{CloseEvent, MessageEvent, WebSocket};

    type Handler<T> = Box<dyn Fn(T)>;

    struct Inner {
        path: String,
        ws: RefCell<Option<WebSocket>>,
        on_open: Handler<LiveSocket>,
        on_frame: Handler<ServerFrame>,
        on_status: Handler<bool>,
        failures: Cell<u32>,
        closed: Cell<bool>,
    }

    #[derive(Clone)]
    pub struct LiveSocket(Rc<Inner>);

    impl LiveSocket {
        pub fn open(
            path: &str,
            on_open: impl Fn(LiveSocket) + 'static,
            on_frame: impl Fn(ServerFrame) + 'static,
            on_status: impl Fn(bool) + 'static,
        ) -> Self {
            let s = Self(Rc::new(Inner {
                path: path.to_string(),
                ws: RefCell::new(None),
                on_open: Box::new(on_open),
                on_frame: Box::new(on_frame),
                on_status: Box::new(on_status),
                failures: Cell::new(0),
                closed: Cell::new(false),
            }));
            s.connect();
            s
        }

        fn url(&self) -> String {
            let loc = web_sys::window().expect("window").location();
            let proto = if loc.protocol().unwrap_or_default() == "https:" { "wss" } else { "ws" };
            format!("{proto}://{}{}", loc.host().unwrap_or_default(), self.0.path)
        }

        fn connect(&self) {
            if self.0.closed.get() {
                return;
            }
            let Ok(ws) = WebSocket::new(&self.url()) else {
                self.retry();
                return;
            };
            let me = self.clone();
            // After `close` (the page is gone) no callback runs: they use the page's signals.
            let onopen = Closure::<dyn FnMut()>::new(move || {
                if me.0.closed.get() {
                    return;
                }
                me.0.failures.set(0);
                (me.0.on_status)(true);
                (me.0.on_open)(me.clone());
            });
            let me = self.clone();
            let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
                if me.0.closed.get() {
                    return;
                }
                if let Some(text) = e.data().as_string() {
                    if let Ok(frame) = serde_json::from_str::<ServerFrame>(&text) {
                        (me.0.on_frame)(frame);
                    }
                }
            });
            let me = self.clone();
            let onclose = Closure::<dyn FnMut(CloseEvent)>::new(move |_e: CloseEvent| {
                if me.0.closed.get() {
                    return;
                }
                (me.0.on_status)(false);
                me.0.ws.borrow_mut().take();
                me.retry();
            });
            ws.set_onopen(Some(onopen.as_ref().unchecked_ref()));
            ws.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
            ws.set_onclose(Some(onclose.as_ref().unchecked_ref()));
            // The handlers live as long as the page; a reconnect replaces them.
            onopen.forget();
            onmessage.forget();
            onclose.forget();
            *self.0.ws.borrow_mut() = Some(ws);
        }

        fn retry(&self) {
            let n = self.0.failures.get().min(6);
            self.0.failures.set(n + 1);
            // 0.5 s, 1 s, 2 s … up to 30 s, with jitter so that a restarted server is not stormed.
            let base = (500u32 << n).min(30_000);
            let delay = base / 2 + (js_sys::Math::random() * f64::from(base / 2)) as u32;
            let me = self.clone();
            gloo_timers::callback::Timeout::new(delay, move || me.connect()).forget();
        }

        /// Sends a frame if connected; returns whether it went out.
        pub fn send<T: Serialize>(&self, frame: &T) -> bool {
            serde_json::to_string(frame).is_ok_and(|text| self.send_text(&text))
        }

        /// Sends a frame already written as JSON, if connected.
        pub fn send_text(&self, text: &str) -> bool {
            let ws = self.0.ws.borrow();
            match ws.as_ref() {
                Some(ws) if ws.ready_state() == WebSocket::OPEN => ws.send_with_str(text).is_ok(),
                _ => false,
            }
        }

        pub fn close(&self) {
            self.0.closed.set(true);
            if let Some(ws) = self.0.ws.borrow_mut().take() {
                let _ = ws.close();
            }
        }
    }
}

#[cfg(not(feature = "browser"))]
mod imp {
    use super::*;

    #[derive(Clone)]
    pub struct LiveSocket;

    impl LiveSocket {
        pub fn open(
            _path: &str,
            _on_open: impl Fn(LiveSocket) + 'static,
            _on_frame: impl Fn(ServerFrame) + 'static,
            _on_status: impl Fn(bool) + 'static,
        ) -> Self {
            Self
        }
        pub fn send<T: Serialize>(&self, _frame: &T) -> bool {
            false
        }
        pub fn send_text(&self, _text: &str) -> bool {
            false
        }
        pub fn close(&self) {}
    }
}

pub use imp::LiveSocket;

/// Where a page keeps its socket. In the browser the socket is `!Send` and lives in local
/// storage; on the server the inert stub is `Send + Sync` and must use sync storage, because SSR
/// may drop the page's owner on another thread (local storage would panic there).
#[cfg(feature = "browser")]
pub type SocketSlot = leptos::prelude::StoredValue<Option<LiveSocket>, leptos::prelude::LocalStorage>;
#[cfg(not(feature = "browser"))]
pub type SocketSlot = leptos::prelude::StoredValue<Option<LiveSocket>>;

pub fn socket_slot() -> SocketSlot {
    #[cfg(feature = "browser")]
    return leptos::prelude::StoredValue::new_local(None);
    #[cfg(not(feature = "browser"))]
    leptos::prelude::StoredValue::new(None)
}
