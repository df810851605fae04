//! Plain webhooks: `POST /api/v1/webhooks/{source}` takes a JSON POST that is no CloudEvent — a Git host's
//! push, a bucket notification — from a registered source and wraps it as one: the type from the header or
//! body field the source names (GitHub's `X-GitHub-Event: push` with prefix `com.github.` →
//! `com.github.push`), the id from the delivery header or a hash of the type and body, `source` `/webhooks/<name>`,
//! the body as JSON data. Accepted when signed with the source's secret (`X-Hub-Signature-256`), with the secret
//! as GitLab sends it (`X-Gitlab-Token`), or sent with
//! an API token that may ingest.

use axum::{body::Bytes, http::HeaderMap};
use cloudevents::{Event, EventBuilder, EventBuilderV10};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::store::WebhookShape;

/// Why a webhook request cannot become an event.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WebhookError {
    #[error("a webhook body must be JSON: {0}")]
    NotJson(String),
    #[error("header `{0}` (the event type) is missing")]
    NoTypeHeader(String),
    #[error("body field `{0}` (the event type) is missing or not a string")]
    NoTypeField(String),
    #[error("the event type cannot be built: {0}")]
    Build(String),
}

/// The CloudEvent for a request to source `name` shaped by `shape`.
pub fn wrap(name: &str, shape: &WebhookShape, headers: &HeaderMap, body: &Bytes) -> Result<Event, WebhookError> {
    let data: Value = serde_json::from_slice(body).map_err(|e| WebhookError::NotJson(e.to_string()))?;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty());
    let raw_type = match (&shape.type_header, &shape.type_field) {
        (Some(name), _) => Some(header(name).ok_or_else(|| WebhookError::NoTypeHeader(name.clone()))?.to_owned()),
        (None, Some(pointer)) => Some(
            data.pointer(pointer)
                .and_then(Value::as_str)
                .ok_or_else(|| WebhookError::NoTypeField(pointer.clone()))?
                .to_owned(),
        ),
        (None, None) => None,
    };
    let ty = match raw_type {
        Some(raw) => format!("{}{}", shape.type_prefix.as_deref().unwrap_or_default(), normalize(&raw)),
        None => format!("{}webhook.{name}", shape.type_prefix.as_deref().unwrap_or_default()),
    };
    let id = match shape.id_header.as_deref().and_then(header) {
        Some(id) => id.to_owned(),
        // The type is hashed too: one body sent as two kinds of event is two events.
        None => hex::encode(&Sha256::new().chain_update(&ty).chain_update([0]).chain_update(body).finalize()[..16]),
    };
    EventBuilderV10::new()
        .id(id)
        .source(format!("/webhooks/{name}"))
        .ty(ty)
        .data("application/json", data)
        .build()
        .map_err(|e| WebhookError::Build(e.to_string()))
}

/// An event type from a sender's word: lower case, `:` as `.`, anything but letters, digits, `.`, `_` and `-`
/// as `_` (GitLab's `Push Hook` → `push_hook`, MinIO's `s3:ObjectCreated:Put` → `s3.objectcreated.put`).
fn normalize(raw: &str) -> String {
    raw.trim()
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            ':' => '.',
            c if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') => c,
            _ => '_',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;
    use cloudevents::{AttributesReader, Data};

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (k.parse().unwrap(), HeaderValue::from_static(v))).collect()
    }

    #[test]
    fn the_well_known_senders_become_events() {
        let body = Bytes::from_static(br#"{"ref": "refs/heads/main", "EventName": "s3:ObjectCreated:Put"}"#);
        let github = headers(&[("x-github-event", "push"), ("x-github-delivery", "72d3162e-cc78")]);
        let event = wrap("gh", &WebhookShape::preset("github").unwrap(), &github, &body).unwrap();
        assert_eq!(
            (event.ty(), event.id(), event.source().as_str()),
            ("com.github.push", "72d3162e-cc78", "/webhooks/gh")
        );
        assert!(matches!(event.data(), Some(Data::Json(v)) if v["ref"] == "refs/heads/main"));
        let gitlab = headers(&[("x-gitlab-event", "Push Hook")]);
        assert_eq!(
            wrap("gl", &WebhookShape::preset("gitlab").unwrap(), &gitlab, &body).unwrap().ty(),
            "com.gitlab.push_hook"
        );
        let minio = wrap("m", &WebhookShape::preset("minio").unwrap(), &HeaderMap::new(), &body).unwrap();
        assert_eq!(minio.ty(), "io.minio.s3.objectcreated.put");
        assert_eq!(minio.id().len(), 32, "no delivery header: a hash of the body");
        let again = wrap("m", &WebhookShape::preset("minio").unwrap(), &HeaderMap::new(), &body).unwrap();
        assert_eq!(minio.id(), again.id(), "the same body is the same event (redelivery runs nothing twice)");
        let plain = wrap("hook", &WebhookShape::default(), &HeaderMap::new(), &body).unwrap();
        assert_eq!(plain.ty(), "webhook.hook");
    }

    #[test]
    fn what_is_missing_is_named() {
        let body = Bytes::from_static(b"{}");
        let github = WebhookShape::preset("github").unwrap();
        assert_eq!(
            wrap("gh", &github, &HeaderMap::new(), &body),
            Err(WebhookError::NoTypeHeader("X-GitHub-Event".into()))
        );
        let minio = WebhookShape::preset("minio").unwrap();
        assert_eq!(wrap("m", &minio, &HeaderMap::new(), &body), Err(WebhookError::NoTypeField("/EventName".into())));
        let not_json = wrap("m", &minio, &HeaderMap::new(), &Bytes::from_static(b"<xml/>")).unwrap_err();
        assert!(matches!(not_json, WebhookError::NotJson(_)));
    }
}
