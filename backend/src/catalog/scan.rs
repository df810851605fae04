//! Every service directory under a root, found and checked: what `k8x validate`, a project load and a sync
//! all read a repository with.
//!
//! A service directory is a directory with a `manifest.json`. If the root has one, it is the only service;
//! else the tree is walked in path order, never into hidden directories, never through a symbolic link, at
//! most [`MAX_DEPTH`] levels and [`MAX_DIRS`] directories deep, and never into a service directory.

use std::{
    collections::HashMap,
    fs::FileType,
    path::{Path, PathBuf},
};

use super::{
    locate::Step,
    problems::{Problems, Syntax},
    read::{self, SYMLINK},
    CatalogError, Manifest, ServiceFiles,
};

/// The deepest a service directory may be below the root.
pub const MAX_DEPTH: usize = 8;
/// The most directories a scan looks at.
pub const MAX_DIRS: usize = 10_000;

/// Every service directory found under a root, checked.
#[derive(Clone, Debug, Default)]
pub struct Scan {
    /// Valid k8x services, in path order.
    pub services: Vec<ScannedService>,
    /// Service directories whose manifest has a type k8x does not run (FX's python services…): informational.
    pub not_run: Vec<NotRun>,
    /// Every problem found, each naming file (relative to root, `/`-separated), field, line, column.
    pub problems: Vec<CatalogError>,
    /// Relative paths of service directories that have at least one problem (so a caller can keep the last
    /// good version of those services instead of removing them).
    pub broken_dirs: Vec<String>,
}

/// A valid service and where it was found.
#[derive(Clone, Debug)]
pub struct ScannedService {
    /// The service directory relative to the root, `/`-separated; `""` when the root is the service.
    pub dir: String,
    pub files: ServiceFiles,
}

/// A service directory of a type k8x does not run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotRun {
    /// The directory relative to the root, `/`-separated; `""` when it is the root.
    pub dir: String,
    /// The manifest's `type`.
    pub kind: String,
    /// The manifest's `name`, as written, if it has one.
    pub name: Option<String>,
}

/// Finds and checks every service directory under `root` (or `root` itself, if it is one).
pub fn scan(root: &Path) -> Scan {
    walk(root).scan
}

/// A scan, with what a loader needs besides.
pub struct Walk {
    pub scan: Scan,
    /// The names the broken services still give (their manifest names a valid service, whatever else is
    /// wrong): a loader keeps their last good version.
    pub broken_names: Vec<String>,
    /// Whether every directory was looked at: if not, a service not found may still be there.
    pub complete: bool,
}

/// [`scan`], and what a loader needs besides.
pub fn walk(root: &Path) -> Walk {
    let mut walker = Walker { root: root.display().to_string(), ..Walker::default() };
    match std::fs::metadata(root) {
        Ok(meta) if meta.is_dir() => {
            if is_service_dir(root) {
                walker.service(root, "", &label_of(root));
            } else {
                walker.directory(root, "", 0);
            }
        }
        Ok(_) => walker.incomplete(CatalogError::new(&walker.root, "is not a directory")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            walker.incomplete(CatalogError::new(&walker.root, "does not exist"));
        }
        Err(e) => walker.incomplete(CatalogError::new(&walker.root, format!("cannot be read: {e}"))),
    }
    Walk { complete: !walker.cut_short, scan: walker.scan, broken_names: walker.broken_names }
}

/// A walk under way.
#[derive(Default)]
struct Walker {
    /// The root as given, naming problems with the root itself.
    root: String,
    scan: Scan,
    broken_names: Vec<String>,
    /// The directory of the first service with each name, to report the later ones.
    first_with_name: HashMap<String, String>,
    /// Directories looked at so far, against [`MAX_DIRS`].
    dirs: usize,
    /// Some directory was not looked at.
    cut_short: bool,
}

impl Walker {
    fn incomplete(&mut self, problem: CatalogError) {
        self.scan.problems.push(problem);
        self.cut_short = true;
    }

