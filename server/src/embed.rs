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
  var open = false, frame = null, quiet = false;
  // This tab remembers that the visitor chats (wrote in the chat) and whether the chat is open,
  // so the site's next page opens the chat again, or loads it hidden to tell it the new page.
  var remember = function (k, v) { k += ':' + id; try { if (v === undefined) return sessionStorage.getItem(k); sessionStorage.setItem(k, v); } catch (e) { return null; } };
  // Icons as inline SVG (no emoji: an empty box on systems without an emoji font).
  var svg = function (d) {
    return '<svg viewBox="0 0 24 24" width="26" height="26" aria-hidden="true" focusable="false" fill="none" ' +
      'stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><path d="' + d + '"/></svg>';
  };
  var CHAT = svg('M4 5h16v11H10l-5 4v-4H4z'), CLOSE = svg('M6 6l12 12M18 6L6 18');
  var b = document.createElement('button');
  b.id = 'handoff-launcher'; b.type = 'button'; b.setAttribute('aria-label', 'Open chat');
  b.setAttribute('aria-expanded', 'false');
  b.innerHTML = CHAT;
  b.style.cssText = 'position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;background:#2563eb;color:#fff;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:2147483646;display:grid;place-items:center';
  // Opening moves the focus into the chat's message box; closing returns it to the bubble.
  var focusChat = function () { if (frame && frame.contentWindow) frame.contentWindow.postMessage('handoff:focus', base); };
  // The chat learns whether it is on screen (it tells the team what the visitor has seen).
  var tellShown = function () { if (frame && frame.contentWindow) frame.contentWindow.postMessage(open ? 'handoff:shown' : 'handoff:hidden', base); };
  // Where the visitor came from: the first other site's address this tab arrived from (the
  // site's own pages are not a source).
  var from = document.referrer;
  try { if (from && new URL(from).origin === location.origin) from = ''; } catch (e) { from = ''; }
  if (remember('handoff:from') === null) remember('handoff:from', from);
  from = remember('handoff:from') || from;
  // The page the chat is embedded in, for the agent's visitor panel, without its #fragment
  // (which may hold a token): told when it changed, or to a chat just mounted (`force`). The
  // chat checks it comes from this window; the server cuts and cleans it.
  var told = null;
  var tellPage = function (force) {
    var page = { type: 'handoff:page', url: location.href.split('#')[0], title: document.title, referrer: from };
    var key = page.url + '\n' + page.title;
    if (!frame || !frame.contentWindow || (!force && key === told)) return;
    told = key;
    frame.contentWindow.postMessage(page, base);
  };
  // `restoring`: as the previous page left it, without moving the focus.
  var setOpen = function (next, restoring) {
    open = next;
    remember('handoff:open', open ? '1' : '0');
    if (!restoring) quiet = false;
    if (!frame) {
      frame = document.createElement('iframe');
      frame.id = 'handoff-frame'; frame.title = 'Chat';
      frame.src = base + '/widget/' + encodeURIComponent(id);
      frame.style.cssText = 'position:fixed;right:20px;bottom:88px;width:370px;height:560px;max-width:calc(100vw - 40px);max-height:calc(100vh - 108px);border:0;border-radius:14px;box-shadow:0 8px 30px rgba(0,0,0,.25);background:#fff;z-index:2147483647';
      frame.style.display = open ? 'block' : 'none';
      document.body.appendChild(frame);
      quiet = !!restoring;
    } else {
      frame.style.display = open ? 'block' : 'none';
      tellShown();
      if (open && !restoring) focusChat();
    }
    b.setAttribute('aria-label', open ? 'Close chat' : 'Open chat');
    b.setAttribute('aria-expanded', String(open));
    b.innerHTML = open ? CLOSE : CHAT;
    if (!open && !restoring) b.focus();
  };
  b.onclick = function () { setOpen(!open); };
  // Escape in the chat (it asks by message) or on the page closes it.
  window.addEventListener('message', function (e) {
    if (e.origin !== base) return;
    if (e.data === 'handoff:close' && open) setOpen(false);
    // The chat is mounted: it learns the page, and takes the focus unless it was only restored.
    if (e.data === 'handoff:ready') { tellPage(true); tellShown(); if (open && !quiet) focusChat(); quiet = false; }
    if (e.data === 'handoff:chatting') remember('handoff:chatting', '1');
  });
  // Single-page sites change the address without loading a page: tell the chat each time.
  // Told 300 ms after the last change, when the page has usually set its new title.
  var timer = null;
  var changed = function () { clearTimeout(timer); timer = setTimeout(tellPage, 300); };
  ['pushState', 'replaceState'].forEach(function (name) {
    var original = history[name];
    history[name] = function () { var r = original.apply(this, arguments); changed(); return r; };
  });
  window.addEventListener('popstate', changed);
  window.addEventListener('hashchange', changed);
  document.addEventListener('keydown', function (e) { if (e.key === 'Escape' && open) setOpen(false); });
  document.body.appendChild(b);
  if (remember('handoff:chatting') === '1') setOpen(remember('handoff:open') === '1', true);
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
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="/favicon.svg" type="image/svg+xml">
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1f2937}</style></head>
<body><h1>Acme Store</h1><p>This is a sample customer website. The chat bubble in the corner is the Handoff widget,
embedded with one script tag. Ask about opening hours, shipping or returns — or ask for a human and answer from the
<a href="/login">dashboard</a>.</p>
<script src="/widget.js" data-widget="demo" async></script></body></html>"#,
    )
}
