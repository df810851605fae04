//! `k8x`: check service files (`k8x validate <dir>`, before anything else: no config, no database), or read
//! the config, then either manage users, tokens and sources (`k8x user|token|source …`) or start telemetry,
//! build the application and run until SIGINT/SIGTERM.

use std::process::ExitCode;

use backend::config::Config;
use clap::Parser;
use server::{
    cli::{self, Cli, Command},
    telemetry, Application,
};
use tokio_util::sync::CancellationToken;

/// glibc's allocator took about a sixth of a busy k8x's CPU time (ingest at 5,000 events/s: `malloc`, `free` and
/// their consolidation, measured with `perf`); mimalloc serves each thread from pages of its own. It takes
/// Rust's allocations only: SQLite, librdkafka and libgit2 still allocate through glibc. See also
/// [`return_freed_memory_at_once`].
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (`mimalloc.h`, v3 and v2 alike), which the Rust bindings do not name.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// mimalloc keeps freed pages for a second before giving them back, and gives them back only when some thread
/// next allocates the slow way: an idle k8x kept what start-up used (migrations, the route list), 16 MB of it,
/// and with transparent huge pages (mimalloc asks for them unless built `no_thp`, as here) 20 MB. Given back at
/// once instead, an idle k8x holds about what glibc's allocator left it (7.5 MB of anonymous memory against 6);
/// ingest measured the same either way. Where the kernel backs all memory with huge pages (`enabled` =
/// `always`), nothing here stops it.
fn return_freed_memory_at_once() {
    // SAFETY: sets one of mimalloc's options to a value it documents (0: purge at once). Called first thing in
    // `main`, while this is the only thread: nothing reads the option concurrently.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
}

fn main() -> anyhow::Result<ExitCode> {
    return_freed_memory_at_once();
    tokio::runtime::Runtime::new()?.block_on(run())
}

async fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    if let Some(Command::Validate { dir }) = &cli.command {
        return Ok(cli::validate(dir));
    }
    let config = Config::load()?;
    match cli.command {
        None | Some(Command::Serve) => serve(config).await?,
        Some(command) => cli::manage(&config, command).await?,
    }
    Ok(ExitCode::SUCCESS)
}

async fn serve(config: Config) -> anyhow::Result<()> {
    telemetry::init();
    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    let app = Application::build(config, shutdown).await?;
    tracing::info!("k8x is listening on http://{}", app.address());
    app.run_until_stopped().await
}

async fn stop_on_signal(shutdown: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("interrupted; stopping"),
        _ = terminate => tracing::info!("terminated; stopping"),
    }
    shutdown.cancel();
}
