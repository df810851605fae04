//! The problems of one file: collected, placed at their line and column, and bounded in number.

use model::text::without_position;

use super::{
    locate::{self, Step},
    CatalogError,
};

/// At most this many problems are listed per file: placing each one reads the file again, and a hostile
/// file could hold thousands.
const MAX_PER_FILE: usize = 50;

/// The language of a file, for placing its problems.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Syntax {
    Json,
    Yaml,
}

/// The problems found in one file so far.
pub(crate) struct Problems<'a> {
    /// The file's name in problems (`hello/manifest.json`).
    file: &'a str,
    /// Its text, read again to place each problem.
    text: &'a str,
    syntax: Syntax,
    listed: Vec<CatalogError>,
    /// Problems past [`MAX_PER_FILE`]: counted, not listed.
    unlisted: usize,
}

impl<'a> Problems<'a> {
    pub fn new(file: &'a str, text: &'a str, syntax: Syntax) -> Self {
        Self { file, text, syntax, listed: Vec::new(), unlisted: 0 }
    }

    /// A problem with the field at `path`, named `field`, placed at it (or, when it is not there, at the
    /// nearest enclosing field that is).
    pub fn at(&mut self, path: &[Step<'_>], field: impl Into<String>, message: impl Into<String>) {
        if self.listed.len() >= MAX_PER_FILE {
            self.unlisted += 1;
            return;
        }
        let position = (1..=path.len()).rev().find_map(|len| match self.syntax {
            Syntax::Json => locate::in_json(self.text, &path[..len]),
            Syntax::Yaml => locate::in_yaml(self.text, &path[..len]),
        });
        let problem = CatalogError::new(self.file, message).field(field);
        self.push(match position {
            Some((line, column)) => problem.line(line).column(column),
            None => problem,
        });
    }

    /// A problem already made (a syntax error, which carries its own position).
    pub fn push(&mut self, problem: CatalogError) {
        if self.listed.len() >= MAX_PER_FILE {
            self.unlisted += 1;
        } else {
            self.listed.push(problem);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.listed.is_empty()
    }

    /// `value` if no problem was found, else every problem.
    pub fn result<T>(self, value: T) -> Result<T, Vec<CatalogError>> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self.into_vec())
        }
    }

    /// Every problem in the order of the file (those without a place last), the unlisted ones counted in a
    /// last one.
    pub fn into_vec(mut self) -> Vec<CatalogError> {
        self.listed.sort_by_key(|p| (p.line.is_none(), p.line, p.column));
        if self.unlisted > 0 {
            let more = format!("{} more problems in this file are not listed", self.unlisted);
            self.listed.push(CatalogError::new(self.file, more));
        }
        self.listed
    }
}

/// The first of a file's problems, for the callers that stop at one.
pub(crate) fn first(file: &str, problems: Vec<CatalogError>) -> CatalogError {
    problems.into_iter().next().unwrap_or_else(|| CatalogError::new(file, "is not valid"))
}

/// A JSON syntax or shape error, at the line and column serde_json gives.
pub(crate) fn json_error(file: &str, e: &serde_json::Error) -> CatalogError {
    let problem = CatalogError::new(file, without_position(&e.to_string()));
    match (e.line(), e.column()) {
        (0, _) => problem,
        (line, 0) => problem.line(line),
        (line, column) => problem.line(line).column(column),
    }
}

/// A YAML syntax or shape error, at the line and column serde_yaml_ng gives.
pub(crate) fn yaml_error(file: &str, e: &serde_yaml_ng::Error) -> CatalogError {
    let problem = CatalogError::new(file, without_position(&e.to_string()));
    match e.location() {
        Some(at) => problem.line(at.line()).column(at.column()),
        None => problem,
    }
}

/// `value` as a `T`, or serde's reason why not (without a position: the caller places it).
pub(crate) fn typed<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, String> {
    serde_json::from_value(value).map_err(|e| without_position(&e.to_string()).to_owned())
}
