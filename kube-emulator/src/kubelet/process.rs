//! One container as a host process: spawned in its own process group with a cleared environment, its
//! stdout and stderr read line by line into the container's log, its exit awaited by a task of its own.
//!
//! The waiting task is spawned (not awaited inline) so that whatever happens to the pod's lifecycle, the
//! child is always reaped and its log always marked complete once the process group is gone.

use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;
use tokio::task::JoinHandle;

use crate::shared::Shared;

/// How a container process ended.
#[derive(Clone, Copy, Debug)]
pub struct Exit {
    /// The exit code; 128 + signal number when killed by a signal.
    pub code: i32,
    /// When it was seen to end.
    pub finished: DateTime<Utc>,
}

/// What starting a container produced.
pub enum Started {
    /// A running process; `pgid` is its process group, `done` resolves when it and its output are finished.
    Process { pgid: i32, done: JoinHandle<Exit> },
    /// The container had no `command`: it logged a note and "exited" 0 at once.
    NoCommand,
    /// The command could not be started (not found, not executable): the runtime's `StartError`.
    Failed(String),
}

/// What to run.
pub struct Launch {
    /// `command` followed by `args`, already rewritten for mounts. Empty when the container has no command.
    pub argv: Vec<String>,
    /// The variables after `PATH` and `HOME`.
    pub env: Vec<(String, String)>,
    /// Working directory and `HOME`.
    pub dir: PathBuf,
}

/// The line a container without `command` logs.
pub const NO_COMMAND: &str = "kube-emulator: no command, the image's entrypoint is not emulated";

/// Kills a whole process group. Errors (the group is already gone) are ignored.
pub fn kill_group(pgid: i32) {
    // SAFETY: kill(2) has no memory-safety preconditions; a negative pid addresses the process group.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

/// Starts a container of pod `uid`.
pub fn start(shared: &Arc<Shared>, uid: &str, container: &str, launch: Launch) -> Started {
    let Some((program, args)) = launch.argv.split_first() else {
        shared.logs.open(uid, container);
        shared.logs.append(uid, container, NO_COMMAND.to_owned());
        shared.logs.finish(uid, container);
        return Started::NoCommand;
    };
    let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into());
    let mut command = Command::new(program);
    command
        .args(args)
        .env_clear()
        .env("PATH", path)
        .env("HOME", &launch.dir)
        .envs(launch.env)
        .current_dir(&launch.dir)
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            shared.logs.open(uid, container);
            shared.logs.finish(uid, container);
            return Started::Failed(format!("failed to create containerd task: exec: \"{program}\": {e}"));
        }
    };
    let pgid = child.id().map(|id| id as i32).unwrap_or(0);
    shared.kubelet.track(pgid);
    shared.logs.open(uid, container);
    let readers = [
        child
            .stdout
            .take()
            .map(|out| tokio::spawn(read_lines(shared.clone(), uid.to_owned(), container.to_owned(), out))),
        child
            .stderr
            .take()
            .map(|err| tokio::spawn(read_lines(shared.clone(), uid.to_owned(), container.to_owned(), err))),
    ];
    let (shared, uid, container) = (shared.clone(), uid.to_owned(), container.to_owned());
    let done = tokio::spawn(async move {
        let status = child.wait().await;
        let finished = Utc::now();
        // The container is over when its first process exits: anything it left behind goes too, which
        // also closes the pipes so the readers below can finish.
        kill_group(pgid);
        shared.kubelet.untrack(pgid);
        for reader in readers.into_iter().flatten() {
            let _ = tokio::time::timeout(Duration::from_secs(2), reader).await;
        }
        shared.logs.finish(&uid, &container);
        let code = match status {
            Ok(s) => s.code().unwrap_or_else(|| 128 + s.signal().unwrap_or(9)),
            Err(_) => 128 + 9,
        };
        Exit { code, finished }
    });
    Started::Process { pgid, done }
}

/// Appends each line of `stream` to the container's log.
async fn read_lines(shared: Arc<Shared>, uid: String, container: String, stream: impl AsyncRead + Unpin) {
    let mut reader = BufReader::new(stream);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let line = String::from_utf8_lossy(&buf);
                shared.logs.append(&uid, &container, line.trim_end_matches(['\n', '\r']).to_owned());
            }
        }
    }
}
