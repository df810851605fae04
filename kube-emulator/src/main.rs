//! The `kube-emulator` binary: an emulator in its own process, for k8x runs outside `cargo test`.
//!
//! ```text
//! kube-emulator [--listen 127.0.0.1:0] [--work-dir DIR] [--kubeconfig-out FILE] [--namespace NS]
//!               [--deny VERB:RESOURCE]... [--unpullable IMAGE]...
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;

use kube_emulator::{Emulator, Options};

/// The parsed command line.
struct Args {
    listen: SocketAddr,
    options: Options,
    kubeconfig_out: Option<PathBuf>,
    namespace: String,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        options: Options::default(),
        kubeconfig_out: None,
        namespace: "default".into(),
    };
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--listen" => parsed.listen = value()?.parse().map_err(|e| format!("--listen: {e}"))?,
            "--work-dir" => parsed.options.work_dir = value()?.into(),
            "--kubeconfig-out" => parsed.kubeconfig_out = Some(value()?.into()),
            "--namespace" => parsed.namespace = value()?,
            "--deny" => {
                let v = value()?;
                let (verb, resource) = v.split_once(':').ok_or("--deny takes VERB:RESOURCE, e.g. get:pods/log")?;
                parsed.options.denied.push((verb.into(), resource.into()));
            }
            "--unpullable" => parsed.options.unpullable_images.push(value()?),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(parsed)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let args = parse(std::env::args().skip(1)).map_err(|e| format!("kube-emulator: {e}"))?;
    let emulator = Emulator::start_on(args.listen, args.options).await?;
    if let Some(path) = &args.kubeconfig_out {
        emulator.write_kubeconfig(path, &args.namespace)?;
    }
    println!("kube-emulator listening on {}", emulator.url());
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    emulator.stop().await;
    Ok(())
}
