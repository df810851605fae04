//! `parameters.json`: the form a service shows for manual runs.
//!
//! Two jobs: [`ParameterForm::parse`] reads a service's form definition and reports every problem with its
//! field and line; [`ParameterForm::values`] turns what a person submitted into the typed JSON object the
//! container receives in `K8X_PARAMS` (an `int` arrives as a number, a `multiselect` as an array), refusing
//! values the form does not allow. The server always runs the latter, whatever the browser checked.

use std::collections::{BTreeMap, HashSet};

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The largest file a form may upload: it travels in an environment variable.
pub const MAX_FILE_BYTES: usize = 64 * 1024;

/// A service's manual-run form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParameterForm {
    pub fields: Vec<Field>,
}

/// One form field, in the published attribute names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Field {
    #[serde(rename = "type")]
    pub kind: FieldKind,
    pub name: String,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub default: Option<Value>,
    /// Shown inside an empty input; the published example writes it as a string, people also write numbers.
    #[serde(default)]
    pub placeholder: Option<Value>,
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
    #[serde(default)]
    pub step: Option<f64>,
    #[serde(default)]
    pub choices: Vec<Choice>,
}

/// The published field types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldKind {
    Text,
    Textarea,
    File,
    Int,
    Float,
    Select,
    Multiselect,
    Radio,
}

/// One option of a `select`, `multiselect` or `radio` field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    pub title: String,
    pub value: String,
}

/// A problem in a `parameters.json` file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FormError {
    #[error("parameters.json line {line}, column {column}: {message}")]
    Syntax { line: usize, column: usize, message: String },
    #[error("parameters.json field `{field}`: {message}")]
    Field { field: String, message: String },
}

/// A submitted file, as the server received it.
#[derive(Clone, Debug, PartialEq)]
pub struct UploadedFile {
    pub filename: String,
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

/// What a person submitted: text values by field name (several for a multiselect) and uploaded files.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Submission {
    pub values: BTreeMap<String, Vec<String>>,
    pub files: BTreeMap<String, UploadedFile>,
}

/// Every field whose submitted value the form refuses, by field name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("{}", self.describe())]
pub struct InvalidValues(pub BTreeMap<String, String>);

impl InvalidValues {
    fn describe(&self) -> String {
        let parts: Vec<String> = self.0.iter().map(|(field, why)| format!("{field}: {why}")).collect();
        parts.join("; ")
    }
}

impl ParameterForm {
    /// Reads and checks a `parameters.json` document.
    pub fn parse(json: &str) -> Result<Self, FormError> {
        let form: ParameterForm = serde_json::from_str(json).map_err(|err| FormError::Syntax {
            line: err.line(),
            column: err.column(),
            message: crate::text::without_position(&err.to_string()).to_owned(),
        })?;
        form.check()?;
        Ok(form)
    }

    fn check(&self) -> Result<(), FormError> {
        let mut seen = HashSet::new();
        for field in &self.fields {
            let fail = |message: String| FormError::Field { field: field.name.clone(), message };
            if field.name.trim().is_empty() {
                return Err(fail("every field needs a non-empty `name`".into()));
            }
            if !seen.insert(field.name.as_str()) {
                return Err(fail("the name is used by more than one field".into()));
            }
            if field.kind.has_choices() && field.choices.is_empty() {
                return Err(fail(format!("a `{}` field needs `choices`", field.kind.as_str())));
            }
            if let (Some(min), Some(max)) = (field.min, field.max) {
                if min > max {
                    return Err(fail(format!("`min` ({min}) is greater than `max` ({max})")));
                }
            }
            if let Some(default) = &field.default {
                field.check_default(default).map_err(fail)?;
            }
        }
        Ok(())
    }

    /// Turns a submission into the typed `K8X_PARAMS` object, or names every field it refuses.
    pub fn values(&self, submission: &Submission) -> Result<Map<String, Value>, InvalidValues> {
        let mut params = Map::new();
        let mut problems = BTreeMap::new();
        for field in &self.fields {
            match field.value(submission) {
                Ok(Some(value)) => {
                    params.insert(field.name.clone(), value);
                }
                Ok(None) => {}
                Err(why) => {
                    problems.insert(field.name.clone(), why);
                }
            }
        }
        if problems.is_empty() {
            Ok(params)
        } else {
            Err(InvalidValues(problems))
        }
    }
}

impl FieldKind {
    /// The published spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Textarea => "textarea",
            Self::File => "file",
            Self::Int => "int",
            Self::Float => "float",
            Self::Select => "select",
            Self::Multiselect => "multiselect",
            Self::Radio => "radio",
        }
    }

    /// Whether the field picks from `choices`.
    pub fn has_choices(self) -> bool {
        matches!(self, Self::Select | Self::Multiselect | Self::Radio)
    }
}

impl Field {
    /// The label shown to people: `label`, or the name when there is none.
    pub fn title(&self) -> &str {
        self.label.as_deref().unwrap_or(&self.name)
    }

    /// The placeholder as text, whichever JSON type it was written as.
    pub fn placeholder_text(&self) -> Option<String> {
        self.placeholder.as_ref().map(value_text)
    }

