//! [`Emulator`]: start the server and the controller on the current runtime, drive the test switches,
//! stop everything (processes included) on `stop` or drop.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::control::RecordedRequest;
use crate::options::{Fault, Options};
use crate::shared::Shared;
use crate::{controller, routes};

/// A running emulator. Dropping it kills every pod process; `stop` also waits for the server to end.
pub struct Emulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    /// The HTTP server task, awaited by `stop`.
    server: Option<JoinHandle<()>>,
    /// The controller loop, awaited by `stop`.
    controller: Option<JoinHandle<()>>,
}

impl Emulator {
    /// Binds 127.0.0.1 on a free port and starts serving.
    pub async fn start(options: Options) -> std::io::Result<Self> {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), options).await
    }

    /// Binds `listen` and spawns the HTTP server and the controller on the current tokio runtime.
    pub async fn start_on(listen: SocketAddr, options: Options) -> std::io::Result<Self> {
        std::fs::create_dir_all(&options.work_dir)?;
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(options));
        let app = routes::router(shared.clone());
        let shutdown = shared.shutdown.clone();
        let server = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(shutdown.cancelled_owned());
            if let Err(e) = serve.await {
                tracing::error!(error = %e, "kube-emulator: server failed");
            }
        });
        let controller = tokio::spawn(controller::run(shared.clone()));
        Ok(Self { shared, addr, server: Some(server), controller: Some(controller) })
    }

    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Writes a kubeconfig whose only context points at this emulator: server [`url`](Self::url), TLS
    /// verification off, a dummy bearer token, and `namespace` as the context's namespace.
    pub fn write_kubeconfig(&self, path: &Path, namespace: &str) -> std::io::Result<()> {
        std::fs::write(path, kubeconfig(&self.url(), namespace))
    }

    /// Injects a fault (see [`Fault`]).
    pub fn inject_fault(&self, fault: Fault) {
        self.shared.control.inject_fault(fault);
    }

    /// Ends every open watch stream now; clients must watch again.
    pub fn break_watches(&self) {
        self.shared.control.break_watches();
    }

    /// Ends every open `follow=true` log stream now, wherever it is in the log.
    pub fn break_log_streams(&self) {
        self.shared.control.break_log_streams();
    }

    /// While `down`, every API request answers 503.
    pub fn set_down(&self, down: bool) {
        self.shared.control.set_down(down);
    }

    /// Every API request so far, in order (control requests excluded).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.control.requests()
    }

    /// Forgets the requests recorded so far.
    pub fn clear_requests(&self) {
        self.shared.control.clear_requests();
    }

    /// Stops the server and the controller and kills every pod process.
    pub async fn stop(mut self) {
        self.shared.shutdown.cancel();
        self.shared.kubelet.kill_all();
        for task in [self.server.take(), self.controller.take()].into_iter().flatten() {
            // Graceful shutdown waits for open connections; a client holding one idle must not hang us.
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), task).await.is_err() {
                abort.abort();
            }
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        // Synchronous on purpose: a test's runtime may already be going away.
        self.shared.shutdown.cancel();
        self.shared.kubelet.kill_all();
    }
}

/// The kubeconfig text.
fn kubeconfig(server: &str, namespace: &str) -> String {
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: kube-emulator
  cluster:
    server: {server}
    insecure-skip-tls-verify: true
users:
- name: kube-emulator
  user:
    token: kube-emulator-token
contexts:
- name: kube-emulator
  context:
    cluster: kube-emulator
    user: kube-emulator
    namespace: {namespace}
current-context: kube-emulator
"
    )
}
