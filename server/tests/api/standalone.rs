//! The self-contained binary (issue 27), as processes: `handoff-server bundle` appends a site root
//! (the dashboard's bundle, its styles, a public file) and a widget bundle to a copy of the
//! binary; that copy, alone in an empty directory with nothing of the build around, serves the
//! pages, every file they name (under a content-hashed name, cached for a year) and the widget —
//! on SQLite and on PostgreSQL. The browser suite does the same with the real release build
//! (`end2end/tests/standalone.spec.ts`, and every browser test runs against such a copy).
use crate::helpers::*;
use crate::on_both_databases;
use crate::process::{fresh_storage, sign_in_at, start_server_in};
use std::path::Path;

const JS: &[u8] = b"export default async function init() { /* the dashboard */ }";
const WASM: &[u8] = b"\0asm the dashboard's WebAssembly stand-in";
const CSS: &[u8] = b".topbar { display: flex; }";
const ICON: &[u8] = b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>";

/// The addresses under `prefix` that a page names in `href="…"` / `src="…"` or in quotes.
fn named(html: &str, prefix: &str) -> Vec<String> {
    let mut out: Vec<String> =
        html.split(['"', '\'']).filter(|s| s.starts_with(prefix) && !s.contains(' ')).map(str::to_string).collect();
    out.sort();
    out.dedup();
    out
}

/// A site root and a widget directory as the release build leaves them (the dashboard's files
/// named by the hashes beside this test's binary when there are some, as cargo-leptos does).
fn fake_build(work: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let exe = Path::new(env!("CARGO_BIN_EXE_handoff-server"));
    let hashes = std::fs::read_to_string(exe.parent().unwrap().join("hash.txt")).ok();
    let name = |kind: &str, ext: &str| {
        let hash = hashes.as_deref().and_then(|t| {
            t.lines()
                .find_map(|l| l.split_once(':').filter(|(k, _)| k.trim() == kind).map(|(_, h)| h.trim().to_string()))
        });
        match hash {
            Some(h) => format!("handoff.{h}.{ext}"),
            None => format!("handoff.{ext}"),
        }
    };
    let (site, widget) = (work.join("site"), work.join("widget"));
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    std::fs::create_dir_all(&widget).unwrap();
    std::fs::write(site.join("pkg").join(name("js", "js")), JS).unwrap();
    std::fs::write(site.join("pkg").join(name("wasm", "wasm")), WASM).unwrap();
    std::fs::write(site.join("pkg").join(name("css", "css")), CSS).unwrap();
    std::fs::write(site.join("favicon.svg"), ICON).unwrap();
    for (file, content) in WIDGET_FIXTURE {
        std::fs::write(widget.join(file), content).unwrap();
    }
    (site, widget)
}

async fn get(url: &str) -> (u16, String, String, Vec<u8>) {
    let res = reqwest::get(url).await.unwrap();
    let header = |h: &str| res.headers().get(h).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let (status, kind, cache) = (res.status().as_u16(), header("content-type"), header("cache-control"));
    (status, kind, cache, res.bytes().await.unwrap().to_vec())
}

