use std::io::Write;

use super::*;

fn tar_gz(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
    for (name, data) in entries {
        let mut header = tar::Header::new_gnu();
        // Written raw, as a hostile archive would be: `set_path` refuses `..`.
        header.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        builder.append(&header, *data).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        writer.start_file(*name, options).unwrap();
        writer.write_all(data).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

const MANIFEST: &[u8] = br#"{"name": "a", "type": "k8x_job"}"#;

#[test]
fn good_archives_unpack_with_their_digest_as_revision() {
    for bytes in [
        tar_gz(&[("svc/manifest.json", MANIFEST), ("svc/deployment.yaml", b"x: 1")]),
        zip(&[("svc/manifest.json", MANIFEST), ("svc/deployment.yaml", b"x: 1")]),
    ] {
        let snapshot = unpack(&bytes).unwrap();
        assert_eq!(std::fs::read(snapshot.root.join("svc/manifest.json")).unwrap(), MANIFEST);
        assert_eq!(snapshot.revision, format!("sha256:{}", hex::encode(Sha256::digest(&bytes))));
    }
}

#[test]
fn hostile_entries_refuse_the_whole_archive() {
    for (bytes, says) in [
        (tar_gz(&[("ok/manifest.json", MANIFEST), ("../evil", b"x")]), "`..`"),
        (tar_gz(&[("/etc/evil", b"x")]), "absolute"),
        (zip(&[("ok/manifest.json", MANIFEST), ("a/../../evil", b"x")]), "`..`"),
        (zip(&[("/evil", b"x")]), "absolute"),
        (zip(&[("C:\\evil", b"x")]), "absolute"),
        (zip(&[("a\u{1b}[31m", b"x")]), "control characters"),
        (tar_gz(&[("same", b"x"), ("same", b"y")]), "twice"),
    ] {
        let err = unpack(&bytes).map(|_| ()).unwrap_err();
        assert!(matches!(err, ArchiveError::Refused { .. }), "{err}");
        assert!(err.to_string().contains(says), "{err}");
    }
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Symlink);
    header.set_size(0);
    builder.append_link(&mut header, "svc/deployment.yaml", "/etc/passwd").unwrap();
    let link = builder.into_inner().unwrap().finish().unwrap();
    assert!(unpack(&link).map(|_| ()).unwrap_err().to_string().contains("is a link"));
}

#[test]
fn limits_hold_and_nonsense_is_named() {
    let small = Limits { archive_bytes: 10_000, entries: 3, unpacked_bytes: 100 };
    let four = tar_gz(&[("a", b"1"), ("b", b"2"), ("c", b"3"), ("d", b"4")]);
    assert!(matches!(unpack_within(&four, small), Err(ArchiveError::TooManyEntries)));
    let four = zip(&[("a", b"1"), ("b", b"2"), ("c", b"3"), ("d", b"4")]);
    assert!(matches!(unpack_within(&four, small), Err(ArchiveError::TooManyEntries)));
    // A small archive of a large file (a zip bomb, in little).
    let bomb = zip(&[("big", &[0u8; 5000])]);
    assert!(bomb.len() < 200);
    assert!(matches!(unpack_within(&bomb, small), Err(ArchiveError::TooLargeUnpacked)));
    let bomb = tar_gz(&[("big", &[0u8; 5000])]);
    assert!(matches!(unpack_within(&bomb, small), Err(ArchiveError::TooLargeUnpacked)));
    assert!(matches!(unpack_within(&[0u8; 20_000], small), Err(ArchiveError::TooLarge)));
    assert!(matches!(unpack(b"just some text"), Err(ArchiveError::NotAnArchive)));
    let mut truncated = tar_gz(&[("a/manifest.json", MANIFEST)]);
    truncated.truncate(truncated.len() / 2);
    assert!(matches!(unpack(&truncated), Err(ArchiveError::Damaged(_)) | Err(ArchiveError::Io(_))));
}
