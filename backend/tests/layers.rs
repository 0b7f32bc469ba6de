//! The backend's layer rule (ARCHITECTURE.md, invariant 13): every module of `backend/src` has a
//! layer in [`LAYERS`], and imports only from its own layer or lower ones, without cycles.
//!
//! It reads the source: every `crate::a::b…` path (in `use` lines and in code, grouped
//! `crate::{a, b::c}` included) and every top-level `use super::…` is an edge to the deepest
//! module the path names. Line comments are skipped. `lib.rs` is the crate's facade (its
//! `pub use` lines name every layer) and is not checked. A path through a crate-root re-export
//! (`crate::Backend`) fails too: name the module it comes from.
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The layers, lowest first, and the top-level modules in each. A submodule (`services::handoff`,
/// `ai::intent`) is in the layer of its top-level module.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "foundation",
        &["error", "config", "ids", "db", "hub", "limits", "auth", "mailer", "metrics", "outbound", "secrets"],
    ),
    ("model", &["principal", "conversation", "ai_agent", "ai", "webpush"]),
    ("stores", &["store"]),
    ("services", &["services", "bus"]),
    ("runtime", &["runtime", "seed", "backup"]),
];

/// Most lines of one source file (backend and server).
const MAX_LINES: usize = 600;

/// Module path (`services::handoff`) → source text, for every file under `src`.
fn modules(src: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(src).expect("under src").with_extension("");
            let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
            if parts.last().is_some_and(|p| p == "mod") {
                parts.pop();
            }
            if parts == ["lib"] {
                continue;
            }
            out.insert(parts.join("::"), std::fs::read_to_string(&path).expect("read source"));
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Parses the path after `crate::` at the start of `s`: `a::b::c`, or a group `{a, b::{c, d}}`
/// after any prefix. Returns every full path (as segments).
fn parse_paths(s: &str) -> Vec<Vec<String>> {
    fn walk(chars: &[char], i: &mut usize, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
        let mut path = prefix;
        loop {
            while *i < chars.len() && chars[*i].is_whitespace() {
                *i += 1;
            }
            if *i < chars.len() && chars[*i] == '{' {
                *i += 1;
                loop {
                    walk(chars, i, path.clone(), out);
                    while *i < chars.len() && chars[*i].is_whitespace() {
                        *i += 1;
                    }
                    match chars.get(*i) {
                        Some(',') => *i += 1,
                        Some('}') => {
                            *i += 1;
                            return;
                        }
                        _ => return,
                    }
                    while *i < chars.len() && chars[*i].is_whitespace() {
                        *i += 1;
                    }
                    if chars.get(*i) == Some(&'}') {
                        *i += 1;
                        return;
                    }
                }
            }
            let start = *i;
            while *i < chars.len() && is_ident(chars[*i]) {
                *i += 1;
            }
            if *i > start {
                path.push(chars[start..*i].iter().collect());
            }
            if chars.get(*i) == Some(&':') && chars.get(*i + 1) == Some(&':') {
                *i += 2;
                continue;
            }
            // `as name`, `*`, the end of the path.
            while *i < chars.len() && !matches!(chars[*i], ',' | '}' | ';' | '\n') {
                if chars[*i] == '*' || chars[*i].is_whitespace() || is_ident(chars[*i]) {
                    *i += 1;
                } else {
                    break;
                }
            }
            out.push(path);
            return;
        }
    }
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    walk(&chars, &mut 0, Vec::new(), &mut out);
    out
}

/// The module a path names: its longest prefix that is a module.
fn resolve(path: &[String], known: &BTreeSet<String>) -> Option<String> {
    (1..=path.len()).rev().map(|n| path[..n].join("::")).find(|m| known.contains(m))
}

/// Every module's imports of other modules (module → {module}), and the paths that go through
/// the crate root.
fn edges(mods: &BTreeMap<String, String>) -> (BTreeMap<String, BTreeSet<String>>, Vec<String>) {
    let known: BTreeSet<String> = mods.keys().cloned().collect();
    let (mut graph, mut via_root) = (BTreeMap::new(), Vec::new());
    for (module, text) in mods {
        let targets: &mut BTreeSet<String> = graph.entry(module.clone()).or_default();
        let parent: Vec<String> = {
            let mut p: Vec<String> = module.split("::").map(str::to_owned).collect();
            p.pop();
            p
        };
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            let mut paths = Vec::new();
            for (at, _) in code.match_indices("crate::") {
                if at > 0 && code[..at].ends_with(|c: char| is_ident(c) || c == '$') {
                    continue; // `$crate::`, `some_crate::`
                }
                paths.extend(parse_paths(&code[at + "crate::".len()..]));
            }
            if let Some(rest) = code.strip_prefix("use super::") {
                for p in parse_paths(rest) {
                    paths.push(parent.iter().cloned().chain(p).collect());
                }
            }
            for p in paths {
                match resolve(&p, &known) {
                    Some(target) if &target != module => {
                        targets.insert(target);
                    }
                    Some(_) => {}
                    None => via_root.push(format!("{module} (line {}): crate::{}", n + 1, p.join("::"))),
                }
            }
        }
    }
    (graph, via_root)
}

