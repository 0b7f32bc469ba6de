//! The widget's page and its own bundle: content-hashed addresses cached for a year, brotli for
//! browsers that take it, a rebuilt bundle picked up without a restart, clear answers for unknown
//! widgets and a missing bundle.
use crate::helpers::*;
use crate::on_both_databases;

fn header<'a>(res: &'a reqwest::Response, name: &str) -> &'a str {
    res.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// The `/widget-pkg/{hash}` prefix a widget page loads its bundle from.
async fn bundle_prefix(app: &TestApp) -> String {
    let page = app.http.get(format!("{}/widget/demo", app.base)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let start = html.find("/widget-pkg/").expect("the page loads the bundle");
    let hash: String = html[start + "/widget-pkg/".len()..].chars().take_while(|c| c.is_ascii_hexdigit()).collect();
    assert_eq!(hash.len(), 16, "{html}");
    format!("/widget-pkg/{hash}")
}

async fn widget_page_and_bundle(db: Db) {
    let app = spawn_app(db).await;
    let page = app.http.get(format!("{}/widget/demo", app.base)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(header(&page, "cache-control"), "no-cache", "the page is small and names the current bundle");
    let policy = header(&page, "content-security-policy").to_string();
    let nonce = policy.split("'nonce-").nth(1).and_then(|r| r.split('\'').next()).expect("a nonce").to_string();
    assert!(policy.ends_with("frame-ancestors *"), "{policy}");
    let html = page.text().await.unwrap();
    assert!(html.contains(&format!("<script type=\"module\" nonce=\"{nonce}\">")), "{html}");
    assert!(html.contains("mount(\"demo\")"), "{html}");
    let prefix = bundle_prefix(&app).await;

    // Every file of the bundle, raw and brotli-compressed, cached for a year.
    for (name, content) in WIDGET_FIXTURE {
        let url = format!("{}{prefix}/{name}", app.base);
        let raw = app.http.get(&url).send().await.unwrap();
        assert_eq!(raw.status(), 200, "{name}");
        assert_eq!(header(&raw, "cache-control"), "public, max-age=31536000, immutable", "{name}");
        assert!(header(&raw, "content-encoding").is_empty());
        let expected_type = match name.rsplit('.').next() {
            Some("js") => "text/javascript",
            Some("wasm") => "application/wasm",
            _ => "text/css",
        };
        assert!(header(&raw, "content-type").starts_with(expected_type), "{name}: {}", header(&raw, "content-type"));
        assert_eq!(raw.bytes().await.unwrap().as_ref(), content.as_bytes(), "{name}");

        let br = app.http.get(&url).header("accept-encoding", "gzip, deflate, br").send().await.unwrap();
        assert_eq!(header(&br, "content-encoding"), "br", "{name}");
        assert_eq!(header(&br, "vary"), "accept-encoding");
        let compressed = br.bytes().await.unwrap();
        let mut plain = Vec::new();
        brotli::BrotliDecompress(&mut compressed.as_ref(), &mut plain).expect("valid brotli");
        assert_eq!(plain, content.as_bytes(), "{name}");
    }
    let missing = app.http.get(format!("{}{prefix}/other.js", app.base)).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    let stale =
        app.http.get(format!("{}/widget-pkg/0123456789abcdef/handoff_widget.js", app.base)).send().await.unwrap();
    assert_eq!(stale.status(), 404);

    // A rebuilt bundle gets new addresses at once; the old ones are gone.
    std::fs::write(app.widget_dir().join("handoff_widget_bg.wasm"), "a rebuilt module, longer than before").unwrap();
    let rebuilt = bundle_prefix(&app).await;
    assert_ne!(rebuilt, prefix);
    let wasm = app.http.get(format!("{}{rebuilt}/handoff_widget_bg.wasm", app.base)).send().await.unwrap();
    assert_eq!(wasm.text().await.unwrap(), "a rebuilt module, longer than before");
    let old = app.http.get(format!("{}{prefix}/handoff_widget_bg.wasm", app.base)).send().await.unwrap();
    assert_eq!(old.status(), 404);

    // Unknown widgets: 404, not framable by anyone.
    let unknown = app.http.get(format!("{}/widget/nope%3C%2Fscript%3E", app.base)).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
    assert!(header(&unknown, "content-security-policy").ends_with("frame-ancestors 'none'"));
    assert!(!unknown.text().await.unwrap().contains("</script>"));

    // A server whose bundle is not built says so instead of serving a dead page.
    std::fs::remove_file(app.widget_dir().join("handoff_widget.css")).unwrap();
    let broken = app.http.get(format!("{}/widget/demo", app.base)).send().await.unwrap();
    assert_eq!(broken.status(), 503);
    assert!(broken.text().await.unwrap().contains("The chat is not available right now"));
}
on_both_databases!(widget_page_and_bundle);
