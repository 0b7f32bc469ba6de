//! The embed script and a sample customer page.
//!
//! A customer's site adds one tag: `<script src="https://handoff.example/widget.js"
//! data-widget="ID" async></script>`. The script (a few hundred bytes, no dependencies) draws a
//! chat bubble; the chat itself is the `/widget/ID` page in an iframe served by Handoff, so its
//! styles and scripts never mix with the host page and its WebSocket is same-origin.
use axum::http::{header, HeaderMap};
use axum::response::{Html, IntoResponse};

const WIDGET_JS: &str = r#"(function () {
  var s = document.currentScript, base = new URL(s.src).origin, id = s.getAttribute('data-widget');
  if (!id || document.getElementById('handoff-launcher')) return;
  var open = false, frame = null;
  var b = document.createElement('button');
  b.id = 'handoff-launcher'; b.type = 'button'; b.setAttribute('aria-label', 'Open chat');
  b.textContent = '\u{1F4AC}';
  b.style.cssText = 'position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;background:#2563eb;color:#fff;font-size:26px;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:2147483646';
  b.onclick = function () {
    open = !open;
    if (open && !frame) {
      frame = document.createElement('iframe');
      frame.id = 'handoff-frame'; frame.title = 'Chat';
      frame.src = base + '/widget/' + encodeURIComponent(id);
      frame.style.cssText = 'position:fixed;right:20px;bottom:88px;width:370px;height:560px;max-width:calc(100vw - 40px);max-height:calc(100vh - 108px);border:0;border-radius:14px;box-shadow:0 8px 30px rgba(0,0,0,.25);background:#fff;z-index:2147483647';
      document.body.appendChild(frame);
    } else if (frame) {
      frame.style.display = open ? 'block' : 'none';
    }
    b.setAttribute('aria-label', open ? 'Close chat' : 'Open chat');
    b.textContent = open ? '\u{2715}' : '\u{1F4AC}';
  };
  document.body.appendChild(b);
})();
"#;

pub async fn widget_js() -> impl IntoResponse {
    let mut h = HeaderMap::new();
    h.insert(header::CONTENT_TYPE, "application/javascript; charset=utf-8".parse().expect("static"));
    h.insert(header::CACHE_CONTROL, "public, max-age=300".parse().expect("static"));
    (h, WIDGET_JS)
}

pub async fn demo_page() -> Html<&'static str> {
    Html(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme Store (demo)</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1f2937}</style></head>
<body><h1>Acme Store</h1><p>This is a sample customer website. The chat bubble in the corner is the Handoff widget,
embedded with one script tag. Ask about opening hours, shipping or returns — or ask for a human and answer from the
<a href="/login">dashboard</a>.</p>
<script src="/widget.js" data-widget="demo" async></script></body></html>"#,
    )
}
