// The `/widget/{id}` page's script (server/src/widget.rs fills in __PKG__, the bundle's address,
// __WIDGET_ID__, __PREVIEW__ and __MAX_FILE_BYTES__): it starts the WASM chat and does what is
// kept out of its bundle for weight — the page's context, typing and "seen" reports, the
// transcript offer, the chat's files (sent with their progress; shown, fetched with the
// visitor's token).
import init, { mount, context, send, token } from "__PKG__/handoff_widget.js";
let page = {}, ready = false;
// Cut here already (the server cuts again): a frame must stay far below the socket's 16 KiB limit.
const cut = (v, n) => String(v ?? "").slice(0, n);
const tell = () => ready && context(JSON.stringify({ type: "context", env: { url: cut(page.url, 2048), title: cut(page.title, 200),
  referrer: cut(page.referrer, 2048), language: cut(navigator.language, 35), time_zone: cut(Intl.DateTimeFormat().resolvedOptions().timeZone, 64),
  utc_offset: -new Date().getTimezoneOffset(), user_agent: cut(navigator.userAgent, 512) } }));
// Whether the chat is on screen: the embed script says so ("handoff:shown"/"handoff:hidden");
// until it has (an older cached embed script never does), a page opened on its own is, and a
// frame is while it has a height.
let shown = null;
const onScreen = () => shown ?? (parent === window || innerHeight > 0);
addEventListener("message", (e) => {
  // The chat (re)connected: what was seen is reported again.
  if (e.source === window && e.data === "handoff:connected") { seenSent = 0; seen(); }
  if (e.source !== parent) return;
  if (e.data?.type === "handoff:page") { page = e.data; tell(); }
  if (e.data === "handoff:shown" || e.data === "handoff:hidden") { shown = e.data === "handoff:shown"; seen(); }
});
// The visitor typing: at most one frame in 1.1 s while the composer changes (the server counts
// one a second), with the end of the text so far only where the organization shows it to agents.
const preview = __PREVIEW__;
let typedAt = 0, later = 0;
addEventListener("input", (e) => {
  const box = e.target;
  if (!ready || !box?.closest?.(".widget-composer")) return;
  const say = () => { later = 0; if (box.value.trim()) { typedAt = Date.now();
    send(JSON.stringify({ type: "typing", preview: preview ? Array.from(box.value).slice(-200).join("") : "" })); } };
  const wait = typedAt + 1100 - Date.now();
  if (wait <= 0) say(); else if (!later) later = setTimeout(say, wait);
});
// Seen: the newest message shown while the chat is on screen (this page visible, its frame
// open: `shown`) is reported, at most once in 1.1 s (the server counts two a second); a report
// that could not go out (offline) is tried again.
let seenSent = 0, seenAt = 0, seenLater = 0;
const seen = () => {
  if (seenLater) return;
  seenLater = setTimeout(() => {
    seenLater = 0;
    const last = [...document.querySelectorAll(".widget-messages li.msg[data-seq]")].pop();
    const seq = Number(last?.dataset.seq || 0);
    if (seq < seenSent) seenSent = 0; // another conversation: its numbers start again
    if (!ready || !onScreen() || seq <= seenSent || document.visibilityState !== "visible") return;
    seenAt = Date.now();
    if (send(JSON.stringify({ type: "seen", seq }))) seenSent = seq; else seen();
  }, Math.max(seenAt + 1100 - Date.now(), 0));
};
// The ended chat's offer of its transcript by e-mail: a checkbox, then the address (the one the
// visitor gave before, if any) and "Send"; once queued, where it goes. Written here, not in the
// WASM bundle, which it would grow by kilobytes. Fixed markup; what the visitor or the server
// wrote goes in as text.
const offerTranscript = (ended) => {
  if (!ended || ended.querySelector(".transcript-offer")) return;
  const box = document.createElement("div");
  box.className = "transcript-offer";
  box.innerHTML = '<label class="check"><input type="checkbox"> Email me the transcript</label>'
    + '<form class="transcript-form" hidden><input type="email" aria-label="Your e-mail address" placeholder="you@example.com" required>'
    + '<button type="submit" class="btn small primary">Send</button></form><p class="form-error" role="alert" hidden></p>';
  const [check, form, error] = [box.querySelector("input"), box.querySelector("form"), box.querySelector("p")];
  const address = form.querySelector("input"), button = form.querySelector("button");
  check.onchange = () => { form.hidden = !check.checked; if (check.checked && !address.value) address.value = ended.dataset.email || ""; };
  form.onsubmit = async (e) => {
    e.preventDefault();
    error.hidden = true;
    button.disabled = true;
    try {
      const res = await fetch("/api/widget/transcript", { method: "POST",
        body: new URLSearchParams({ token: token(), id: ended.dataset.conversation || "", email: address.value }) });
      const answer = await res.json().catch(() => ({}));
      if (!res.ok) throw new Error(answer.message || "The transcript could not be asked for. Please try again.");
      const done = document.createElement("p");
      done.className = "email-sent";
      done.setAttribute("role", "status");
      done.textContent = `The transcript is on its way to ${answer}.`;
      box.replaceChildren(done);
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    } finally {
      button.disabled = false;
    }
  };
  ended.prepend(box);
};
// Files in the chat: this page has no cookie, so a file is fetched with the visitor's token (a
// header, never in a URL) and shown from a `blob:` address — a picture as soon as it is drawn,
// any other file when its link (`href="#"` until then) is followed; a file that is not a picture
// becomes an `application/octet-stream` blob, a download even where `download` is ignored. A
// failed fetch marks its link (`data-failed`: not tried again by itself; following it tries).
const blobs = {};
const fileUrl = (a) => blobs[a.dataset.attachment] ??= fetch(`/attachments/${encodeURIComponent(a.dataset.attachment)}`,
    { headers: { "X-Visitor-Token": token() } })
  .then((r) => r.ok ? r.blob() : Promise.reject(r.status))
  .then((b) => URL.createObjectURL(a.querySelector("img") ? b : new Blob([b], { type: "application/octet-stream" })))
  .catch((e) => { delete blobs[a.dataset.attachment]; throw e; });
