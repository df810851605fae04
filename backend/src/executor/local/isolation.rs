//! What a local execution's processes may touch. They start from an empty environment (so none of k8x's
//! variables, such as `K8X_SECRET_KEY` or `K8X_DATABASE_URL`, reach them), and on Linux a Landlock ruleset
//! lets them read and run everything on the machine except k8x's data directory and config file (the database,
//! the secret key, the first admin's password), and write only to their own working directory (where
//! `TMPDIR` points), `/tmp` and `/dev`. Landlock also stops them from tracing k8x or reading its `/proc/<pid>/environ` or memory.
//!
//! Landlock rules only grant, so "all but the data directory" is spelt out: every entry of `/` is granted
//! whole except the ones on the way to a hidden path, which are opened up one level further, down to the hidden
//! path itself, which gets nothing. Entries created later in those few directories are not readable.
//!
//! Where the kernel has no Landlock (before Linux 5.13, or disabled), processes run unconfined and the
//! execution's log says so; the README says what is and is not isolated.

use std::path::{Path, PathBuf};

/// The paths k8x hides from its local executions.
#[derive(Clone, Debug, Default)]
pub struct Isolation {
    hidden: Vec<PathBuf>,
}

/// What one execution's processes may read and write, worked out before they start.
#[derive(Debug, PartialEq)]
pub struct Plan {
    /// Read and execute, everything beneath.
    pub read: Vec<PathBuf>,
    /// Only list (the directories on the way to a hidden path).
    pub list: Vec<PathBuf>,
    /// Everything, beneath.
    pub write: Vec<PathBuf>,
}

impl Isolation {
    /// Hides `paths` (those that exist; made absolute and free of symlinks).
    pub fn hiding(paths: impl IntoIterator<Item = PathBuf>) -> Self {
        Self { hidden: paths.into_iter().filter_map(|p| p.canonicalize().ok()).collect() }
    }

    /// The plan for processes working in `work`.
    pub fn plan(&self, work: &Path) -> Plan {
        let mut plan = Plan { read: Vec::new(), list: Vec::new(), write: Vec::new() };
        self.grant(Path::new("/"), &mut plan);
        plan.write.push(work.canonicalize().unwrap_or_else(|_| work.to_owned()));
        // A grant covers everything beneath: `/tmp` only where nothing hidden is in it (tests keep their data
        // there). `TMPDIR` points into the working directory either way.
        let shared = [PathBuf::from("/tmp"), PathBuf::from("/dev")];
        plan.write.extend(shared.into_iter().filter(|dir| !self.hidden.iter().any(|hidden| hidden.starts_with(dir))));
        plan
    }

    fn grant(&self, dir: &Path, plan: &mut Plan) {
        if self.hidden.iter().any(|hidden| hidden == dir) {
            return;
        }
        if !self.hidden.iter().any(|hidden| hidden.starts_with(dir)) {
            plan.read.push(dir.to_owned());
            return;
        }
        plan.list.push(dir.to_owned());
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            self.grant(&entry.path(), plan);
        }
    }
}

/// A ruleset built in k8x (where allocating and opening files is safe) and applied in the child between
/// `fork` and `exec`, where only the `landlock_restrict_self` call itself happens.
#[cfg(target_os = "linux")]
pub struct Sandbox(std::sync::Mutex<Option<landlock::RulesetCreated>>);

