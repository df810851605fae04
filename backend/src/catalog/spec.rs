//! A stored service, parsed back into what the dispatcher and executors work with.

use super::{
    files::{parse_configs, parse_job, parse_parameters, parse_secrets},
    CatalogError, Manifest,
};
use crate::{service::ServiceSpec, store::entities::service};

/// Parses a stored service. It was checked when it was loaded, so a failure here means the row was edited.
pub fn read_service(row: &service::Model) -> Result<ServiceSpec, CatalogError> {
    let file = |f: &str| format!("{}/{f}", row.name);
    let manifest = Manifest::parse(&file("manifest.json"), &row.manifest)?;
    Ok(ServiceSpec {
        name: row.name.clone(),
        project: row.project.clone(),
        revision: row.revision.clone(),
        schedule: manifest.schedule,
        active: row.active,
        allow_manual_triggering: row.allow_manual_triggering,
        trigger_events: manifest.trigger_events,
        retries: manifest.retries,
        max_concurrency: manifest.max_concurrency,
        job: parse_job(&file("deployment.yaml"), &row.deployment)?,
        parameters: row.parameters.as_deref().map(|p| parse_parameters(&file("parameters.json"), p)).transpose()?,
        configs: row
            .configs
            .as_deref()
            .map(|c| parse_configs(&file("configs.json"), c))
            .transpose()?
            .unwrap_or_default(),
        secrets: row
            .secrets
            .as_deref()
            .map(|s| parse_secrets(&file("secrets.json"), s))
            .transpose()?
            .unwrap_or_default(),
    })
}
