use model::views::ExecutionStatus;
use tokio_util::sync::CancellationToken;

use super::*;
use crate::executor::environment::tests::launch;

/// A local executor on a fresh store that holds `launch`'s execution, queued.
async fn prepared(launch: &Launch) -> (tempfile::TempDir, Store, LocalExecutor) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!("sqlite://{}?mode=rwc", dir.path().join("k.db").display())).await.unwrap();
    let executor = LocalExecutor::new(store.clone(), dir.path().join("work"), CancellationToken::new());
    store.create_execution(crate::executor::environment::tests::new_execution(launch, "k")).await.unwrap();
    (dir, store, executor)
}

/// Launches `launch` (twice: the second must do nothing) and waits for it to end.
async fn execute(launch: Launch) -> (tempfile::TempDir, Store, crate::store::entities::execution::Model) {
    let (dir, store, executor) = prepared(&launch).await;
    executor.launch(launch.clone()).await.unwrap();
    executor.launch(launch.clone()).await.unwrap();
    executor.wait().await;
    let row = store.execution(&launch.execution_id).await.unwrap().unwrap();
    (dir, store, row)
}

/// Runs `script` with bash in the test service, optionally with a deadline; returns the row and `stream:text` lines.
async fn run(script: &str, deadline: Option<i64>) -> (crate::store::entities::execution::Model, Vec<String>) {
    let mut launch = launch();
    let spec = launch.service.job.spec.as_mut().unwrap();
    spec.active_deadline_seconds = deadline;
    spec.template.spec.as_mut().unwrap().containers[0].args = Some(vec![script.to_owned()]);
    let (_dir, store, row) = execute(launch).await;
    let lines = store.log_after(&row.id, 0, 10_000).await.unwrap();
    (row, lines.into_iter().map(|l| format!("{}:{}", l.stream, l.text)).collect())
}

#[tokio::test]
async fn a_container_runs_with_the_k8x_environment_and_its_log_is_kept() {
    let (row, lines) = run("echo BEGIN; env | sort; echo oops >&2; echo DONE!", None).await;
    assert_eq!(ExecutionStatus::parse(&row.status), ExecutionStatus::Succeeded, "{lines:?}");
    assert_eq!(row.exit_code, Some(0));
    assert!(row.started_at.is_some() && row.finished_at.is_some());
    // stdout and stderr are read side by side, so only each stream's own order is fixed
    let stdout: Vec<&String> = lines.iter().filter(|l| l.starts_with("stdout:")).collect();
    assert_eq!(stdout.first().unwrap().as_str(), "stdout:BEGIN");
    assert_eq!(stdout.last().unwrap().as_str(), "stdout:DONE!");
    assert!(lines.contains(&r#"stdout:K8X_PARAMS={"n":1}"#.to_owned()), "{lines:?}");
    assert!(lines.contains(&"stdout:SERVICE_PORT=80".to_owned()));
    assert!(lines.contains(&"stdout:API_TOKEN=***".to_owned()), "secrets are masked in the log: {lines:?}");
    assert!(lines.contains(&"stderr:oops".to_owned()));
    assert!(!lines.iter().any(|l| l.contains("CARGO")), "the host environment leaked: {lines:?}");
    assert_eq!(lines.iter().filter(|l| *l == "stdout:BEGIN").count(), 1, "ran twice");
}

#[tokio::test]
async fn a_failing_container_fails_the_execution() {
    let (row, _) = run("echo half; exit 3", None).await;
    assert_eq!(row.status, "failed");
    assert_eq!(row.exit_code, Some(3));
    assert!(row.error.unwrap().contains("exited with 3"));
}

#[tokio::test]
async fn the_deadline_kills_a_slow_container() {
    let (row, _) = run("sleep 30", Some(1)).await;
    assert_eq!(row.status, "failed");
    assert!(row.error.unwrap().contains("activeDeadlineSeconds"));
}

/// Whether a process is still running (a zombie waiting for its reaper does not count).
fn alive(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| stat.rsplit_once(')').is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z')))
}

/// The value a log line `name=value` reports.
fn reported<'a>(lines: &'a [String], name: &str) -> &'a str {
    let prefix = format!("stdout:{name}=");
    lines.iter().find_map(|l| l.strip_prefix(&prefix)).unwrap_or_else(|| panic!("no {name} in {lines:?}"))
}

