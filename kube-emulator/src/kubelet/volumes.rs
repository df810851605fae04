//! Volumes without a container runtime. `secret` and `configMap` volumes, and `projected` volumes of
//! Secrets and ConfigMaps, are written out as files into a per-pod directory and `emptyDir` becomes an empty
//! one; other volume types are ignored.
//!
//! A host process cannot have anything mounted at `mountPath`, so the emulator rewrites instead: for each
//! `volumeMount` of a container, every occurrence of its `mountPath` in the container's env values,
//! `command` and `args` is replaced by the materialised directory (plus `subPath`). A command such as
//! `cat /etc/creds/token` therefore reads `<work_dir>/.../volumes/creds/token`. Paths the program builds
//! at run time from other pieces are not rewritten.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::{Container, KeyToPath, PodSpec};

use super::env::{entries, ConfigError};
use crate::kinds::Kind;
use crate::store::Store;

/// Why volumes could not be set up; the pod waits in `ContainerCreating` and the kubelet retries.
#[derive(Debug, thiserror::Error)]
pub enum VolumeError {
    #[error("MountVolume.SetUp failed for volume \"{volume}\" : {source}")]
    Missing { volume: String, source: ConfigError },
    #[error("MountVolume.SetUp failed for volume \"{volume}\" : {source}")]
    Io { volume: String, source: std::io::Error },
}

/// Materialised volumes: volume name → directory.
pub type Mounted = HashMap<String, PathBuf>;

fn write_items(
    dir: &Path,
    data: std::collections::BTreeMap<String, Vec<u8>>,
    items: Option<&Vec<KeyToPath>>,
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let files: Vec<(String, &Vec<u8>)> = match items {
        Some(items) => items.iter().filter_map(|i| Some((i.path.clone(), data.get(&i.key)?))).collect(),
        None => data.iter().map(|(k, v)| (k.clone(), v)).collect(),
    };
    for (path, bytes) in files {
        let file = dir.join(path);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(file, bytes)?;
    }
    Ok(())
}

/// Writes every supported volume of the pod under `root`.
pub fn materialise(store: &Store, namespace: &str, spec: &PodSpec, root: &Path) -> Result<Mounted, VolumeError> {
    let mut mounted = Mounted::new();
    for volume in spec.volumes.iter().flatten() {
        let dir = root.join(&volume.name);
        let io = |source| VolumeError::Io { volume: volume.name.clone(), source };
        let missing = |source| VolumeError::Missing { volume: volume.name.clone(), source };
        if let Some(secret) = &volume.secret {
            let name = secret.secret_name.clone().unwrap_or_default();
            match entries(store, Kind::Secret, namespace, &name) {
                Some(data) => write_items(&dir, data, secret.items.as_ref()).map_err(io)?,
                None if secret.optional == Some(true) => std::fs::create_dir_all(&dir).map_err(io)?,
                None => return Err(missing(ConfigError::SecretNotFound(name))),
            }
        } else if let Some(cm) = &volume.config_map {
            match entries(store, Kind::ConfigMap, namespace, &cm.name) {
                Some(data) => write_items(&dir, data, cm.items.as_ref()).map_err(io)?,
                None if cm.optional == Some(true) => std::fs::create_dir_all(&dir).map_err(io)?,
                None => return Err(missing(ConfigError::ConfigMapNotFound(cm.name.clone()))),
            }
        } else if let Some(projected) = &volume.projected {
            std::fs::create_dir_all(&dir).map_err(io)?;
            for source in projected.sources.iter().flatten() {
                if let Some(secret) = &source.secret {
                    match entries(store, Kind::Secret, namespace, &secret.name) {
                        Some(data) => write_items(&dir, data, secret.items.as_ref()).map_err(io)?,
                        None if secret.optional == Some(true) => {}
                        None => return Err(missing(ConfigError::SecretNotFound(secret.name.clone()))),
                    }
                } else if let Some(cm) = &source.config_map {
                    match entries(store, Kind::ConfigMap, namespace, &cm.name) {
                        Some(data) => write_items(&dir, data, cm.items.as_ref()).map_err(io)?,
                        None if cm.optional == Some(true) => {}
                        None => return Err(missing(ConfigError::ConfigMapNotFound(cm.name.clone()))),
                    }
                }
            }
        } else if volume.empty_dir.is_some() {
            std::fs::create_dir_all(&dir).map_err(io)?;
        } else {
            continue;
        }
        mounted.insert(volume.name.clone(), dir);
    }
    Ok(mounted)
}

/// The (mountPath, directory) substitutions for one container, longest mountPath first so `/a/b` wins
/// over `/a`.
pub fn substitutions(container: &Container, mounted: &Mounted) -> Vec<(String, String)> {
    let mut subs: Vec<(String, String)> = container
        .volume_mounts
        .iter()
        .flatten()
        .filter_map(|m| {
            let mut dir = mounted.get(&m.name)?.clone();
            if let Some(sub) = m.sub_path.as_deref().filter(|s| !s.is_empty()) {
                dir = dir.join(sub);
            }
            Some((m.mount_path.trim_end_matches('/').to_owned(), dir.to_string_lossy().into_owned()))
        })
        .filter(|(path, _)| !path.is_empty())
        .collect();
    subs.sort_by_key(|(path, _)| std::cmp::Reverse(path.len()));
    subs
}

/// Applies the substitutions to one string.
pub fn rewrite(text: &str, subs: &[(String, String)]) -> String {
    // One pass over the text so a replacement is never itself rewritten by a shorter mountPath.
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'scan: while !rest.is_empty() {
        for (path, dir) in subs {
            if rest.starts_with(path.as_str()) {
                out.push_str(dir);
                rest = &rest[path.len()..];
                continue 'scan;
            }
        }
        let c = rest.chars().next().expect("rest is not empty");
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::rewrite;

    #[test]
    fn rewrites_mount_paths_inside_strings() {
        let subs =
            vec![("/etc/creds/extra".to_owned(), "/x".to_owned()), ("/etc/creds".to_owned(), "/tmp/v".to_owned())];
        assert_eq!(rewrite("cat /etc/creds/token; ls /etc/creds/extra", &subs), "cat /tmp/v/token; ls /x");
    }
}
