//! Query strings as the API reads them.

use std::collections::HashMap;

use crate::error::{ApiError, Result};
use crate::selectors::Selectors;

/// Decoded query parameters (the last value wins when a name repeats).
#[derive(Clone, Debug, Default)]
pub struct Query(HashMap<String, String>);

impl Query {
    /// Parses a raw query string.
    pub fn parse(raw: Option<&str>) -> Self {
        Query(form_urlencoded::parse(raw.unwrap_or("").as_bytes()).into_owned().collect())
    }

    /// A parameter's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A boolean parameter: `true` or `1`.
    pub fn flag(&self, name: &str) -> bool {
        matches!(self.get(name), Some("true" | "1"))
    }

    /// A numeric parameter; a malformed number is a 400.
    pub fn number(&self, name: &str) -> Result<Option<i64>> {
        self.get(name)
            .filter(|v| !v.is_empty())
            .map(|v| v.parse().map_err(|_| ApiError::BadRequest(format!("invalid value for {name}: {v:?}"))))
            .transpose()
    }

    /// `labelSelector` and `fieldSelector`.
    pub fn selectors(&self) -> Result<Selectors> {
        Selectors::parse(self.get("labelSelector"), self.get("fieldSelector"))
            .map_err(|e| ApiError::BadRequest(e.to_string()))
    }
}