// Were the process group not killed, these two would wait for `sleep 300` and nextest would stop them.

#[tokio::test]
async fn background_processes_end_with_the_container() {
    let (row, lines) = run("sleep 300 & echo bg=$!; exit 0", None).await;
    assert_eq!(row.status, "succeeded", "{lines:?}");
    assert!(!alive(reported(&lines, "bg")), "the background process outlived its container");
}

#[tokio::test]
async fn the_deadline_kills_the_whole_process_tree() {
    let (row, lines) = run("bash -c 'echo inner=$$; sleep 300'; echo never", Some(1)).await;
    assert_eq!(row.status, "failed");
    assert!(!alive(reported(&lines, "inner")), "a grandchild outlived the deadline");
    assert!(!lines.contains(&"stdout:never".to_owned()));
}

#[tokio::test]
async fn a_container_without_a_command_fails_with_the_reason() {
    let mut launch = launch();
    launch.service.job.spec.as_mut().unwrap().template.spec.as_mut().unwrap().containers[0].command = None;
    let (dir, store, row) = execute(launch).await;
    assert_eq!(row.status, "failed");
    assert!(row.error.unwrap().contains("has no `command`"));
    let log = store.log_after(&row.id, 0, 10).await.unwrap();
    assert!(log[0].text.starts_with("could not start: container `c` has no `command`"), "{:?}", log[0]);
    assert!(!dir.path().join("work").join(&row.id).exists(), "the working directory is removed");
}

/// The test service with init containers running `scripts` before its container runs `main`.
async fn run_with_init(scripts: &[&str], main: &str) -> (crate::store::entities::execution::Model, Vec<String>) {
    let mut launch = launch();
    let pod = launch.service.job.spec.as_mut().unwrap().template.spec.as_mut().unwrap();
    let template = pod.containers[0].clone();
    pod.init_containers = Some(
        scripts
            .iter()
            .enumerate()
            .map(|(i, script)| Container {
                name: format!("init-{i}"),
                args: Some(vec![(*script).to_owned()]),
                ..template.clone()
            })
            .collect(),
    );
    pod.containers[0].args = Some(vec![main.to_owned()]);
    let (_dir, store, row) = execute(launch).await;
    let lines = store.log_after(&row.id, 0, 10_000).await.unwrap();
    (row, lines.into_iter().map(|l| format!("{}:{}", l.stream, l.text)).collect())
}

#[tokio::test]
async fn init_containers_run_first_in_order_and_share_the_working_directory() {
    let (row, lines) =
        run_with_init(&["echo one > data.txt", "echo two >> data.txt; echo project=$K8X_PROJECT"], "cat data.txt")
            .await;
    assert_eq!(row.status, "succeeded", "{lines:?}");
    assert_eq!(lines, ["stdout:[init-1] project=demo", "stdout:[c] one", "stdout:[c] two"]);
}

#[tokio::test]
async fn a_failing_init_container_stops_the_pod() {
    let (row, lines) = run_with_init(&["exit 7"], "echo main ran").await;
    assert_eq!(row.status, "failed");
    assert_eq!(row.exit_code, Some(7));
    assert_eq!(row.error.as_deref(), Some("init container `init-0` exited with 7"));
    assert!(!lines.iter().any(|l| l.contains("main ran")), "{lines:?}");
}

