//! The catalog: services read from their directories (`manifest.json`, `deployment.yaml`, and the optional
//! `parameters.json`, `configs.json`, `secrets.json`) and checked; [`crate::projects`] writes what a scan
//! found to the store.
//!
//! Every problem names the file, the field and, where the parser can tell, the line and column; every problem
//! of every file is reported at once, so one pass over a repository shows all there is to fix. A broken
//! service is reported and skipped; the rest of the project still loads. A `manifest.json` of a type k8x does
//! not run (FX's `python` services…) is listed as such, not refused. Repositories are not trusted: symbolic
//! links are never followed and every file read is bounded.
//!
//! ## Layout
//! - [`scan`](scan()): every service directory under a root (or the root itself), checked; names unique.
//!   `k8x validate` prints it ([`Scan::report`], in `validate.rs`).
//! - `files.rs`: one service directory's five files, each checked on its own ([`ServiceFiles`]);
//!   `read.rs` reads one of them safely (regular files only, at most 1 MB, UTF-8).
//! - `manifest.rs`: `manifest.json`; `names.rs`: the [`ServiceName`] and [`EventType`] it introduces.
//! - `job.rs` (`deployment.yaml`), `form.rs` (`parameters.json`), `values.rs` (`configs.json`,
//!   `secrets.json`).
//! - `problems.rs`: a file's problems, collected and placed; `locate.rs` finds the line and column of a
//!   field with the file's own parser.
//! - `spec.rs`: a stored service read back.

pub(crate) mod files;
mod form;
mod job;
mod locate;
mod manifest;
mod names;
mod problems;
mod read;
mod scan;
mod spec;
mod validate;
mod values;

#[cfg(test)]
mod tests;

use std::fmt;

pub use crate::service::ServiceSpec;
pub use files::ServiceFiles;
pub use manifest::{is_env_name, Manifest, Retries, Trigger};
pub use names::{EventType, ServiceName};
pub use scan::{scan, walk, NotRun, Scan, ScannedService, Walk, MAX_DEPTH};
pub use spec::read_service;

/// A problem in a service's files.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct CatalogError {
    /// The file, relative to the project (`hello/manifest.json`).
    pub file: String,
    /// The field at fault, when one is.
    pub field: Option<String>,
    /// The line in the file (from 1), when the parser knows it.
    pub line: Option<usize>,
    /// The column in that line (from 1), when the parser knows it.
    pub column: Option<usize>,
    pub message: String,
}

impl CatalogError {
    pub fn new(file: impl Into<String>, message: impl Into<String>) -> Self {
        Self { file: file.into(), field: None, line: None, column: None, message: message.into() }
    }

    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }

    pub fn column(mut self, column: usize) -> Self {
        self.column = Some(column);
        self
    }
}

impl From<&CatalogError> for model::projects::ProblemView {
    fn from(problem: &CatalogError) -> Self {
        Self {
            file: problem.file.clone(),
            field: problem.field.clone(),
            line: problem.line,
            column: problem.column,
            message: problem.message.clone(),
        }
    }
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, " line {line}")?;
            if let Some(column) = self.column {
                write!(f, " column {column}")?;
            }
        }
        if let Some(field) = &self.field {
            write!(f, ", field `{field}`")?;
        }
        write!(f, ": {}", self.message)
    }
}
