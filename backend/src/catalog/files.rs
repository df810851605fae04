//! The files of one service directory, each parsed and checked on its own.

use std::{collections::BTreeMap, path::Path};

use k8s_openapi::api::batch::v1::Job;
use model::{
    parameters::{FormError, ParameterForm},
    text::without_position,
};
use secrecy::SecretString;
use serde_json::{Map, Value};

use super::{CatalogError, Manifest};

/// The largest service file k8x reads.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

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
    /// Reads the directory `dir`, naming files as `label/<file>` in errors.
    pub fn read(dir: &Path, label: &str) -> Result<Self, CatalogError> {
        let name = |file: &str| format!("{label}/{file}");
        let manifest_json = read(dir, "manifest.json", &name)?
            .ok_or_else(|| CatalogError::new(name("manifest.json"), "the file is missing"))?;
        let manifest = Manifest::parse(&name("manifest.json"), &manifest_json)?;
        let deployment_yaml = read(dir, "deployment.yaml", &name)?
            .ok_or_else(|| CatalogError::new(name("deployment.yaml"), "the file is missing"))?;
        parse_job(&name("deployment.yaml"), &deployment_yaml)?;
        let parameters_json = read(dir, "parameters.json", &name)?;
        if let Some(json) = &parameters_json {
            parse_parameters(&name("parameters.json"), json)?;
        }
        let configs =
            read(dir, "configs.json", &name)?.map(|json| parse_configs(&name("configs.json"), &json)).transpose()?;
        let secrets =
            read(dir, "secrets.json", &name)?.map(|json| parse_secrets(&name("secrets.json"), &json)).transpose()?;
        Ok(Self { manifest, manifest_json, deployment_yaml, parameters_json, configs, secrets })
    }
}

fn read(dir: &Path, file: &str, name: &dyn Fn(&str) -> String) -> Result<Option<String>, CatalogError> {
    let path = dir.join(file);
    let meta = match std::fs::metadata(&path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(CatalogError::new(name(file), e.to_string())),
    };
    if !meta.is_file() {
        return Err(CatalogError::new(name(file), "is not a regular file"));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(CatalogError::new(
            name(file),
            format!("is {} bytes; at most {MAX_FILE_BYTES} are read", meta.len()),
        ));
    }
    let bytes = std::fs::read(&path).map_err(|e| CatalogError::new(name(file), e.to_string()))?;
    String::from_utf8(bytes).map(Some).map_err(|_| CatalogError::new(name(file), "is not UTF-8 text"))
}

/// Parses `deployment.yaml` as a `batch/v1` Job with at least one container.
pub fn parse_job(file: &str, yaml: &str) -> Result<Job, CatalogError> {
    let doc: Value = serde_yaml_ng::from_str(yaml).map_err(|e| yaml_error(file, &e))?;
    let api_version = doc.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
    let kind = doc.get("kind").and_then(Value::as_str).unwrap_or_default();
    if api_version != "batch/v1" {
        return Err(CatalogError::new(file, format!("`{api_version}` is not `batch/v1`")).field("apiVersion"));
    }
    if kind != "Job" {
        return Err(CatalogError::new(file, format!("`{kind}` is not `Job`")).field("kind"));
    }
    let job: Job = serde_yaml_ng::from_str(yaml).map_err(|e| yaml_error(file, &e))?;
    let containers = job.spec.as_ref().and_then(|s| s.template.spec.as_ref()).map(|p| p.containers.len());
    if containers.unwrap_or(0) == 0 {
        return Err(CatalogError::new(file, "the Job has no containers").field("spec.template.spec.containers"));
    }
    Ok(job)
}

fn yaml_error(file: &str, e: &serde_yaml_ng::Error) -> CatalogError {
    let err = CatalogError::new(file, without_position(&e.to_string()));
    match e.location() {
        Some(at) => err.line(at.line()),
        None => err,
    }
}

fn json_error(file: &str, e: &serde_json::Error) -> CatalogError {
    CatalogError::new(file, without_position(&e.to_string())).line(e.line())
}

