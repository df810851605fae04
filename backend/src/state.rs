//! The state every handler and server function shares.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::{
    auth::{rate::TokenRate, throttle::LoginThrottle},
    bus::Bus,
    config::Config,
    dispatcher::Readiness,
    executor::Executor,
    projects::Projects,
    store::Store,
};

/// Shared by the HTTP routes, the UI's server functions and the background tasks: one reference count to clone
/// (handlers and middleware clone it on every request). Reads as the [`Shared`] it holds.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] holds.
pub struct Shared {
    /// The configuration k8x started with.
    pub config: Arc<Config>,
    /// Services, events, executions and logs.
    pub store: Store,
    /// Where ingest and manual runs publish events.
    pub bus: Arc<dyn Bus>,
    /// What runs executions; the API cancels through it.
    pub executor: Arc<dyn Executor>,
    /// Cancelled when k8x stops: long-lived responses (log streams) end so the server can drain.
    pub shutdown: CancellationToken,
    /// Failed sign-ins, to slow down guessing.
    pub login_throttle: Arc<LoginThrottle>,
    /// Requests per API token.
    pub token_rate: Arc<TokenRate>,
    /// Projects: their syncs, webhooks and management.
    pub projects: Arc<Projects>,
    /// Whether the dispatcher keeps up (`GET /ready`).
    pub readiness: Readiness,
}
