//! The local executor's processes cannot read k8x's data directory (database, secret key) or config file,
//! nor k8x's environment or its `/proc` entries, and can still read the system and write their working
//! directory (Landlock, where the kernel has it).

use crate::helpers::{self, Setup};

#[tokio::test]
async fn a_local_process_cannot_read_the_data_directory_or_k8xs_environment() {
    let dir = tempfile::TempDir::new().unwrap();
    let project = dir.path().join("snoop-project");
    helpers::service(
        &project,
        "snoop",
        r#"{"name": "snoop", "type": "k8x_job", "trigger_events": ["t.snoop"]}"#,
        // HOME is the working directory, data/work/<id>: its grandparent is the data directory. (No double
        // quotes: the script sits in a double-quoted YAML string.)
        concat!(
            "data=$(cd $HOME/../.. && pwd); ",
            "ls $data | grep -qx secret.key && echo key-is-there; ",
            "cat $data/secret.key >/dev/null 2>&1 && echo READ-KEY || echo key-refused; ",
            "cat $data/k8x.db >/dev/null 2>&1 && echo READ-DB || echo db-refused; ",
            "cat /proc/$PPID/environ >/dev/null 2>&1 && echo READ-ENVIRON || echo environ-refused; ",
            "env | grep -q ^K8X_SECRET_KEY= && echo HAS-KEY-VAR || echo no-key-var; ",
            "head -c 4 /usr/bin/env >/dev/null && echo system-readable; ",
            "echo hi > $HOME/note && cat $HOME/note; ",
            "echo tmp > $TMPDIR/t && echo tmpdir-writable",
        ),
        &[],
    );
    let config = helpers::config(Setup { project_dir: Some(project), ..Setup::default() }, dir.path());
    let app = helpers::spawn_config(config, dir).await;
    app.post_event("snoop-1", "t.snoop", serde_json::json!({})).await;
    let run = app.executions_of("snoop-1", 1).await.remove(0);
    let run = app.finished(&run.id).await;
    let log = app.log(&run.id).await.join("\n");
    assert_eq!(run.status, "succeeded", "{log}");
    for expected in [
        "key-is-there",
        "key-refused",
        "db-refused",
        "environ-refused",
        "no-key-var",
        "system-readable",
        "hi",
        "tmpdir-writable",
    ] {
        assert!(log.lines().any(|l| l == expected), "`{expected}` missing from:\n{log}");
    }
    assert!(!log.contains("READ-"), "{log}");
}
