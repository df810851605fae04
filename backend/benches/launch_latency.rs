//! Event accepted → executor launch, at a steady 1,000 events/s for 5 s: events are published on the embedded
//! bus (SQLite, a file in a temp dir, as k8x runs by default) and the dispatcher hands each to an executor that
//! notes when it arrived (each launch first recorded the event and created the execution, as always). Prints
//! p50, p99 and the most, and the rate reached. Events have 64 subjects (ordering keys). Target: p99 ≤ 10 ms.
//! The first half second is a warm-up, published and checked but not counted (the pool opens its connections,
//! the dispatcher builds its index): the figures are of k8x running, not starting.
//!
//! "Accepted" is when the publish returned (the event committed: what ingest answers 202 after). The same
//! figures from the moment the publish was called (so with the publish's own commit) are printed beside them.
//!
//! `cargo bench -p backend --bench launch_latency` (or `bench/dispatch.sh`).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use async_trait::async_trait;
use backend::{
    bus::{Bus, EmbeddedBus},
    dispatcher::Dispatcher,
    executor::{Executor, ExecutorError, Launch},
    store::{entities::service, Store},
};
use cloudevents::{EventBuilder, EventBuilderV10};
use tokio_util::sync::CancellationToken;

const RATE: u64 = 1_000;
const SECONDS: u64 = 5;
/// Events published before the measured ones, at the same rate.
const WARM_UP: u64 = RATE / 2;

/// Notes when each event was published, accepted and launched (as time since `start`).
struct Stopwatch {
    start: Instant,
    /// Event number → when its publish returned.
    accepted: Mutex<HashMap<u64, Duration>>,
    /// (event number, when its publish was called, when it was launched).
    launches: Mutex<Vec<(u64, Duration, Duration)>>,
}

#[async_trait]
impl Executor for Stopwatch {
    async fn launch(&self, launch: Launch) -> Result<(), ExecutorError> {
        let now = self.start.elapsed();
        let sent = Duration::from_micros(launch.params["sent_us"].as_u64().unwrap_or_default());
        let n = launch.params["n"].as_u64().unwrap_or_default();
        self.launches.lock().unwrap().push((n, sent, now));
        Ok(())
    }

    async fn cancel(&self, _: &str) -> Result<(), ExecutorError> {
        Ok(())
    }
}

/// Delays from acceptance and from the publish call, how many launches came before their publisher heard of
/// the commit, and the publish rate reached.
async fn run() -> (Vec<Duration>, Vec<Duration>, usize, f64) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!("sqlite://{}?mode=rwc", dir.path().join("k8x.db").display())).await.unwrap();
    {
        let manifest = r#"{"name": "svc", "type": "k8x_job", "trigger_events": ["bench.launch"]}"#;
        let deployment = "apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n        - name: main\n          image: busybox\n          command: [\"true\"]\n";
        store
            .upsert_service(service::Model {
                name: "svc".into(),
                project: "bench".into(),
                kind: "k8x_job".into(),
                description: String::new(),
                active: true,
                allow_manual_triggering: true,
                trigger_events: r#"["bench.launch"]"#.into(),
                tags: "[]".into(),
                manifest: manifest.into(),
                deployment: deployment.into(),
                parameters: None,
                configs: None,
                secrets: None,
                updated_at: chrono::Utc::now(),
                revision: None,
                source_dir: None,
            })
            .await
            .unwrap();
    }
    let bus = Arc::new(EmbeddedBus::new(&store));
    let watch = Arc::new(Stopwatch { start: Instant::now(), accepted: Mutex::default(), launches: Mutex::default() });
    let shutdown = CancellationToken::new();
    let dispatcher = tokio::spawn(Dispatcher::new(store, bus.clone(), watch.clone()).run(shutdown.clone()));
    let total = WARM_UP + RATE * SECONDS;
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / RATE));
    let began = Instant::now();
    for n in 0..total {
        tick.tick().await;
        let sent = watch.start.elapsed().as_micros() as u64;
        let event = EventBuilderV10::new()
            .id(format!("e{n}"))
            .source("/bench")
            .subject(format!("s{}", n % 64))
            .ty("bench.launch")
            .data("application/json", serde_json::json!({ "sent_us": sent, "n": n }))
            .build()
            .unwrap();
        let (bus, watch) = (bus.clone(), watch.clone());
        // Publishers do not wait for each other (HTTP clients would not).
        tokio::spawn(async move {
            bus.publish(&event).await.unwrap();
            watch.accepted.lock().unwrap().insert(n, watch.start.elapsed());
        });
    }
    let rate = total as f64 / began.elapsed().as_secs_f64();
    let deadline = Instant::now() + Duration::from_secs(30);
    let done = || {
        watch.launches.lock().unwrap().len() >= total as usize && watch.accepted.lock().unwrap().len() >= total as usize
    };
    while !done() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    shutdown.cancel();
    let _ = dispatcher.await;
    let accepted = watch.accepted.lock().unwrap();
    let launches = watch.launches.lock().unwrap();
    let mut seen = vec![0u32; total as usize];
    for (n, _, _) in launches.iter() {
        seen[*n as usize] += 1;
    }
    assert!(seen.iter().all(|&times| times == 1), "every event was launched exactly once");
    assert_eq!(accepted.len() as u64, total, "every publish was answered");
    // A launch may come before its publisher's task heard the commit (the dispatcher read the committed event
    // first): that delay counts as zero, and how often it happened is printed.
    let measured: Vec<_> = launches.iter().filter(|(n, _, _)| *n >= WARM_UP).collect();
    let early = measured.iter().filter(|(n, _, at)| *at < accepted[n]).count();
    let from_accepted = measured.iter().map(|(n, _, at)| at.saturating_sub(accepted[n])).collect();
    let from_call = measured.iter().map(|(_, sent, at)| at.saturating_sub(*sent)).collect();
    (from_accepted, from_call, early, rate)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted.get(((sorted.len().saturating_sub(1)) as f64 * p / 100.0).round() as usize).copied().unwrap_or_default()
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let (mut delays, mut with_publish, early, rate) = runtime.block_on(run());
    let ms = |d: Duration| format!("{:.2}", d.as_secs_f64() * 1000.0);
    let figures = |delays: &mut Vec<Duration>| {
        delays.sort_unstable();
        format!(
            "p50 {} ms, p99 {} ms, max {} ms",
            ms(percentile(delays, 50.0)),
            ms(percentile(delays, 99.0)),
            ms(delays.last().copied().unwrap_or_default())
        )
    };
    println!(
        "accepted -> launch at {rate:.0} events/s: {} launches, {} ({early} launched before their publisher heard \
         of the commit: counted as 0)",
        delays.len(),
        figures(&mut delays)
    );
    println!("publish called -> launch (the publish's commit included): {}", figures(&mut with_publish));
}
