//! Loading a project directory into the store.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
};

use chrono::Utc;
use secrecy::ExposeSecret;

use super::{files::ServiceFiles, CatalogError};
use crate::store::{entities::service, Store, StoreError};

/// What a load did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LoadReport {
    /// Names of the services loaded.
    pub loaded: Vec<String>,
    /// Services skipped, and why.
    pub problems: Vec<CatalogError>,
    /// How many services of the project were removed because they are no longer there (or no longer load).
    pub removed: u64,
}

/// Loads every service directory (a subdirectory with a `manifest.json`) of `dir` as project `project`, and
/// removes the project's services that are gone: the project is what the directory holds now.
pub async fn load_project(store: &Store, dir: &Path, project: &str) -> Result<LoadReport, StoreError> {
    let mut report = LoadReport::default();
    let mut entries: Vec<_> = match std::fs::read_dir(dir) {
        Ok(entries) => entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_dir()).collect(),
        Err(e) => {
            report.problems.push(CatalogError::new(dir.display().to_string(), e.to_string()));
            return Ok(report);
        }
    };
    entries.sort();
    let mut names = BTreeSet::new();
    for path in entries.iter().filter(|p| p.join("manifest.json").exists()) {
        let label = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let files = match ServiceFiles::read(path, &label) {
            Ok(files) => files,
            Err(problem) => {
                report.problems.push(problem);
                continue;
            }
        };
        let name = files.manifest.name.as_str().to_owned();
        if !names.insert(name.clone()) {
            report.problems.push(
                CatalogError::new(
                    format!("{label}/manifest.json"),
                    format!("another service is already named `{name}`"),
                )
                .field("name"),
            );
            continue;
        }
        store.upsert_service(to_row(files, project)).await?;
        report.loaded.push(name);
    }
    report.removed = store.remove_services_except(project, &report.loaded).await?;
    Ok(report)
}

fn to_row(files: ServiceFiles, project: &str) -> service::Model {
    let m = &files.manifest;
    let strings = |items: Vec<String>| serde_json::Value::from(items).to_string();
    service::Model {
        name: m.name.as_str().to_owned(),
        project: project.to_owned(),
        kind: super::Manifest::KIND.to_owned(),
        description: m.description.clone(),
        active: m.active,
        allow_manual_triggering: m.allow_manual_triggering,
        trigger_events: serde_json::to_string(&m.trigger_events).unwrap_or_else(|_| "[]".into()),
        tags: strings(m.tags.clone()),
        manifest: files.manifest_json,
        deployment: files.deployment_yaml,
        parameters: files.parameters_json,
        configs: files.configs.map(|c| serde_json::Value::Object(c).to_string()),
        secrets: files.secrets.map(|secrets| {
            let plain: BTreeMap<&String, &str> = secrets.iter().map(|(k, v)| (k, v.expose_secret())).collect();
            serde_json::to_string(&plain).unwrap_or_default()
        }),
        updated_at: Utc::now(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, service: &str, file: &str, text: &str) {
        std::fs::create_dir_all(dir.join(service)).unwrap();
        std::fs::write(dir.join(service).join(file), text).unwrap();
    }

    #[tokio::test]
    async fn good_services_load_and_broken_ones_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let job = "apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    spec:\n      containers:\n        - name: c\n          image: busybox\n          command: [\"true\"]\n";
        write(
            dir.path(),
            "good",
            "manifest.json",
            r#"{"name": "good one", "type": "k8x_job", "trigger_events": ["a.b"]}"#,
        );
        write(dir.path(), "good", "deployment.yaml", job);
        write(dir.path(), "good", "secrets.json", r#"{"TOKEN": "s3cr3t"}"#);
        write(dir.path(), "no_deploy", "manifest.json", r#"{"name": "x", "type": "k8x_job"}"#);
        write(dir.path(), "bad_params", "manifest.json", r#"{"name": "y", "type": "k8x_job"}"#);
        write(dir.path(), "bad_params", "deployment.yaml", job);
        write(
            dir.path(),
            "bad_params",
            "parameters.json",
            "{\"fields\": [\n{\"type\": \"int\", \"name\": \"n\", \"min\": 5, \"max\": 1}]}",
        );
        write(dir.path(), "not_a_service", "README", "hi");

        let store = Store::connect(&format!("sqlite://{}?mode=rwc", dir.path().join("k.db").display())).await.unwrap();
        let report = load_project(&store, dir.path(), "p").await.unwrap();
        assert_eq!(report.loaded, ["good_one"]);
        let problems: Vec<String> = report.problems.iter().map(ToString::to_string).collect();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("bad_params/parameters.json, field `fields.n`"), "{problems:?}");
        assert_eq!(problems[1], "no_deploy/deployment.yaml: the file is missing");

        let row = store.service("good_one").await.unwrap().unwrap();
        assert_eq!(row.project, "p");
        assert_eq!(row.trigger_events, r#"["a.b"]"#);

        // The directory is the truth: a service removed from it leaves the project on the next load.
        std::fs::remove_dir_all(dir.path().join("good")).unwrap();
        let report = load_project(&store, dir.path(), "p").await.unwrap();
        assert_eq!(report.removed, 1);
        assert!(store.service("good_one").await.unwrap().is_none());
    }
}
