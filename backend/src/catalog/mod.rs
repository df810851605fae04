//! The catalog: services read from their directories (`manifest.json`, `deployment.yaml`, and the optional
//! `parameters.json`, `configs.json`, `secrets.json`), checked, and written to the store.
//!
//! Every problem names the file, the field and, where the parser knows it, the line. A broken service is
//! reported and skipped; the rest of the project still loads.

pub(crate) mod files;
mod load;
mod manifest;
mod spec;

use std::fmt;

pub use crate::service::ServiceSpec;
pub use load::{load_project, LoadReport};
pub use manifest::{is_env_name, EventType, Manifest, Retries, ServiceName, Trigger};
pub use spec::read_service;

/// A problem in a service's files.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct CatalogError {
    /// The file, relative to the project (`hello/manifest.json`).
    pub file: String,
    /// The field at fault, when one is.
    pub field: Option<String>,
    /// The line in the file, when the parser knows it.
    pub line: Option<usize>,
    pub message: String,
}

impl CatalogError {
    pub fn new(file: impl Into<String>, message: impl Into<String>) -> Self {
        Self { file: file.into(), field: None, line: None, message: message.into() }
    }

    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, " line {line}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ", field `{field}`")?;
        }
        write!(f, ": {}", self.message)
    }
}