#[cfg(target_os = "linux")]
impl Sandbox {
    /// The ruleset for `plan`; `None` where the kernel has no Landlock.
    pub fn new(plan: &Plan) -> Result<Option<Self>, String> {
        use landlock::{
            path_beneath_rules, Access, AccessFs, CompatLevel, Compatible, Ruleset, RulesetAttr, RulesetCreatedAttr,
            ABI,
        };
        let abi = ABI::V5;
        let probe = Ruleset::default()
            .set_compatibility(CompatLevel::HardRequirement)
            .handle_access(AccessFs::from_all(ABI::V1))
            .and_then(|ruleset| ruleset.create());
        if probe.is_err() {
            return Ok(None);
        }
        let ruleset = Ruleset::default()
            .handle_access(AccessFs::from_all(abi))
            .and_then(|ruleset| ruleset.create())
            .and_then(|ruleset| ruleset.add_rules(path_beneath_rules(&plan.read, AccessFs::from_read(abi))))
            .and_then(|ruleset| ruleset.add_rules(path_beneath_rules(&plan.list, AccessFs::ReadDir)))
            .and_then(|ruleset| ruleset.add_rules(path_beneath_rules(&plan.write, AccessFs::from_all(abi))))
            .map_err(|e| format!("could not build the Landlock ruleset: {e}"))?;
        Ok(Some(Self(std::sync::Mutex::new(Some(ruleset)))))
    }

    /// Applies the ruleset to the calling process, and as root first drops every capability (so that, for
    /// one, `CAP_SYS_PTRACE` cannot open k8x's `/proc` entries). Called once, in the child after `fork`.
    pub fn enter(&self) -> std::io::Result<()> {
        // SAFETY: getuid has no preconditions.
        if unsafe { libc::getuid() } == 0 {
            let denied = |_| std::io::Error::from_raw_os_error(libc::EPERM);
            caps::clear(None, caps::CapSet::Ambient).map_err(denied)?;
            caps::clear(None, caps::CapSet::Bounding).map_err(denied)?;
            caps::clear(None, caps::CapSet::Inheritable).map_err(denied)?;
            caps::clear(None, caps::CapSet::Permitted).map_err(denied)?;
        }
        let ruleset = self.0.lock().ok().and_then(|mut slot| slot.take());
        let Some(ruleset) = ruleset else { return Ok(()) };
        match ruleset.restrict_self() {
            Ok(_) => Ok(()),
            Err(_) => Err(std::io::Error::from_raw_os_error(libc::EPERM)),
        }
    }
}

/// Makes k8x's own process non-dumpable: its `/proc/<pid>/environ` and memory are then closed to processes of
/// the same user that lack `CAP_SYS_PTRACE` (its local executions).
pub fn protect_self() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_DUMPABLE takes a plain integer; no memory is passed.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_is_readable_but_the_hidden_paths() {
        let root = tempfile::tempdir().unwrap();
        let base = root.path().canonicalize().unwrap();
        for dir in ["k8x/data/work/run-1", "k8x/demo", "k8x/src", "other"] {
            std::fs::create_dir_all(base.join(dir)).unwrap();
        }
        std::fs::write(base.join("k8x/k8x.toml"), "secret_key = 'x'").unwrap();
        let isolation = Isolation::hiding([base.join("k8x/data"), base.join("k8x/k8x.toml"), base.join("missing")]);
        let plan = isolation.plan(&base.join("k8x/data/work/run-1"));
        assert!(plan.read.contains(&base.join("k8x/demo")) && plan.read.contains(&base.join("k8x/src")));
        assert!(plan.read.contains(&base.join("other")));
        assert!(plan.read.contains(&PathBuf::from("/usr")), "system directories are readable");
        assert!(plan.read.iter().all(|p| !p.starts_with(base.join("k8x/data")) && *p != base.join("k8x/k8x.toml")));
        assert!(plan.list.contains(&base.join("k8x")) && plan.list.contains(&PathBuf::from("/")));
        assert!(!plan.read.iter().any(|p| base.join("k8x/data").starts_with(p)), "no ancestor is granted whole");
        let tmp_is_shared = !base.starts_with("/tmp");
        assert_eq!(plan.write.contains(&PathBuf::from("/tmp")), tmp_is_shared, "no grant covers a hidden path");
        assert_eq!(plan.write[0], base.join("k8x/data/work/run-1"));
        assert!(plan.write.contains(&PathBuf::from("/dev")));
    }
}
