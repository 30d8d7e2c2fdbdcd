//! The Lambda deployment package of a route: a zip whose first entry is the binary, named
//! `bootstrap` (what `provided.al2023` runs), executable, and byte-for-byte reproducible so
//! that an unchanged route keeps its sha256 and deploy can skip it. A prerendered App route
//! also carries its build-time response (`prerendered.json`) beside it, and every function of
//! an app with a proxy the proxy's description (`proxy.json`).

use std::collections::BTreeMap;
use std::fs;
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use ::zip::write::SimpleFileOptions;
use ::zip::{CompressionMethod, DateTime, ZipWriter};
use sha2::{Digest, Sha256};

use crate::persist;

/// The entry name Lambda's custom runtimes execute.
pub const ENTRY: &str = "bootstrap";
/// The entry's unix mode: an executable regular file.
pub const MODE: u32 = 0o755;
/// The unix mode of the other entries (data the function reads).
pub const DATA_MODE: u32 = 0o644;
/// Deflate level, fixed because the level changes the bytes. Measured with zlib (which
/// zlib-rs mirrors) on a 2.6 MB stripped Rust binary: 6 gives 0.90 MB in 0.15 s, 9 gives
/// 0.89 MB in 0.47 s, 1 gives 1.00 MB in 0.03 s; 6 is the knee.
pub const LEVEL: i64 = 6;

/// A zip written (or found up to date) for one function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZippedBundle {
    /// `<out>/functions/<name>-<sha256 prefix>.zip` (see [`bundle_path`]).
    pub path: PathBuf,
    /// Lower-case hex sha256 of the zip.
    pub sha256: String,
    /// Size of the zip in bytes.
    pub bytes: u64,
    /// False when the existing file already had exactly these bytes and was left alone.
    pub written: bool,
}

/// Why a bundle zip could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ZipError {
    /// The binary could not be read.
    #[error("cannot read the binary {}", .path.display())]
    ReadBinary {
        /// The binary.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The zip could not be encoded.
    #[error("cannot zip {}: {message}", .path.display())]
    Encode {
        /// The binary.
        path: PathBuf,
        /// The zip library's explanation.
        message: String,
    },
    /// The zip could not be written.
    #[error("cannot write {}", .path.display())]
    Write {
        /// The zip.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// The zip of one binary as the entry `bootstrap`, mode 0755, then each of `data` (name,
/// bytes) in name order, mode 0644; every entry dated 1980-01-01 00:00:00 (the zip epoch),
/// deflated at [`LEVEL`], with no extra fields and no comment.
pub fn zip_bootstrap(
    binary: &[u8],
    data: &[(&str, &[u8])],
) -> Result<Vec<u8>, ::zip::result::ZipError> {
    let options = |mode| {
        SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .compression_level(Some(LEVEL))
            .last_modified_time(DateTime::default())
            .unix_permissions(mode)
            .large_file(false)
    };
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    writer.start_file(ENTRY, options(MODE))?;
    writer.write_all(binary)?;
    let mut data = data.to_vec();
    data.sort_by_key(|(name, _)| *name);
    for (name, bytes) in data {
        writer.start_file(name, options(DATA_MODE))?;
        writer.write_all(bytes)?;
    }
    Ok(writer.finish()?.into_inner())
}

/// Zips `binary` with data files beside `bootstrap` (see [`zip_bootstrap`]) into
/// `<out>/functions/<name>-<sha256 prefix>.zip`, atomically, unless that file already holds
/// the same bytes. The name changes with the bytes, so the zip a manifest on disk lists is
/// never overwritten: a build killed here leaves that manifest whole.
pub fn write_bundle_with(
    out: &Path,
    name: &str,
    binary: &Path,
    data: &[(&str, &[u8])],
) -> Result<ZippedBundle, ZipError> {
    let bytes = fs::read(binary).map_err(|source| ZipError::ReadBinary {
        path: binary.to_path_buf(),
        source,
    })?;
    let zipped = zip_bootstrap(&bytes, data).map_err(|e| ZipError::Encode {
        path: binary.to_path_buf(),
        message: e.to_string(),
    })?;
    let sha256 = super::hex(&Sha256::digest(&zipped));
    let path = bundle_path(out, name, &sha256);
    let written = persist::write_if_changed(&path, &zipped).map_err(|source| ZipError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(ZippedBundle {
        path,
        sha256,
        bytes: zipped.len() as u64,
        written,
    })
}

/// File identity: enough to tell that a file is the one seen before without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Stamp {
    len: u64,
    secs: u64,
    nanos: u32,
    inode: u64,
}

impl Stamp {
    fn of(path: &Path) -> Option<Stamp> {
        let meta = fs::metadata(path).ok()?;
        let since = meta
            .modified()
            .ok()?
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?;
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(&meta);
        #[cfg(not(unix))]
        let inode = 0;
        Some(Stamp {
            len: meta.len(),
            secs: since.as_secs(),
            nanos: since.subsec_nanos(),
            inode,
        })
    }
}

/// What one zip was made from, and what it was.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct CachedZip {
    path: PathBuf,
    binary: Stamp,
    /// A digest of the data files beside `bootstrap` ([`data_digest`]).
    #[serde(default)]
    data: String,
    zip: Stamp,
    sha256: String,
    bytes: u64,
}

/// The bundles zipped by earlier builds, by function (its zip's path without the sha256, as
/// [`slot`] gives it), so that a build where cargo relinked
/// nothing does not deflate (and hash) every binary again: a zip is reused when its binary is
/// the very file it was made from (size, mtime, inode) and the zip is the very file written.
///
/// Kept next to the bundle crate (not in the output folder), and only an optimisation: a
/// missing, stale or unreadable cache means zipping again.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ZipCache {
    /// The nextr version that wrote it: another one may zip differently.
    version: String,
    entries: BTreeMap<PathBuf, CachedZip>,
    #[serde(skip)]
    file: PathBuf,
}

