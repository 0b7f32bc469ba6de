//! `handoff-server`: starts Handoff. Configuration: see `Leptos.toml` and README.
use backend::Config;
use handoff_server::assets::Embedded;
use leptos::config::get_configuration;
use tracing_subscriber::EnvFilter;

/// Stack of every runtime thread: unoptimised (development) builds render pages with deep
/// futures that can exceed the default 2 MiB.
const THREAD_STACK: usize = 8 * 1024 * 1024;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if matches!(args.first().map(String::as_str), Some("-h" | "--help" | "help")) {
        println!("{USAGE}");
        return;
    }
    let log_format = match Config::load() {
        Ok(config) => config.log_format,
        Err(e) => {
            eprintln!("handoff: {e}");
            std::process::exit(1);
        }
    };
    let logs = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")));
    match log_format {
        // One object per line; `span`/`spans` carry the request id (see `ops::request_span`).
        backend::config::LogFormat::Json => logs.json().with_current_span(true).with_span_list(true).init(),
        backend::config::LogFormat::Text => logs.init(),
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(THREAD_STACK)
        .build()
        .expect("tokio runtime");
    let result = match args.first().map(String::as_str) {
        None => runtime.block_on(run()),
        Some("create-admin") => runtime.block_on(create_admin(&args[1..])),
        Some("rotate-secret-key") => runtime.block_on(rotate_secret_key()),
        Some(command @ ("backup" | "restore")) => runtime.block_on(backup_or_restore(command, &args[1..])),
        Some("bundle") => bundle(&args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command `{other}`\n\n{USAGE}").into()),
    };
    if let Err(e) = result {
        eprintln!("handoff: {e}");
        std::process::exit(1);
    }
}

const USAGE: &str = "usage:
  handoff-server                   serve (settings below)
  handoff-server create-admin --email <address> --name <name>
                                   create a platform admin; the password is read from
                                   HANDOFF_ADMIN_PASSWORD or, without it, from standard input
  handoff-server rotate-secret-key re-seal the stored secrets under a new secret key (stop every
                                   server process first; see SECURITY.md)
  handoff-server backup <file> [--force]
                                   SQLite: a consistent copy of the database (files included)
                                   while the server runs; --force replaces an existing file
  handoff-server restore <file> [--force]
                                   SQLite: put a backup back (every server stopped); --force
                                   replaces an existing database, which is kept beside it
  (PostgreSQL: pg_dump and pg_restore, see README)
  handoff-server bundle <file>     write a self-contained copy of this binary: the dashboard,
                                   the widget, styles and public files inside (after
                                   `cargo leptos build --release` and scripts/build-widget.sh)

settings: the [handoff] table of Leptos.toml (another file: HANDOFF_CONFIG=<path>), each
overridden by HANDOFF_<NAME> in the environment; the ones that matter most:
  LEPTOS_SITE_ADDR          address to listen on (default 127.0.0.1:3000)
  HANDOFF_DATA_DIR          SQLite database and files (default ./data)
  DATABASE_URL              postgres://… to use PostgreSQL (several server processes)
  HANDOFF_PUBLIC_URL        the address people reach this server at (links in e-mails)
  HANDOFF_ALLOWED_ORIGINS   other origins the dashboard is served from, if any
  HANDOFF_SMTP_URL, HANDOFF_MAIL_FROM
                            outgoing e-mail (empty: .eml files in <data_dir>/mail)
  HANDOFF_SECRET_KEY        the key sealing stored secrets (default: the file <data_dir>.key)
  HANDOFF_OUTBOUND_ALLOW    internal addresses AI agents may reach (default: none)
  HANDOFF_METRICS_TOKEN or HANDOFF_METRICS_ADDR
                            turn /metrics on (off by default)
  HANDOFF_LOG_FORMAT        text (default) or json
  HANDOFF_SEED_DEMO         true: the demo organization and its published password (never in
                            production)
every setting with its meaning: Leptos.toml in the repository, and README";

/// `bundle <file>`: this binary with the site and the widget appended (see
/// `handoff_server::assets`). The site root is `LEPTOS_SITE_ROOT` (default `target/site`), the
/// widget's directory `HANDOFF_WIDGET_DIR` (default: `widget` beside the site root), the hashes
/// cargo-leptos left beside this binary.
fn bundle(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let [out] = args else {
        return Err(format!("bundle needs one file\n\n{USAGE}").into());
    };
    let options = get_configuration(None)?.leptos_options;
    let site = std::path::PathBuf::from(options.site_root.as_ref());
    let widget = handoff_server::widget::dir_for_site_root(&options.site_root);
    let hashes = exe_dir()?.join(options.hash_file.as_ref());
    let names = (options.output_name.as_ref(), options.site_pkg_dir.as_ref());
    println!("{}", handoff_server::assets::bundle(&site, &widget, &hashes, names, std::path::Path::new(out))?);
    Ok(())
}

/// The directory of this executable (where cargo-leptos leaves its hash file).
fn exe_dir() -> std::io::Result<std::path::PathBuf> {
    Ok(std::env::current_exe()?.parent().map(|p| p.to_path_buf()).unwrap_or_default())
}

/// `backup` and `restore`: see `backend::backup`.
async fn backup_or_restore(command: &str, args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let (mut file, mut force) = (None, false);
    for a in args {
        match a.as_str() {
            "--force" => force = true,
            other if other.starts_with("--") => return Err(format!("unknown option `{other}`\n\n{USAGE}").into()),
            other if file.is_none() => file = Some(std::path::PathBuf::from(other)),
            other => return Err(format!("unexpected argument `{other}`\n\n{USAGE}").into()),
        }
    }
    let Some(file) = file else {
        return Err(format!("{command} needs a file\n\n{USAGE}").into());
    };
    let config = Config::load()?;
    let done = match command {
        "backup" => backend::backup::backup(&config, &file, force).await?,
        _ => backend::backup::restore(&config, &file, force).await?,
    };
    println!("{done}");
    Ok(())
}

/// `rotate-secret-key`: see `backend::secrets::rotate`.
async fn rotate_secret_key() -> Result<(), Box<dyn std::error::Error>> {
    println!("{}", backend::secrets::rotate(&Config::load()?).await?);
    Ok(())
}

/// `create-admin`: the first admin of an installation (or another one), without a browser.
async fn create_admin(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let (mut email, mut name) = (None, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--email" => email = it.next().cloned(),
            "--name" => name = it.next().cloned(),
            other => return Err(format!("unknown option `{other}`\n\n{USAGE}").into()),
        }
    }
    let (Some(email), Some(name)) = (email, name) else {
        return Err(format!("--email and --name are required\n\n{USAGE}").into());
    };
    let password = match std::env::var("HANDOFF_ADMIN_PASSWORD") {
        Ok(p) => p,
        Err(_) => {
            eprint!("password for {email}: ");
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_string()
        }
    };
    let mut config = Config::load()?;
    // Creating an admin never seeds the demo into a production database.
    config.seed_demo = false;
    config.outbox_poll_ms = 0;
    config.email_offer_check_ms = 0;
    let backend = backend::Backend::start(config).await?;
    match backend.create_first_admin(&email, &name, &password).await {
        Ok(_) => {
            println!("created admin {}; sign in at /login", email.trim().to_lowercase());
            Ok(())
        }
        Err(backend::BackendError::Field(f)) => Err(format!("{}: {}", f.field, f.message).into()),
        Err(e) => Err(e.into()),
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut leptos_options = get_configuration(None)?.leptos_options;
    // A self-contained binary (`bundle`) carries the site and the widget, and names the
    // dashboard's bundle by their hashes itself (see `handoff_server::assets`).
    let embedded = Embedded::in_current_exe(&leptos_options.output_name, &leptos_options.site_pkg_dir)
        .map_err(|e| format!("the assets appended to this binary are unreadable: {e}"))?
        .map(std::sync::Arc::new);
    if let Some(e) = &embedded {
        leptos_options.output_name = e.output_name.clone().into();
        leptos_options.hash_files = false;
    } else if std::env::var_os("LEPTOS_HASH_FILES").is_none() {
        // cargo-leptos hashes the bundle's file names (`hash-files`) and leaves the hashes beside
        // the binary; a binary started without cargo-leptos' environment finds them there too.
        leptos_options.hash_files = exe_dir()?.join(leptos_options.hash_file.as_ref()).exists();
    }
    let config = Config::load()?;
    let addr = leptos_options.site_addr;
    let site = match &embedded {
        Some(e) => format!("in this binary ({} files and the widget)", e.site_files()),
        None => format!("{} and its widget directory", leptos_options.site_root),
    };
    let (router, backend) = handoff_server::build(config.clone(), leptos_options, embedded).await?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let url = format!("http://{}", listener.local_addr()?);
    println!("Handoff listening on {url}");
    if !config.metrics_addr.is_empty() {
        let ops = tokio::net::TcpListener::bind(&config.metrics_addr).await?;
        println!("  metrics:   http://{}/metrics", ops.local_addr()?);
        tokio::spawn(handoff_server::ops::serve_ops(ops, backend.clone()));
    } else if !config.metrics_token.is_empty() {
        println!("  metrics:   {url}/metrics (with the token)");
    }
    println!("  assets:    {site}");
    println!(
        "  storage:   {}",
        match backend.db.kind {
            backend::db::DbKind::Sqlite => format!("SQLite in {}", config.data_dir.display()),
            backend::db::DbKind::Postgres => "PostgreSQL".to_string(),
        }
    );
    if config.seed_demo {
        println!(
            "  dashboard: {url}/login   (demo agents: ann@demo.test and bob@demo.test, admin: admin@demo.test; password: {})",
            config.demo_password
        );
        println!("  visitor:   {url}/demo    (a sample customer page with the chat widget)");
        println!("  embed:     <script src=\"{url}/widget.js\" data-widget=\"demo\" async></script>");
    }
    if backend.admin_count().await? == 0 {
        println!("  no admin yet: create one with `handoff-server create-admin --email you@example.com --name \"Your Name\"`");
    }
    handoff_server::serve(listener, router, backend).await?;
    Ok(())
}
