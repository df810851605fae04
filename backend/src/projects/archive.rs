//! Uploaded archives of service directories (`.tar.gz` or `.zip`), unpacked into a temporary directory for
//! the catalog. Archives are not trusted: at most [`MAX_ARCHIVE_BYTES`] uploaded, [`MAX_ENTRIES`] entries and
//! [`MAX_UNPACKED_BYTES`] unpacked; an entry with `..`, an absolute path, a link or a device refuses the whole
//! archive. Only the temporary directory is ever written, and it is gone with the refusal.

use std::{
    io::{Read, Write},
    path::{Path, PathBuf},
};

use sha2::{Digest, Sha256};

use super::Snapshot;

/// The largest archive accepted.
pub const MAX_ARCHIVE_BYTES: usize = 32 * 1024 * 1024;
/// Most entries (files and directories) an archive may have.
pub const MAX_ENTRIES: usize = 10_000;
/// Most bytes its files may have, unpacked.
pub const MAX_UNPACKED_BYTES: u64 = 256 * 1024 * 1024;

/// Why an archive was refused.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("the upload is not a .tar.gz or .zip archive")]
    NotAnArchive,
    #[error("the archive is larger than the {} bytes k8x accepts", MAX_ARCHIVE_BYTES)]
    TooLarge,
    #[error("the archive has more entries than the {} k8x accepts", MAX_ENTRIES)]
    TooManyEntries,
    #[error("the archive unpacks to more than the {} bytes k8x accepts", MAX_UNPACKED_BYTES)]
    TooLargeUnpacked,
    #[error("entry `{entry}` {why}; nothing was unpacked")]
    Refused { entry: String, why: &'static str },
    #[error("the archive is damaged: {0}")]
    Damaged(String),
    #[error("could not unpack: {0}")]
    Io(#[from] std::io::Error),
}

/// How much an archive may hold.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub archive_bytes: usize,
    pub entries: usize,
    pub unpacked_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self { archive_bytes: MAX_ARCHIVE_BYTES, entries: MAX_ENTRIES, unpacked_bytes: MAX_UNPACKED_BYTES }
    }
}

/// Unpacks `bytes` into a new temporary directory: the project's files at revision `sha256:<digest of the
/// archive>`.
pub fn unpack(bytes: &[u8]) -> Result<Snapshot, ArchiveError> {
    unpack_within(bytes, Limits::default())
}

/// [`unpack`] within `limits`.
pub fn unpack_within(bytes: &[u8], limits: Limits) -> Result<Snapshot, ArchiveError> {
    if bytes.len() > limits.archive_bytes {
        return Err(ArchiveError::TooLarge);
    }
    let dir = tempfile::Builder::new().prefix("k8x-archive-").tempdir()?;
    let root = dir.path().join("project");
    std::fs::create_dir(&root)?;
    let mut budget = Budget { limits, entries: 0, bytes: 0 };
    match bytes {
        [0x1f, 0x8b, ..] => unpack_tar_gz(bytes, &root, &mut budget)?,
        [b'P', b'K', 3, 4, ..] | [b'P', b'K', 5, 6, ..] => unpack_zip(bytes, &root, &mut budget)?,
        _ => return Err(ArchiveError::NotAnArchive),
    }
    let revision = format!("sha256:{}", hex::encode(Sha256::digest(bytes)));
    Ok(Snapshot::at(root, revision, Some(dir)))
}

/// Entries and bytes used, against the limits.
struct Budget {
    limits: Limits,
    entries: usize,
    bytes: u64,
}

impl Budget {
    fn entry(&mut self) -> Result<(), ArchiveError> {
        self.entries += 1;
        if self.entries > self.limits.entries {
            return Err(ArchiveError::TooManyEntries);
        }
        Ok(())
    }

    /// Copies `from` to a new file at `path`, within the bytes left.
    fn copy(&mut self, from: &mut impl Read, path: &Path) -> Result<(), ArchiveError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut file = std::fs::File::create_new(path)?;
        let left = self.limits.unpacked_bytes - self.bytes;
        let written = std::io::copy(&mut from.take(left + 1), &mut file)?;
        file.flush()?;
        self.bytes += written;
        if self.bytes > self.limits.unpacked_bytes {
            return Err(ArchiveError::TooLargeUnpacked);
        }
        Ok(())
    }
}

/// Where entry `name` goes under `root`, or why it may not.
fn place(root: &Path, name: &str) -> Result<Option<PathBuf>, ArchiveError> {
    let refuse = |why| Err(ArchiveError::Refused { entry: name.escape_debug().to_string(), why });
    if name.chars().any(char::is_control) {
        return refuse("has control characters in its name");
    }
    if name.starts_with(['/', '\\']) || name.get(1..2) == Some(":") {
        return refuse("has an absolute path");
    }
    let mut path = root.to_owned();
    let mut depth = 0;
    for part in name.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => return refuse("has `..` in its path"),
            part => {
                path.push(part);
                depth += 1;
            }
        }
    }
    Ok((depth > 0).then_some(path))
}

fn unpack_tar_gz(bytes: &[u8], root: &Path, budget: &mut Budget) -> Result<(), ArchiveError> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let entries = archive.entries().map_err(|e| ArchiveError::Damaged(e.to_string()))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| ArchiveError::Damaged(e.to_string()))?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let kind = entry.header().entry_type();
        if kind.is_pax_global_extensions() || kind.is_pax_local_extensions() || kind.is_gnu_longname() {
            continue;
        }
        budget.entry()?;
        let Some(path) = place(root, &name)? else { continue };
        if kind.is_dir() {
            std::fs::create_dir_all(&path)?;
        } else if kind.is_file() || kind == tar::EntryType::Continuous {
            budget.copy(&mut entry, &path).map_err(|e| exists_is_refused(e, &name))?;
        } else if kind.is_symlink() || kind.is_hard_link() {
            return Err(ArchiveError::Refused {
                entry: name,
                why: "is a link; archives may hold files and directories only",
            });
        } else {
            return Err(ArchiveError::Refused { entry: name, why: "is not a file or directory" });
        }
    }
    Ok(())
}

fn unpack_zip(bytes: &[u8], root: &Path, budget: &mut Budget) -> Result<(), ArchiveError> {
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| ArchiveError::Damaged(e.to_string()))?;
    if archive.len() > budget.limits.entries {
        return Err(ArchiveError::TooManyEntries);
    }
    for index in 0..archive.len() {
        let mut file = archive.by_index(index).map_err(|e| ArchiveError::Damaged(e.to_string()))?;
        let name = file.name().map_err(|e| ArchiveError::Damaged(e.to_string()))?.into_owned();
        budget.entry()?;
        let Some(path) = place(root, &name)? else { continue };
        if file.is_symlink() {
            return Err(ArchiveError::Refused {
                entry: name,
                why: "is a link; archives may hold files and directories only",
            });
        }
        if file.is_dir() {
            std::fs::create_dir_all(&path)?;
        } else {
            budget.copy(&mut file, &path).map_err(|e| exists_is_refused(e, &name))?;
        }
    }
    Ok(())
}

/// The same file twice in one archive is refused rather than silently overwritten.
fn exists_is_refused(err: ArchiveError, name: &str) -> ArchiveError {
    match err {
        ArchiveError::Io(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            ArchiveError::Refused { entry: name.to_owned(), why: "appears twice" }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests;
