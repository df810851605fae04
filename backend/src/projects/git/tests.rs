use git2::{ObjectType, Oid, Signature};

use super::*;

/// A tree object written byte by byte, as a hostile repository could: entries `(mode, name, id)` in order,
/// duplicates included (Git's own tools would refuse them).
fn raw_tree(repo: &Repository, entries: &[(&str, &str, Oid)]) -> Oid {
    let mut bytes = Vec::new();
    for (mode, name, id) in entries {
        bytes.extend_from_slice(format!("{mode} {name}\0").as_bytes());
        bytes.extend_from_slice(id.as_bytes());
    }
    repo.odb().unwrap().write(ObjectType::Tree, &bytes).unwrap()
}

fn commit(repo: &Repository, tree: Oid) {
    let who = Signature::now("Mallory", "m@example.com").unwrap();
    let tree = repo.find_tree(tree).unwrap();
    repo.commit(Some("refs/heads/main"), &who, &who, "crafted", &tree, &[]).unwrap();
}

#[test]
fn a_link_and_a_directory_of_the_same_name_write_nothing_outside_the_checkout() {
    let outside = tempfile::tempdir().unwrap();
    let source = tempfile::tempdir().unwrap();
    let repo = Repository::init_bare(source.path()).unwrap();
    let target = repo.blob(outside.path().to_string_lossy().as_bytes()).unwrap();
    let payload = repo.blob(b"pwned").unwrap();
    let inner = raw_tree(&repo, &[("100644", "evil", payload)]);
    // `x` a link to the outside directory, then a directory `x` holding `evil`: written naively, `evil`
    // would land in the outside directory.
    let tree = raw_tree(&repo, &[("120000", "x", target), ("40000", "x", inner)]);
    commit(&repo, tree);

    let cache = tempfile::tempdir().unwrap();
    let url = source.path().to_string_lossy().into_owned();
    let remote = Remote { url: &url, branch: "main", token: None, deploy_key: None, host_key: None };
    let result = fetch(&remote, &cache.path().join("c.git"), None);
    assert!(result.is_err(), "the crafted tree is refused: {result:?}");
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0, "nothing was written through the link");
}

#[test]
fn a_branch_and_directory_that_are_not_there_are_named() {
    let source = tempfile::tempdir().unwrap();
    let repo = Repository::init_bare(source.path()).unwrap();
    let blob = repo.blob(b"{}").unwrap();
    let tree = raw_tree(&repo, &[("100644", "manifest.json", blob)]);
    commit(&repo, tree);
    let cache = tempfile::tempdir().unwrap().path().join("c.git");
    let url = source.path().to_string_lossy().into_owned();
    let remote = |branch| Remote { url: &url, branch, token: None, deploy_key: None, host_key: None };
    assert!(matches!(fetch(&remote("dev"), &cache, None), Err(GitError::Fetch { .. } | GitError::NoBranch(_))));
    assert!(matches!(fetch(&remote("main"), &cache, Some("services")), Err(GitError::NoDirectory(_))));
    assert!(matches!(fetch(&remote("main"), &cache, Some("../up")), Err(GitError::BadDirectory(_))));
    let checkout = fetch(&remote("main"), &cache, None).unwrap();
    assert_eq!(std::fs::read(checkout.root.join("manifest.json")).unwrap(), b"{}");
    assert_eq!(checkout.author, "Mallory <m@example.com>");
}