#[tokio::test]
async fn a_large_payload_arrives_in_its_file_and_a_small_one_in_both() {
    let mut launch = launch();
    launch.params = serde_json::json!({"blob": "x".repeat(300 * 1024)});
    let script = r#"echo params_env=${K8X_PARAMS:+set}; echo params_size=$(wc -c < "$K8X_PARAMS_FILE"); echo event_id=$(grep -o '"id":"e1"' "$K8X_EVENT_FILE"); echo event_env=${K8X_EVENT:+set}"#;
    launch.service.job.spec.as_mut().unwrap().template.spec.as_mut().unwrap().containers[0].args =
        Some(vec![script.to_owned()]);
    let (_dir, store, row) = execute(launch).await;
    let lines: Vec<String> = store
        .log_after(&row.id, 0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|l| format!("{}:{}", l.stream, l.text))
        .collect();
    assert_eq!(row.status, "succeeded", "a 300 KB payload must start (Linux caps one variable at 128 KiB): {lines:?}");
    assert_eq!(reported(&lines, "params_env"), "", "too large for the environment: left out");
    assert_eq!(reported(&lines, "params_size"), (300 * 1024 + 11).to_string());
    assert_eq!(reported(&lines, "event_id"), r#""id":"e1""#);
    assert_eq!(reported(&lines, "event_env"), "set", "the small event stays in the environment");
    assert!(lines.iter().any(|l| l.starts_with("k8x:K8X_PARAMS is 307211 bytes")), "the log says why: {lines:?}");
}

#[tokio::test]
async fn cancel_kills_the_processes_and_the_execution_ends_cancelled() {
    let mut launch = launch();
    launch.service.job.spec.as_mut().unwrap().template.spec.as_mut().unwrap().containers[0].args =
        Some(vec!["echo started; sleep 300".to_owned()]);
    let (_dir, store, executor) = prepared(&launch).await;
    executor.launch(launch.clone()).await.unwrap();
    // Wait for the process to be running, then cancel it.
    for _ in 0..200 {
        if !store.log_after(&launch.execution_id, 0, 10).await.unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    executor.cancel(&launch.execution_id).await.unwrap();
    executor.wait().await;
    let row = store.execution(&launch.execution_id).await.unwrap().unwrap();
    assert_eq!(row.status, "cancelled");
    assert_eq!(row.exit_code, None);
}

#[tokio::test]
async fn a_background_process_that_keeps_the_output_open_does_not_hold_the_execution() {
    let started = std::time::Instant::now();
    // The grandchild leaves the process group (setsid), so killing the group misses it, and keeps stdout open.
    let (row, lines) = run("setsid sleep 30 & echo left-behind", None).await;
    assert_eq!(row.status, "succeeded", "{lines:?}");
    assert!(lines.contains(&"stdout:left-behind".to_owned()), "{lines:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(15), "it ended after {:?}", started.elapsed());
}

#[tokio::test]
async fn a_flood_of_output_is_kept_in_order_up_to_the_cap_and_an_endless_line_is_cut() {
    let mut launch = launch();
    let script = "seq 1 60000";
    launch.service.job.spec.as_mut().unwrap().template.spec.as_mut().unwrap().containers[0].args =
        Some(vec![script.to_owned()]);
    let (_dir, store, executor) = prepared(&launch).await;
    let executor = executor.keeping_log_lines(50_000);
    executor.launch(launch.clone()).await.unwrap();
    executor.wait().await;
    let row = store.execution(&launch.execution_id).await.unwrap().unwrap();
    assert_eq!(ExecutionStatus::parse(&row.status), ExecutionStatus::Succeeded);
    let lines = store.log_after(&row.id, 0, 100_000).await.unwrap();
    assert_eq!(lines.len(), 50_001, "the cap, then one line saying so");
    assert!(lines[..50_000].iter().zip(1..).all(|(line, n)| line.text == n.to_string()), "in order, none lost");
    let last = lines.last().unwrap();
    assert_eq!(last.stream, "k8x");
    assert!(last.text.contains("limit of 50000 lines"), "{}", last.text);

    // Without a cap in the way, the endless line is cut while read, and the line after it is kept.
    let mut launch = crate::executor::environment::tests::launch();
    launch.execution_id = "x2".into();
    launch.service.job.spec.as_mut().unwrap().template.spec.as_mut().unwrap().containers[0].args =
        Some(vec!["head -c 3000000 /dev/zero | tr '\\0' x; echo; echo after".to_owned()]);
    let (_dir, store, row) = execute(launch).await;
    let lines = store.log_after(&row.id, 0, 10).await.unwrap();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].text.len() <= crate::executor::mask::MAX_LINE_BYTES + 64, "cut: {}", lines[0].text.len());
    assert_eq!(lines[1].text, "after");
}
