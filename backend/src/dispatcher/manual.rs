//! Manual runs: a run request from the UI (or API) becomes an event on the bus, and takes the same path
//! as every other event. Its data is the form's values, so the container cannot tell the difference.

use cloudevents::{EventBuilder, EventBuilderV10};
use serde_json::{Map, Value};

use crate::{
    bus::{Bus, BusError},
    catalog::ServiceSpec,
    ids,
};

/// The type of a manual run request.
pub const RUN_REQUESTED: &str = "k8x.service.run_requested";
/// The extension attribute that names the service a run request is for.
pub(crate) const SERVICE_EXTENSION: &str = "k8xservice";
/// The source of run requests made in k8x's UI.
const SOURCE: &str = "/k8x/ui";

/// A run was requested: where to watch it.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRequested {
    pub event_id: String,
    /// Known before the dispatcher creates it: it derives from the event and the service.
    pub execution_id: String,
}

/// A run could not be requested.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("service `{0}` is not active")]
    Inactive(String),
    #[error("service `{0}` does not allow manual runs")]
    NotManual(String),
    #[error(transparent)]
    Bus(#[from] BusError),
}

/// Publishes a run request for `service` with `params` as the event's data.
pub async fn request_run(
    bus: &dyn Bus,
    service: &ServiceSpec,
    params: Map<String, Value>,
) -> Result<RunRequested, RunError> {
    if !service.active {
        return Err(RunError::Inactive(service.name.clone()));
    }
    if !service.allow_manual_triggering {
        return Err(RunError::NotManual(service.name.clone()));
    }
    let event_id = uuid::Uuid::new_v4().to_string();
    let event = EventBuilderV10::new()
        .id(event_id.clone())
        .source(SOURCE)
        .ty(RUN_REQUESTED)
        .subject(service.name.clone())
        .time(chrono::Utc::now())
        .extension(SERVICE_EXTENSION, service.name.clone())
        .data("application/json", Value::Object(params))
        .build()
        .expect("every required attribute is set");
    bus.publish(&event).await?;
    let execution_id = ids::execution_id(&ids::event_key(SOURCE, &event_id), &service.name);
    Ok(RunRequested { event_id, execution_id })
}
