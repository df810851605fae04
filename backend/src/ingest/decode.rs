//! Turning an HTTP request into checked CloudEvents, through the SDK's HTTP binding.

use axum::{body::Bytes, http::HeaderMap};
use cloudevents::{AttributesReader, Data, Event};
use serde_json::Value;

use super::rules;
use crate::catalog::EventType;

/// The media type of batch mode.
const BATCH: &str = "application/cloudevents-batch+json";
/// The media type of structured mode (JSON format).
const STRUCTURED: &str = "application/cloudevents+json";
/// Event types k8x publishes itself (manual runs, completions); nobody else may, or they could start any
/// service by hand or fake an outcome.
const RESERVED_PREFIX: &str = "k8x.";
/// The most events one batch may carry.
const MAX_BATCH: usize = 1000;

/// Why a request is not an acceptable CloudEvent.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DecodeError {
    #[error("not a CloudEvent: send structured mode (Content-Type: application/cloudevents+json) or binary mode (ce-specversion, ce-id, ce-source and ce-type headers)")]
    NotAnEvent,
    #[error("invalid CloudEvent: {0}")]
    Invalid(String),
    #[error("invalid CloudEvent: {0}")]
    BadType(String),
    #[error("invalid batch: {0}")]
    Batch(String),
    #[error("event type `{0}` is reserved: types starting with `k8x.` are published by k8x itself")]
    Reserved(String),
    #[error("invalid CloudEvent: {0}")]
    Rule(#[from] super::rules::RuleError),
}

/// Decodes one event (binary or structured mode) or a batch.
pub fn decode(headers: &HeaderMap, body: Bytes) -> Result<Vec<Event>, DecodeError> {
    let content_type =
        headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_ascii_lowercase();
    let events = if content_type.starts_with(BATCH) {
        let values: Vec<Value> = serde_json::from_slice(&body).map_err(|e| DecodeError::Batch(e.to_string()))?;
        // An empty batch is a valid batch: nothing to publish.
        if values.len() > MAX_BATCH {
            return Err(DecodeError::Batch(format!(
                "a batch carries at most {MAX_BATCH} events, this one {}",
                values.len()
            )));
        }
        let mut events = Vec::with_capacity(values.len());
        for (n, value) in values.into_iter().enumerate() {
            rules::precheck_structured(&value).map_err(|e| DecodeError::Batch(format!("event {}: {e}", n + 1)))?;
            events
                .push(serde_json::from_value(value).map_err(|e| DecodeError::Batch(format!("event {}: {e}", n + 1)))?);
        }
        events
    } else if content_type.starts_with(STRUCTURED) {
        let value: Value = serde_json::from_slice(&body).map_err(|e| DecodeError::Invalid(format!("not JSON: {e}")))?;
        rules::precheck_structured(&value)?;
        vec![serde_json::from_value(value).map_err(|e| DecodeError::Invalid(e.to_string()))?]
    } else {
        if headers.contains_key("ce-specversion") {
            rules::precheck_binary(headers)?;
        }
        let event = cloudevents::binding::http::to_event(headers, body.to_vec()).map_err(|e| match e {
            cloudevents::message::Error::WrongEncoding {} => DecodeError::NotAnEvent,
            other => DecodeError::Invalid(other.to_string()),
        })?;
        vec![event]
    };
    let mut events = events;
    for event in &mut events {
        check(event)?;
        json_data(event);
    }
    Ok(events)
}

/// A binary-mode body with a JSON content type becomes JSON data, as the structured format reads it: the
/// event travels (and reaches the service as `K8X_EVENT`) with `data`, not a base64 copy a third larger.
fn json_data(event: &mut Event) {
    let is_json = event.datacontenttype().is_some_and(|ct| {
        let media = ct.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        media == "application/json" || media == "text/json" || media.ends_with("+json")
    });
    if !is_json {
        return;
    }
    if let Some(Data::Binary(bytes)) = event.data() {
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) {
            let content_type = event.datacontenttype().map(str::to_owned).unwrap_or_default();
            event.set_data(content_type, Data::Json(value));
        }
    }
}

