//! Function bundles: the same zips that deploy uploads, unpacked once per sha256 into a cache
//! so that `nextr dev` runs exactly the bytes that would run on Lambda.

use std::fs;
use std::io::{Cursor, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Why a bundle cannot be run.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// The zip (or the cache) could not be read or written.
    #[error("cannot read or unpack {}", .path.display())]
    Io {
        /// The file at fault.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The zip's bytes do not hash to the manifest's sha256: the manifest is stale.
    #[error("{} has sha256 {actual}, the route manifest says {expected}; run `nextr build` again", .path.display())]
    Mismatch {
        /// The zip.
        path: PathBuf,
        /// The manifest's sha256.
        expected: String,
        /// The zip's sha256.
        actual: String,
    },
    /// Not a zip archive.
    #[error("{} is not a valid zip archive", .path.display())]
    Zip {
        /// The zip.
        path: PathBuf,
        /// The zip error.
        #[source]
        source: zip::result::ZipError,
    },
    /// The zip has no `bootstrap` at its root.
    #[error("{} has no `bootstrap` at its root, so Lambda could not start it", .0.display())]
    NoBootstrap(PathBuf),
}

/// Lower-case hex sha256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in digest {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Unpacks `zip_path` into `cache/<sha256>/` unless it is there already, and returns that
/// folder (which holds `bootstrap`). The zip's bytes are checked against `sha256` when unpacked.
pub fn unpack(zip_path: &Path, sha256: &str, cache: &Path) -> Result<PathBuf, BundleError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| BundleError::Io { path, source }
    };
    let key = sha256.to_ascii_lowercase();
    let dir = cache.join(&key);
    if dir.join("bootstrap").is_file() {
        return Ok(dir);
    }
    let bytes = fs::read(zip_path).map_err(io(zip_path))?;
    let actual = sha256_hex(&bytes);
    if actual != key {
        return Err(BundleError::Mismatch {
            path: zip_path.to_path_buf(),
            expected: sha256.to_owned(),
            actual,
        });
    }
    fs::create_dir_all(cache).map_err(io(cache))?;
    let tmp = cache.join(format!(
        ".tmp-{key}-{}-{:x}",
        std::process::id(),
        nextr_infra::ids::next_u64()
    ));
    let result = extract_into(zip_path, &bytes, &tmp);
    if let Err(e) = result {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    // Another `nextr dev` may have unpacked the same bundle meanwhile: theirs is as good.
    if fs::rename(&tmp, &dir).is_err() {
        let _ = fs::remove_dir_all(&tmp);
        if !dir.join("bootstrap").is_file() {
            return Err(BundleError::NoBootstrap(zip_path.to_path_buf()));
        }
    }
    Ok(dir)
}

/// Removes the unpacked bundles in `cache` that are not in `keep` (folders named by a sha256;
/// anything else is left alone), so that the cache does not grow by a copy of every changed
/// function at every rebuild (40 MB per debug bundle). Returns how many it removed; a folder
/// that cannot be removed is skipped.
pub fn prune(cache: &Path, keep: &std::collections::HashSet<PathBuf>) -> usize {
    let Ok(entries) = fs::read_dir(cache) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let is_bundle = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.len() == 64 && n.bytes().all(|b| b.is_ascii_hexdigit()));
        if is_bundle && !keep.contains(&path) && fs::remove_dir_all(&path).is_ok() {
            removed += 1;
        }
    }
    removed
}