impl ZipCache {
    /// Loads the cache kept in `file` (empty when absent, unreadable or from another nextr).
    pub fn load(file: &Path) -> ZipCache {
        let version = env!("CARGO_PKG_VERSION");
        let mut cache = fs::read(file)
            .ok()
            .and_then(|b| serde_json::from_slice::<ZipCache>(&b).ok())
            .filter(|c| c.version == version)
            .unwrap_or_default();
        cache.version = version.to_owned();
        cache.file = file.to_path_buf();
        cache
    }

    /// Writes the cache back (atomically, and only when it changed).
    pub fn save(&self) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        persist::write_if_changed(&self.file, &json).map(|_| ())
    }

    fn reuse(&self, slot: &Path, binary: &Path, data: &str) -> Option<ZippedBundle> {
        let cached = self.entries.get(slot)?;
        (Stamp::of(binary)? == cached.binary
            && cached.data == data
            && Stamp::of(&cached.path)? == cached.zip)
            .then(|| ZippedBundle {
                path: cached.path.clone(),
                sha256: cached.sha256.clone(),
                bytes: cached.bytes,
                written: false,
            })
    }

    fn remember(&mut self, slot: PathBuf, bundle: &ZippedBundle, binary: &Path, data: String) {
        match (Stamp::of(binary), Stamp::of(&bundle.path)) {
            (Some(binary), Some(zip)) => {
                self.entries.insert(
                    slot,
                    CachedZip {
                        path: bundle.path.clone(),
                        binary,
                        data,
                        zip,
                        sha256: bundle.sha256.clone(),
                        bytes: bundle.bytes,
                    },
                );
            }
            _ => {
                self.entries.remove(&slot);
            }
        }
    }

    /// Forgets every zip not in `keep` (routes that are gone, other output folders).
    pub fn retain(&mut self, keep: &[PathBuf]) {
        self.entries.retain(|_, cached| keep.contains(&cached.path));
    }
}

/// [`write_bundle_with`], skipping the work when `cache` shows that the zip on disk was made
/// from this very binary and these data files.
pub fn write_bundle_cached(
    out: &Path,
    name: &str,
    binary: &Path,
    data: &[(&str, &[u8])],
    cache: &mut ZipCache,
) -> Result<ZippedBundle, ZipError> {
    let slot = slot(out, name);
    let digest = data_digest(data);
    if let Some(reused) = cache.reuse(&slot, binary, &digest) {
        return Ok(reused);
    }
    let bundle = write_bundle_with(out, name, binary, data)?;
    cache.remember(slot, &bundle, binary, digest);
    Ok(bundle)
}

/// A digest of data files (names and contents, in name order, as the zip has them): a zip
/// made with other data is not reused. Empty for none.
fn data_digest(data: &[(&str, &[u8])]) -> String {
    if data.is_empty() {
        return String::new();
    }
    let mut data = data.to_vec();
    data.sort_by_key(|(name, _)| *name);
    let mut hash = Sha256::new();
    for (name, bytes) in data {
        // Lengths first, so that no two lists hash alike by shifting bytes between entries.
        hash.update((name.len() as u64).to_le_bytes());
        hash.update(name.as_bytes());
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(bytes);
    }
    super::hex(&hash.finalize())
}

/// `<out>/functions/<name>-<sha256 prefix>.zip`: the manifest's `bundle`, under `out`.
pub fn bundle_path(out: &Path, name: &str, sha256: &str) -> PathBuf {
    out.join(nextr::manifest::layout::bundle(name, sha256))
}

