//! Finding an event's subscribers among 10,000 services subscribed to 1,000 event types (ten per type): the
//! dispatcher's in-memory index, against the way it was done before it (every stored row's subscriptions parsed
//! from JSON for each event; the database load of every row came on top of that). Target: ≤ 10 µs per event.
//!
//! `cargo bench -p backend --bench dispatch` (or `bench/dispatch.sh`).

use std::hint::black_box;

use backend::{catalog::Trigger, dispatcher::index::ServiceIndex, store::entities::service};
use criterion::{criterion_group, criterion_main, Criterion};

const SERVICES: usize = 10_000;
const TYPES: usize = 1_000;

fn rows() -> Vec<service::Model> {
    (0..SERVICES)
        .map(|n| {
            let name = format!("service-{n:05}");
            let ty = format!("bench.type-{}", n % TYPES);
            let manifest = serde_json::json!({"name": name, "type": "k8x_job", "trigger_events": [ty]});
            service::Model {
                name,
                project: "bench".into(),
                kind: "k8x_job".into(),
                description: String::new(),
                active: true,
                allow_manual_triggering: true,
                trigger_events: serde_json::json!([ty]).to_string(),
                tags: "[]".into(),
                manifest: manifest.to_string(),
                deployment: "apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n        - name: main\n          image: busybox\n          command: [\"echo\", \"hello\"]\n".into(),
                parameters: None,
                configs: Some(r#"{"REGION": "eu"}"#.into()),
                secrets: None,
                updated_at: chrono::Utc::now(),
                revision: None,
                source_dir: None,
            }
        })
        .collect()
}

fn dispatch(c: &mut Criterion) {
    let rows = rows();
    let index = ServiceIndex::build(rows.clone());
    assert_eq!(index.len(), SERVICES);
    let mut n = 0usize;
    let mut group = c.benchmark_group("subscribers of one event (10,000 services, 1,000 types)");
    group.bench_function("index", |b| {
        b.iter(|| {
            n = n.wrapping_add(7919);
            let ty = format!("bench.type-{}", n % TYPES);
            let found: Vec<_> = index.matching(black_box(&ty), None).cloned().collect();
            assert_eq!(found.len(), SERVICES / TYPES);
            found
        })
    });
    group.bench_function("baseline: scan every row", |b| {
        b.iter(|| {
            n = n.wrapping_add(7919);
            let ty = format!("bench.type-{}", n % TYPES);
            let found: Vec<_> = rows
                .iter()
                .filter(|row| {
                    row.active
                        && serde_json::from_str::<Vec<Trigger>>(&row.trigger_events)
                            .is_ok_and(|triggers| triggers.iter().any(|t| t.matches(black_box(&ty), None)))
                })
                .collect();
            assert_eq!(found.len(), SERVICES / TYPES);
            found.len()
        })
    });
    group.finish();
}

criterion_group!(benches, dispatch);
criterion_main!(benches);