async fn a_bundled_binary_alone_serves_the_site_and_the_widget(db: Db) {
    let work = std::env::temp_dir().join(format!("handoff_lone_build_{}_{db:?}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let (site, widget) = fake_build(&work);
    let bundled = work.join("handoff");
    let made = std::process::Command::new(env!("CARGO_BIN_EXE_handoff-server"))
        .arg("bundle")
        .arg(&bundled)
        .env("LEPTOS_SITE_ROOT", &site)
        .env("HANDOFF_WIDGET_DIR", &widget)
        // Only cargo-leptos builds carry the bundle's name; this test's binary is told it.
        .env("LEPTOS_OUTPUT_NAME", "handoff")
        .env_remove("HANDOFF_CONFIG")
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    assert!(String::from_utf8_lossy(&made.stdout).contains("wrote"));

    // Alone: copied into an empty directory, the build's directories gone.
    let alone = work.join("empty");
    std::fs::create_dir_all(&alone).unwrap();
    std::fs::copy(&bundled, alone.join("handoff")).unwrap();
    for dir in [&site, &widget] {
        std::fs::remove_dir_all(dir).unwrap();
    }
    std::fs::remove_file(&bundled).unwrap();
    let (data_dir, url) = fresh_storage(db, "bundle").await;
    let env = [("HANDOFF_SEED_DEMO", "true"), ("HANDOFF_DEMO_PASSWORD", PASSWORD)];
    let server = start_server_in(&alone.join("handoff"), Some(&alone), &data_dir, url.as_deref(), &env).await;
    assert!(server.printed().await.contains("in this binary"), "{}", server.printed().await);
    let base = &server.base;

    // The sign-in page names the dashboard's three files under one content-hashed name.
    let (status, _, _, page) = get(&format!("{base}/login")).await;
    assert_eq!(status, 200);
    let page = String::from_utf8(page).unwrap();
    let pkg = named(&page, "/pkg/");
    let stem = |p: &str| p.rsplit_once('.').map(|(s, _)| s.trim_end_matches("_bg").to_string()).unwrap();
    assert!(pkg.iter().any(|p| p.ends_with(".js")) && pkg.iter().any(|p| p.ends_with(".css")), "{pkg:?}");
    assert!(pkg.iter().all(|p| stem(p) == stem(&pkg[0])), "one name: {pkg:?}");
    let hash = stem(&pkg[0]).trim_start_matches("/pkg/handoff.").to_string();
    assert_eq!(hash.len(), 16, "{pkg:?}");
    assert!(hash.chars().all(|c| c.is_ascii_hexdigit()));
    for (ext, want, kind) in
        [("js", JS, "text/javascript"), ("wasm", WASM, "application/wasm"), ("css", CSS, "text/css")]
    {
        let (status, got_kind, cache, body) = get(&format!("{base}/pkg/handoff.{hash}.{ext}")).await;
        assert_eq!((status, body.as_slice()), (200, want), "{ext}");
        assert!(got_kind.starts_with(kind), "{ext}: {got_kind}");
        assert!(cache.contains("immutable"), "{ext}: {cache}");
    }
    let (status, kind, _, body) = get(&format!("{base}/favicon.svg")).await;
    assert_eq!((status, kind.as_str(), body.as_slice()), (200, "image/svg+xml", ICON));
    assert_eq!(get(&format!("{base}/pkg/handoff.0000000000000000.js")).await.0, 404);

    // The widget: its page and its three files, from the binary.
    let (status, _, _, page) = get(&format!("{base}/widget/demo")).await;
    assert_eq!(status, 200);
    let files = named(&String::from_utf8(page).unwrap(), "/widget-pkg/");
    assert_eq!(files.len(), 3, "{files:?}");
    for (file, content) in WIDGET_FIXTURE {
        let path = files.iter().find(|f| f.ends_with(&format!("/{file}"))).expect(file);
        let (status, _, cache, body) = get(&format!("{base}{path}")).await;
        assert_eq!((status, body.as_slice()), (200, content.as_bytes()), "{file}");
        assert!(cache.contains("immutable"));
    }

    // And it is the whole server, on this engine: ready, Ann signs in.
    assert_eq!(get(&format!("{base}/readyz")).await.0, 200);
    sign_in_at(base, ANN, PASSWORD).await.expect("Ann signs in");
    drop(server);
    let _ = std::fs::remove_dir_all(&work);
    let _ = std::fs::remove_dir_all(&data_dir);
}
on_both_databases!(a_bundled_binary_alone_serves_the_site_and_the_widget);

/// `--help` lists the commands and the settings that matter, without reading any configuration.
#[test]
fn help_lists_the_commands_and_the_settings() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_handoff-server"))
        .arg("--help")
        .env("HANDOFF_CONFIG", "/nonexistent/handoff.toml")
        .env("HANDOFF_LOG_FORMAT", "not-a-format")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for word in [
        "create-admin",
        "backup",
        "restore",
        "bundle",
        "rotate-secret-key",
        "DATABASE_URL",
        "HANDOFF_DATA_DIR",
        "LEPTOS_SITE_ADDR",
        "HANDOFF_METRICS_TOKEN",
        "HANDOFF_SEED_DEMO",
    ] {
        assert!(text.contains(word), "--help does not mention {word}:\n{text}");
    }
}
