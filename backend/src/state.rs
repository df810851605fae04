//! The state every handler and server function shares.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::{
    auth::{rate::TokenRate, throttle::LoginThrottle},
    bus::Bus,
    catalog::CatalogError,
    config::Config,
    dispatcher::Readiness,
    executor::Executor,
    store::Store,
};

/// Shared by the HTTP routes, the UI's server functions and the background tasks. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The configuration k8x started with.
    pub config: Arc<Config>,
    /// Services, events, executions and logs.
    pub store: Store,
    /// Where ingest and manual runs publish events.
    pub bus: Arc<dyn Bus>,
    /// What runs executions; the API cancels through it.
    pub executor: Arc<dyn Executor>,
    /// Problems found loading the project at start-up, shown on the services page.
    pub catalog_problems: Arc<Vec<CatalogError>>,
    /// Cancelled when k8x stops: long-lived responses (log streams) end so the server can drain.
    pub shutdown: CancellationToken,
    /// Failed sign-ins, to slow down guessing.
    pub login_throttle: Arc<LoginThrottle>,
    /// Requests per API token.
    pub token_rate: Arc<TokenRate>,
    /// Whether the dispatcher keeps up (`GET /ready`).
    pub readiness: Readiness,
}