fn layer_of(module: &str) -> Option<usize> {
    let top = module.split("::").next()?;
    LAYERS.iter().position(|(_, mods)| mods.contains(&top))
}

/// A cycle in the graph, if any (as the modules along it).
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        marks: &mut BTreeMap<String, Mark>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        marks.insert(node.to_owned(), Mark::Open);
        stack.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            match marks.get(next).copied().unwrap_or(Mark::New) {
                Mark::Open => {
                    let from = stack.iter().position(|m| m == next).expect("on the stack");
                    let mut cycle = stack[from..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                Mark::New => {
                    if let Some(c) = visit(next, graph, marks, stack) {
                        return Some(c);
                    }
                }
                Mark::Done => {}
            }
        }
        stack.pop();
        marks.insert(node.to_owned(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for node in graph.keys() {
        if marks.get(node).copied().unwrap_or(Mark::New) == Mark::New {
            if let Some(c) = visit(node, graph, &mut marks, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

fn src() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn imports_run_downwards_only_and_never_in_a_cycle() {
    let mods = modules(&src());
    assert!(mods.len() > 20, "found only {} modules under {}", mods.len(), src().display());
    let (graph, via_root) = edges(&mods);
    let mut problems = Vec::new();
    for module in mods.keys() {
        if layer_of(module).is_none() {
            problems.push(format!("{module} has no layer: add it to LAYERS in backend/tests/layers.rs"));
        }
    }
    for (module, targets) in &graph {
        let (Some(from), true) = (layer_of(module), true) else { continue };
        for target in targets {
            if let Some(to) = layer_of(target) {
                if to > from {
                    problems.push(format!(
                        "{module} ({}) imports {target} ({}), a higher layer",
                        LAYERS[from].0, LAYERS[to].0
                    ));
                }
            }
        }
    }
    for p in via_root {
        problems.push(format!("{p} goes through the crate root; import it from its module"));
    }
    if let Some(cycle) = find_cycle(&graph) {
        problems.push(format!("import cycle: {}", cycle.join(" → ")));
    }
    assert!(problems.is_empty(), "layer rule broken:\n  {}", problems.join("\n  "));
}

#[test]
fn the_checker_sees_grouped_and_nested_imports() {
    let paths = parse_paths("{a::B, b::{c, d::E as F}, e};");
    let joined: Vec<String> = paths.iter().map(|p| p.join("::")).collect();
    assert_eq!(joined, ["a::B", "b::c", "b::d::E", "e"]);
    assert_eq!(parse_paths("store::messages::append(conn)")[0].join("::"), "store::messages::append");
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a".to_owned(), BTreeSet::from(["b".to_owned()])),
        ("b".to_owned(), BTreeSet::from(["c".to_owned()])),
        ("c".to_owned(), BTreeSet::from(["a".to_owned()])),
    ]
    .into();
    assert_eq!(find_cycle(&graph).expect("a cycle"), ["a", "b", "c", "a"]);
}

#[test]
fn no_source_file_is_over_600_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace").to_path_buf();
    let mut long = Vec::new();
    let mut dirs = vec![root.join("backend"), root.join("server")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let lines = std::fs::read_to_string(&path).expect("read source").lines().count();
                if lines > MAX_LINES {
                    long.push(format!("{} ({lines} lines)", path.display()));
                }
            }
        }
    }
    assert!(long.is_empty(), "split these by meaning (at most {MAX_LINES} lines):\n  {}", long.join("\n  "));
}
