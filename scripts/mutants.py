#!/usr/bin/env python3
"""The source side of scripts/mutants.sh: reads scripts/mutants.txt, finds each mutation's code
by its pattern (exactly once under the given directories, so code may move between files), and
compiles every mutation into the source behind a switch read at run time:

    (if ::std::env::var("HANDOFF_MUTANT").as_deref() == Ok("<name>") { <mutated> } else { <original> })

so one build serves every mutation (a build per mutation takes minutes on two cores) and a test
run with `HANDOFF_MUTANT=<name>` has exactly that one mechanism removed; without the variable the
code behaves as written. `restore` puts the files back.

scripts/mutants.txt holds one block per mutation:

    [name]
    what: the mechanism this removes (for the report)
    test: <cargo test arguments> -- <test name filters>
    find: optional: a larger exact text that locates the next `from` (default: `from` itself)
    from: an exact expression to switch (\\n for a line break)
    to: the mutated expression; `{}` stands for the original one
    in-literal: instead of from/to: exact text inside a string literal (or a `format!` string)…
    to: …and what replaces it in the mutated string

A block may hold several switches (all use its name). Lines starting with # are comments.
"""
import json
import pathlib
import shutil
import sys

LIST = pathlib.Path("scripts/mutants.txt")
STATE = pathlib.Path("target/mutants/applied.json")
BACKUP = pathlib.Path("target/mutants/backup")


def unescape(s):
    return s.replace("\\n", "\n").replace("\\t", "\t")


def load():
    mutations, current, pending = [], None, {}
    for n, raw in enumerate(LIST.read_text().splitlines(), 1):
        line = raw.rstrip("\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = {"name": line[1:-1], "what": "", "test": "", "switches": [], "line": n}
            mutations.append(current)
            pending = {}
            continue
        key, sep, value = line.partition(": ")
        if not sep:
            key, value = line.rstrip(":"), ""
        if current is None or key not in ("what", "test", "find", "from", "in-literal", "to"):
            sys.exit(f"{LIST}:{n}: expected [name], what:, test:, find:, from:, in-literal: or to:")
        if key in ("find", "from", "in-literal"):
            pending[key] = unescape(value)
        elif key == "to":
            if "from" not in pending and "in-literal" not in pending:
                sys.exit(f"{LIST}:{n}: to: without from: or in-literal:")
            current["switches"].append(dict(pending, to=unescape(value)))
            pending = {}
        else:
            current[key] = value
    names = set()
    for m in mutations:
        if m["name"] in names:
            sys.exit(f"{LIST}: duplicate mutation name {m['name']}")
        names.add(m["name"])
        if " -- " not in m["test"] or not m["switches"]:
            sys.exit(f"{LIST}:{m['line']}: [{m['name']}] needs test: (with ' -- ') and a switch")
    return mutations


def find(ms, name):
    for m in ms:
        if m["name"] == name:
            return m
    sys.exit(f"no mutation named {name} in {LIST}")


def sources(dirs):
    for d in dirs:
        yield from sorted(pathlib.Path(d).rglob("*.rs"))


def literal_span(text, start, end):
    """The string literal around text[start:end] (its quotes included), widened to the whole
    `format!(…)` call when it is that macro's format string: (begin, end)."""
    b = start
    while True:
        b = text.rindex('"', 0, b)
        if text[b - 1] != "\\":
            break
    e = end
    while True:
        e = text.index('"', e) + 1
        if text[e - 2] != "\\":
            break
    before = text[:b].rstrip()
    if before.endswith("format!("):
        b = before.rindex("format!(")
        depth, i = 0, b + len("format!")
        while True:
            c = text[i]
            if c == '"':  # skip string contents
                i += 1
                while text[i] != '"' or text[i - 1] == "\\":
                    i += 1
            elif c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
                if depth == 0:
                    return b, i + 1
            i += 1
    return b, e


def switch(name, original, mutated):
    return f'(if ::std::env::var("HANDOFF_MUTANT").as_deref() == Ok("{name}") {{ {mutated} }} else {{ {original} }})'


def apply_one(texts, m, errors):
    """Applies mutation m's switches to texts (path -> text) in memory."""
    for s in m["switches"]:
        key = s.get("find") or s.get("from") or s["in-literal"]
        hits = [(p, t.count(key)) for p, t in texts.items() if key in t]
        total = sum(c for _, c in hits)
        if total != 1:
            where = ", ".join(f"{p} ({c}x)" for p, c in hits) or "nowhere"
            errors.append(f"[{m['name']}] pattern found {total} times ({where}): {key!r}")
            continue
        path = hits[0][0]
        text = texts[path]
        at = text.index(key)
        if "in-literal" in s:
            frag = s["in-literal"]
            fs = at + key.index(frag) if "find" in s else at
            b, e = literal_span(text, fs, fs + len(frag))
            original = text[b:e]
            if original.count(frag) != 1:
                errors.append(f"[{m['name']}] {frag!r} is not exactly once in its literal")
                continue
            mutated = original.replace(frag, s["to"])
        else:
            frm = s["from"]
            local = key.find(frm)
            if local < 0 or key.count(frm) != 1:
                errors.append(f"[{m['name']}] from: is not exactly once inside find: {frm!r}")
                continue
            b, e = at + local, at + local + len(frm)
            original = text[b:e]
            mutated = s["to"].replace("{}", original)
        texts[path] = text[:b] + switch(m["name"], original, mutated) + text[e:]


def sources_of(dirs):
    return {str(p): p.read_text() for p in sources(dirs)}


def apply_all(dirs, write):
    texts = sources_of(dirs)
    before = dict(texts)
    errors = []
    for m in load():
        apply_one(texts, m, errors)
    if errors:
        print("\n".join(errors), file=sys.stderr)
        return False
    if write:
        if STATE.exists():
            restore()
        BACKUP.mkdir(parents=True, exist_ok=True)
        saved = {}
        for path, text in texts.items():
            if text != before[path]:
                backup = BACKUP / path.replace("/", "__")
                shutil.copyfile(path, backup)
                saved[path] = str(backup)
                STATE.write_text(json.dumps(saved))
                pathlib.Path(path).write_text(text)
    return True


def restore():
    if STATE.exists():
        for path, backup in json.loads(STATE.read_text()).items():
            shutil.copyfile(backup, path)
            pathlib.Path(backup).unlink()
        STATE.unlink()


def groups(names=None):
    """The distinct `cargo test` argument sets, each with every filter named for it (for the
    named mutations, or all)."""
    out = {}
    for m in load():
        if names and m["name"] not in names:
            continue
        args, _, filters = m["test"].partition(" -- ")
        out.setdefault(args, [])
        for f in filters.split():
            if f not in out[args]:
                out[args].append(f)
    return out


def main():
    cmd, rest = sys.argv[1], sys.argv[2:]
    if cmd == "check":
        ok = apply_all(rest, write=False)
        print(f"{len(load())} mutations; every pattern found exactly once" if ok else "pattern check failed",
              file=sys.stderr)
        sys.exit(0 if ok else 1)
    elif cmd == "apply":
        sys.exit(0 if apply_all(rest, write=True) else 1)
    elif cmd == "restore":
        restore()
    elif cmd == "names":
        print("\n".join(m["name"] for m in load()))
    elif cmd == "test":
        print(find(load(), rest[0])["test"])
    elif cmd == "what":
        print(find(load(), rest[0])["what"])
    elif cmd == "builds":
        print("\n".join(groups()))
    elif cmd == "baseline":
        print("\n".join(f"{a} -- {' '.join(f)}" for a, f in groups(rest).items()))
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
