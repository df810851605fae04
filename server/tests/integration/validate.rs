//! `k8x validate <dir>`, the real binary, on the catalog's fixtures: no config and no database needed.

use std::{path::PathBuf, process::Command};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../backend/tests/fixtures/catalog").join(name)
}

/// Runs `k8x validate <dir>` with nowhere to find a config or a database: (exit code, stdout, stderr).
fn validate(dir: &std::path::Path) -> (Option<i32>, String, String) {
    let empty = tempfile::TempDir::new().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_k8x"))
        .arg("validate")
        .arg(dir)
        .current_dir(empty.path())
        .env("K8X_CONFIG", empty.path().join("none.toml"))
        .env("K8X_DATA_DIR", empty.path().join("never-created"))
        .env_remove("K8X_DATABASE_URL")
        .output()
        .unwrap();
    assert!(!empty.path().join("never-created").exists(), "validate touches no data directory");
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (output.status.code(), text(&output.stdout), text(&output.stderr))
}

#[test]
fn validate_passes_a_good_repository_and_lists_what_k8x_does_not_run() {
    let (code, out, err) = validate(&fixture("good"));
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(
        out,
        "fx/thumbnails: type `python` is not run by k8x (skipped)\n2 services valid, 1 not run by k8x, 0 problems\n"
    );

    let (code, out, _) = validate(&fixture("good/hello"));
    assert_eq!((code, out.as_str()), (Some(0), "1 service valid, 0 not run by k8x, 0 problems\n"));
}

#[test]
fn validate_fails_a_bad_repository_naming_file_line_and_column() {
    let (code, out, err) = validate(&fixture("bad"));
    assert_eq!(code, Some(1), "{out}{err}");
    for line in [
        "bad_json/manifest.json:4:1: trailing comma",
        "bad_manifest/manifest.json:6:15: field `trigger_events[1]`: event type `has space` contains whitespace",
        "bad_secrets/secrets.json:3:11: field `api-key`: a secret's name becomes an environment variable",
        "dup_b/manifest.json:3:8: field `name`: the service in `dup_a` is already named `twin`",
        "wrong_kind/deployment.yaml:1:13: field `apiVersion`: `apps/v1` is not `batch/v1`",
        "missing_files/deployment.yaml: the file is missing",
        "fx_python: type `python` is not run by k8x (skipped)",
    ] {
        assert!(out.lines().any(|l| l.starts_with(line)), "no line starting {line:?} in:\n{out}");
    }
    assert!(out.ends_with("2 services valid, 1 not run by k8x, 21 problems\n"), "{out}");

    let (code, out, _) = validate(&fixture("no-such-directory"));
    assert_eq!(code, Some(1));
    assert!(out.contains("no-such-directory: does not exist\n"), "{out}");
}
