#!/usr/bin/env python3
"""Where a WASM bundle's bytes go: code size per crate (and the largest functions), read from the
function-name section that wasm-bindgen keeps (run it on wasm-bindgen's output, before wasm-opt,
which strips names).

Usage: scripts/wasm-breakdown.py FILE.wasm [--top N] [--crate NAME]
  --top N       also list the N largest functions (default 25)
  --crate NAME  list only functions whose path mentions NAME
"""
import re
import sys
from collections import Counter


def leb(data, i):
    result = shift = 0
    while True:
        b = data[i]
        i += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return result, i


def sections(data):
    i = 8
    while i < len(data):
        sid = data[i]
        size, i = leb(data, i + 1)
        yield sid, data[i:i + size]
        i += size


def parse(data):
    imported = 0
    bodies = []
    names = {}
    for sid, body in sections(data):
        if sid == 2:  # imports: count the imported functions (they shift the indices)
            count, j = leb(body, 0)
            for _ in range(count):
                for _ in range(2):
                    n, j = leb(body, j)
                    j += n
                kind = body[j]
                j += 1
                if kind == 0:
                    _, j = leb(body, j)
                    imported += 1
                elif kind == 1:
                    j += 1
                    flags, j = leb(body, j)
                    _, j = leb(body, j)
                    if flags & 1:
                        _, j = leb(body, j)
                elif kind == 2:
                    flags, j = leb(body, j)
                    _, j = leb(body, j)
                    if flags & 1:
                        _, j = leb(body, j)
                elif kind == 3:
                    j += 2
                else:
                    _, j = leb(body, j)
        elif sid == 10:  # code
            count, j = leb(body, 0)
            for _ in range(count):
                size, j = leb(body, j)
                bodies.append(size)
                j += size
        elif sid == 0:
            n, j = leb(body, 0)
            if body[j:j + n] != b"name":
                continue
            j += n
            while j < len(body):
                sub = body[j]
                size, j = leb(body, j + 1)
                if sub == 1:
                    count, k = leb(body, j)
                    for _ in range(count):
                        idx, k = leb(body, k)
                        ln, k = leb(body, k)
                        names[idx] = body[k:k + ln].decode("utf-8", "replace")
                        k += ln
                j += size
    return [(names.get(imported + i, f"func{imported + i}"), size) for i, size in enumerate(bodies)]


ESCAPES = {"$LT$": "<", "$GT$": ">", "$u20$": " ", "$RF$": "&", "$BP$": "*", "$C$": ",", "$u27$": "'",
           "$u5b$": "[", "$u5d$": "]", "$u7b$": "{", "$u7d$": "}", "$u3b$": ";", "$u7e$": "~", "$LP$": "(",
           "$RP$": ")", "$u2b$": "+", "$u22$": '"'}


def demangle(name):
    if not name.startswith("_ZN"):
        # already demangled: drop crate disambiguators (core[0123abcd]) and trailing hashes
        name = re.sub(r"\[[0-9a-f]{8,}\]", "", name)
        return re.sub(r"::h[0-9a-f]{16}$", "", name)
    i, parts = 3, []
    while i < len(name) and name[i] != "E":
        m = re.match(r"\d+", name[i:])
        if not m:
            return name
        n = int(m.group())
        i += len(m.group())
        parts.append(name[i:i + n])
        i += n
    if parts and re.fullmatch(r"h[0-9a-f]{16}", parts[-1]):
        parts.pop()
    text = "::".join(parts)
    for k, v in ESCAPES.items():
        text = text.replace(k, v)
    return text.replace("..", "::").lstrip("_")


GROUPS = [
    ("own code", ("handoff_widget", "app::", "domain::", "frontend::")),
    ("serde", ("serde_json", "serde::", "serde_core", "serde_qs", "serde_urlencoded")),
    ("server fn client", ("server_fn", "gloo_net", "http::", "url::", "form_urlencoded", "base64")),
    ("Leptos runtime", ("leptos", "tachys", "reactive_graph", "any_spawner", "throw_error", "or_poisoned",
                         "reactive_stores", "hydration_context", "oco_ref", "send_wrapper", "slotmap", "futures",
                         "pin_project", "guardian", "indexmap", "hashbrown", "rustc_hash", "paste", "next_tuple",
                         "async_lock", "event_listener", "concurrent_queue")),
    ("web-sys / js-sys / wasm-bindgen", ("web_sys", "js_sys", "wasm_bindgen", "gloo_timers")),
    ("std (fmt, alloc, panics, collections)", ("core::", "alloc::", "std::", "dlmalloc", "compiler_builtins",
                                                "memchr", "itoa", "ryu")),
]


def group(path):
    # The innermost known crate of a generic instance decides (serde_json::…<app::Foo> is serde).
    for label, keys in GROUPS[1:] + GROUPS[:1]:
        head = path.split("<")[0]
        if any(head.startswith(k) or head.startswith("<" + k) for k in keys):
            return label
    for label, keys in GROUPS:
        if any(k in path for k in keys):
            return label
    return "other"


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__)
        sys.exit(2)
    top = int(args[args.index("--top") + 1]) if "--top" in args else 25
    only = args[args.index("--crate") + 1] if "--crate" in args else None
    data = open(args[0], "rb").read()
    funcs = [(demangle(n), s) for n, s in parse(data)]
    total = sum(s for _, s in funcs)
    print(f"{args[0]}: {len(data):,} bytes, code {total:,} bytes in {len(funcs):,} functions")
    if only:
        funcs = [f for f in funcs if only in f[0]]
        print(f"matching {only!r}: {sum(s for _, s in funcs):,} bytes in {len(funcs)} functions")
    else:
        by = Counter()
        for n, s in funcs:
            by[group(n)] += s
        for label, s in by.most_common():
            print(f"  {label:40} {s:9,} B  {100 * s / total:5.1f} %")
    for n, s in sorted(funcs, key=lambda f: -f[1])[:top]:
        print(f"  {s:8,}  {n[:150]}")


if __name__ == "__main__":
    main()