/// Parses `parameters.json`.
pub fn parse_parameters(file: &str, json: &str) -> Result<ParameterForm, CatalogError> {
    ParameterForm::parse(json).map_err(|e| match e {
        FormError::Syntax { line, message, .. } => CatalogError::new(file, message).line(line),
        FormError::Field { field, message } => CatalogError::new(file, message).field(format!("fields.{field}")),
    })
}

/// Parses `configs.json`: any JSON object.
pub fn parse_configs(file: &str, json: &str) -> Result<Map<String, Value>, CatalogError> {
    match serde_json::from_str::<Value>(json).map_err(|e| json_error(file, &e))? {
        Value::Object(map) => Ok(map),
        _ => Err(CatalogError::new(file, "must be a JSON object")),
    }
}

/// Parses `secrets.json`: a flat object; numbers and booleans are taken as their text.
pub fn parse_secrets(file: &str, json: &str) -> Result<BTreeMap<String, SecretString>, CatalogError> {
    let Value::Object(map) = serde_json::from_str::<Value>(json).map_err(|e| json_error(file, &e))? else {
        return Err(CatalogError::new(file, "must be a flat JSON object"));
    };
    map.into_iter()
        .map(|(key, value)| match value {
            _ if !super::is_env_name(&key) => Err(CatalogError::new(
                file,
                "a secret's name becomes an environment variable: use letters, digits and `_`, not starting with a digit",
            )
            .field(key)),
            Value::String(s) => Ok((key, s.into())),
            Value::Number(_) | Value::Bool(_) => Ok((key, value.to_string().into())),
            _ => Err(CatalogError::new(file, "a secret must be a string, number or boolean").field(key)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    const SEED_JOB: &str = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: hello-world\nspec:\n  template:\n    spec:\n      containers:\n        - name: hello-alpine\n          image: frolvlad/alpine-bash\n          command: [ \"/bin/bash\", \"-c\" ]\n          args: [ \"echo BEGIN; env; echo DONE!\" ]\n      restartPolicy: Never\n";

    #[test]
    fn the_seed_job_parses() {
        let job = parse_job("d.yaml", SEED_JOB).unwrap();
        let containers = &job.spec.unwrap().template.spec.unwrap().containers;
        assert_eq!(containers[0].command.as_deref(), Some(&["/bin/bash".to_owned(), "-c".to_owned()][..]));
    }

    #[test]
    fn broken_jobs_are_named() {
        let err = parse_job("d.yaml", "apiVersion: batch/v1\nkind: Job\nspec: [\n").unwrap_err();
        assert!(err.line.is_some(), "{err}");
        let err = parse_job("d.yaml", "apiVersion: apps/v1\nkind: Deployment\n").unwrap_err();
        assert_eq!(err.field.as_deref(), Some("apiVersion"));
        let err = parse_job(
            "d.yaml",
            "apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    spec:\n      containers: []\n",
        );
        assert_eq!(err.unwrap_err().field.as_deref(), Some("spec.template.spec.containers"));
        let err = parse_job("d.yaml", "apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    spec:\n      containers:\n        - image: 5\n          name: [1]\n");
        assert!(err.is_err());
        let err = parse_job("d.yaml", "apiVersion: batch/v1\nkind: Job\nspec:\n  parallelism: lots\n").unwrap_err();
        assert_eq!(err.line, Some(4), "{err}");
        assert!(!err.message.contains("at line"), "the position is not repeated: {err}");
    }

    #[test]
    fn secrets_must_be_flat() {
        let parsed = parse_secrets("s.json", r#"{"A": "x-value", "N": 3}"#).unwrap();
        assert_eq!(parsed["N"].expose_secret(), "3");
        assert!(!format!("{parsed:?}").contains("x-value"), "Debug never shows a secret value");
        let err = parse_secrets("s.json", r#"{"A": {"b": 1}}"#).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("A"));
        let err = parse_secrets("s.json", r#"{"api-key": "x"}"#).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("api-key"));
        assert!(parse_configs("c.json", "[1]").is_err());
        assert_eq!(parse_configs("c.json", "{\n\"a\": }").unwrap_err().line, Some(2));
    }
}
