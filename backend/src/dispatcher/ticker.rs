//! Schedules: once a second, each active service with a `schedule` whose due time has come gets a CloudEvent
//! on the bus — type [`SCHEDULE_TICK`], source `/schedules/<service>`, id `<service>@<due time>` — and from
//! there takes the same path as any event. The next due time not yet run is kept in the store (a mark), so a
//! restart knows what it missed ([`crate::schedule::Missed`] says what to do about it).
//!
//! Exactly once per due time, also with several k8x processes: the tick is published before the mark moves
//! on (compare-and-set), so a crash in between publishes the same tick again — and the same source and id
//! make the same execution, which runs once. Ingest refuses outside events with a `/schedules/` source.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use cloudevents::{Event, EventBuilder, EventBuilderV10};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::{index::Catalog, manual::SERVICE_EXTENSION};
use crate::{
    bus::{Bus, BusError},
    schedule::Schedule,
    store::{Store, StoreError},
};

/// The type of a schedule's event.
pub const SCHEDULE_TICK: &str = "k8x.schedule.tick";
/// The source of schedule events is this and the service's name.
pub const SCHEDULE_SOURCE: &str = "/schedules/";
/// How often due times are looked for.
const LOOK_EVERY: Duration = Duration::from_secs(1);

/// Why a look at the schedules failed (it is tried again a second later).
#[derive(Debug, thiserror::Error)]
pub enum TickError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Bus(#[from] BusError),
}

/// Publishes due schedule events until `stop`.
pub async fn run(store: Store, bus: Arc<dyn Bus>, stop: CancellationToken) {
    let catalog = Catalog::new(store.clone());
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(LOOK_EVERY) => {}
        }
        if let Err(err) = tick(&store, &*bus, &catalog, Utc::now()).await {
            tracing::warn!(%err, "could not publish due schedule events; trying again");
        }
    }
}

/// One look at every schedule at time `now`; returns how many events it published.
pub async fn tick(store: &Store, bus: &dyn Bus, catalog: &Catalog, now: DateTime<Utc>) -> Result<usize, TickError> {
    let index = catalog.index().await?;
    let mut marks = store.schedule_marks().await?;
    let mut published = 0;
    for spec in index.scheduled() {
        let Some(schedule) = &spec.schedule else { continue };
        // One service's trouble (a refused publish) does not hold up the others' due times.
        match due(store, bus, &spec.name, schedule, marks.remove(&spec.name), now).await {
            Ok(sent) => published += sent,
            Err(err) => tracing::warn!(%err, service = %spec.name, "could not publish a due schedule event"),
        }
    }
    // Services this index knows that are no longer scheduled (inactive, or without a schedule) forget theirs.
    let unscheduled: Vec<String> = marks
        .into_keys()
        .filter(|name| index.named(name).is_some_and(|spec| !spec.active || spec.schedule.is_none()))
        .collect();
    store.forget_marks(unscheduled).await?;
    Ok(published)
}

/// Publishes `service`'s due time, if one has come, and moves its mark on; returns how many it published.
async fn due(
    store: &Store,
    bus: &dyn Bus,
    service: &str,
    schedule: &Schedule,
    mark: Option<crate::store::entities::schedule_mark::Model>,
    now: DateTime<Utc>,
) -> Result<usize, TickError> {
    let key = schedule.key();
    let Some(mark) = mark else {
        // New (or newly scheduled): the first due time after now.
        if let Some(next) = schedule.next_after(now) {
            store.start_mark(service, &key, next).await?;
        }
        return Ok(0);
    };
    let was = (mark.schedule.as_str(), mark.next_due);
    if mark.schedule != key {
        // The schedule changed: it starts afresh.
        if let Some(next) = schedule.next_after(now) {
            store.move_mark(service, was, (&key, next)).await?;
        }
        return Ok(0);
    }
    let plan = schedule.plan(mark.next_due, now);
    if plan.run.is_none() && plan.next == Some(mark.next_due) {
        return Ok(0);
    }
    let mut published = 0;
    if let Some(due) = plan.run {
        bus.publish(&event(service, schedule, due)).await?;
        published += 1;
    }
    match plan.next {
        Some(next) => {
            store.move_mark(service, was, (&key, next)).await?;
        }
        None => store.forget_marks(vec![service.to_owned()]).await?,
    }
    Ok(published)
}

/// The event for `service`'s due time `due`.
pub fn event(service: &str, schedule: &Schedule, due: DateTime<Utc>) -> Event {
    let due_text = due.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    EventBuilderV10::new()
        .id(format!("{service}@{due_text}"))
        .source(format!("{SCHEDULE_SOURCE}{service}"))
        .ty(SCHEDULE_TICK)
        .subject(service)
        .time(due)
        .extension(SERVICE_EXTENSION, service)
        .data(
            "application/json",
            json!({"due": due_text, "schedule": schedule.expression, "timezone": schedule.timezone.name()}),
        )
        .build()
        .expect("every required attribute is set")
}

#[cfg(test)]
mod tests;