/// The zip cache's key for one function of one output folder: its zip's place before the
/// sha256 is known.
fn slot(out: &Path, name: &str) -> PathBuf {
    out.join(nextr::manifest::layout::FUNCTIONS_DIR).join(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::time::{Duration, SystemTime};

    /// Some bytes that compress like a binary does: partly.
    fn binary() -> Vec<u8> {
        (0u32..200_000)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8 & 0x3f)
            .collect()
    }

    #[test]
    fn the_same_input_gives_the_same_bytes() {
        let a = zip_bootstrap(&binary(), &[]).unwrap();
        let b = zip_bootstrap(&binary(), &[]).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, zip_bootstrap(b"other", &[]).unwrap());
        // Deflated: smaller than the input.
        assert!(a.len() < binary().len());
    }

    #[test]
    fn the_entry_reads_back_as_an_executable_bootstrap() {
        let zipped = zip_bootstrap(&binary(), &[]).unwrap();
        let mut archive = ::zip::ZipArchive::new(Cursor::new(zipped)).unwrap();
        assert_eq!(archive.len(), 1);
        let mut entry = archive.by_index(0).unwrap();
        assert_eq!(entry.name(), "bootstrap");
        assert_eq!(entry.unix_mode().map(|m| m & 0o777), Some(0o755));
        assert_eq!(entry.compression(), CompressionMethod::Deflated);
        assert_eq!(entry.last_modified(), Some(DateTime::default()));
        assert!(entry.extra_data().is_none_or(|e| e.is_empty()));
        let mut content = Vec::new();
        entry.read_to_end(&mut content).unwrap();
        assert_eq!(content, binary());
    }

    #[test]
    fn data_files_sit_beside_bootstrap_deterministically() {
        let page = br#"{"status":200,"headers":[],"body_base64":""}"#;
        let a = zip_bootstrap(&binary(), &[("prerendered.json", page), ("b.txt", b"b")]).unwrap();
        let b = zip_bootstrap(&binary(), &[("b.txt", b"b"), ("prerendered.json", page)]).unwrap();
        assert_eq!(a, b, "the order given does not matter");
        let mut archive = ::zip::ZipArchive::new(Cursor::new(a)).unwrap();
        let names: Vec<&str> = archive.file_names().collect();
        assert_eq!(names, ["bootstrap", "b.txt", "prerendered.json"]);
        let mut entry = archive.by_name("prerendered.json").unwrap();
        assert_eq!(entry.unix_mode().map(|m| m & 0o777), Some(0o644));
        assert_eq!(entry.last_modified(), Some(DateTime::default()));
        let mut content = Vec::new();
        entry.read_to_end(&mut content).unwrap();
        assert_eq!(content, page);
    }

    #[test]
    fn bundles_are_written_atomically_and_only_when_changed() {
        let tmp = tempfile::tempdir().unwrap();
        let bin = tmp.path().join("bin");
        fs::write(&bin, binary()).unwrap();
        let out = tmp.path().join(".nextr");

        let first = write_bundle_with(&out, "app-hello-1234abcd", &bin, &[]).unwrap();
        assert!(first.written);
        let short = &first.sha256[..16];
        assert_eq!(
            first.path,
            out.join(format!("functions/app-hello-1234abcd-{short}.zip"))
        );
        let on_disk = fs::read(&first.path).unwrap();
        assert_eq!(first.bytes, on_disk.len() as u64);
        assert_eq!(first.sha256, crate::bundle::hex(&Sha256::digest(&on_disk)));
        assert_eq!(first.sha256.len(), 64);
        let names: Vec<_> = fs::read_dir(out.join("functions"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [format!("app-hello-1234abcd-{short}.zip").as_str()]);

        let past = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        fs::File::options()
            .write(true)
            .open(&first.path)
            .unwrap()
            .set_modified(past)
            .unwrap();
        let again = write_bundle_with(&out, "app-hello-1234abcd", &bin, &[]).unwrap();
        assert!(!again.written);
        assert_eq!(again.sha256, first.sha256);
        assert_eq!(fs::metadata(&first.path).unwrap().modified().unwrap(), past);

        // New bytes, new name: the zip an existing manifest lists is never overwritten.
        fs::write(&bin, b"changed").unwrap();
        let changed = write_bundle_with(&out, "app-hello-1234abcd", &bin, &[]).unwrap();
        assert!(changed.written);
        assert_ne!(changed.sha256, first.sha256);
        assert_ne!(changed.path, first.path);
        assert_eq!(fs::read(&first.path).unwrap(), on_disk);
    }

    #[test]
    fn the_cache_skips_zipping_an_unchanged_binary_only() {
        let tmp = tempfile::tempdir().unwrap();
        let bin = tmp.path().join("bin");
        fs::write(&bin, binary()).unwrap();
        let out = tmp.path().join(".nextr");
        let cache_file = tmp.path().join("cache.json");

        let mut cache = ZipCache::load(&cache_file);
        let first = write_bundle_cached(&out, "f", &bin, &[], &mut cache).unwrap();
        assert!(first.written);
        cache.save().unwrap();

        // Reused without reading the binary: bytes changed in place behind an unchanged
        // size, mtime and inode go unseen (cargo never does that: a relink is a new file).
        let mut cache = ZipCache::load(&cache_file);
        let stamp = fs::metadata(&bin).unwrap().modified().unwrap();
        let mut same_size = binary();
        same_size[0] ^= 1;
        fs::File::options()
            .write(true)
            .open(&bin)
            .unwrap()
            .write_all(&same_size)
            .unwrap();
        fs::File::options()
            .write(true)
            .open(&bin)
            .unwrap()
            .set_modified(stamp)
            .unwrap();
        let reused = write_bundle_cached(&out, "f", &bin, &[], &mut cache).unwrap();
        assert_eq!(
            reused,
            ZippedBundle {
                written: false,
                ..first.clone()
            }
        );

        // A new binary (relinked: new file) is zipped again.
        fs::remove_file(&bin).unwrap();
        fs::write(&bin, b"relinked").unwrap();
        let relinked = write_bundle_cached(&out, "f", &bin, &[], &mut cache).unwrap();
        assert!(relinked.written);
        assert_ne!(relinked.sha256, first.sha256);

        // A zip changed behind nextr's back is rewritten even though the binary is the same.
        fs::write(&relinked.path, b"tampered").unwrap();
        let repaired = write_bundle_cached(&out, "f", &bin, &[], &mut cache).unwrap();
        assert!(repaired.written);
        assert_eq!(repaired.sha256, relinked.sha256);
        assert_eq!(
            crate::bundle::hex(&Sha256::digest(fs::read(&repaired.path).unwrap())),
            repaired.sha256
        );

        // Another output folder is another zip.
        let other =
            write_bundle_cached(&tmp.path().join("out2"), "f", &bin, &[], &mut cache).unwrap();
        assert!(other.written);
        cache.retain(std::slice::from_ref(&other.path));
        cache.save().unwrap();
        let cache = ZipCache::load(&cache_file);
        let kept: Vec<_> = cache.entries.values().map(|c| &c.path).collect();
        assert_eq!(kept, [&other.path]);

        // A cache from another version, or garbage, is an empty cache.
        fs::write(&cache_file, b"{not json").unwrap();
        assert!(ZipCache::load(&cache_file).entries.is_empty());
    }

    #[test]
    fn the_cache_zips_again_when_the_data_files_change() {
        let tmp = tempfile::tempdir().unwrap();
        let bin = tmp.path().join("bin");
        fs::write(&bin, binary()).unwrap();
        let out = tmp.path().join(".nextr");
        let mut cache = ZipCache::load(&tmp.path().join("cache.json"));
        let v1: &[(&str, &[u8])] = &[("proxy.json", b"{\"routes\":[1]}")];
        let v2: &[(&str, &[u8])] = &[("proxy.json", b"{\"routes\":[1,2]}")];
        let first = write_bundle_cached(&out, "f", &bin, v1, &mut cache).unwrap();
        assert!(first.written);
        let again = write_bundle_cached(&out, "f", &bin, v1, &mut cache).unwrap();
        assert_eq!(
            again,
            ZippedBundle {
                written: false,
                ..first.clone()
            }
        );
        // The same binary with another proxy.json (a route added) is another zip.
        let changed = write_bundle_cached(&out, "f", &bin, v2, &mut cache).unwrap();
        assert!(changed.written);
        assert_ne!(changed.sha256, first.sha256);
        let mut archive = ::zip::ZipArchive::new(fs::File::open(&changed.path).unwrap()).unwrap();
        let mut content = String::new();
        archive
            .by_name("proxy.json")
            .unwrap()
            .read_to_string(&mut content)
            .unwrap();
        assert_eq!(content, "{\"routes\":[1,2]}");
        // And without data files, the bare zip again.
        let bare = write_bundle_cached(&out, "f", &bin, &[], &mut cache).unwrap();
        assert_eq!(
            bare.sha256,
            write_bundle_with(&out, "f", &bin, &[]).unwrap().sha256
        );
        assert_ne!(data_digest(v1), data_digest(v2));
        assert_ne!(
            data_digest(&[("ab", b"c")]),
            data_digest(&[("a", b"bc")]),
            "names and contents are delimited"
        );
    }

    #[test]
    fn a_missing_binary_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        let err = write_bundle_with(tmp.path(), "f", &tmp.path().join("nope"), &[]).unwrap_err();
        assert!(err.to_string().contains("nope"));
        assert!(!tmp.path().join("functions").exists());
    }
}
