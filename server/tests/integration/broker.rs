//! A real Apache Kafka broker (one KRaft node, `scripts/kafka.sh`) on 127.0.0.1 for one test: its own port and
//! data directory, stopped and started again by the test, killed when the test ends.

use std::{path::PathBuf, process::Command};

use tempfile::TempDir;

pub struct Broker {
    pub port: u16,
    dir: TempDir,
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/kafka.sh")
}

fn run(args: &[&str]) {
    let output = Command::new("bash").arg(script()).args(args).output().expect("scripts/kafka.sh runs");
    assert!(
        output.status.success(),
        "kafka.sh {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

impl Broker {
    /// Starts a broker on a free port (blocking until it serves: a few seconds).
    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let broker = Self { port, dir: TempDir::new().unwrap() };
        broker.start_again().await;
        broker
    }

    /// `host:port` for clients.
    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Starts the broker again on its data (after [`Self::stop`]).
    pub async fn start_again(&self) {
        let (port, dir) = (self.port.to_string(), self.dir.path().display().to_string());
        tokio::task::spawn_blocking(move || run(&["start", &port, &dir])).await.unwrap();
    }

    /// Stops the broker cleanly.
    pub async fn stop(&self) {
        let dir = self.dir.path().display().to_string();
        tokio::task::spawn_blocking(move || run(&["stop", &dir])).await.unwrap();
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = Command::new("bash").arg(script()).args(["kill", &self.dir.path().display().to_string()]).output();
    }
}