const showFile = (a) => fileUrl(a).then((url) => { delete a.dataset.failed; a.href = url; a.querySelector("img")?.setAttribute("src", url); return a; },
  (e) => { a.dataset.failed = ""; throw e; });
const images = () => ready && document.querySelectorAll("a.chat-file[href='#']:not([data-failed]) img").forEach((img) => showFile(img.closest("a")).catch(() => {}));
addEventListener("click", (e) => {
  const a = e.target.closest?.("a.chat-file[data-attachment]");
  if (!a || a.getAttribute("href") !== '#') return;
  e.preventDefault();
  showFile(a).then((a) => a.click(), () => {});
});
// Files sent: the chat's paperclip (`.attach-btn`, where a human may read them) picks files, a
// screenshot may be pasted; each goes up on its own (`/api/widget/file`, the token before the
// file) with its progress above the composer; a refusal stays, in the server's words, until dismissed; a file that got
// no answer (or a server error) can be sent again, under the same id: it is stored once. Written
// here, not in the WASM bundle, which it grew by 13 KB; the dashboard's side is in Rust.
const MAX_FILE = __MAX_FILE_BYTES__;
const size = (n) => n >= 1048576 ? `${(Math.round(n * 10 / 1048576) / 10).toFixed(1)} MB` : n >= 1024 ? `${Math.ceil(n / 1024)} KB` : `${n} bytes`;
const el = (tag, cls, text) => { const e = document.createElement(tag); e.className = cls; if (text) e.textContent = text; return e; };
const drop = (item) => { const list = item.parentElement; item.remove(); if (list && !list.children.length) list.remove(); };
const fail = (item, message, again) => {
  item.dataset.failed = "true";
  const why = el("span", "field-error", `Not sent: ${message}`);
  why.setAttribute("role", "alert");
  const retry = el("button", "btn small", "Retry"), dismiss = el("button", "file-remove", "×");
  retry.type = dismiss.type = "button";
  retry.onclick = again;
  dismiss.onclick = () => drop(item);
  dismiss.setAttribute("aria-label", `Dismiss ${item.dataset.name}`);
  item.querySelector(".upload-state").replaceChildren(why, ...(again ? [retry] : []), dismiss);
};
const sendFile = (file, item, id) => {
  const bar = el("progress", "upload-progress"), pct = el("span", "muted small", "0%");
  bar.max = 100;
  bar.value = 0;
  bar.setAttribute("aria-label", `Sending ${file.name}`);
  item.querySelector(".upload-state").replaceChildren(bar, pct);
  delete item.dataset.failed;
  const body = new FormData();
  body.append("token", token());
  body.append("client_msg_id", id);
  body.append("file", file, file.name);
  const xhr = new XMLHttpRequest(), again = () => sendFile(file, item, id);
  xhr.open("POST", "/api/widget/file");
  xhr.timeout = 120000;
  xhr.upload.onprogress = (e) => { if (e.lengthComputable && e.total) { bar.value = Math.round(e.loaded / e.total * 100); pct.textContent = `${bar.value}%`; } };
  xhr.onload = () => {
    if (xhr.status === 200) return drop(item);
    let message = "something went wrong on our side; please try again";
    try { message = JSON.parse(xhr.responseText).message || message; } catch {}
    fail(item, message, xhr.status >= 500 ? again : null);
  };
  xhr.onerror = xhr.ontimeout = () => fail(item, "no answer from the server; check your connection", again);
  xhr.send(body);
};
const sendFiles = (files) => {
  const composer = document.querySelector(".widget-composer");
  if (!ready || !composer || !document.querySelector(".attach-btn")) return;
  let list = document.querySelector(".uploads");
  if (!list) { list = el("ul", "uploads"); list.setAttribute("aria-label", "Files being sent"); composer.before(list); }
  for (const file of files) {
    const item = el("li", "upload-item");
    item.dataset.name = file.name;
    item.append(el("span", "file-name", file.name), el("span", "file-size", size(file.size)), el("span", "upload-state"));
    list.append(item);
    const id = "f" + Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, "0")).join("");
    if (!file.size) fail(item, `${file.name} is empty`);
    else if (file.size > MAX_FILE) fail(item, `${file.name} is ${size(file.size)}; each file may be at most ${size(MAX_FILE)}`);
    else sendFile(file, item, id);
  }
};
addEventListener("change", (e) => {
  if (!e.target.closest?.(".attach-btn")) return;
  sendFiles(e.target.files);
  e.target.value = "";
});
// A screenshot pasted into the message box is sent like a picked file (pasted text stays text).
addEventListener("paste", (e) => {
  const files = e.clipboardData?.files;
  if (!files?.length || !e.target.closest?.(".widget-composer")) return;
  e.preventDefault();
  sendFiles([...files]);
});
new MutationObserver(() => { seen(); images(); offerTranscript(document.querySelector(".widget-ended")); })
  .observe(document.body, { childList: true, subtree: true });
document.addEventListener("visibilitychange", seen);
addEventListener("resize", seen);
init({ module_or_path: "__PKG__/handoff_widget_bg.wasm" }).then(() => { document.getElementById("boot")?.remove(); mount(__WIDGET_ID__); ready = true; tell(); });
