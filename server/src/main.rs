//! `k8x`: read the config, start telemetry, build the application, run until SIGINT/SIGTERM.

use backend::config::Config;
use server::{telemetry, Application};
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init();
    let config = Config::load()?;
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
