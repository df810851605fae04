//! Reading one file of a service directory from a repository nobody vouches for: regular files only (a
//! symbolic link could point anywhere on the host), at most [`MAX_FILE_BYTES`], UTF-8 text.

use std::{fs::File, io::Read as _, path::Path};

use super::CatalogError;

/// The largest service file k8x reads.
pub(crate) const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// What a symbolic link is told.
pub(crate) const SYMLINK: &str = "is a symbolic link; k8x reads regular files only";

/// The text of the file at `path`, `None` when there is none; `name` names it in problems.
pub(crate) fn text_file(path: &Path, name: &str) -> Result<Option<String>, CatalogError> {
    let problem = |message: String| CatalogError::new(name, message);
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(problem(format!("cannot be read: {e}"))),
    };
    if meta.file_type().is_symlink() {
        return Err(problem(SYMLINK.into()));
    }
    if !meta.is_file() {
        return Err(problem("is not a regular file".into()));
    }
    let too_big = |len: u64| problem(format!("is {len} bytes; at most {MAX_FILE_BYTES} are read"));
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_big(meta.len()));
    }
    // Opened without following a link, in case one replaced the file since it was looked at; and read no
    // further than the limit, in case it grew.
    let file = open_no_follow(path).map_err(|e| problem(format!("cannot be read: {e}")))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(|e| problem(format!("cannot be read: {e}")))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_big(bytes.len() as u64));
    }
    String::from_utf8(bytes).map(Some).map_err(|_| problem("is not UTF-8 text".into()))
}

#[cfg(unix)]
fn open_no_follow(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK).open(path)
}

#[cfg(not(unix))]
fn open_no_follow(path: &Path) -> std::io::Result<File> {
    File::open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_small_regular_utf8_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let at = |f: &str| dir.path().join(f);
        std::fs::write(at("ok.json"), "{}").unwrap();
        assert_eq!(text_file(&at("ok.json"), "s/ok.json").unwrap().as_deref(), Some("{}"));
        assert_eq!(text_file(&at("none.json"), "s/none.json").unwrap(), None);
        std::fs::write(at("big.json"), vec![b' '; MAX_FILE_BYTES as usize + 1]).unwrap();
        assert!(text_file(&at("big.json"), "s/big.json").unwrap_err().message.contains("at most 1048576"));
        std::fs::write(at("latin1.json"), b"{\"a\": \"\xe9\"}").unwrap();
        assert_eq!(text_file(&at("latin1.json"), "s/latin1.json").unwrap_err().message, "is not UTF-8 text");
        std::fs::create_dir(at("dir.json")).unwrap();
        assert_eq!(text_file(&at("dir.json"), "s/dir.json").unwrap_err().message, "is not a regular file");
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/etc/passwd", at("link.json")).unwrap();
            let err = text_file(&at("link.json"), "s/link.json").unwrap_err();
            assert_eq!(err.to_string(), format!("s/link.json: {SYMLINK}"));
        }
    }
}
