//! The one error type of the API routes. Each variant becomes the `Status` object a real API server sends
//! for the same failure (same `code`, `reason`, `message` wording and `details`), because clients such as
//! kube-rs parse those bodies and branch on `reason`.

use axum::response::{IntoResponse, Response};
use axum::Json;
use http::{HeaderValue, StatusCode};
use serde_json::{json, Value};

use crate::kinds::Kind;

/// Result of an API operation.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;

/// Why an API request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The named object does not exist.
    #[error("{} \"{name}\" not found", kind.qualified())]
    NotFound { kind: Kind, name: String },
    /// An object with that name already exists.
    #[error("{} \"{name}\" already exists", kind.qualified())]
    AlreadyExists { kind: Kind, name: String },
    /// The write named a resourceVersion that is no longer current.
    #[error(
        "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
        kind.qualified()
    )]
    Conflict { kind: Kind, name: String },
    /// The object failed validation (422).
    #[error("{kind}{} \"{name}\" is invalid: {detail}", group_suffix(*kind))]
    Invalid { kind: Kind, name: String, detail: String },
    /// The request itself is malformed (400).
    #[error("{0}")]
    BadRequest(String),
    /// The URL names no served resource.
    #[error("the server could not find the requested resource")]
    UnknownResource,
    /// A patch type the emulator does not implement (415).
    #[error("the body of the request was in an unknown format - accepted media types include: application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json; got {0}")]
    UnsupportedMediaType(String),
    /// A status answered on purpose: a scripted fault or the emulator being "down".
    #[error("{message}")]
    Scripted { code: u16, message: String },
}

fn group_suffix(kind: Kind) -> String {
    match kind.group() {
        "" => String::new(),
        group => format!(".{group}"),
    }
}

impl ApiError {
    /// The HTTP status code.
    pub fn code(&self) -> u16 {
        match self {
            ApiError::NotFound { .. } | ApiError::UnknownResource => 404,
            ApiError::AlreadyExists { .. } | ApiError::Conflict { .. } => 409,
            ApiError::Invalid { .. } => 422,
            ApiError::BadRequest(_) => 400,
            ApiError::UnsupportedMediaType(_) => 415,
            ApiError::Scripted { code, .. } => *code,
        }
    }

    /// The machine-readable `reason` field.
    pub fn reason(&self) -> &'static str {
        match self {
            ApiError::NotFound { .. } | ApiError::UnknownResource => "NotFound",
            ApiError::AlreadyExists { .. } => "AlreadyExists",
            ApiError::Conflict { .. } => "Conflict",
            ApiError::Invalid { .. } => "Invalid",
            ApiError::BadRequest(_) => "BadRequest",
            ApiError::UnsupportedMediaType(_) => "UnsupportedMediaType",
            ApiError::Scripted { code, .. } => reason_for(*code),
        }
    }

    /// The `Status` body.
    pub fn status_body(&self) -> Value {
        let details = match self {
            ApiError::NotFound { kind, name }
            | ApiError::AlreadyExists { kind, name }
            | ApiError::Conflict { kind, name } => Some(details(kind.group(), kind.resource(), name)),
            ApiError::Invalid { kind, name, .. } => Some(details(kind.group(), kind.kind(), name)),
            _ => None,
        };
        status_body(self.code(), self.reason(), &self.to_string(), details)
    }
}

/// The `reason` a real server uses for a bare status code.
pub fn reason_for(code: u16) -> &'static str {
    match code {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        409 => "Conflict",
        410 => "Expired",
        415 => "UnsupportedMediaType",
        422 => "Invalid",
        429 => "TooManyRequests",
        500 => "InternalError",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "Unknown",
    }
}

fn details(group: &str, kind: &str, name: &str) -> Value {
    let mut d = json!({ "name": name, "kind": kind });
    if !group.is_empty() {
        d["group"] = json!(group);
    }
    d
}

/// A `Status` object as the API server writes it.
pub fn status_body(code: u16, reason: &str, message: &str, details: Option<Value>) -> Value {
    let mut body = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": if code < 400 { "Success" } else { "Failure" },
        "message": message,
        "reason": reason,
        "code": code,
    });
    if let Some(details) = details {
        body["details"] = details;
    }
    body
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = StatusCode::from_u16(self.code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (code, Json(self.status_body())).into_response();
        // A client told to slow down learns when to come back, as from a real server's priority-and-fairness.
        if code == StatusCode::TOO_MANY_REQUESTS {
            response.headers_mut().insert(http::header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}
