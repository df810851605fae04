//! One row per rule, through `decode` (the ingest entry), in structured mode and where it differs in binary mode.

use axum::{
    body::Bytes,
    http::{HeaderMap, HeaderName, HeaderValue},
};
use serde_json::{json, Value};

use crate::ingest::decode;

fn structured(event: Value) -> Result<usize, String> {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/cloudevents+json"));
    decode(&headers, Bytes::from(event.to_string())).map(|events| events.len()).map_err(|e| e.to_string())
}

fn binary(extra: &[(&str, &str)]) -> Result<usize, String> {
    let mut headers = HeaderMap::new();
    for (name, value) in [("ce-specversion", "1.0"), ("ce-id", "1"), ("ce-source", "/s"), ("ce-type", "a.b")] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    for (name, value) in extra {
        headers.insert(HeaderName::from_bytes(name.as_bytes()).unwrap(), HeaderValue::from_str(value).unwrap());
    }
    decode(&headers, Bytes::from_static(b"{}")).map(|events| events.len()).map_err(|e| e.to_string())
}

/// A valid event with `changes` applied (`null` removes an attribute).
fn event(changes: Value) -> Value {
    let mut event = json!({"specversion": "1.0", "id": "e-1", "source": "/tests", "type": "a.b", "data": {"x": 1}});
    for (key, value) in changes.as_object().unwrap() {
        match value {
            Value::Null => event.as_object_mut().unwrap().remove(key),
            _ => event.as_object_mut().unwrap().insert(key.clone(), value.clone()),
        };
    }
    event
}

#[test]
fn each_rule_refuses_with_the_attribute_and_the_rule() {
    let long = "t".repeat(20 * 1024);
    let many: serde_json::Map<String, Value> = (0..33).map(|n| (format!("ext{n}"), json!("v"))).collect();
    let rows: Vec<(&str, Value, &str, &str)> = vec![
        ("empty id", event(json!({"id": ""})), "id", "must not be empty"),
        ("empty source", event(json!({"source": ""})), "source", ""),
        ("empty type", event(json!({"type": ""})), "type", ""),
        ("a 20 KB type", event(json!({"type": long})), "type", "at most 256 bytes"),
        ("a NUL in the id", event(json!({"id": "a\u{0}b"})), "id", "control characters (found U+0000)"),
        ("a newline in the source", event(json!({"source": "/a\nb"})), "source", "control characters"),
        ("a space in the source", event(json!({"source": "/a b"})), "source", "URI-reference"),
        ("an escape in the subject", event(json!({"subject": "x\u{1b}[31m"})), "subject", "control characters"),
        ("empty subject", event(json!({"subject": ""})), "subject", "must not be empty"),
        ("empty datacontenttype", event(json!({"datacontenttype": ""})), "datacontenttype", "must not be empty"),
        ("a number as id", event(json!({"id": 7})), "id", "must be a string"),
        ("not a media type", event(json!({"datacontenttype": "json please"})), "datacontenttype", "media type"),
        ("a relative dataschema", event(json!({"dataschema": "schemas/a.json"})), "dataschema", "absolute URI"),
        ("a time that is not RFC 3339", event(json!({"time": "yesterday"})), "time", "RFC 3339"),
        ("an upper-case extension", event(json!({"Region": "eu"})), "Region", "lowercase ASCII letters and digits"),
        ("an extension with `_`", event(json!({"my_ext": "x"})), "my_ext", "lowercase ASCII letters and digits"),
        ("33 extensions", event(Value::Object(many)), "extensions", "at most 32"),
        ("an unknown specversion", event(json!({"specversion": "0.1"})), "specversion", "must be 1.0"),
        ("data and data_base64", event(json!({"data_base64": "aGk="})), "data", "cannot both be present"),
    ];
    let mut wrong = Vec::new();
    for (what, event, attribute, rule) in rows {
        match structured(event) {
            Ok(_) => wrong.push(format!("{what}: accepted")),
            Err(err) if !err.contains(attribute) || !err.contains(rule) => {
                wrong.push(format!("{what}: `{err}` does not name `{attribute}` and `{rule}`"))
            }
            Err(_) => {}
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn binary_mode_headers_follow_the_same_rules() {
    let bad_name = binary(&[("ce-data", "x")]).unwrap_err();
    assert!(bad_name.contains("`data` is reserved"), "{bad_name}");
    let bad_type = binary(&[("content-type", "nonsense")]).unwrap_err();
    assert!(bad_type.contains("datacontenttype"), "{bad_type}");
    let time = binary(&[("ce-time", "noon")]).unwrap_err();
    assert!(time.contains("`time` must be an RFC 3339 timestamp"), "{time}");
    let version = binary(&[("ce-specversion", "2.0")]).unwrap_err();
    assert!(version.contains("`specversion` must be 1.0"), "{version}");
    let long_value = binary(&[("ce-trace", &"v".repeat(3000))]).unwrap_err();
    assert!(long_value.contains("`trace` may be at most 2048 bytes"), "{long_value}");
    assert_eq!(binary(&[("ce-traceparent", "00-abc"), ("content-type", "application/json; charset=utf-8")]), Ok(1));
}

#[test]
fn valid_events_pass() {
    let full = event(json!({
        "subject": "report.pdf", "datacontenttype": "application/json", "dataschema": "https://example.com/s.json",
        "time": "2026-11-27T10:00:00Z", "region": "eu1", "partitionkey": "a"
    }));
    assert_eq!(structured(full), Ok(1));
    assert_eq!(structured(event(json!({"data": null, "data_base64": "aGk="}))), Ok(1));
    assert_eq!(structured(event(json!({"emptyext": ""}))), Ok(1), "an extension may be the empty string");
    assert_eq!(structured(event(json!({"datacontenttype": "application/json ; charset=utf-8"}))), Ok(1));
}

#[test]
fn a_batch_names_the_event_that_broke_a_rule() {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/cloudevents-batch+json"));
    let batch = json!([event(json!({})), event(json!({"id": "e-2", "time": "later"}))]);
    let err = decode(&headers, Bytes::from(batch.to_string())).unwrap_err().to_string();
    assert!(err.contains("event 2") && err.contains("`time`"), "{err}");
}
