//! Property tests that feed the parsers k8x exposes to the outside hostile input: CloudEvents in every HTTP
//! mode, Kafka records (headers and payload as another client may produce them), `manifest.json`,
//! `deployment.yaml`, `parameters.json`, `configs.json`, `secrets.json` and plain webhooks.
//! The property is the same everywhere: an answer (accepted or refused with a reason), never a panic or a hang.
//! The suite runs 256 cases per target; `scripts/fuzz.sh` runs many more for a bounded time.

use axum::{
    body::Bytes,
    http::{HeaderMap, HeaderName, HeaderValue},
};
use proptest::prelude::*;
use serde_json::Value;

use cloudevents::AttributesReader;

use crate::{
    bus::{decode_kafka_record, Record},
    catalog::{files, Manifest},
    ingest::{decode, rules, webhook},
    store::WebhookShape,
};

/// Any JSON value, nested a few levels, with CloudEvents' attribute names among the keys.
fn json() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("specversion".to_owned()),
        Just("id".to_owned()),
        Just("source".to_owned()),
        Just("type".to_owned()),
        Just("data".to_owned()),
        Just("data_base64".to_owned()),
        Just("datacontenttype".to_owned()),
        Just("time".to_owned()),
        Just("dataschema".to_owned()),
        Just("fields".to_owned()),
        Just("name".to_owned()),
        "[a-zA-Z_]{1,12}",
        ".{0,8}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        Just(Value::from("1.0")),
        ".{0,40}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..8).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Header values as HTTP allows them (visible ASCII and spaces), sometimes long.
fn header_value() -> impl Strategy<Value = String> {
    prop_oneof!["[ -~]{0,30}", "[ -~]{200,600}", Just("1.0".to_owned()), Just("application/json".to_owned())]
}

fn headers(pairs: Vec<(String, String)>) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(&value)) {
            map.append(name, value);
        }
    }
    map
}

fn header_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("content-type".to_owned()),
        Just("ce-specversion".to_owned()),
        Just("ce-id".to_owned()),
        Just("ce-source".to_owned()),
        Just("ce-type".to_owned()),
        Just("ce-time".to_owned()),
        Just("ce-dataschema".to_owned()),
        "ce-[a-z0-9_]{1,10}",
        Just("x-github-event".to_owned()),
    ]
}

fn content_type() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("application/cloudevents+json".to_owned()),
        Just("application/cloudevents-batch+json".to_owned()),
        Just("application/json".to_owned()),
        Just("application/octet-stream".to_owned()),
        "[ -~]{0,20}",
    ]
}

/// Kafka header names: the binding's, a few others, anything.
fn kafka_header_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("content-type".to_owned()),
        Just("ce_specversion".to_owned()),
        Just("ce_id".to_owned()),
        Just("ce_source".to_owned()),
        Just("ce_type".to_owned()),
        Just("ce_time".to_owned()),
        Just("ce_dataschema".to_owned()),
        Just("ce_subject".to_owned()),
        Just("content-type".to_owned()),
        "ce_[a-z0-9_]{0,10}",
        ".{0,12}",
    ]
}

/// Kafka header values: missing, well-formed, any bytes.
fn kafka_header_value() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![
        Just(Some(b"application/cloudevents+json".to_vec())),
        Just(None),
        Just(Some(b"1.0".to_vec())),
        Just(Some(b"application/json".to_vec())),
        Just(Some(b"2026-11-27T10:00:00Z".to_vec())),
        prop::collection::vec(any::<u8>(), 0..40).prop_map(Some),
    ]
}

