//! What the API server does to an object before storing it: the few validations k8x could trip over, the
//! defaults a real server fills in (Job selector and labels, backoffLimit, pod restartPolicy, ...), and
//! `Secret.stringData` folded into base64 `data`.

use base64::Engine;
use serde_json::{json, Map, Value};

use crate::error::{ApiError, Result};
use crate::kinds::Kind;
use crate::meta;

/// Labels the Job controller's selector and pods carry.
pub const CONTROLLER_UID: &str = "batch.kubernetes.io/controller-uid";
/// Labels naming the Job on its pods.
pub const JOB_NAME: &str = "batch.kubernetes.io/job-name";

/// Prepares a new object for `Store::create`: checks it, drops server-owned fields a client may have
/// sent, assigns its uid and applies the kind's defaults.
pub fn for_create(kind: Kind, namespace: &str, mut obj: Value) -> Result<Value> {
    if !obj.is_object() {
        return Err(ApiError::BadRequest("the request body must be a JSON object".into()));
    }
    if !obj["metadata"].is_object() {
        obj["metadata"] = json!({});
    }
    let body_ns = meta::namespace(&obj);
    if !body_ns.is_empty() && body_ns != namespace {
        return Err(ApiError::BadRequest(
            "the namespace of the provided object does not match the namespace sent on the request".into(),
        ));
    }
    let name = meta::name(&obj).to_owned();
    if name.is_empty() && obj.pointer("/metadata/generateName").and_then(Value::as_str).unwrap_or("").is_empty() {
        return Err(ApiError::Invalid {
            kind,
            name,
            detail: "metadata.name: Required value: name or generateName is required".into(),
        });
    }
    let metadata = obj["metadata"].as_object_mut().expect("checked above");
    for server_owned in ["uid", "resourceVersion", "creationTimestamp", "deletionTimestamp", "generation"] {
        metadata.remove(server_owned);
    }
    metadata.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
    match kind {
        Kind::Secret => fold_string_data(&mut obj)?,
        Kind::Job => job(&mut obj, &name)?,
        Kind::Pod => pod(&mut obj, &name)?,
        _ => {}
    }
    Ok(obj)
}

/// Prepares a replacement or patched object: the parts of `for_create` that apply to every write.
pub fn for_write(kind: Kind, obj: &mut Value) -> Result<()> {
    if kind == Kind::Secret {
        fold_string_data(obj)?;
    }
    Ok(())
}

/// `stringData` is write-only: the server merges it into `data` as base64 and never returns it.
fn fold_string_data(obj: &mut Value) -> Result<()> {
    if obj.get("type").is_none() {
        obj["type"] = json!("Opaque");
    }
    let Some(string_data) = obj.as_object_mut().and_then(|o| o.remove("stringData")) else {
        return Ok(());
    };
    let Value::Object(string_data) = string_data else {
        return Err(ApiError::BadRequest("stringData must be an object of strings".into()));
    };
    if !obj["data"].is_object() {
        obj["data"] = json!({});
    }
    for (key, value) in string_data {
        let text = value.as_str().ok_or_else(|| ApiError::BadRequest(format!("stringData.{key} must be a string")))?;
        obj["data"][key] = json!(base64::engine::general_purpose::STANDARD.encode(text));
    }
    Ok(())
}

fn invalid(kind: Kind, name: &str, detail: &str) -> ApiError {
    ApiError::Invalid { kind, name: name.to_owned(), detail: detail.to_owned() }
}

/// Job defaulting as the batch API does it: selector and template labels from the uid, counts, and the
/// Job's own labels copied from the template when it has none.
fn job(obj: &mut Value, name: &str) -> Result<()> {
    let spec = obj.pointer("/spec/template/spec").cloned().unwrap_or(Value::Null);
    match spec.get("restartPolicy").and_then(Value::as_str) {
        Some("Never" | "OnFailure") => {}
        _ => {
            return Err(invalid(
                Kind::Job,
                name,
                "spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\"",
            ))
        }
    }
    if spec.get("containers").and_then(Value::as_array).is_none_or(Vec::is_empty) {
        return Err(invalid(Kind::Job, name, "spec.template.spec.containers: Required value"));
    }
    let uid = meta::uid(obj).to_owned();
    let job_name = meta::name(obj).to_owned();
    let spec = &mut obj["spec"];
    for (field, default) in
        [("backoffLimit", json!(6)), ("completions", json!(1)), ("parallelism", json!(1)), ("suspend", json!(false))]
    {
        if spec.get(field).is_none() {
            spec[field] = default;
        }
    }
    if spec.get("completionMode").is_none() {
        spec["completionMode"] = json!("NonIndexed");
    }
    if spec.get("selector").is_none() {
        spec["selector"] = json!({ "matchLabels": { CONTROLLER_UID: uid } });
    }
    let template_meta = &mut spec["template"]["metadata"];
    if !template_meta["labels"].is_object() {
        template_meta["labels"] = json!({});
    }
    let labels = &mut template_meta["labels"];
    labels[CONTROLLER_UID] = json!(uid);
    labels["controller-uid"] = json!(uid);
    // With generateName the final name is not known yet; the controller adds job-name labels on its pods.
    if !job_name.is_empty() {
        labels[JOB_NAME] = json!(job_name);
        labels["job-name"] = json!(job_name);
    }
    let template_labels = labels.clone();
    if obj.pointer("/metadata/labels").and_then(Value::as_object).is_none_or(Map::is_empty) {
        obj["metadata"]["labels"] = template_labels;
    }
    obj["status"] = json!({});
    Ok(())
}

/// Pod defaulting: the fields a real server fills in that clients commonly read back.
fn pod(obj: &mut Value, name: &str) -> Result<()> {
    let containers = obj.pointer("/spec/containers").and_then(Value::as_array).cloned().unwrap_or_default();
    if containers.is_empty() {
        return Err(invalid(Kind::Pod, name, "spec.containers: Required value"));
    }
    for (i, c) in containers.iter().enumerate() {
        for field in ["name", "image"] {
            if c.get(field).and_then(Value::as_str).unwrap_or("").is_empty() {
                return Err(invalid(Kind::Pod, name, &format!("spec.containers[{i}].{field}: Required value")));
            }
        }
    }
    let spec = &mut obj["spec"];
    for (field, default) in [
        ("restartPolicy", json!("Always")),
        ("terminationGracePeriodSeconds", json!(30)),
        ("dnsPolicy", json!("ClusterFirst")),
        ("schedulerName", json!("default-scheduler")),
        ("serviceAccountName", json!("default")),
        ("enableServiceLinks", json!(true)),
    ] {
        if spec.get(field).is_none() {
            spec[field] = default;
        }
    }
    obj["status"] = json!({ "phase": "Pending", "qosClass": "BestEffort" });
    Ok(())
}
