//! Starts a server and times how long it takes to answer its first page: `first-page URL -- COMMAND [ARGS…]`
//! spawns the command (with this process's environment; its output goes to this process's stderr), then asks
//! for `URL` every millisecond until the answer has the expected status, and prints `first_page_ms=… pid=…`.
//! The server is left running for the caller to measure and stop. The HTTP client is built before the clock
//! starts, and a refused connection costs microseconds, so the figure is the server's, not the poller's (a
//! `curl` per attempt adds ~20 ms here).

use std::{
    process::Command,
    time::{Duration, Instant},
};

use clap::Parser;

#[derive(Debug, Parser)]
struct Args {
    /// The page to ask for.
    url: String,
    /// The status that counts as "answered".
    #[arg(long, default_value_t = 200)]
    expect: u16,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 30.0)]
    timeout: f64,
    /// The server and its arguments.
    #[arg(last = true, required = true)]
    command: Vec<String>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build()?;
    let begin = Instant::now();
    let mut child = Command::new(&args.command[0]).args(&args.command[1..]).stdout(std::io::stderr()).spawn()?;
    let deadline = begin + Duration::from_secs_f64(args.timeout);
    loop {
        if let Ok(answer) = client.get(&args.url).send().await {
            if answer.status().as_u16() == args.expect {
                break;
            }
        }
        if let Some(status) = child.try_wait()? {
            anyhow::bail!("{} exited ({status}) before answering", args.command[0]);
        }
        if Instant::now() > deadline {
            child.kill()?;
            anyhow::bail!(
                "{} did not answer {} with {} within {:?}",
                args.command[0],
                args.url,
                args.expect,
                args.timeout
            );
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    println!("first_page_ms={:.1} pid={}", begin.elapsed().as_secs_f64() * 1000.0, child.id());
    Ok(())
}
