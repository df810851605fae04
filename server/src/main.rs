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
/// their consolidation, measured with `perf`), contended between Tokio's workers and SQLite's threads; mimalloc
/// serves each thread from pages of its own. Built without transparent huge pages (`no_thp`), and see
/// [`return_freed_memory_at_once`].
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (`mimalloc.h`), which the Rust bindings do not name.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// mimalloc keeps freed pages for a second (arenas ten) before giving them back, and only when the thread that
/// freed them allocates again: what start-up used (migrations, the route list) stayed in an idle k8x's memory,
/// 16 MB of it. Given back at once instead, an idle k8x holds what glibc's allocator left (within a megabyte);
/// ingest measured the same either way.
fn return_freed_memory_at_once() {
    // SAFETY: sets one of mimalloc's options to a value it documents (0: purge at once); no memory is touched.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
}

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    return_freed_memory_at_once();
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
