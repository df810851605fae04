//! Drives one endpoint from many keep-alive connections for a while and prints one line of figures:
//! `requests/s=… p50_ms=… p99_ms=… errors=…`. Modes: `events` POSTs unique binary-mode CloudEvents (type
//! `bench.nobody`, which no service subscribes to); `get` GETs the URL.

use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use k8x_bench::stats::{ms, percentile};

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
    // Event ids unique to this run, so that every event is new to k8x.
    let run = format!("{:x}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_nanos());
    let start = Instant::now() + Duration::from_secs_f64(args.warmup);
    let end = start + Duration::from_secs_f64(args.seconds);
    let mut workers = Vec::new();
    for worker in 0..args.connections {
        let client = reqwest::Client::builder().pool_max_idle_per_host(1).build()?;
        let (url, token, mode, ty, run) =
            (args.url.clone(), args.token.clone(), args.mode, args.event_type.clone(), run.clone());
        workers.push(tokio::spawn(async move {
            let mut tally = Tally { latencies: Vec::new(), errors: 0, first_error: None };
            let mut n = 0u64;
            loop {
                let sent = Instant::now();
                if sent >= end {
                    break;
                }
                n += 1;
                let request = match mode {
                    Mode::Events => client
                        .post(&url)
                        .header("ce-specversion", "1.0")
                        .header("ce-id", format!("{run}-{worker}-{n}"))
                        .header("ce-source", "/bench")
                        .header("ce-type", &ty)
                        .header("content-type", "application/json")
                        .body(format!("{{\"n\":{n}}}")),
                    Mode::Get => client.get(&url),
                };
                let request = match &token {
                    Some(token) => request.bearer_auth(token),
                    None => request,
                };
                let outcome = match request.send().await {
                    Ok(response) if response.status().is_success() => {
                        response.bytes().await.map(|_| ()).map_err(|e| e.to_string())
                    }
                    Ok(response) => Err(format!("HTTP {}", response.status())),
                    Err(err) => Err(err.to_string()),
                };
                if sent < start {
                    continue;
                }
                match outcome {
                    Ok(()) => tally.latencies.push(sent.elapsed()),
                    Err(why) => {
                        tally.errors += 1;
                        tally.first_error.get_or_insert(why);
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
