//! The secrets and configs a service's containers get: set for the platform, for its project, in its own
//! files (`secrets.json`, `configs.json`), and set for the service by an admin — each later one winning over
//! the earlier for the same key (service beats project beats platform; an admin's value for the service beats
//! its files). Resolved at each launch, so a change applies to the next run without a sync.

use std::collections::BTreeMap;

use secrecy::SecretString;
use serde_json::{Map, Value};

use crate::{
    service::ServiceSpec,
    store::{entities::scoped_value, Store, StoreError, ValueKind},
};

/// `spec` with the values set for its platform, project and service.
pub async fn resolve(store: &Store, mut spec: ServiceSpec) -> Result<ServiceSpec, StoreError> {
    let values = store.values_for(&spec.project, &spec.name).await?;
    apply(&mut spec, values);
    Ok(spec)
}

/// Merges `values` (any scopes, any order) into `spec`'s own configs and secrets.
pub fn apply(spec: &mut ServiceSpec, values: Vec<scoped_value::Model>) {
    if values.is_empty() {
        return;
    }
    let rank = |scope: &str| match scope {
        "platform" => 0,
        "project" => 1,
        _ => 3,
    };
    let mut configs: Vec<(u8, String, Value)> = Vec::new();
    let mut secrets: Vec<(u8, String, SecretString)> = Vec::new();
    for row in values {
        if row.kind == ValueKind::Secret.as_str() {
            secrets.push((rank(&row.scope), row.key, row.value.into()));
        } else {
            let value = serde_json::from_str(&row.value).unwrap_or(Value::String(row.value));
            configs.push((rank(&row.scope), row.key, value));
        }
    }
    // The files rank 2: between the project's and the service's admin-set values.
    configs.extend(std::mem::take(&mut spec.configs).into_iter().map(|(k, v)| (2, k, v)));
    secrets.extend(std::mem::take(&mut spec.secrets).into_iter().map(|(k, v)| (2, k, v)));
    configs.sort_by_key(|(rank, _, _)| *rank);
    secrets.sort_by_key(|(rank, _, _)| *rank);
    spec.configs = configs.into_iter().map(|(_, k, v)| (k, v)).collect::<Map<String, Value>>();
    spec.secrets = secrets.into_iter().map(|(_, k, v)| (k, v)).collect::<BTreeMap<String, SecretString>>();
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    fn value(scope: &str, kind: ValueKind, key: &str, value: &str) -> scoped_value::Model {
        scoped_value::Model {
            scope: scope.into(),
            owner: String::new(),
            kind: kind.as_str().into(),
            key: key.into(),
            value: value.into(),
            updated_by: "admin".into(),
            updated_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn service_beats_project_beats_platform_and_an_admin_beats_the_files() {
        let mut spec = crate::catalog::read_service(&crate::executor::environment::tests::service_row()).unwrap();
        spec.secrets = BTreeMap::from([("FILE".to_owned(), "from-file".into()), ("BOTH".to_owned(), "file".into())]);
        spec.configs = Map::from_iter([("REGION".to_owned(), Value::from("file-region"))]);
        apply(
            &mut spec,
            vec![
                value("service", ValueKind::Secret, "BOTH", "admin"),
                value("platform", ValueKind::Secret, "TOKEN", "platform"),
                value("project", ValueKind::Secret, "TOKEN", "project"),
                value("platform", ValueKind::Secret, "ONLY_PLATFORM", "p"),
                value("platform", ValueKind::Config, "REGION", "\"platform-region\""),
                value("project", ValueKind::Config, "LIMIT", "5"),
            ],
        );
        let secret = |k: &str| spec.secrets[k].expose_secret().to_owned();
        assert_eq!(secret("TOKEN"), "project");
        assert_eq!(secret("BOTH"), "admin");
        assert_eq!(secret("FILE"), "from-file");
        assert_eq!(secret("ONLY_PLATFORM"), "p");
        assert_eq!(spec.configs["REGION"], "file-region", "the service's own file beats the platform");
        assert_eq!(spec.configs["LIMIT"], 5, "configs keep their JSON type");
        assert!(!format!("{spec:?}").contains("admin\""), "Debug shows no secret value");
    }
}
