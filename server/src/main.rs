//! `handoff-server`: starts Handoff. Configuration: see `Leptos.toml` and README.
use backend::Config;
use leptos::config::get_configuration;
use tracing_subscriber::EnvFilter;

/// Stack of every runtime thread: unoptimised (development) builds render pages with deep
/// futures that can exceed the default 2 MiB.
const THREAD_STACK: usize = 8 * 1024 * 1024;

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")))
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(THREAD_STACK)
        .build()
        .expect("tokio runtime");
    if let Err(e) = runtime.block_on(run()) {
        eprintln!("handoff: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let leptos_options = get_configuration(None)?.leptos_options;
    let config = Config::load()?;
    let addr = leptos_options.site_addr;
    let (router, backend) = handoff_server::build(config.clone(), leptos_options).await?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let url = format!("http://{}", listener.local_addr()?);
    println!("Handoff listening on {url}");
    println!(
        "  storage:   {}",
        match backend.db.kind {
            backend::db::DbKind::Sqlite => format!("SQLite in {}", config.data_dir.display()),
            backend::db::DbKind::Postgres => "PostgreSQL".to_string(),
        }
    );
    if config.seed_demo {
        println!(
            "  dashboard: {url}/login   (demo agents: ann@demo.test and bob@demo.test, password: {})",
            config.demo_password
        );
        println!("  visitor:   {url}/demo    (a sample customer page with the chat widget)");
        println!("  embed:     <script src=\"{url}/widget.js\" data-widget=\"demo\" async></script>");
    }
    handoff_server::serve(listener, router, backend).await?;
    Ok(())
}
