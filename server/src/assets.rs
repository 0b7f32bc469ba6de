//! The self-contained binary (issue 27). `handoff-server bundle <file>` — run by
//! `scripts/build-release.sh` after `cargo leptos build --release` and `scripts/build-widget.sh` —
//! writes a copy of the running executable with the site appended: the dashboard's bundle, its
//! styles and the public files (the site root, `target/site`), the widget's bundle
//! (`target/widget`) and cargo-leptos' `hash.txt`, as a zip followed by its length and a marker.
//! Started, such a binary finds them in itself and serves them from memory, so copied alone into
//! an empty directory it serves everything; a binary without them reads the directories as
//! before (development, `cargo leptos watch`).
//!
//! Content-hashed names stay: the pages name the dashboard's files `<output>.<hash>.{js,wasm,css}`
//! where the hash covers the three files' content (Leptos reads cargo-leptos' `hash.txt` only from
//! beside the executable, which a lone binary has not), so each build gets new addresses, cached
//! for a year.
use axum::body::Bytes;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

/// Ends a bundled binary, after the zip's length (8 bytes, little-endian).
const MARKER: &[u8; 16] = b"handoff-assets:1";
/// The widget bundle's folder in the zip; the site's is `site/`.
const WIDGET: &str = "widget/";
const SITE: &str = "site/";
const HASHES: &str = "hash.txt";

/// The assets a bundled binary carries.
pub struct Embedded {
    /// The site's files by path under the site root (`pkg/handoff.1f2e.js`, `favicon.svg`).
    site: HashMap<String, Bytes>,
    /// The widget bundle's files by name.
    pub widget: Vec<(String, Vec<u8>)>,
    /// What the pages call the dashboard's bundle (`handoff.<hash>`; see the module's notes).
    pub output_name: String,
}

impl Embedded {
    /// The assets appended to the running executable; `None` for a binary without them.
    pub fn in_current_exe(output_name: &str, pkg_dir: &str) -> std::io::Result<Option<Self>> {
        let mut exe = std::fs::File::open(std::env::current_exe()?)?;
        let Some(zip) = appended(&mut exe)? else { return Ok(None) };
        Self::from_zip(zip, output_name, pkg_dir).map(Some)
    }

    fn from_zip(zip: Vec<u8>, output_name: &str, pkg_dir: &str) -> std::io::Result<Self> {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).map_err(std::io::Error::other)?;
        let (mut site, mut widget, mut hashes) = (HashMap::new(), Vec::new(), None);
        for i in 0..archive.len() {
            let mut entry = archive.by_index(i).map_err(std::io::Error::other)?;
            if entry.is_dir() {
                continue;
            }
            let name = entry.name().map_err(std::io::Error::other)?.to_string();
            let mut bytes = Vec::with_capacity(entry.size() as usize);
            entry.read_to_end(&mut bytes)?;
            if let Some(path) = name.strip_prefix(SITE) {
                site.insert(path.to_string(), Bytes::from(bytes));
            } else if let Some(file) = name.strip_prefix(WIDGET) {
                widget.push((file.to_string(), bytes));
            } else if name == HASHES {
                hashes = Some(String::from_utf8_lossy(&bytes).into_owned());
            }
        }
        // The dashboard's three files, as cargo-leptos named them (`hash.txt`: `js: <hash>`,
        // `wasm: <hash>`, `css: <hash>`; without it, plain names), served under one name made of
        // their content's hash.
        let hash_of = |kind: &str| {
            hashes.as_deref().and_then(|text| {
                text.lines().find_map(|l| {
                    l.split_once(':').filter(|(k, _)| k.trim() == kind).map(|(_, h)| h.trim().to_string())
                })
            })
        };
        let mut digest = Sha256::new();
        let mut found = Vec::new();
        for (kind, ext) in [("js", "js"), ("wasm", "wasm"), ("css", "css")] {
            let names = match hash_of(kind) {
                Some(h) => vec![format!("{pkg_dir}/{output_name}.{h}.{ext}")],
                None if ext == "wasm" => {
                    vec![format!("{pkg_dir}/{output_name}.wasm"), format!("{pkg_dir}/{output_name}_bg.wasm")]
                }
                None => vec![format!("{pkg_dir}/{output_name}.{ext}")],
            };
            if let Some(bytes) = names.iter().find_map(|n| site.get(n)).cloned() {
                digest.update(ext.as_bytes());
                digest.update((bytes.len() as u64).to_le_bytes());
                digest.update(&bytes);
                found.push((ext, bytes));
            }
        }
        if found.len() < 3 {
            return Err(std::io::Error::other(format!(
                "the dashboard's bundle is incomplete: found {} of its script, WebAssembly and styles under {pkg_dir}/{output_name}.*",
                found.len()
            )));
        }
        let output = format!("{output_name}.{}", &hex::encode(digest.finalize())[..16]);
        for (ext, bytes) in found {
            if ext == "wasm" {
                site.insert(format!("{pkg_dir}/{output}_bg.wasm"), bytes.clone());
            }
            site.insert(format!("{pkg_dir}/{output}.{ext}"), bytes);
        }
        Ok(Self { site, widget, output_name: output })
    }

    /// The site's file at a request's path, if the binary carries it.
    pub fn response(&self, path: &str) -> Option<Response> {
        let bytes = self.site.get(path.trim_start_matches('/'))?.clone();
        let mut res = bytes.into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(path)));
        Some(res)
    }

    pub fn site_files(&self) -> usize {
        self.site.len()
    }
}

