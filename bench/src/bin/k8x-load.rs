//! Drives one endpoint from many keep-alive connections for a while and prints one line of figures:
//! `requests/s=… p50_ms=… p99_ms=… errors=…`. Modes: `events` POSTs unique binary-mode CloudEvents (type
//! `bench.nobody`, which no service subscribes to); `get` GETs the URL.

use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use k8x_bench::{
    client::{Kind, Target},
    stats::{ms, percentile},
};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Mode {
    Events,
    Get,
}

#[derive(Debug, Parser)]
struct Args {
    /// The URL to drive (for `events`, the ingest endpoint).
    url: String,
    #[arg(long, value_enum, default_value = "events")]
    mode: Mode,
    /// A bearer token, if the endpoint needs one.
    #[arg(long, env = "K8X_BENCH_TOKEN")]
    token: Option<String>,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Seconds of load measured (after the warm-up).
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Seconds of load before measuring.
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// The event type sent in `events` mode.
    #[arg(long, default_value = "bench.nobody")]
    event_type: String,
}

struct Tally {
    latencies: Vec<Duration>,
    errors: u64,
    first_error: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let kind = match args.mode {
        Mode::Events => Kind::Event(args.event_type.parse()?),
        Mode::Get => Kind::Get,
    };
    let target = Target::new(&args.url, args.token.as_deref(), kind)?;
    let start = Instant::now() + Duration::from_secs_f64(args.warmup);
    let end = start + Duration::from_secs_f64(args.seconds);
    let mut workers = Vec::new();
    for worker in 0..args.connections {
        let mut sender = target.connect().await?;
        let target = target.clone();
        workers.push(tokio::spawn(async move {
            let mut tally = Tally { latencies: Vec::new(), errors: 0, first_error: None };
            let mut n = 0u64;
            loop {
                let sent = Instant::now();
                if sent >= end {
                    break;
                }
                n += 1;
                let outcome = target.send(&mut sender, worker, n).await;
                let failed = outcome.is_err();
                if sent >= start {
                    match outcome {
                        Ok(()) => tally.latencies.push(sent.elapsed()),
                        Err(why) => {
                            tally.errors += 1;
                            tally.first_error.get_or_insert(why);
                        }
                    }
                }
                if failed {
                    // The server may have closed the connection: open another, or stop this worker.
                    match target.connect().await {
                        Ok(fresh) => sender = fresh,
                        Err(_) => break,
                    }
                }
            }
            tally
        }));
    }
    let mut latencies = Vec::new();
    let (mut errors, mut first_error) = (0, None);
    for worker in workers {
        let tally = worker.await?;
        latencies.extend(tally.latencies);
        errors += tally.errors;
        first_error = first_error.or(tally.first_error);
    }
    let rate = latencies.len() as f64 / args.seconds;
    let p50 = percentile(&mut latencies, 50.0);
    let p99 = percentile(&mut latencies, 99.0);
    println!("requests/s={rate:.0} p50_ms={} p99_ms={} errors={errors}", ms(p50), ms(p99));
    if let Some(why) = first_error {
        eprintln!("first error: {why}");
        std::process::exit(1);
    }
    Ok(())
}
