//! CloudEvents 1.0 as the spec says it, beyond what cloudevents-sdk checks: required attributes non-empty,
//! optional ones non-empty when present, `datacontenttype` an RFC 2046 media type, extension names of lowercase
//! letters and digits that are not the spec's own attribute names, no control characters anywhere (PostgreSQL
//! refuses a NUL, logs and pages garble the rest), and bounded sizes. The SDK already holds `time` to RFC 3339,
//! `dataschema` and `source` to URIs, and `specversion` to the versions it knows, but says so without naming
//! the attribute: [`precheck_structured`] and [`precheck_binary`] look at those attributes as sent, first.
//! Each failure names the attribute and the rule.

use axum::http::HeaderMap;
use cloudevents::{event::ExtensionValue, AttributesReader, Event};
use serde_json::Value;

/// The most bytes of `id` and `type`.
pub const MAX_NAME_BYTES: usize = 256;
/// The most bytes of `source`, `subject`, `dataschema`, `datacontenttype` and any extension value.
pub const MAX_VALUE_BYTES: usize = 2048;
/// The most extension attributes one event may carry.
pub const MAX_EXTENSIONS: usize = 32;
/// The spec's own attribute names (and the JSON format's `data_base64`), which no extension may take.
const RESERVED: [&str; 10] =
    ["specversion", "id", "source", "type", "datacontenttype", "dataschema", "subject", "time", "data", "data_base64"];

/// One rule an event broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("attribute `{attribute}` {rule}")]
pub struct RuleError {
    /// The attribute, as the event names it.
    pub attribute: String,
    /// What it must be, and what it was.
    pub rule: String,
}

fn broken(attribute: impl Into<String>, rule: impl Into<String>) -> RuleError {
    RuleError { attribute: attribute.into(), rule: rule.into() }
}

/// Checks `event` against every rule; the first broken one is returned.
pub fn check(event: &Event) -> Result<(), RuleError> {
    let source = event.source().to_string();
    for (attribute, value, max) in [("id", event.id(), MAX_NAME_BYTES), ("source", &source, MAX_VALUE_BYTES)] {
        text(attribute, value, max)?;
    }
    text("type", event.ty(), MAX_NAME_BYTES)?;
    if let Some(subject) = event.subject() {
        text("subject", subject, MAX_VALUE_BYTES)?;
    }
    if let Some(content_type) = event.datacontenttype() {
        text("datacontenttype", content_type, MAX_VALUE_BYTES)?;
        media_type(content_type)?;
    }
    if let Some(schema) = event.dataschema() {
        text("dataschema", schema.as_str(), MAX_VALUE_BYTES)?;
    }
    let extensions: Vec<_> = event.iter_extensions().collect();
    if extensions.len() > MAX_EXTENSIONS {
        return Err(broken(
            "extensions",
            format!("may be at most {MAX_EXTENSIONS}, this event has {}", extensions.len()),
        ));
    }
    for (name, value) in extensions {
        extension_name(name)?;
        if let ExtensionValue::String(value) = value {
            // The spec lets an extension be the empty string.
            if !value.is_empty() {
                text(name, value, MAX_VALUE_BYTES)?;
            }
        }
    }
    if source.chars().any(char::is_whitespace) {
        return Err(broken("source", "must be a URI-reference: no spaces"));
    }
    Ok(())
}

/// The spec versions k8x accepts.
const SPEC_VERSIONS: [&str; 2] = ["1.0", "0.3"];
/// Attributes whose value must be a JSON string in structured mode.
const STRING_ATTRIBUTES: [&str; 8] =
    ["specversion", "id", "source", "type", "datacontenttype", "dataschema", "subject", "time"];

/// Structured mode (one event of a batch, too), as JSON, before the SDK reads it.
pub fn precheck_structured(event: &Value) -> Result<(), RuleError> {
    let Some(object) = event.as_object() else { return Err(broken("event", "must be a JSON object")) };
    for name in STRING_ATTRIBUTES {
        match object.get(name) {
            None | Some(Value::Null) => {}
            Some(Value::String(value)) => attribute(name, value)?,
            Some(_) => return Err(broken(name, "must be a string")),
        }
    }
    if object.get("data").is_some_and(|d| !d.is_null()) && object.get("data_base64").is_some_and(|d| !d.is_null()) {
        return Err(broken("data", "and `data_base64` cannot both be present"));
    }
    Ok(())
}

/// Binary mode: the `ce-` headers and `content-type`, before the SDK reads them.
pub fn precheck_binary(headers: &HeaderMap) -> Result<(), RuleError> {
    for name in ["specversion", "time", "dataschema"] {
        if let Some(value) = headers.get(format!("ce-{name}").as_str()) {
            attribute(name, value.to_str().map_err(|_| broken(name, "must be visible ASCII"))?)?;
        }
    }
    if let Some(value) = headers.get(axum::http::header::CONTENT_TYPE) {
        let value = value.to_str().map_err(|_| broken("datacontenttype", "must be visible ASCII"))?;
        attribute("datacontenttype", value)?;
    }
    Ok(())
}

/// The rules of the attributes the SDK parses itself.
fn attribute(name: &str, value: &str) -> Result<(), RuleError> {
    match name {
        "specversion" if !SPEC_VERSIONS.contains(&value) => {
            Err(broken(name, format!("must be 1.0 (or 0.3), not `{}`", value.escape_debug())))
        }
        "time" if chrono::DateTime::parse_from_rfc3339(value).is_err() => {
            Err(broken(name, format!("must be an RFC 3339 timestamp, not `{}`", value.escape_debug())))
        }
        "dataschema" if url::Url::parse(value).is_err() => {
            Err(broken(name, format!("must be an absolute URI, not `{}`", value.escape_debug())))
        }
        "datacontenttype" => {
            text(name, value, MAX_VALUE_BYTES)?;
            media_type(value)
        }
        _ => Ok(()),
    }
}

/// Non-empty, bounded, free of control characters.
fn text(attribute: &str, value: &str, max: usize) -> Result<(), RuleError> {
    if value.is_empty() {
        return Err(broken(attribute, "must not be empty"));
    }
    if value.len() > max {
        return Err(broken(attribute, format!("may be at most {max} bytes, this one is {}", value.len())));
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(broken(attribute, format!("must not contain control characters (found U+{:04X})", c as u32)));
    }
    Ok(())
}

/// An RFC 2046 media type: `type/subtype` with optional parameters (optional whitespace around `;`, as HTTP
/// allows, is not held against it).
fn media_type(value: &str) -> Result<(), RuleError> {
    let normalized: Vec<&str> = value.split(';').map(str::trim).collect();
    normalized
        .join("; ")
        .parse::<mime::Mime>()
        .map(|_| ())
        .map_err(|e| broken("datacontenttype", format!("must be a media type like `application/json` ({e})")))
}

/// Lowercase ASCII letters and digits, not one of the spec's own names.
fn extension_name(name: &str) -> Result<(), RuleError> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()) {
        return Err(broken(name, "is not a valid extension name: lowercase ASCII letters and digits only"));
    }
    if RESERVED.contains(&name) {
        return Err(broken(name, "is reserved by the CloudEvents spec and cannot be an extension"));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