/// The zip appended to an executable, if it ends with one.
fn appended(exe: &mut std::fs::File) -> std::io::Result<Option<Vec<u8>>> {
    let size = exe.seek(SeekFrom::End(0))?;
    let tail = (MARKER.len() + 8) as u64;
    if size < tail {
        return Ok(None);
    }
    exe.seek(SeekFrom::End(-(tail as i64)))?;
    let mut end = [0u8; 24];
    exe.read_exact(&mut end)?;
    if &end[8..] != MARKER {
        return Ok(None);
    }
    let len = u64::from_le_bytes(end[..8].try_into().expect("8 bytes"));
    if len > size - tail {
        return Err(std::io::Error::other("the appended assets are cut short"));
    }
    exe.seek(SeekFrom::Start(size - tail - len))?;
    let mut zip = vec![0; len as usize];
    exe.read_exact(&mut zip)?;
    Ok(Some(zip))
}

/// The type a browser needs for a site file, by its extension.
fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext.to_ascii_lowercase()).as_deref() {
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json" | "webmanifest") => "application/json",
        Some("html") => "text/html; charset=utf-8",
        Some("txt") => "text/plain; charset=utf-8",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    }
}

/// `handoff-server bundle`: writes `out`, this executable with the site root's files, the
/// widget's bundle and the hashes file appended. Answers what it wrote.
pub fn bundle(
    site_root: &Path,
    widget_dir: &Path,
    hash_file: &Path,
    (output_name, pkg_dir): (&str, &str),
    out: &Path,
) -> Result<String, String> {
    let say = |what: &str, e: &dyn std::fmt::Display| format!("{what}: {e}");
    if !site_root.join("pkg").is_dir() {
        return Err(format!("{} has no pkg/: run `cargo leptos build --release` first", site_root.display()));
    }
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let deflated = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let mut files = 0;
    let mut add =
        |zip: &mut zip::ZipWriter<std::io::Cursor<Vec<u8>>>, name: String, path: &Path| -> Result<(), String> {
            let bytes = std::fs::read(path).map_err(|e| say(&path.display().to_string(), &e))?;
            zip.start_file(name, deflated).map_err(|e| say("zip", &e))?;
            zip.write_all(&bytes).map_err(|e| say("zip", &e))?;
            files += 1;
            Ok(())
        };
    let mut stack = vec![site_root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| say(&dir.display().to_string(), &e))?;
        for entry in entries {
            let path = entry.map_err(|e| say(&dir.display().to_string(), &e))?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(site_root).map_err(|e| say("path", &e))?;
                let rel = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
                add(&mut zip, format!("{SITE}{rel}"), &path)?;
            }
        }
    }
    for name in crate::widget::FILE_NAMES {
        let path = widget_dir.join(name);
        if !path.is_file() {
            return Err(format!("{} is missing: run scripts/build-widget.sh first", path.display()));
        }
        add(&mut zip, format!("{WIDGET}{name}"), &path)?;
    }
    if hash_file.is_file() {
        add(&mut zip, HASHES.to_string(), hash_file)?;
    }
    let zip = zip.finish().map_err(|e| say("zip", &e))?.into_inner();
    // What a bundled binary will find, checked now: never write one that cannot serve the
    // dashboard (e.g. hashed names without cargo-leptos' hash file beside this binary).
    Embedded::from_zip(zip.clone(), output_name, pkg_dir)
        .map_err(|e| format!("{e} (site root {}, hash file {})", site_root.display(), hash_file.display()))?;
    let exe = std::env::current_exe().map_err(|e| say("this executable", &e))?;
    let mut own = std::fs::File::open(&exe).map_err(|e| say(&exe.display().to_string(), &e))?;
    // A bundled binary bundles its plain self, never its own assets twice.
    let plain = match appended(&mut own).map_err(|e| say(&exe.display().to_string(), &e))? {
        Some(old) => own.metadata().map_err(|e| say("size", &e))?.len() - old.len() as u64 - (MARKER.len() + 8) as u64,
        None => own.metadata().map_err(|e| say("size", &e))?.len(),
    };
    own.seek(SeekFrom::Start(0)).map_err(|e| say("seek", &e))?;
    let partial = out.with_extension("partial");
    let mut file = std::fs::File::create(&partial).map_err(|e| say(&partial.display().to_string(), &e))?;
    std::io::copy(&mut own.take(plain), &mut file).map_err(|e| say("copy", &e))?;
    file.write_all(&zip).map_err(|e| say("write", &e))?;
    file.write_all(&(zip.len() as u64).to_le_bytes()).map_err(|e| say("write", &e))?;
    file.write_all(MARKER).map_err(|e| say("write", &e))?;
    file.sync_all().map_err(|e| say("sync", &e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&partial, std::fs::Permissions::from_mode(0o755)).map_err(|e| say("chmod", &e))?;
    }
    std::fs::rename(&partial, out).map_err(|e| say(&out.display().to_string(), &e))?;
    Ok(format!("wrote {} ({files} files, {} KiB of assets)", out.display(), zip.len() / 1024))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, bytes) in files {
            zip.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    #[test]
    fn hashed_names_cover_the_three_files() {
        let zip = zip_of(&[
            ("site/pkg/handoff.aaa.js", b"js"),
            ("site/pkg/handoff.bbb.wasm", b"wasm"),
            ("site/pkg/handoff.ccc.css", b"css"),
            ("site/favicon.svg", b"<svg/>"),
            ("widget/handoff_widget.js", b"w"),
            ("hash.txt", b"js: aaa\nwasm: bbb\ncss: ccc\n"),
        ]);
        let e = Embedded::from_zip(zip, "handoff", "pkg").unwrap();
        assert!(e.output_name.starts_with("handoff.") && e.output_name.len() == "handoff.".len() + 16);
        for (ext, kind) in [("js", "text/javascript"), ("wasm", "application/wasm"), ("css", "text/css")] {
            let res = e.response(&format!("/pkg/{}.{ext}", e.output_name)).unwrap();
            assert!(res.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with(kind));
        }
        assert_eq!(e.response("/favicon.svg").unwrap().headers()[header::CONTENT_TYPE], "image/svg+xml");
        assert!(e.response("/pkg/other.js").is_none());
        assert_eq!(e.widget, vec![("handoff_widget.js".to_string(), b"w".to_vec())]);
        // Another build (one file changed) gets another name; plain names (no hashes) work too.
        let zip = zip_of(&[
            ("site/pkg/handoff.js", b"js"),
            ("site/pkg/handoff_bg.wasm", b"wasm"),
            ("site/pkg/handoff.css", b"css2"),
        ]);
        let other = Embedded::from_zip(zip, "handoff", "pkg").unwrap();
        assert_ne!(other.output_name, e.output_name);
        assert!(other.response(&format!("/pkg/{}.wasm", other.output_name)).is_some());
        // Without one of the three (or with hashed names and no hash file), no binary.
        let zip = zip_of(&[("site/pkg/handoff.js", b"js"), ("site/pkg/handoff.wasm", b"wasm")]);
        assert!(Embedded::from_zip(zip, "handoff", "pkg").is_err());
        let zip = zip_of(&[
            ("site/pkg/handoff.aaa.js", b"js"),
            ("site/pkg/handoff.bbb.wasm", b"w"),
            ("site/pkg/handoff.ccc.css", b"c"),
        ]);
        assert!(Embedded::from_zip(zip, "handoff", "pkg").is_err());
    }

    #[test]
    fn a_plain_executable_has_no_assets() {
        let dir = std::env::temp_dir().join(format!("handoff_assets_{}", std::process::id()));
        std::fs::write(&dir, b"\x7fELF not bundled").unwrap();
        assert!(appended(&mut std::fs::File::open(&dir).unwrap()).unwrap().is_none());
        let mut with = b"\x7fELF".to_vec();
        with.extend_from_slice(b"ZIP");
        with.extend_from_slice(&3u64.to_le_bytes());
        with.extend_from_slice(MARKER);
        std::fs::write(&dir, &with).unwrap();
        assert_eq!(appended(&mut std::fs::File::open(&dir).unwrap()).unwrap(), Some(b"ZIP".to_vec()));
        let _ = std::fs::remove_file(&dir);
    }
}
