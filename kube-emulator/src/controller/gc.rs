//! Deletion with garbage collection by owner reference.
//!
//! Deleting an object deletes its dependents (objects whose `metadata.ownerReferences` name its uid),
//! recursively, unless the deletion orphans them, in which case the reference is removed from each
//! dependent instead. As on a real server, `Orphan` orphans, `Background` and `Foreground` cascade, and
//! without a policy each kind's default applies: Jobs (via the batch/v1 API) orphan, everything else
//! cascades. Deletion is immediate in every case (no `deletionTimestamp`, no foreground finalizer).

use serde_json::Value;

use crate::error::Result;
use crate::kinds::Kind;
use crate::meta;
use crate::shared::Shared;

/// The `propagationPolicy` of a delete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Propagation {
    /// None given: the kind's default.
    Default,
    Orphan,
    Background,
    Foreground,
}

/// Deletes an object and handles its dependents; returns the deleted object.
pub fn delete(shared: &Shared, kind: Kind, namespace: &str, name: &str, propagation: Propagation) -> Result<Value> {
    let deleted = shared.store.delete(kind, namespace, name)?;
    let orphan = match propagation {
        Propagation::Orphan => true,
        Propagation::Default => kind == Kind::Job,
        Propagation::Background | Propagation::Foreground => false,
    };
    let uid = meta::uid(&deleted).to_owned();
    for (dep_kind, dep_ns, dep_name) in shared.store.dependents_of(&uid) {
        if orphan {
            let _ = shared.store.update(dep_kind, &dep_ns, &dep_name, |obj| {
                if let Some(refs) = obj.pointer_mut("/metadata/ownerReferences").and_then(Value::as_array_mut) {
                    refs.retain(|r| r.get("uid").and_then(Value::as_str) != Some(uid.as_str()));
                }
                if obj.pointer("/metadata/ownerReferences").and_then(Value::as_array).is_some_and(Vec::is_empty) {
                    obj["metadata"].as_object_mut().map(|m| m.remove("ownerReferences"));
                }
                Ok(())
            });
        } else {
            // A dependent already gone (deleted concurrently) is fine.
            let _ = delete(shared, dep_kind, &dep_ns, &dep_name, Propagation::Background);
        }
    }
    Ok(deleted)
}
