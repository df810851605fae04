//! Scans of whole repositories: the fixtures in `backend/tests/fixtures/catalog/` (`good/`, `bad/`) and trees
//! made on the spot for what a repository should not hold (links, huge files, deep nesting).

use std::path::{Path, PathBuf};

use super::{read::MAX_FILE_BYTES, scan, CatalogError, NotRun, Scan};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/catalog").join(name)
}

/// Each problem as `file:line:column field`, for comparing whole lists.
fn placed(problems: &[CatalogError]) -> Vec<String> {
    let at = |n: Option<usize>| n.map_or_else(|| "-".to_owned(), |n| n.to_string());
    problems
        .iter()
        .map(|p| format!("{}:{}:{} {}", p.file, at(p.line), at(p.column), p.field.as_deref().unwrap_or("-")))
        .collect()
}

fn dirs(scan: &Scan) -> Vec<&str> {
    scan.services.iter().map(|s| s.dir.as_str()).collect()
}

const JOB: &str = "apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    spec:\n      containers:\n        - name: c\n          image: busybox\n";

fn service(root: &Path, dir: &str, name: &str) {
    std::fs::create_dir_all(root.join(dir)).unwrap();
    std::fs::write(root.join(dir).join("manifest.json"), format!(r#"{{"name": "{name}", "type": "k8x_job"}}"#))
        .unwrap();
    std::fs::write(root.join(dir).join("deployment.yaml"), JOB).unwrap();
}

#[test]
fn a_good_repository_scans_clean_at_any_depth() {
    let scan = scan(&fixture("good"));
    assert!(scan.problems.is_empty(), "{:?}", scan.problems);
    assert_eq!(dirs(&scan), ["hello", "team/jobs/nightly"], "hidden directories are not looked in");
    assert!(scan.broken_dirs.is_empty());
    assert_eq!(
        scan.not_run,
        [NotRun { dir: "fx/thumbnails".into(), kind: "python".into(), name: Some("thumbnails".into()) }]
    );
    let hello = &scan.services[0].files;
    assert_eq!(hello.manifest.name.as_str(), "hello_world");
    assert_eq!(hello.manifest.trigger_events.len(), 2);
    assert!(hello.parameters_json.is_some() && hello.configs.is_some());
    assert_eq!(hello.secrets.as_ref().map(|s| s.len()), Some(2));
    assert!(scan.passed());
    assert!(scan.report().ends_with(
        "fx/thumbnails: type `python` is not run by k8x (skipped)\n2 services valid, 1 not run by k8x, 0 problems\n"
    ));
}

#[test]
fn the_root_can_be_a_service() {
    let scan = scan(&fixture("good/hello"));
    assert_eq!(dirs(&scan), [""]);
    assert!(scan.problems.is_empty(), "{:?}", scan.problems);

    let scan = super::scan(&fixture("bad/bad_manifest"));
    assert_eq!(scan.broken_dirs, [""]);
    assert!(scan.problems.iter().all(|p| p.file == "bad_manifest/manifest.json"), "{:?}", scan.problems);

    let scan = super::scan(&fixture("good/fx/thumbnails"));
    assert_eq!((scan.not_run.len(), scan.not_run[0].dir.as_str()), (1, ""));
    assert!(scan.report().starts_with(".: type `python` is not run by k8x (skipped)\n"), "{}", scan.report());
}

#[test]
fn every_problem_of_every_file_is_reported_at_once() {
    let scan = scan(&fixture("bad"));
    assert_eq!(
        placed(&scan.problems),
        [
            "bad_configs/configs.json:1:1 -",
            "bad_json/manifest.json:4:1 -",
            "bad_manifest/manifest.json:2:8 name",
            "bad_manifest/manifest.json:6:15 trigger_events[1]",
            "bad_manifest/manifest.json:7:6 trigger_events[2]",
            "bad_manifest/manifest.json:8:5 trigger_events[3]",
            "bad_params/parameters.json:2:3 fields.n",
            "bad_params/parameters.json:4:3 fields.pick",
            "bad_secrets/secrets.json:3:11 api-key",
            "bad_secrets/secrets.json:4:7 2FA",
            "bad_secrets/secrets.json:5:10 NESTED",
            "bad_yaml/deployment.yaml:7:9 -",
            "dup_b/manifest.json:3:8 name",
            "everything/deployment.yaml:1:13 apiVersion",
            "everything/deployment.yaml:2:7 kind",
            "everything/configs.json:1:9 -",
            "everything/secrets.json:1:13 lower-case",
            "missing_files/deployment.yaml:-:- -",
            "no_containers/deployment.yaml:6:19 spec.template.spec.containers",
            "wrong_kind/deployment.yaml:1:13 apiVersion",
            "wrong_kind/deployment.yaml:2:7 kind",
        ],
        "{}",
        scan.report()
    );
    assert_eq!(dirs(&scan), ["dup_a", "ok"]);
    assert_eq!(
        scan.broken_dirs,
        [
            "bad_configs",
            "bad_json",
            "bad_manifest",
            "bad_params",
            "bad_secrets",
            "bad_yaml",
            "dup_b",
            "everything",
            "missing_files",
            "no_containers",
            "wrong_kind"
        ]
    );
    assert_eq!(scan.not_run.iter().map(|n| n.dir.as_str()).collect::<Vec<_>>(), ["fx_python"]);
    let report = scan.report();
    assert!(report.contains("dup_b/manifest.json:3:8: field `name`: the service in `dup_a` is already named `twin`\n"));
    assert!(report.contains("wrong_kind/deployment.yaml:1:13: field `apiVersion`: `apps/v1` is not `batch/v1`\n"));
    assert!(report.contains("missing_files/deployment.yaml: the file is missing\n"));
    assert!(report.ends_with("2 services valid, 1 not run by k8x, 21 problems\n"), "{report}");
    assert!(!report.contains("fixture-not-a-secret"));
}

#[test]
fn broken_services_still_give_their_names() {
    let walk = super::scan::walk(&fixture("bad"));
    let mut names = walk.broken_names;
    names.sort();
    assert_eq!(
        names,
        [
            "bad_configs",
            "bad_params",
            "bad_secrets",
            "bad_yaml",
            "everything",
            "missing_files",
            "no_containers",
            "twin",
            "wrong_kind"
        ],
        "a manifest too broken to name a service (bad JSON, a bad name) gives none"
    );
    assert!(walk.complete);
}

#[test]
fn a_root_that_is_not_there_is_a_problem() {
    let missing = fixture("no-such-dir");
    let walk = super::scan::walk(&missing);
    assert!(!walk.complete);
    assert_eq!(walk.scan.problems.len(), 1);
    assert!(walk.scan.problems[0].to_string().starts_with(&format!("{}: does not exist", missing.display())));
    assert!(!walk.scan.passed());
}

#[cfg(unix)]
#[test]
fn symbolic_links_are_never_followed() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    service(&root, "linked_file", "linked_file");
    std::fs::remove_file(root.join("linked_file/deployment.yaml")).unwrap();
    symlink(fixture("good/hello/deployment.yaml"), root.join("linked_file/deployment.yaml")).unwrap();
    service(&root, "linked_manifest", "unused");
    std::fs::remove_file(root.join("linked_manifest/manifest.json")).unwrap();
    symlink(fixture("good/hello/manifest.json"), root.join("linked_manifest/manifest.json")).unwrap();
    symlink(fixture("good/hello"), root.join("linked_service")).unwrap();
    symlink(fixture("good"), root.join("linked_tree")).unwrap();
    symlink("/etc", root.join("etc")).unwrap();

    let scan = scan(&root);
    let link = "is a symbolic link; k8x reads regular files only";
    let found: Vec<_> = scan.problems.iter().map(|p| (p.file.as_str(), p.message.as_str())).collect();
    assert_eq!(
        found,
        [("linked_file/deployment.yaml", link), ("linked_manifest/manifest.json", link), ("linked_service", link),],
        "a link to a tree of services is not walked, nor one elsewhere on the host"
    );
    assert!(scan.services.is_empty());
    assert_eq!(scan.broken_dirs, ["linked_file", "linked_manifest", "linked_service"]);
}

#[test]
fn huge_and_binary_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    service(root, "huge", "huge");
    std::fs::write(root.join("huge/configs.json"), vec![b' '; MAX_FILE_BYTES as usize + 1]).unwrap();
    service(root, "binary", "binary");
    std::fs::write(root.join("binary/secrets.json"), [0xff, 0xfe, 0x00]).unwrap();
    let scan = scan(root);
    assert_eq!(
        scan.problems.iter().map(ToString::to_string).collect::<Vec<_>>(),
        [
            "binary/secrets.json: is not UTF-8 text".to_owned(),
            format!("huge/configs.json: is {} bytes; at most {MAX_FILE_BYTES} are read", MAX_FILE_BYTES + 1),
        ]
    );
    assert_eq!(scan.broken_dirs, ["binary", "huge"]);
}

