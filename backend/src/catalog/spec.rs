//! A stored service, parsed back into what the dispatcher and executors work with.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::Job;
use model::parameters::ParameterForm;
use secrecy::SecretString;
use serde_json::{Map, Value};

use super::{
    files::{parse_configs, parse_job, parse_parameters, parse_secrets},
    CatalogError, Manifest, Retries, Trigger,
};
use crate::store::entities::service;

/// A runnable service. Secret values are `SecretString`s: `Debug` shows them redacted.
#[derive(Clone, Debug)]
pub struct ServiceSpec {
    pub name: String,
    pub project: String,
    pub active: bool,
    pub allow_manual_triggering: bool,
    pub trigger_events: Vec<Trigger>,
    /// Retries after a failure or an interruption.
    pub retries: Retries,
    /// At most this many executions of the service at once.
    pub max_concurrency: Option<u32>,
    /// The Job from `deployment.yaml`, before k8x adds its environment.
    pub job: Job,
    pub parameters: Option<ParameterForm>,
    pub configs: Map<String, Value>,
    /// Secret values by key. Never logged, never shown, never written into a Job spec.
    pub secrets: BTreeMap<String, SecretString>,
}

impl ServiceSpec {
    /// Parses a stored service. It was checked when it was loaded, so a failure here means the row was edited.
    pub fn from_row(row: &service::Model) -> Result<Self, CatalogError> {
        let file = |f: &str| format!("{}/{f}", row.name);
        let manifest = Manifest::parse(&file("manifest.json"), &row.manifest)?;
        Ok(Self {
            name: row.name.clone(),
            project: row.project.clone(),
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
}
