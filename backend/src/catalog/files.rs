//! The files of one service directory, each read and checked on its own: one pass reports the problems of
//! all of them.

use std::{collections::BTreeMap, path::Path};

use secrecy::SecretString;
use serde_json::{Map, Value};

pub use super::{
    form::{check_parameters, parse_parameters},
    job::{check_job, parse_job},
    values::{check_secrets, parse_configs, parse_secrets},
};
use super::{problems, read, CatalogError, Manifest};

/// Everything in one service directory, checked.
#[derive(Clone, Debug)]
pub struct ServiceFiles {
    pub manifest: Manifest,
    /// `manifest.json` as written.
    pub manifest_json: String,
    /// `deployment.yaml` as written.
    pub deployment_yaml: String,
    pub parameters_json: Option<String>,
    pub configs: Option<Map<String, Value>>,
    /// Values are `SecretString`s: `Debug` prints them redacted.
    pub secrets: Option<BTreeMap<String, SecretString>>,
}

impl ServiceFiles {
    /// Reads the directory `dir`, naming files as `label/<file>` in errors; stops at the first problem.
    pub fn read(dir: &Path, label: &str) -> Result<Self, CatalogError> {
        Self::check(dir, label).map_err(|all| problems::first(label, all))
    }

    /// Reads and checks the directory `dir`, naming files as `label/<file>`; every problem of every file.
    pub fn check(dir: &Path, label: &str) -> Result<Self, Vec<CatalogError>> {
        let file = format!("{label}/manifest.json");
        let manifest = read::text_file(&dir.join("manifest.json"), &file)
            .and_then(|json| json.ok_or_else(|| CatalogError::new(&file, "the file is missing")));
        Self::check_with(dir, label, manifest)
    }

    /// Like [`ServiceFiles::check`], with `manifest.json` already read (or the problem reading it).
    pub(crate) fn check_with(
        dir: &Path,
        label: &str,
        manifest: Result<String, CatalogError>,
    ) -> Result<Self, Vec<CatalogError>> {
        let name = |file: &str| format!("{label}/{file}");
        let mut problems = Vec::new();
        let manifest_json = keep(&mut problems, manifest.map_err(|p| vec![p]));
        let manifest = manifest_json
            .as_deref()
            .and_then(|json| keep(&mut problems, Manifest::check(&name("manifest.json"), json)));

        let deployment = name("deployment.yaml");
        let deployment_yaml = keep(&mut problems, optional(dir, "deployment.yaml", &deployment)).and_then(|yaml| {
            if yaml.is_none() {
                problems.push(CatalogError::new(&deployment, "the file is missing"));
            }
            yaml
        });
        if let Some(yaml) = &deployment_yaml {
            keep(&mut problems, check_job(&deployment, yaml));
        }

        let file = name("parameters.json");
        let parameters_json = keep(&mut problems, optional(dir, "parameters.json", &file)).flatten();
        if let Some(json) = &parameters_json {
            keep(&mut problems, check_parameters(&file, json));
        }

        let file = name("configs.json");
        let configs = keep(&mut problems, optional(dir, "configs.json", &file)).flatten();
        let configs = configs.and_then(|json| keep(&mut problems, parse_configs(&file, &json).map_err(|p| vec![p])));

        let file = name("secrets.json");
        let secrets = keep(&mut problems, optional(dir, "secrets.json", &file)).flatten();
        let secrets = secrets.and_then(|json| keep(&mut problems, check_secrets(&file, &json)));

        match (manifest, manifest_json, deployment_yaml) {
            (Some(manifest), Some(manifest_json), Some(deployment_yaml)) if problems.is_empty() => {
                Ok(Self { manifest, manifest_json, deployment_yaml, parameters_json, configs, secrets })
            }
            _ if problems.is_empty() => Err(vec![CatalogError::new(name("manifest.json"), "is not valid")]),
            _ => Err(problems),
        }
    }
}

/// The file `file` of `dir`, if there is one.
fn optional(dir: &Path, file: &str, name: &str) -> Result<Option<String>, Vec<CatalogError>> {
    read::text_file(&dir.join(file), name).map_err(|p| vec![p])
}

/// The value, or `None` with its problems added to `problems`.
fn keep<T>(problems: &mut Vec<CatalogError>, result: Result<T, Vec<CatalogError>>) -> Option<T> {
    result.map_err(|found| problems.extend(found)).ok()
}
