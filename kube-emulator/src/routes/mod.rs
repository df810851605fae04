//! The HTTP surface: the Kubernetes API routes behind a gate (record, "down", faults) and the
//! `/emulator/*` control routes beside it, ungated and unrecorded.

mod control;
mod discovery;
mod gate;
mod logs;
mod objects;
mod query;
mod ssar;
mod watch;

use std::sync::Arc;

use axum::middleware::from_fn_with_state;
use axum::Router;

use crate::error::ApiError;
use crate::shared::Shared;

/// The whole router.
pub fn router(shared: Arc<Shared>) -> Router {
    let api = Router::new()
        .merge(discovery::router())
        .merge(ssar::router())
        .merge(objects::router())
        .fallback(|| async { ApiError::UnknownResource })
        .layer(from_fn_with_state(shared.clone(), gate::gate))
        .with_state(shared.clone());
    control::router().with_state(shared).fallback_service(api)
}
