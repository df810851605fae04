//! Files only k8x's user may read (mode 0600): the secret key, the first admin's password, the first token.

use std::{io::Write, path::Path};

/// Writes `contents` to a new file at `path` with mode 0600, creating the directory. With `replace`, an
/// existing file is removed first; without, an existing file is an error (`AlreadyExists`), so that two
/// processes never overwrite each other's key.
pub fn write(path: &Path, contents: &[u8], replace: bool) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    if replace {
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents)
}

#[cfg(test)]
mod tests {
    #[test]
    fn files_are_private_and_replaced_only_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/secret");
        super::write(&path, b"one", false).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        assert_eq!(super::write(&path, b"two", false).unwrap_err().kind(), std::io::ErrorKind::AlreadyExists);
        super::write(&path, b"three", true).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "three");
    }
}