    /// The default as the text an input starts with.
    pub fn default_text(&self) -> Option<String> {
        self.default.as_ref().map(value_text)
    }

    /// Whether `value` is among this field's default selections (select, multiselect, radio).
    pub fn is_default_choice(&self, value: &str) -> bool {
        match &self.default {
            Some(Value::String(default)) => default == value,
            Some(Value::Array(defaults)) => defaults.iter().any(|d| d.as_str() == Some(value)),
            _ => false,
        }
    }

    fn check_default(&self, default: &Value) -> Result<(), String> {
        let text = |v: &Value| v.as_str().map(str::to_owned).ok_or_else(|| "`default` must be a string".to_owned());
        match self.kind {
            FieldKind::Int => {
                let n = default.as_i64().ok_or("`default` must be a whole number")?;
                self.check_range(n as f64)
            }
            FieldKind::Float => {
                let n = default.as_f64().ok_or("`default` must be a number")?;
                self.check_range(n)
            }
            FieldKind::Select | FieldKind::Radio => self.check_choice(&text(default)?),
            FieldKind::Multiselect => {
                let values = default.as_array().ok_or("`default` must be an array of choice values")?;
                values.iter().try_for_each(|v| self.check_choice(&text(v)?))
            }
            FieldKind::Text | FieldKind::Textarea => text(default).map(drop),
            FieldKind::File => Err("a `file` field cannot have a `default`".into()),
        }
    }

    fn check_range(&self, n: f64) -> Result<(), String> {
        if let Some(min) = self.min.filter(|min| n < *min) {
            return Err(format!("{n} is below the minimum {min}"));
        }
        if let Some(max) = self.max.filter(|max| n > *max) {
            return Err(format!("{n} is above the maximum {max}"));
        }
        Ok(())
    }

    fn check_choice(&self, value: &str) -> Result<(), String> {
        if self.choices.iter().any(|c| c.value == value) {
            Ok(())
        } else {
            Err(format!("`{value}` is not one of the choices"))
        }
    }

    /// The typed value of this field in a submission; `None` when it was left empty and is optional.
    fn value(&self, submission: &Submission) -> Result<Option<Value>, String> {
        if self.kind == FieldKind::File {
            return self.file_value(submission.files.get(&self.name));
        }
        let submitted: Vec<&str> = submission
            .values
            .get(&self.name)
            .map(|values| values.iter().map(|v| v.trim()).filter(|v| !v.is_empty()).collect())
            .unwrap_or_default();
        if submitted.is_empty() {
            return match (&self.default, self.required) {
                (Some(default), _) if !submission.values.contains_key(&self.name) => Ok(Some(default.clone())),
                (_, true) => Err("a value is required".into()),
                _ if self.kind == FieldKind::Multiselect => Ok(Some(Value::Array(vec![]))),
                _ => Ok(None),
            };
        }
        let single = || -> Result<&str, String> {
            match submitted.as_slice() {
                [one] => Ok(one),
                _ => Err("expected one value".into()),
            }
        };
        let value = match self.kind {
            FieldKind::Text | FieldKind::Textarea => {
                // Text keeps its inner whitespace: take the raw value, not the trimmed one.
                let raw = submission.values[&self.name].iter().find(|v| !v.trim().is_empty());
                Value::String(raw.cloned().unwrap_or_default())
            }
            FieldKind::Int => {
                let raw = single()?;
                let n: i64 = raw.parse().map_err(|_| format!("`{raw}` is not a whole number"))?;
                self.check_range(n as f64)?;
                Value::from(n)
            }
            FieldKind::Float => {
                let raw = single()?;
                let n: f64 =
                    raw.parse().ok().filter(|n: &f64| n.is_finite()).ok_or(format!("`{raw}` is not a number"))?;
                self.check_range(n)?;
                Value::from(n)
            }
            FieldKind::Select | FieldKind::Radio => {
                let raw = single()?;
                self.check_choice(raw)?;
                Value::String(raw.to_owned())
            }
            FieldKind::Multiselect => {
                submitted.iter().try_for_each(|v| self.check_choice(v))?;
                Value::Array(submitted.iter().map(|v| Value::String((*v).to_owned())).collect())
            }
            FieldKind::File => unreachable!("files are handled above"),
        };
        Ok(Some(value))
    }

    fn file_value(&self, file: Option<&UploadedFile>) -> Result<Option<Value>, String> {
        let Some(file) = file.filter(|f| !f.filename.is_empty() || !f.bytes.is_empty()) else {
            return if self.required { Err("a file is required".into()) } else { Ok(None) };
        };
        if file.bytes.len() > MAX_FILE_BYTES {
            return Err(format!("the file is {} bytes; at most {MAX_FILE_BYTES} are allowed", file.bytes.len()));
        }
        Ok(Some(serde_json::json!({
            "filename": file.filename,
            "content_type": file.content_type,
            "size": file.bytes.len(),
            "content_base64": base64::engine::general_purpose::STANDARD.encode(&file.bytes),
        })))
    }
}

fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod tests;
