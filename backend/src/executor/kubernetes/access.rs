//! The start-up check: can k8x reach the API, and may it do everything it needs in its namespace? One
//! SelfSubjectAccessReview per (verb, resource); a missing permission stops k8x at start with its name,
//! instead of failing on the first event.

use k8s_openapi::api::authorization::v1::{ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec};
use kube::{api::PostParams, Api, Client};

use super::KubeError;

/// What the executor does: (API group, resource, subresource, verbs).
pub const NEEDED: &[(&str, &str, &str, &[&str])] = &[
    ("batch", "jobs", "", &["create", "get", "list", "watch", "delete"]),
    ("", "pods", "", &["get", "list", "watch"]),
    ("", "pods", "log", &["get"]),
    ("", "secrets", "", &["create", "get", "patch"]),
];

/// Asks the API server about every permission in [`NEEDED`]; the error lists each one refused.
pub async fn check(client: &Client, namespace: &str) -> Result<(), KubeError> {
    let api: Api<SelfSubjectAccessReview> = Api::all(client.clone());
    let mut missing = Vec::new();
    for (group, resource, subresource, verbs) in NEEDED {
        for verb in *verbs {
            let review = SelfSubjectAccessReview {
                spec: SelfSubjectAccessReviewSpec {
                    resource_attributes: Some(ResourceAttributes {
                        namespace: Some(namespace.to_owned()),
                        verb: Some((*verb).to_owned()),
                        group: Some((*group).to_owned()),
                        resource: Some((*resource).to_owned()),
                        subresource: (!subresource.is_empty()).then(|| (*subresource).to_owned()),
                        ..ResourceAttributes::default()
                    }),
                    ..SelfSubjectAccessReviewSpec::default()
                },
                ..SelfSubjectAccessReview::default()
            };
            // No retries: at start-up an API that does not answer is reported at once.
            let answer = api
                .create(&PostParams::default(), &review)
                .await
                .map_err(|source| KubeError::Unreachable { source })?;
            if !answer.status.is_some_and(|s| s.allowed) {
                let what =
                    if subresource.is_empty() { (*resource).to_owned() } else { format!("{resource}/{subresource}") };
                missing.push(format!("{verb} {what}"));
            }
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(KubeError::Forbidden { namespace: namespace.to_owned(), missing })
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::rbac::v1::Role;
    use serde::Deserialize;

    use super::NEEDED;

    #[test]
    fn the_rbac_manifest_grants_every_permission_the_start_up_check_asks_for() {
        let manifest = include_str!("../../../../deploy/kubernetes/rbac.yaml");
        let role = serde_yaml_ng::Deserializer::from_str(manifest)
            .map(serde_yaml_ng::Value::deserialize)
            .map(Result::unwrap)
            .find(|doc| doc["kind"] == "Role")
            .map(|doc| serde_yaml_ng::from_value::<Role>(doc).unwrap())
            .expect("the manifest has a Role");
        assert_eq!(role.metadata.namespace.as_deref(), Some("k8x-jobs"));
        let rules = role.rules.unwrap_or_default();
        for (group, resource, subresource, verbs) in NEEDED {
            let name =
                if subresource.is_empty() { (*resource).to_owned() } else { format!("{resource}/{subresource}") };
            for verb in *verbs {
                let granted = rules.iter().any(|rule| {
                    rule.api_groups.iter().flatten().any(|g| g == group)
                        && rule.resources.iter().flatten().any(|r| *r == name)
                        && rule.verbs.iter().any(|v| v == verb)
                });
                assert!(granted, "deploy/kubernetes/rbac.yaml does not grant `{verb} {name}`");
            }
        }
    }
}