    /// Looks through the non-service directory `path` (`rel` from the root, at `depth`).
    fn directory(&mut self, path: &Path, rel: &str, depth: usize) {
        for (name, child, kind) in self.subdirectories(path, rel) {
            let child_rel = join(rel, &name);
            if kind.is_symlink() {
                // Not followed; only named, if it leads to what looks like a service.
                if std::fs::symlink_metadata(child.join("manifest.json")).is_ok() {
                    self.scan.problems.push(CatalogError::new(&child_rel, SYMLINK));
                    self.scan.broken_dirs.push(child_rel);
                }
                continue;
            }
            if self.dirs >= MAX_DIRS {
                let message = format!("has more than {MAX_DIRS} directories; the rest were not looked at");
                self.incomplete(CatalogError::new(&self.root, message));
                return;
            }
            self.dirs += 1;
            if is_service_dir(&child) {
                self.service(&child, &child_rel, &child_rel);
            } else if depth + 1 < MAX_DEPTH {
                self.directory(&child, &child_rel, depth + 1);
            } else {
                self.too_deep(&child, &child_rel);
            }
        }
    }

    /// Names the services below `path`, which is as deep as a scan goes: they are not read.
    fn too_deep(&mut self, path: &Path, rel: &str) {
        for (name, child, kind) in self.subdirectories(path, rel) {
            if kind.is_dir() && is_service_dir(&child) {
                let dir = join(rel, &name);
                let message = format!("is more than {MAX_DEPTH} directories deep; k8x does not look there");
                self.scan.problems.push(CatalogError::new(join(&dir, "manifest.json"), message));
                self.scan.broken_dirs.push(dir);
            }
        }
    }

    /// The directories and symbolic links in `path`, by name, hidden ones left out.
    fn subdirectories(&mut self, path: &Path, rel: &str) -> Vec<(String, PathBuf, FileType)> {
        let entries = match std::fs::read_dir(path) {
            Ok(entries) => entries,
            Err(e) => {
                let name = if rel.is_empty() { self.root.clone() } else { rel.to_owned() };
                self.incomplete(CatalogError::new(name, format!("cannot be read: {e}")));
                return Vec::new();
            }
        };
        let mut found: Vec<_> = entries
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let kind = entry.file_type().ok()?;
                let name = entry.file_name().to_string_lossy().into_owned();
                (!name.starts_with('.') && (kind.is_dir() || kind.is_symlink())).then(|| (name, entry.path(), kind))
            })
            .collect();
        found.sort_by(|a, b| a.0.cmp(&b.0));
        found
    }

    /// Checks the service directory `path` (`rel` from the root; its files named `label/<file>`).
    fn service(&mut self, path: &Path, rel: &str, label: &str) {
        let file = format!("{label}/manifest.json");
        let manifest = read::text_file(&path.join("manifest.json"), &file)
            .and_then(|json| json.ok_or_else(|| CatalogError::new(&file, "the file is missing")));
        if let Some((kind, name)) = manifest.as_deref().ok().and_then(Manifest::not_run) {
            self.scan.not_run.push(NotRun { dir: rel.to_owned(), kind, name });
            return;
        }
        let name = manifest.as_deref().ok().and_then(Manifest::name_in);
        let duplicate = match (&name, &manifest) {
            (Some(name), Ok(json)) => match self.first_with_name.get(name.as_str()) {
                Some(first) => {
                    let first = if first.is_empty() { "the root" } else { first.as_str() };
                    let mut problems = Problems::new(&file, json, Syntax::Json);
                    let message = format!("the service in `{first}` is already named `{}`", name.as_str());
                    problems.at(&[Step::Key("name")], "name", message);
                    problems.into_vec()
                }
                None => {
                    self.first_with_name.insert(name.as_str().to_owned(), rel.to_owned());
                    Vec::new()
                }
            },
            _ => Vec::new(),
        };
        match ServiceFiles::check_with(path, label, manifest) {
            Ok(files) if duplicate.is_empty() => {
                self.scan.services.push(ScannedService { dir: rel.to_owned(), files });
            }
            checked => {
                self.scan.problems.extend(checked.err().unwrap_or_default());
                self.scan.problems.extend(duplicate);
                self.scan.broken_dirs.push(rel.to_owned());
                self.broken_names.extend(name.map(|name| name.as_str().to_owned()));
            }
        }
    }
}

/// Whether `dir` holds a `manifest.json` (of whatever kind: a link or a directory there is a problem of the
/// service, reported when it is read).
fn is_service_dir(dir: &Path) -> bool {
    std::fs::symlink_metadata(dir.join("manifest.json")).is_ok()
}

/// How the files of a root that is itself a service are named: `<its directory's name>/<file>`.
fn label_of(root: &Path) -> String {
    let named = |path: &Path| path.file_name().map(|name| name.to_string_lossy().into_owned());
    named(root).or_else(|| root.canonicalize().ok().and_then(|path| named(&path))).unwrap_or_else(|| "service".into())
}

/// `dir/name`, or `name` at the root.
fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}
