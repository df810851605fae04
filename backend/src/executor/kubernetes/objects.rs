//! The objects one execution becomes: its Job, from the service's `deployment.yaml` with k8x's environment,
//! labels and defaults, and the Secret(s) holding its secret values and its payload files.
//!
//! Secret values reach the containers only through `secretKeyRef`s to the execution's Secret; the
//! parameters and the event are files in [`PAYLOAD_DIR`], mounted from a projected volume. Kubernetes caps a
//! Secret at 1 MiB, so files that do not fit beside the secret values go into further Secrets
//! (`<job>-2`, …) of the same projected volume: an event as large as ingest accepts still arrives.

use secrecy::ExposeSecret;
use std::collections::BTreeMap;

use k8s_openapi::{
    api::{
        batch::v1::Job,
        core::v1::{KeyToPath, ProjectedVolumeSource, Secret, SecretProjection, Volume, VolumeMount, VolumeProjection},
    },
    apimachinery::pkg::apis::meta::v1::ObjectMeta,
};

use super::Settings;
use crate::executor::{
    environment::{job_name, prepare_job, Payload, Placement, EVENT_FILE, PARAMS_FILE},
    Launch,
};

/// Marks every object k8x creates; the watchers select on it.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "k8x");
/// The execution an object belongs to.
pub const EXECUTION_LABEL: &str = "k8x.io/execution-id";
/// The service an object runs.
pub const SERVICE_LABEL: &str = "k8x.io/service";
/// The service's project.
pub const PROJECT_LABEL: &str = "k8x.io/project";
/// Where the containers find `params.json` and `event.json`.
pub const PAYLOAD_DIR: &str = "/var/run/k8x";
/// The projected volume mounted there.
pub const PAYLOAD_VOLUME: &str = "k8x-payload";
/// The most k8x puts in one Secret: Kubernetes refuses Secrets whose values add up to more than 1 MiB.
pub const MAX_SECRET_BYTES: usize = 1024 * 1024;

/// What one execution is created as. Its `Debug` output leaves the Secrets' contents out.
#[derive(Clone)]
pub struct Objects {
    /// The Job to create (after the Secrets).
    pub job: Job,
    /// The Secrets to create first: the first holds the secret values; all together the payload files.
    pub secrets: Vec<Secret>,
    /// Lines for the execution's log about values too large for the environment.
    pub notes: Vec<String>,
}

impl std::fmt::Debug for Objects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secrets: Vec<String> = self.secrets.iter().map(|s| s.metadata.name.clone().unwrap_or_default()).collect();
        f.debug_struct("Objects").field("job", &self.job).field("secrets", &secrets).finish()
    }
}

/// Builds the Job and its Secrets for `launch`.
pub fn objects(launch: &Launch, settings: &Settings) -> Objects {
    let name = job_name(&launch.service.name, &launch.execution_id, launch.attempt);
    let payload = Payload::of(launch);
    let placement = Placement { secret: name.clone(), payload_dir: PAYLOAD_DIR.into() };
    let labels = labels(launch);
    let secrets = secrets(&name, &settings.namespace, &labels, launch, &payload);
    let mut job = prepare_job(launch, &payload, &placement);
    job.metadata = ObjectMeta {
        name: Some(name),
        namespace: Some(settings.namespace.clone()),
        labels: Some(merged(job.metadata.labels.take(), &labels)),
        annotations: job.metadata.annotations.take(),
        ..ObjectMeta::default()
    };
    let spec = job.spec.get_or_insert_with(Default::default);
    spec.backoff_limit.get_or_insert(settings.backoff_limit);
    spec.active_deadline_seconds.get_or_insert(settings.deadline_seconds);
    spec.ttl_seconds_after_finished.get_or_insert(settings.job_ttl_seconds);
    let template = spec.template.metadata.get_or_insert_with(Default::default);
    template.labels = Some(merged(template.labels.take(), &labels));
    if let Some(pod) = spec.template.spec.as_mut() {
        pod.restart_policy.get_or_insert_with(|| "Never".into());
        pod.volumes.get_or_insert_with(Vec::new).push(payload_volume(&secrets));
        let init = pod.init_containers.iter_mut().flatten();
        for container in pod.containers.iter_mut().chain(init) {
            container.volume_mounts.get_or_insert_with(Vec::new).push(VolumeMount {
                name: PAYLOAD_VOLUME.into(),
                mount_path: PAYLOAD_DIR.into(),
                read_only: Some(true),
                ..VolumeMount::default()
            });
        }
    }
    Objects { job, secrets, notes: payload.notes() }
}

