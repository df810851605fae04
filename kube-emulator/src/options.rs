//! What a test (or the binary's flags) can choose about an emulator before it starts, and the one kind of
//! scripted failure it can inject afterwards.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// How an emulator behaves; everything here is fixed for its lifetime.
#[derive(Clone, Debug)]
pub struct Options {
    /// Where pod working directories and materialised volumes go.
    pub work_dir: PathBuf,
    /// Permissions a SelfSubjectAccessReview answers "not allowed" for, as (verb, resource) e.g.
    /// ("get", "pods/log"), ("create", "secrets").
    pub denied: Vec<(String, String)>,
    /// Images that cannot be pulled (besides any image whose name contains "does-not-exist").
    pub unpullable_images: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self { work_dir: std::env::temp_dir().join("kube-emulator"), denied: Vec::new(), unpullable_images: Vec::new() }
    }
}

impl Options {
    /// True when the kubelet must fail to pull `image`.
    pub(crate) fn is_unpullable(&self, image: &str) -> bool {
        image.contains("does-not-exist") || self.unpullable_images.iter().any(|i| i == image)
    }

    /// True when a SelfSubjectAccessReview for `verb` on `resource` (with `/subresource` if any) is denied.
    pub(crate) fn is_denied(&self, verb: &str, resource: &str) -> bool {
        self.denied.iter().any(|(v, r)| v == verb && r == resource)
    }
}

/// A scripted failure: the next `times` API requests whose method is `method` and whose path contains
/// `path_contains` are answered with `status` (and a Kubernetes `Status` body) instead of being handled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    /// HTTP method to match, e.g. "POST" (compared case-insensitively).
    pub method: String,
    /// Substring the request path must contain, e.g. "/jobs".
    pub path_contains: String,
    /// Status code to answer with, e.g. 429, 500, 503.
    pub status: u16,
    /// How many matching requests fail before the fault is used up.
    pub times: u32,
}