proptest! {
    #[test]
    fn kafka_records_get_an_answer(
        headers in prop::collection::vec((kafka_header_name(), kafka_header_value()), 0..10),
        payload in prop::option::of(prop::collection::vec(any::<u8>(), 0..200)),
        key in prop::option::of(prop::collection::vec(any::<u8>(), 0..20)),
    ) {
        let _ = decode_kafka_record(&Record { key, headers, payload });
    }

    #[test]
    fn kafka_records_with_the_binding_headers_decode(
        id in "[ -~]{1,40}",
        ty in "[a-z.]{1,20}",
        payload in prop::collection::vec(any::<u8>(), 0..100),
        extra in prop::collection::vec(("[a-z0-9]{1,10}", "[ -~]{0,20}"), 0..4),
    ) {
        let mut headers = vec![
            ("ce_specversion".to_owned(), Some(b"1.0".to_vec())),
            ("ce_id".to_owned(), Some(id.clone().into_bytes())),
            ("ce_source".to_owned(), Some(b"/fuzz".to_vec())),
            ("ce_type".to_owned(), Some(ty.clone().into_bytes())),
            ("content-type".to_owned(), Some(b"application/octet-stream".to_vec())),
        ];
        // Extensions only (an `x` first keeps them apart from the attributes the binding itself reads).
        headers.extend(extra.into_iter().map(|(k, v)| (format!("ce_x{k}"), Some(v.into_bytes()))));
        let event = decode_kafka_record(&Record { key: None, headers, payload: Some(payload) });
        let event = event.map_err(|e| TestCaseError::fail(format!("a well-formed record was refused: {e}")))?;
        prop_assert_eq!(event.id(), id.as_str());
        prop_assert_eq!(event.ty(), ty.as_str());
    }

    #[test]
    fn cloudevents_in_any_mode_get_an_answer(
        value in json(),
        raw in prop::collection::vec(any::<u8>(), 0..200),
        use_raw in any::<bool>(),
        kind in content_type(),
        extra in prop::collection::vec((header_name(), header_value()), 0..8),
    ) {
        let body = if use_raw { Bytes::from(raw) } else { Bytes::from(value.to_string()) };
        let mut pairs = vec![("content-type".to_owned(), kind)];
        pairs.extend(extra);
        // Whatever is accepted keeps every rule.
        for event in decode(&headers(pairs), body).unwrap_or_default() {
            prop_assert!(rules::check(&event).is_ok(), "accepted an event that breaks a rule: {event:?}");
        }
    }

    #[test]
    fn a_batch_of_anything_gets_an_answer(values in prop::collection::vec(json(), 0..12)) {
        let pairs = vec![("content-type".to_owned(), "application/cloudevents-batch+json".to_owned())];
        for event in decode(&headers(pairs), Bytes::from(Value::Array(values).to_string())).unwrap_or_default() {
            prop_assert!(rules::check(&event).is_ok(), "accepted an event that breaks a rule: {event:?}");
        }
    }

    #[test]
    fn service_files_get_an_answer(value in json(), text in ".{0,300}", yaml in "[ -~\n]{0,300}") {
        for input in [value.to_string(), text.clone()] {
            let _ = Manifest::parse("s/manifest.json", &input);
            let _ = files::parse_parameters("s/parameters.json", &input);
            let _ = files::parse_configs("s/configs.json", &input);
            let _ = files::parse_secrets("s/secrets.json", &input);
            let _ = files::parse_job("s/deployment.yaml", &input);
        }
        let _ = files::parse_job("s/deployment.yaml", &yaml);
    }

    #[test]
    fn plain_webhooks_get_an_answer(
        value in json(),
        raw in prop::collection::vec(any::<u8>(), 0..100),
        event in header_value(),
        field in "/[A-Za-z/]{0,12}",
    ) {
        let shapes = [
            WebhookShape::preset("github").unwrap(),
            WebhookShape { type_field: Some(field), ..WebhookShape::default() },
            WebhookShape::default(),
        ];
        let pairs = vec![("x-github-event".to_owned(), event)];
        for shape in &shapes {
            for body in [Bytes::from(value.to_string()), Bytes::from(raw.clone())] {
                if let Ok(event) = webhook::wrap("s", shape, &headers(pairs.clone()), &body) {
                    prop_assert!(!event.ty().chars().any(char::is_whitespace), "type {:?}", event.ty());
                }
            }
        }
    }
}