/// The labels on the Job, its pods and its Secrets.
pub fn labels(launch: &Launch) -> BTreeMap<String, String> {
    BTreeMap::from([
        (MANAGED_BY.0.to_owned(), MANAGED_BY.1.to_owned()),
        (SERVICE_LABEL.to_owned(), label_value(&launch.service.name)),
        (PROJECT_LABEL.to_owned(), label_value(&launch.service.project)),
        (EXECUTION_LABEL.to_owned(), label_value(&launch.execution_id)),
    ])
}

/// `text` as a valid label value: at most 63 of `[A-Za-z0-9_.-]`, starting and ending alphanumeric.
pub fn label_value(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' })
        .take(63)
        .collect();
    cleaned.trim_matches(|c: char| !c.is_ascii_alphanumeric()).to_owned()
}

fn merged(own: Option<BTreeMap<String, String>>, ours: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut labels = own.unwrap_or_default();
    labels.extend(ours.iter().map(|(k, v)| (k.clone(), v.clone())));
    labels
}

/// The execution's Secrets: secret values first, then the payload files, a new Secret whenever the next
/// file would not fit.
fn secrets(
    name: &str,
    namespace: &str,
    labels: &BTreeMap<String, String>,
    launch: &Launch,
    payload: &Payload,
) -> Vec<Secret> {
    let secrets = &launch.service.secrets;
    let values = secrets.iter().map(|(key, value)| (key.clone(), value.expose_secret().to_owned()));
    let mut contents: Vec<BTreeMap<String, String>> = vec![values.collect()];
    let mut size: usize = secrets.values().map(|value| value.expose_secret().len()).sum();
    for (file, text) in [(PARAMS_FILE, &payload.params), (EVENT_FILE, &payload.event)] {
        if size + text.len() > MAX_SECRET_BYTES && size > 0 {
            contents.push(BTreeMap::new());
            size = 0;
        }
        size += text.len();
        contents.last_mut().expect("never empty").insert(file.to_owned(), text.clone());
    }
    contents
        .into_iter()
        .enumerate()
        .map(|(i, data)| Secret {
            metadata: ObjectMeta {
                name: Some(if i == 0 { name.to_owned() } else { format!("{name}-{}", i + 1) }),
                namespace: Some(namespace.to_owned()),
                labels: Some(labels.clone()),
                ..ObjectMeta::default()
            },
            type_: Some("Opaque".into()),
            string_data: Some(data),
            ..Secret::default()
        })
        .collect()
}

/// One directory with the payload files, wherever each Secret holds them.
fn payload_volume(secrets: &[Secret]) -> Volume {
    let sources = secrets
        .iter()
        .filter_map(|secret| {
            let files: Vec<KeyToPath> = secret
                .string_data
                .iter()
                .flatten()
                .filter(|(key, _)| *key == PARAMS_FILE || *key == EVENT_FILE)
                .map(|(key, _)| KeyToPath { key: key.clone(), path: key.clone(), mode: Some(0o444) })
                .collect();
            (!files.is_empty()).then(|| VolumeProjection {
                secret: Some(SecretProjection {
                    name: secret.metadata.name.clone().unwrap_or_default(),
                    items: Some(files),
                    optional: Some(false),
                }),
                ..VolumeProjection::default()
            })
        })
        .collect();
    Volume {
        name: PAYLOAD_VOLUME.into(),
        projected: Some(ProjectedVolumeSource { sources: Some(sources), default_mode: None }),
        ..Volume::default()
    }
}
