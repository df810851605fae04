//! `deployment.yaml`: a standard `batch/v1` Job with at least one container.

use k8s_openapi::api::batch::v1::Job;
use serde_json::Value;

use super::{
    locate::Step,
    problems::{self, yaml_error, Problems, Syntax},
    CatalogError,
};

/// Parses `deployment.yaml`; stops at the first problem: see [`check_job`].
pub fn parse_job(file: &str, yaml: &str) -> Result<Job, CatalogError> {
    check_job(file, yaml).map_err(|all| problems::first(file, all))
}

/// Parses `deployment.yaml` as a `batch/v1` Job with at least one container, and reports every problem.
pub fn check_job(file: &str, yaml: &str) -> Result<Job, Vec<CatalogError>> {
    let doc: Value = serde_yaml_ng::from_str(yaml).map_err(|e| vec![typed_error(file, &e)])?;
    let mut problems = Problems::new(file, yaml, Syntax::Yaml);
    for (field, wanted) in [("apiVersion", "batch/v1"), ("kind", "Job")] {
        match doc.get(field) {
            None => problems.at(&[Step::Key(field)], field, format!("is missing; a Job has `{field}: {wanted}`")),
            Some(value) if value.as_str() != Some(wanted) => {
                let written = value.as_str().map_or_else(|| value.to_string(), str::to_owned);
                problems.at(&[Step::Key(field)], field, format!("`{written}` is not `{wanted}`"));
            }
            Some(_) => {}
        }
    }
    if !problems.is_empty() {
        // Not a Job: what else it gets wrong as one would only be noise.
        return Err(problems.into_vec());
    }
    let job: Job = serde_yaml_ng::from_str(yaml).map_err(|e| vec![typed_error(file, &e)])?;
    let containers = job.spec.as_ref().and_then(|s| s.template.spec.as_ref()).map(|p| p.containers.len());
    if containers.unwrap_or(0) == 0 {
        let path = ["spec", "template", "spec", "containers"].map(Step::Key);
        problems.at(&path, "spec.template.spec.containers", "the Job has no containers");
    }
    problems.result(job)
}

/// A YAML error, with the field serde_yaml_ng puts before its message (`spec.parallelism: invalid type…`)
/// moved to where a field goes.
fn typed_error(file: &str, e: &serde_yaml_ng::Error) -> CatalogError {
    let mut problem = yaml_error(file, e);
    let field = problem.message.split_once(": ").filter(|(path, _)| {
        !path.is_empty() && path.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '[' | ']'))
    });
    if let Some((path, rest)) = field {
        (problem.field, problem.message) = (Some(path.to_owned()), rest.to_owned());
    }
    problem
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED_JOB: &str = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: hello-world\nspec:\n  template:\n    spec:\n      containers:\n        - name: hello-alpine\n          image: frolvlad/alpine-bash\n          command: [ \"/bin/bash\", \"-c\" ]\n          args: [ \"echo BEGIN; env; echo DONE!\" ]\n      restartPolicy: Never\n";

    #[test]
    fn the_seed_job_parses() {
        let job = parse_job("d.yaml", SEED_JOB).unwrap();
        let containers = &job.spec.unwrap().template.spec.unwrap().containers;
        assert_eq!(containers[0].command.as_deref(), Some(&["/bin/bash".to_owned(), "-c".to_owned()][..]));
    }

    #[test]
    fn broken_jobs_are_named_and_placed() {
        let err = parse_job("d.yaml", "apiVersion: batch/v1\nkind: Job\nspec: [\n").unwrap_err();
        assert!(err.line.is_some() && err.column.is_some(), "{err}");

        let all = check_job("d.yaml", "apiVersion: apps/v1\nkind: Deployment\n").unwrap_err();
        let found: Vec<_> = all.iter().map(|p| (p.field.as_deref(), p.line, p.column)).collect();
        assert_eq!(found, [(Some("apiVersion"), Some(1), Some(13)), (Some("kind"), Some(2), Some(7))]);

        let all = check_job("d.yaml", "metadata: {}\n").unwrap_err();
        assert_eq!(all.len(), 2, "{all:?}");
        assert!(all[0].message.contains("is missing"), "{all:?}");

        let err = parse_job(
            "d.yaml",
            "apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    spec:\n      containers: []\n",
        )
        .unwrap_err();
        assert_eq!((err.field.as_deref(), err.line), (Some("spec.template.spec.containers"), Some(6)), "{err}");

        let err = parse_job("d.yaml", "apiVersion: batch/v1\nkind: Job\nspec:\n  template: {}\n").unwrap_err();
        assert_eq!((err.field.as_deref(), err.line), (Some("spec.template.spec.containers"), Some(4)), "{err}");

        let err = parse_job("d.yaml", "apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    spec:\n      containers:\n        - image: 5\n          name: [1]\n");
        assert!(err.is_err());

        let err = parse_job("d.yaml", "apiVersion: batch/v1\nkind: Job\nspec:\n  parallelism: lots\n").unwrap_err();
        assert_eq!((err.line, err.column), (Some(4), Some(16)), "{err}");
        assert_eq!(err.field.as_deref(), Some("spec.parallelism"), "{err}");
        assert!(!err.message.contains("at line"), "the position is not repeated: {err}");
    }
}
