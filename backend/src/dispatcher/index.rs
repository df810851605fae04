//! The services an event runs, found without touching the database: an in-memory index of every stored
//! service, parsed once (manifest, Job, form, configs, secrets), by event type. Finding an event's subscribers
//! costs one hash lookup plus the matching services.
//!
//! [`Catalog`] keeps the index current: a change made by this process (the catalog loader) is seen on the next
//! event; a change made by another process on the same database within [`RECHECK`] (a cheap fingerprint
//! query: how many services, and the newest change).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use crate::{
    catalog::{read_service, ServiceSpec},
    store::{entities::service, CatalogFingerprint, Store, StoreError},
};

/// How often the index checks for changes made by other processes.
pub const RECHECK: Duration = Duration::from_secs(2);
/// How soon an event that finds no subscriber (or a run request for a service not in the index) checks again:
/// a service another process has just added is then found within this, not [`RECHECK`].
pub const RECHECK_ON_MISS: Duration = Duration::from_millis(250);

/// Every stored service, parsed, by name and by the event types it subscribes to.
#[derive(Default)]
pub struct ServiceIndex {
    by_type: HashMap<String, Vec<Subscriber>>,
    by_name: HashMap<String, Arc<ServiceSpec>>,
}

/// An active service subscribed to one event type: to any subject, or only to some.
struct Subscriber {
    service: Arc<ServiceSpec>,
    subjects: Option<Vec<String>>,
}

impl ServiceIndex {
    /// The index of `rows`; a stored service that no longer parses is left out, with an error logged.
    pub fn build(rows: impl IntoIterator<Item = service::Model>) -> Self {
        let mut index = Self::default();
        for row in rows {
            match read_service(&row) {
                Ok(spec) => index.add(spec),
                Err(err) => tracing::error!(service = %row.name, %err, "stored service is broken; not run"),
            }
        }
        index
    }

    fn add(&mut self, spec: ServiceSpec) {
        let spec = Arc::new(spec);
        if spec.active {
            // One entry per type, so that a service subscribed twice to a type (to any subject, and to one)
            // runs once for an event matching both.
            let mut types: HashMap<&str, Option<Vec<String>>> = HashMap::new();
            for trigger in &spec.trigger_events {
                let entry = types.entry(trigger.ty()).or_insert_with(|| Some(Vec::new()));
                match (trigger.subject(), entry.as_mut()) {
                    (None, _) => *entry = None,
                    (Some(subject), Some(subjects)) => subjects.push(subject.to_owned()),
                    (Some(_), None) => {}
                }
            }
            for (ty, subjects) in types {
                self.by_type.entry(ty.to_owned()).or_default().push(Subscriber { service: spec.clone(), subjects });
            }
        }
        self.by_name.insert(spec.name.clone(), spec);
    }

    /// The active services subscribed to events of type `ty` and subject `subject`.
    pub fn matching<'a>(&'a self, ty: &str, subject: Option<&'a str>) -> impl Iterator<Item = &'a Arc<ServiceSpec>> {
        self.by_type.get(ty).into_iter().flatten().filter_map(move |subscriber| {
            let wanted = subscriber
                .subjects
                .as_ref()
                .is_none_or(|subjects| subject.is_some_and(|subject| subjects.iter().any(|s| s == subject)));
            wanted.then_some(&subscriber.service)
        })
    }

    /// A service by name, active or not.
    pub fn named(&self, name: &str) -> Option<&Arc<ServiceSpec>> {
        self.by_name.get(name)
    }

    /// The active services that run on a schedule.
    pub fn scheduled(&self) -> impl Iterator<Item = &Arc<ServiceSpec>> {
        self.by_name.values().filter(|spec| spec.active && spec.schedule.is_some())
    }

    /// How many services the index holds.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

/// The index, rebuilt when the stored services change.
#[derive(Clone)]
pub struct Catalog {
    store: Store,
    current: Arc<Mutex<Current>>,
    /// One rebuild at a time: the others wait for it and take its result.
    rebuilding: Arc<tokio::sync::Mutex<()>>,
}

struct Current {
    index: Arc<ServiceIndex>,
    /// The store's count of this process's catalog changes when the index was built (`None`: never built).
    changes: Option<u64>,
    /// What the services table looked like then, and when that was last compared.
    fingerprint: Option<CatalogFingerprint>,
    checked: Instant,
}

impl Catalog {
    pub fn new(store: Store) -> Self {
        let current = Current { index: Arc::default(), changes: None, fingerprint: None, checked: Instant::now() };
        Self { store, current: Arc::new(Mutex::new(current)), rebuilding: Arc::default() }
    }

    /// The current index: rebuilt first if this process changed a service since, or — checked every
    /// [`RECHECK`] — another process did.
    pub async fn index(&self) -> Result<Arc<ServiceIndex>, StoreError> {
        self.fresh(RECHECK).await
    }

    /// The index checked against the database if that was last done more than [`RECHECK_ON_MISS`] ago: for an
    /// event the current index found no service for.
    pub async fn recheck(&self) -> Result<Arc<ServiceIndex>, StoreError> {
        self.fresh(RECHECK_ON_MISS).await
    }

    async fn fresh(&self, every: Duration) -> Result<Arc<ServiceIndex>, StoreError> {
        if let Some(index) = self.current_if_fresh(every) {
            return Ok(index);
        }
        let _turn = self.rebuilding.lock().await;
        // Another task may have rebuilt or checked while this one waited.
        if let Some(index) = self.current_if_fresh(every) {
            return Ok(index);
        }
        let changes = self.store.catalog_changes();
        let stale = self.current.lock().expect("not poisoned").changes != Some(changes);
        let fingerprint = self.store.catalog_fingerprint().await?;
        {
            let mut current = self.current.lock().expect("not poisoned");
            current.checked = Instant::now();
            if !stale && current.fingerprint.as_ref() == Some(&fingerprint) {
                return Ok(current.index.clone());
            }
        }
        let index = Arc::new(ServiceIndex::build(self.store.services().await?));
        let mut current = self.current.lock().expect("not poisoned");
        *current = Current {
            index: index.clone(),
            changes: Some(changes),
            fingerprint: Some(fingerprint),
            checked: Instant::now(),
        };
        Ok(index)
    }

    /// The index, if nothing changed here and the database was looked at within `every`.
    fn current_if_fresh(&self, every: Duration) -> Option<Arc<ServiceIndex>> {
        let current = self.current.lock().expect("not poisoned");
        let unchanged = current.changes == Some(self.store.catalog_changes());
        (unchanged && current.checked.elapsed() < every).then(|| current.index.clone())
    }
}

#[cfg(test)]
mod tests;
