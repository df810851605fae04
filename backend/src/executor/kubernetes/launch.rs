//! Creating an execution's objects, safely repeatable: the Secrets first, then the Job, then the Secrets
//! are given to the Job (an ownerReference, so Kubernetes deletes them with it). Names derive from the
//! execution, so a second attempt — a retry, a redelivered event, a restart half-way — finds what the first
//! created (409) and carries on, never making a second Job.

use k8s_openapi::{
    api::{batch::v1::Job, core::v1::Secret},
    apimachinery::pkg::apis::meta::v1::OwnerReference,
};
use kube::{
    api::{Patch, PatchParams, PostParams},
    Api, Resource, ResourceExt,
};
use serde_json::json;

use super::{objects::Objects, retry};

/// Creates (or finds) everything; an error is final and says what Kubernetes refused. `created` hears of
/// the Job as soon as it exists, before its Secrets are given to it, so that the Job's existence is recorded
/// at once.
pub async fn ensure(
    jobs: &Api<Job>,
    secrets: &Api<Secret>,
    objects: &Objects,
    created: impl FnOnce(&Job),
) -> Result<Job, String> {
    let post = PostParams::default();
    for secret in &objects.secrets {
        match retry::call("create a Secret", || secrets.create(&post, secret)).await {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.is_already_exists() => {}
            Err(err) => return Err(retry::explain("create the execution's Secret", &err)),
        }
    }
    let name = objects.job.name_any();
    let job = match retry::call("create a Job", || jobs.create(&post, &objects.job)).await {
        Ok(job) => job,
        Err(kube::Error::Api(status)) if status.is_already_exists() => {
            tracing::info!(job = %name, "the Job exists already: launched before");
            retry::call("read a Job", || jobs.get(&name)).await.map_err(|e| retry::explain("read the Job", &e))?
        }
        Err(err) => return Err(retry::explain("create the Job", &err)),
    };
    created(&job);
    // The Job runs whatever happens next: a Secret that cannot be given to it is reported, not fatal.
    if let Err(why) = own(secrets, objects, &job).await {
        tracing::warn!(job = %name, %why, "the execution's Secret outlives its Job");
    }
    Ok(job)
}

/// Gives the execution's Secrets to its Job (an ownerReference), so that Kubernetes deletes them with it.
/// Repeatable: the patch sets the same reference again.
pub async fn own(secrets: &Api<Secret>, objects: &Objects, job: &Job) -> Result<(), String> {
    let patch = Patch::Merge(json!({"metadata": {"ownerReferences": [owner_of(job)]}}));
    let params = PatchParams::default();
    for secret in &objects.secrets {
        let secret_name = secret.name_any();
        retry::call("give a Secret to its Job", || secrets.patch(&secret_name, &params, &patch))
            .await
            .map_err(|e| retry::explain("give the execution's Secret to its Job", &e))?;
    }
    Ok(())
}

/// A reference to `job` as the owner of its Secrets.
fn owner_of(job: &Job) -> OwnerReference {
    OwnerReference {
        api_version: Job::api_version(&()).into_owned(),
        kind: Job::kind(&()).into_owned(),
        name: job.name_any(),
        uid: job.uid().unwrap_or_default(),
        controller: Some(false),
        // Not blocking: that would need `update jobs/finalizers` on clusters that check it, for no gain here.
        block_owner_deletion: None,
    }
}
