//! The in-memory object store: every object as JSON keyed by (kind, namespace, name), one global
//! resourceVersion counter, and the full history of changes so any watch can resume from any version.
//!
//! All state sits behind one `std::sync::Mutex`. No lock is held across an `.await`, so the mutex can never
//! stall the runtime, and because every write bumps the counter and appends to the history under that same
//! lock, a reader that takes a snapshot and its version together can never miss or repeat a change.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{json, Value};
use tokio::sync::watch;

use crate::error::{ApiError, Result};
use crate::kinds::Kind;
use crate::meta;

/// Where an object lives: (kind, namespace, name).
pub type Key = (Kind, String, String);

/// What happened to an object, as watch events name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    /// The watch event `type`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One write, kept forever in the history.
#[derive(Clone, Debug)]
pub struct Change {
    /// The resourceVersion this write produced.
    pub rv: u64,
    /// The object's kind.
    pub kind: Kind,
    /// What happened.
    pub event_type: EventType,
    /// The object after the write (for a delete: as it was, stamped with the deletion's version).
    pub object: Arc<Value>,
    /// The object before a modification, so selector watches can tell "stopped matching" from "changed".
    pub previous: Option<Arc<Value>>,
}

#[derive(Default)]
struct Inner {
    /// The last resourceVersion handed out.
    rv: u64,
    /// Current objects.
    objects: BTreeMap<Key, Arc<Value>>,
    /// Every change ever made, in version order.
    history: Vec<Change>,
}

/// The store. Shared by the routes, the controller and the kubelet.
pub struct Store {
    inner: Mutex<Inner>,
    /// Carries the latest resourceVersion; watchers wait on it instead of polling.
    changed: watch::Sender<u64>,
}

impl Default for Store {
    fn default() -> Self {
        // Versions start above 0 because "0" means "any version" to a watch: a client that lists an empty
        // store and watches from the list's version must get every later change, not a fresh snapshot.
        let inner = Inner { rv: FIRST_RV, ..Inner::default() };
        Self { inner: Mutex::new(inner), changed: watch::channel(FIRST_RV).0 }
    }
}

/// The version of an empty store.
const FIRST_RV: u64 = 1;

impl Store {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave a half-written object (writes are single inserts).
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes whenever anything is written.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// The latest resourceVersion.
    pub fn current_rv(&self) -> u64 {
        self.lock().rv
    }

    /// Stores a new object. The caller has already defaulted it (see `defaults`); here it gets the
    /// server-owned metadata. A `generateName` without `name` gets a unique random suffix.
    pub fn create(&self, kind: Kind, namespace: &str, mut obj: Value) -> Result<Value> {
        let mut inner = self.lock();
        let mut name = meta::name(&obj).to_owned();
        if name.is_empty() {
            let prefix = obj.pointer("/metadata/generateName").and_then(Value::as_str).unwrap_or("").to_owned();
            name = loop {
                let candidate = format!("{prefix}{}", meta::random_suffix(5));
                if !inner.objects.contains_key(&(kind, namespace.to_owned(), candidate.clone())) {
                    break candidate;
                }
            };
        }
        let key = (kind, namespace.to_owned(), name.clone());
        if inner.objects.contains_key(&key) {
            return Err(ApiError::AlreadyExists { kind, name });
        }
        let metadata = &mut obj["metadata"];
        metadata["name"] = json!(name);
        metadata["namespace"] = json!(namespace);
        if meta::uid(&obj).is_empty() {
            obj["metadata"]["uid"] = json!(uuid::Uuid::new_v4().to_string());
        }
        obj["metadata"]["creationTimestamp"] = json!(meta::now());
        if obj.pointer("/metadata/generation").is_none() {
            obj["metadata"]["generation"] = json!(1);
        }
        Ok(self.commit(&mut inner, key, EventType::Added, obj, None))
    }

    /// The object, if present.
    pub fn get(&self, kind: Kind, namespace: &str, name: &str) -> Option<Value> {
        self.lock().objects.get(&(kind, namespace.to_owned(), name.to_owned())).map(|o| (**o).clone())
    }

    /// Every object of a kind (in one namespace, or all), with the version the list is consistent at.
    pub fn list(&self, kind: Kind, namespace: Option<&str>) -> (Vec<Value>, u64) {
        let inner = self.lock();
        let items = inner
            .objects
            .iter()
            .filter(|((k, ns, _), _)| *k == kind && namespace.is_none_or(|n| n == ns))
            .map(|(_, o)| (**o).clone())
            .collect();
        (items, inner.rv)
    }

    /// The keys of every object (any kind) with an ownerReference to `owner_uid`.
    pub fn dependents_of(&self, owner_uid: &str) -> Vec<Key> {
        self.lock()
            .objects
            .iter()
            .filter(|(_, o)| meta::owner_uids(o).contains(&owner_uid))
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Changes the object with `f`. Identity fields (apiVersion, kind, name, namespace, uid,
    /// creationTimestamp) are restored afterwards whatever `f` did. If `f` leaves the object as it was,
    /// nothing is written (no new version, no event), which is what keeps level-triggered controllers quiet.
    pub fn update(
        &self,
        kind: Kind,
        namespace: &str,
        name: &str,
        f: impl FnOnce(&mut Value) -> Result<()>,
    ) -> Result<Value> {
        let mut inner = self.lock();
        let key = (kind, namespace.to_owned(), name.to_owned());
        let current = inner.objects.get(&key).cloned().ok_or_else(|| ApiError::NotFound { kind, name: name.into() })?;
        let mut next = (*current).clone();
        f(&mut next)?;
        for field in ["name", "namespace", "uid", "creationTimestamp", "resourceVersion"] {
            next["metadata"][field] = current["metadata"][field].clone();
        }
        if next == *current {
            return Ok(next);
        }
        Ok(self.commit(&mut inner, key, EventType::Modified, next, Some(current)))
    }

    /// Removes the object and returns it as last stored.
    pub fn delete(&self, kind: Kind, namespace: &str, name: &str) -> Result<Value> {
        let mut inner = self.lock();
        let key = (kind, namespace.to_owned(), name.to_owned());
        let current = inner.objects.get(&key).cloned().ok_or_else(|| ApiError::NotFound { kind, name: name.into() })?;
        Ok(self.commit(&mut inner, key, EventType::Deleted, (*current).clone(), None))
    }

    /// Every change after version `rv`, oldest first.
    pub fn history_since(&self, rv: u64) -> Vec<Change> {
        let inner = self.lock();
        let start = inner.history.partition_point(|c| c.rv <= rv);
        inner.history[start..].to_vec()
    }

    /// Stamps a new version on `obj`, stores (or removes) it, records the change and wakes watchers.
    fn commit(
        &self,
        inner: &mut Inner,
        key: Key,
        event_type: EventType,
        mut obj: Value,
        previous: Option<Arc<Value>>,
    ) -> Value {
        inner.rv += 1;
        let rv = inner.rv;
        obj["apiVersion"] = json!(key.0.api_version());
        obj["kind"] = json!(key.0.kind());
        obj["metadata"]["resourceVersion"] = json!(rv.to_string());
        let object = Arc::new(obj);
        if event_type == EventType::Deleted {
            inner.objects.remove(&key);
        } else {
            inner.objects.insert(key.clone(), object.clone());
        }
        inner.history.push(Change { rv, kind: key.0, event_type, object: object.clone(), previous });
        self.changed.send_replace(rv);
        (*object).clone()
    }
}
