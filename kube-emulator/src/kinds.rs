//! The resource kinds the emulator serves and the names Kubernetes gives each of them in URLs, objects,
//! lists and error messages.

use std::fmt;

/// One served kind. Everything else answers 404, as a server without that API would.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Pod,
    Secret,
    ConfigMap,
    Event,
    Job,
}

impl Kind {
    /// Every served kind, for searches across kinds (garbage collection by owner uid).
    pub const ALL: [Kind; 5] = [Kind::Pod, Kind::Secret, Kind::ConfigMap, Kind::Event, Kind::Job];

    /// The plural resource name used in URLs: `pods`, `jobs`.
    pub fn resource(self) -> &'static str {
        match self {
            Kind::Pod => "pods",
            Kind::Secret => "secrets",
            Kind::ConfigMap => "configmaps",
            Kind::Event => "events",
            Kind::Job => "jobs",
        }
    }

    /// The `kind` field of an object: `Pod`, `Job`.
    pub fn kind(self) -> &'static str {
        match self {
            Kind::Pod => "Pod",
            Kind::Secret => "Secret",
            Kind::ConfigMap => "ConfigMap",
            Kind::Event => "Event",
            Kind::Job => "Job",
        }
    }

    /// The API group, empty for core.
    pub fn group(self) -> &'static str {
        match self {
            Kind::Job => "batch",
            _ => "",
        }
    }

    /// The `apiVersion` field: `v1` or `batch/v1`.
    pub fn api_version(self) -> &'static str {
        match self {
            Kind::Job => "batch/v1",
            _ => "v1",
        }
    }

    /// The `kind` of a list response: `PodList`.
    pub fn list_kind(self) -> String {
        format!("{}List", self.kind())
    }

    /// The resource as error messages name it: `pods`, `jobs.batch`.
    pub fn qualified(self) -> String {
        match self.group() {
            "" => self.resource().to_owned(),
            group => format!("{}.{group}", self.resource()),
        }
    }

    /// Whether the kind has a `status` that only its subresource (or the emulator's controllers) may write.
    pub fn has_status(self) -> bool {
        matches!(self, Kind::Pod | Kind::Job)
    }

    /// The kind a URL names, from its group/version (`v1`, `batch/v1`) and resource.
    pub fn from_path(group_version: &str, resource: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.api_version() == group_version && k.resource() == resource)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind())
    }
}