/// What the SDK lets through but k8x cannot use.
pub(super) fn check(event: &Event) -> Result<(), DecodeError> {
    super::rules::check(event)?;
    EventType::parse(event.ty()).map_err(DecodeError::BadType)?;
    if event.ty().starts_with(RESERVED_PREFIX) {
        return Err(DecodeError::Reserved(event.ty().to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn binary_mode() {
        let h = headers(&[
            ("ce-specversion", "1.0"),
            ("ce-id", "1"),
            ("ce-source", "/s"),
            ("ce-type", "a.b"),
            ("content-type", "application/json"),
        ]);
        let events = decode(&h, Bytes::from_static(br#"{"x": 1}"#)).unwrap();
        assert_eq!(events[0].ty(), "a.b");
    }

    #[test]
    fn binary_mode_json_bodies_become_json_data() {
        let mut h = headers(&[("ce-specversion", "1.0"), ("ce-id", "1"), ("ce-source", "/s"), ("ce-type", "a.b")]);
        h.insert("content-type", HeaderValue::from_static("application/json; charset=utf-8"));
        let events = decode(&h, Bytes::from_static(br#"{"n": 1}"#)).unwrap();
        assert_eq!(events[0].data(), Some(&Data::Json(serde_json::json!({"n": 1}))));
        let json = serde_json::to_value(&events[0]).unwrap();
        assert_eq!(json["data"], serde_json::json!({"n": 1}), "not data_base64: {json}");
        h.insert("content-type", HeaderValue::from_static("application/octet-stream"));
        let events = decode(&h, Bytes::from_static(br#"{"n": 1}"#)).unwrap();
        assert!(matches!(events[0].data(), Some(Data::Binary(_))), "other media types stay bytes");
    }

    #[test]
    fn structured_mode() {
        let h = headers(&[("content-type", "application/cloudevents+json")]);
        let body = br#"{"specversion": "1.0", "id": "1", "source": "/s", "type": "a.b", "data": {"x": 1}}"#;
        let events = decode(&h, Bytes::from_static(body)).unwrap();
        assert_eq!(events[0].id(), "1");
    }

    #[test]
    fn malformed_events_are_named() {
        let plain = decode(&headers(&[("content-type", "application/json")]), Bytes::from_static(b"{}"));
        assert_eq!(plain.unwrap_err(), DecodeError::NotAnEvent);

        let h = headers(&[("content-type", "application/cloudevents+json")]);
        let no_type = decode(&h, Bytes::from_static(br#"{"specversion": "1.0", "id": "1", "source": "/s"}"#));
        assert!(no_type.unwrap_err().to_string().contains("type"));

        let bad_json = decode(&h, Bytes::from_static(b"{not json"));
        assert!(matches!(bad_json.unwrap_err(), DecodeError::Invalid(_)));

        let spaced =
            decode(&h, Bytes::from_static(br#"{"specversion": "1.0", "id": "1", "source": "/s", "type": "a b"}"#));
        assert!(spaced.unwrap_err().to_string().contains("whitespace"));

        let version =
            decode(&h, Bytes::from_static(br#"{"specversion": "9.9", "id": "1", "source": "/s", "type": "a"}"#));
        assert!(version.is_err());

        let body = br#"{"specversion": "1.0", "id": "1", "source": "/s", "type": "k8x.service.run_requested"}"#;
        assert!(matches!(decode(&h, Bytes::from_static(body)).unwrap_err(), DecodeError::Reserved(_)));
    }

    #[test]
    fn batches() {
        let h = headers(&[("content-type", BATCH)]);
        let body = br#"[{"specversion": "1.0", "id": "1", "source": "/s", "type": "a"}, {"specversion": "1.0", "id": "2", "source": "/s", "type": "a"}]"#;
        assert_eq!(decode(&h, Bytes::from_static(body)).unwrap().len(), 2);
        assert!(decode(&h, Bytes::from_static(b"[]")).unwrap().is_empty(), "an empty batch is a valid batch");
    }
}
