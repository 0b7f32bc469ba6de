#!/usr/bin/env python3
"""The exact-text side of scripts/mutants.sh: reads scripts/mutants.txt, finds each mutation's
code by its pattern (exactly one occurrence under the given directories), applies and restores.

scripts/mutants.txt holds one block per mutation:

    [name]
    what: the mechanism this removes (for the report)
    test: <cargo test arguments> -- <test name filters>
    from: exact text to find (\\n for a line break, \\t for a tab)
    to: what replaces it

A block may have several from/to pairs (applied together). Lines starting with # are comments.
"""
import json
import os
import pathlib
import shutil
import sys

LIST = pathlib.Path("scripts/mutants.txt")
STATE = pathlib.Path("target/mutants/applied.json")
BACKUP = pathlib.Path("target/mutants/backup")


def unescape(s):
    return s.replace("\\n", "\n").replace("\\t", "\t")


def load():
    mutations, current = [], None
    for n, raw in enumerate(LIST.read_text().splitlines(), 1):
        line = raw.rstrip("\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = {"name": line[1:-1], "what": "", "test": "", "pairs": [], "line": n}
            mutations.append(current)
            continue
        key, sep, value = line.partition(": ")
        if not sep:
            key, value = line.rstrip(":"), ""
        if current is None or key not in ("what", "test", "from", "to"):
            sys.exit(f"{LIST}:{n}: expected [name], what:, test:, from: or to:")
        if key == "from":
            current["pairs"].append([unescape(value), None])
        elif key == "to":
            if not current["pairs"] or current["pairs"][-1][1] is not None:
                sys.exit(f"{LIST}:{n}: to: without from:")
            current["pairs"][-1][1] = unescape(value)
        else:
            current[key] = value
    names = set()
    for m in mutations:
        if m["name"] in names:
            sys.exit(f"{LIST}: duplicate mutation name {m['name']}")
        names.add(m["name"])
        if " -- " not in m["test"] or not m["pairs"] or any(t is None for _, t in m["pairs"]):
            sys.exit(f"{LIST}:{m['line']}: [{m['name']}] needs test: (with ' -- ') and from:/to: pairs")
    return mutations


def find(m, name):
    for x in m:
        if x["name"] == name:
            return x
    sys.exit(f"no mutation named {name} in {LIST}")


def sources(dirs):
    for d in dirs:
        for p in sorted(pathlib.Path(d).rglob("*.rs")):
            yield p


def locate(pattern, dirs):
    """Every (file, count) holding the pattern."""
    hits = []
    for p in sources(dirs):
        c = p.read_text().count(pattern)
        if c:
            hits.append((p, c))
    return hits


def check(dirs):
    ok = True
    for m in load():
        for pattern, _ in m["pairs"]:
            hits = locate(pattern, dirs)
            total = sum(c for _, c in hits)
            if total != 1:
                ok = False
                where = ", ".join(f"{p} ({c}x)" for p, c in hits) or "nowhere"
                print(f"[{m['name']}] pattern found {total} times ({where}): {pattern!r}", file=sys.stderr)
    n = len(load())
    print(f"{n} mutations; every pattern found exactly once" if ok else "pattern check failed", file=sys.stderr)
    return ok


def apply(name, dirs):
    if STATE.exists():
        restore()
    m = find(load(), name)
    BACKUP.mkdir(parents=True, exist_ok=True)
    saved = {}
    for pattern, replacement in m["pairs"]:
        hits = locate(pattern, dirs)
        if sum(c for _, c in hits) != 1:
            restore_files(saved)
            sys.exit(f"[{name}] pattern not found exactly once: {pattern!r}")
        path = str(hits[0][0])
        if path not in saved:
            backup = BACKUP / path.replace("/", "__")
            shutil.copyfile(path, backup)
            saved[path] = str(backup)
            STATE.write_text(json.dumps(saved))
        text = pathlib.Path(path).read_text()
        pathlib.Path(path).write_text(text.replace(pattern, replacement, 1))


def restore_files(saved):
    for path, backup in saved.items():
        shutil.copyfile(backup, path)
        os.remove(backup)


def restore():
    if STATE.exists():
        restore_files(json.loads(STATE.read_text()))
        STATE.unlink()


def baseline():
    groups = {}
    for m in load():
        args, _, filters = m["test"].partition(" -- ")
        groups.setdefault(args, [])
        for f in filters.split():
            if f not in groups[args]:
                groups[args].append(f)
    for args, filters in groups.items():
        print(f"{args} -- {' '.join(filters)}")


def main():
    cmd, rest = sys.argv[1], sys.argv[2:]
    if cmd == "check":
        sys.exit(0 if check(rest) else 1)
    elif cmd == "names":
        print("\n".join(m["name"] for m in load()))
    elif cmd == "test":
        print(find(load(), rest[0])["test"])
    elif cmd == "what":
        print(find(load(), rest[0])["what"])
    elif cmd == "apply":
        apply(rest[0], rest[1:])
    elif cmd == "restore":
        restore()
    elif cmd == "baseline":
        baseline()
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