fn extract_into(zip_path: &Path, bytes: &[u8], dest: &Path) -> Result<(), BundleError> {
    let zip_err = |source| BundleError::Zip {
        path: zip_path.to_path_buf(),
        source,
    };
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| BundleError::Io { path, source }
    };
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(zip_err)?;
    fs::create_dir_all(dest).map_err(io(dest))?;
    let mut has_bootstrap = false;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(zip_err)?;
        // `enclosed_name` refuses absolute paths and `..`, so nothing escapes `dest`.
        let Some(name) = entry.enclosed_name() else {
            continue;
        };
        let target = dest.join(&name);
        if entry.is_dir() {
            fs::create_dir_all(&target).map_err(io(&target))?;
            continue;
        }
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(io(parent))?;
        }
        let is_bootstrap = name == Path::new("bootstrap");
        has_bootstrap |= is_bootstrap;
        // Lambda runs `bootstrap` whatever its recorded mode; keep others' modes.
        let mode = match entry.unix_mode() {
            _ if is_bootstrap => 0o755,
            Some(m) => m & 0o777,
            None => 0o644,
        };
        let mut contents = Vec::with_capacity(entry.size() as usize);
        entry.read_to_end(&mut contents).map_err(io(&target))?;
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&target)
            .map_err(io(&target))?;
        file.write_all(&contents).map_err(io(&target))?;
        file.sync_all().map_err(io(&target))?;
        drop(file);
        fs::set_permissions(&target, fs::Permissions::from_mode(mode)).map_err(io(&target))?;
    }
    if !has_bootstrap {
        return Err(BundleError::NoBootstrap(zip_path.to_path_buf()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data) in entries {
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .unix_permissions(0o600);
            w.start_file(*name, opts).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn unpacks_once_and_checks_the_hash() {
        let tmp = tempfile::tempdir().unwrap();
        let zip_path = tmp.path().join("f.zip");
        let bytes = zip_of(&[("bootstrap", b"#!/bin/sh\n"), ("data/x.txt", b"x")]);
        fs::write(&zip_path, &bytes).unwrap();
        let sha = sha256_hex(&bytes);
        let cache = tmp.path().join("cache");
        let dir = unpack(&zip_path, &sha.to_ascii_uppercase(), &cache).unwrap();
        assert_eq!(dir, cache.join(&sha));
        let mode = fs::metadata(dir.join("bootstrap"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o755);
        assert_eq!(fs::read(dir.join("data/x.txt")).unwrap(), b"x");
        // Cached: a now-missing zip is not read again.
        fs::remove_file(&zip_path).unwrap();
        assert_eq!(unpack(&zip_path, &sha, &cache).unwrap(), dir);

        fs::write(&zip_path, &bytes).unwrap();
        let wrong = "0".repeat(64);
        assert!(matches!(
            unpack(&zip_path, &wrong, &cache),
            Err(BundleError::Mismatch { .. })
        ));
        let no_bootstrap = zip_of(&[("main", b"x")]);
        fs::write(&zip_path, &no_bootstrap).unwrap();
        assert!(matches!(
            unpack(&zip_path, &sha256_hex(&no_bootstrap), &cache),
            Err(BundleError::NoBootstrap(_))
        ));
        fs::write(&zip_path, b"not a zip").unwrap();
        assert!(matches!(
            unpack(&zip_path, &sha256_hex(b"not a zip"), &cache),
            Err(BundleError::Zip { .. })
        ));
        // No temporary folders are left behind by the failures.
        let leftovers: Vec<_> = fs::read_dir(&cache)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn prune_keeps_what_is_in_use_and_what_is_not_a_bundle() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = tmp.path().join("dev");
        let zip_path = tmp.path().join("f.zip");
        let mut dirs = Vec::new();
        for content in [b"one".as_slice(), b"two"] {
            let bytes = zip_of(&[("bootstrap", content)]);
            fs::write(&zip_path, &bytes).unwrap();
            dirs.push(unpack(&zip_path, &sha256_hex(&bytes), &cache).unwrap());
        }
        fs::create_dir_all(cache.join("notes")).unwrap();
        let keep = std::iter::once(dirs[1].clone()).collect();
        assert_eq!(prune(&cache, &keep), 1);
        assert!(!dirs[0].exists());
        assert!(dirs[1].join("bootstrap").is_file());
        assert!(cache.join("notes").is_dir());
        assert_eq!(prune(&tmp.path().join("missing"), &keep), 0);
    }
}