#[test]
fn a_service_is_not_looked_into_and_depth_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    service(root, "outer", "outer");
    service(root, "outer/inner", "inner");
    // A service may be MAX_DEPTH directories below the root, not one more.
    let chain = |n: usize| (1..=n).map(|n| format!("d{n}")).collect::<Vec<_>>().join("/");
    let deepest = format!("{}/svc", chain(super::scan::MAX_DEPTH - 1));
    let too_deep = format!("{}/svc", chain(super::scan::MAX_DEPTH));
    service(root, &deepest, "deepest");
    service(root, &too_deep, "too_deep");
    let walk = super::scan::walk(root);
    assert_eq!(dirs(&walk.scan), [deepest.as_str(), "outer"], "a service directory is not looked into");
    assert_eq!(placed(&walk.scan.problems), [format!("{too_deep}/manifest.json:-:- -")]);
    assert_eq!(walk.scan.broken_dirs, [too_deep]);
    assert!(walk.complete, "every directory a scan reads was read");
}

#[test]
fn a_scan_stops_at_its_directory_cap() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for n in 0..super::scan::MAX_DIRS {
        std::fs::create_dir(root.join(format!("d{n:05}"))).unwrap();
    }
    service(root, "zz_last", "last");
    let walk = super::scan::walk(root);
    assert!(walk.scan.services.is_empty(), "the service past the cap is not read");
    assert_eq!(walk.scan.problems.len(), 1);
    assert!(walk.scan.problems[0].message.starts_with("has more than 10000 directories"), "{:?}", walk.scan.problems);
    assert!(!walk.complete, "a loader must not take what it did not see as gone");
}
