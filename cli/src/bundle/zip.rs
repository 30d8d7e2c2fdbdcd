//! The Lambda deployment package of a route: a zip whose single entry is the binary, named
//! `bootstrap` (what `provided.al2023` runs), executable, and byte-for-byte reproducible so
//! that an unchanged route keeps its sha256 and deploy can skip it.

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
/// Deflate level, fixed because the level changes the bytes. Measured with zlib (which
/// zlib-rs mirrors) on a 2.6 MB stripped Rust binary: 6 gives 0.90 MB in 0.15 s, 9 gives
/// 0.89 MB in 0.47 s, 1 gives 1.00 MB in 0.03 s; 6 is the knee.
pub const LEVEL: i64 = 6;

/// A zip written (or found up to date) for one function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZippedBundle {
    /// `<out>/functions/<name>.zip`.
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

/// The zip of one binary as the entry `bootstrap`, mode 0755, dated 1980-01-01 00:00:00
/// (the zip epoch), deflated at [`LEVEL`], with no extra fields and no comment.
pub fn zip_bootstrap(binary: &[u8]) -> Result<Vec<u8>, ::zip::result::ZipError> {
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(LEVEL))
        .last_modified_time(DateTime::default())
        .unix_permissions(MODE)
        .large_file(false);
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    writer.start_file(ENTRY, options)?;
    writer.write_all(binary)?;
    Ok(writer.finish()?.into_inner())
}

/// Zips `binary` into `<out>/functions/<name>.zip`, atomically, unless that file already holds
/// the same bytes.
///
/// A build that changed nothing must not re-zip anything: deflating and hashing every binary
/// again took 54 s for five debug bundles (11 s per 40 MB binary) in a debug build of nextr,
/// and that is what `nextr dev` runs at every start. So a stamp next to the binary
/// (`<binary>.nextr-zip`) records the binary's and the zip's size and modification time with
/// the zip's sha256; when all of them still hold, the zip is reused as it is.
pub fn write_bundle(out: &Path, name: &str, binary: &Path) -> Result<ZippedBundle, ZipError> {
    let path = out.join("functions").join(format!("{name}.zip"));
    let stamp_path = stamp_path(binary);
    if let Some(bundle) = Stamp::read(&stamp_path).and_then(|s| s.reuse(binary, &path)) {
        return Ok(bundle);
    }
    let data = fs::read(binary).map_err(|source| ZipError::ReadBinary {
        path: binary.to_path_buf(),
        source,
    })?;
    let zipped = zip_bootstrap(&data).map_err(|e| ZipError::Encode {
        path: binary.to_path_buf(),
        message: e.to_string(),
    })?;
    let written = persist::write_if_changed(&path, &zipped).map_err(|source| ZipError::Write {
        path: path.clone(),
        source,
    })?;
    let bundle = ZippedBundle {
        path,
        sha256: super::hex(&Sha256::digest(&zipped)),
        bytes: zipped.len() as u64,
        written,
    };
    // Without a stamp the next build zips again: slower, never wrong.
    if let Some(stamp) = Stamp::of(binary, &bundle) {
        let _ = persist::write_atomic(&stamp_path, stamp.to_text().as_bytes());
    }
    Ok(bundle)
}

fn stamp_path(binary: &Path) -> PathBuf {
    let mut name = binary.file_name().unwrap_or_default().to_os_string();
    name.push(".nextr-zip");
    binary.with_file_name(name)
}

/// Size and modification time (nanoseconds since the epoch) of a file.
fn file_id(path: &Path) -> Option<(u64, u128)> {
    let meta = fs::metadata(path).ok()?;
    let modified = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Some((meta.len(), modified.as_nanos()))
}

/// What a previous [`write_bundle`] zipped: the binary it read and the zip it left.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    binary: (u64, u128),
    zip_path: PathBuf,
    zip: (u64, u128),
    sha256: String,
}

impl Stamp {
    const VERSION: &'static str = "nextr-zip 1";

    fn of(binary: &Path, bundle: &ZippedBundle) -> Option<Stamp> {
        Some(Stamp {
            binary: file_id(binary)?,
            zip_path: std::path::absolute(&bundle.path).ok()?,
            zip: file_id(&bundle.path)?,
            sha256: bundle.sha256.clone(),
        })
    }

    fn to_text(&self) -> String {
        format!(
            "{}\n{} {}\n{} {}\n{}\n{}\n",
            Self::VERSION,
            self.binary.0,
            self.binary.1,
            self.zip.0,
            self.zip.1,
            self.sha256,
            self.zip_path.display()
        )
    }

    fn read(path: &Path) -> Option<Stamp> {
        let text = fs::read_to_string(path).ok()?;
        let mut lines = text.lines();
        if lines.next()? != Self::VERSION {
            return None;
        }
        let pair = |line: &str| -> Option<(u64, u128)> {
            let (a, b) = line.split_once(' ')?;
            Some((a.parse().ok()?, b.parse().ok()?))
        };
        let binary = pair(lines.next()?)?;
        let zip = pair(lines.next()?)?;
        let sha256 = lines.next()?.to_owned();
        let zip_path = PathBuf::from(lines.next()?);
        let valid = sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit());
        valid.then_some(Stamp {
            binary,
            zip_path,
            zip,
            sha256,
        })
    }

    /// The bundle as it stands, if neither the binary nor the zip changed since the stamp.
    fn reuse(&self, binary: &Path, zip: &Path) -> Option<ZippedBundle> {
        let same = file_id(binary)? == self.binary
            && std::path::absolute(zip).ok()? == self.zip_path
            && file_id(zip)? == self.zip;
        same.then(|| ZippedBundle {
            path: zip.to_path_buf(),
            sha256: self.sha256.clone(),
            bytes: self.zip.0,
            written: false,
        })
    }
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
        let a = zip_bootstrap(&binary()).unwrap();
        let b = zip_bootstrap(&binary()).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, zip_bootstrap(b"other").unwrap());
        // Deflated: smaller than the input.
        assert!(a.len() < binary().len());
    }

    #[test]
    fn the_entry_reads_back_as_an_executable_bootstrap() {
        let zipped = zip_bootstrap(&binary()).unwrap();
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
    fn bundles_are_written_atomically_and_only_when_changed() {
        let tmp = tempfile::tempdir().unwrap();
        let bin = tmp.path().join("bin");
        fs::write(&bin, binary()).unwrap();
        let out = tmp.path().join(".nextr");

        let first = write_bundle(&out, "app-hello-1234abcd", &bin).unwrap();
        assert!(first.written);
        assert_eq!(first.path, out.join("functions/app-hello-1234abcd.zip"));
        let on_disk = fs::read(&first.path).unwrap();
        assert_eq!(first.bytes, on_disk.len() as u64);
        assert_eq!(first.sha256, crate::bundle::hex(&Sha256::digest(&on_disk)));
        assert_eq!(first.sha256.len(), 64);
        let names: Vec<_> = fs::read_dir(out.join("functions"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["app-hello-1234abcd.zip"]);

        let past = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        fs::File::options()
            .write(true)
            .open(&first.path)
            .unwrap()
            .set_modified(past)
            .unwrap();
        let again = write_bundle(&out, "app-hello-1234abcd", &bin).unwrap();
        assert!(!again.written);
        assert_eq!(again.sha256, first.sha256);
        assert_eq!(fs::metadata(&first.path).unwrap().modified().unwrap(), past);

        fs::write(&bin, b"changed").unwrap();
        let changed = write_bundle(&out, "app-hello-1234abcd", &bin).unwrap();
        assert!(changed.written);
        assert_ne!(changed.sha256, first.sha256);
    }

    #[test]
    fn an_unchanged_binary_is_not_zipped_again() {
        let tmp = tempfile::tempdir().unwrap();
        let bin = tmp.path().join("bin");
        fs::write(&bin, binary()).unwrap();
        let out = tmp.path().join(".nextr");
        let first = write_bundle(&out, "f", &bin).unwrap();
        assert!(tmp.path().join("bin.nextr-zip").is_file());

        // Other bytes of the same size with the same mtime: the stamp says unchanged, so the
        // binary is not even read (the old sha256 proves it).
        let mtime = fs::metadata(&bin).unwrap().modified().unwrap();
        let mut other = binary();
        other.reverse();
        fs::write(&bin, &other).unwrap();
        fs::File::options()
            .write(true)
            .open(&bin)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        let reused = write_bundle(&out, "f", &bin).unwrap();
        assert_eq!(
            reused,
            ZippedBundle {
                written: false,
                ..first.clone()
            }
        );

        // A new mtime (a relink): zipped again.
        let later = mtime + std::time::Duration::from_secs(1);
        fs::File::options()
            .write(true)
            .open(&bin)
            .unwrap()
            .set_modified(later)
            .unwrap();
        let relinked = write_bundle(&out, "f", &bin).unwrap();
        assert!(relinked.written);
        assert_ne!(relinked.sha256, first.sha256);
        assert_eq!(
            relinked.sha256,
            crate::bundle::hex(&Sha256::digest(fs::read(&relinked.path).unwrap()))
        );

        // The zip removed, or written to another output folder: zipped again.
        fs::remove_file(&relinked.path).unwrap();
        let restored = write_bundle(&out, "f", &bin).unwrap();
        assert!(restored.written && restored.path.is_file());
        assert_eq!(restored.sha256, relinked.sha256);
        let elsewhere = write_bundle(&tmp.path().join("other"), "f", &bin).unwrap();
        assert!(elsewhere.written);
        assert_eq!(elsewhere.sha256, relinked.sha256);

        // A stamp that is garbage is ignored.
        fs::write(tmp.path().join("bin.nextr-zip"), "nextr-zip 1\nnonsense\n").unwrap();
        let again = write_bundle(&out, "f", &bin).unwrap();
        assert_eq!(again.sha256, relinked.sha256);
    }

    #[test]
    fn a_missing_binary_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        let err = write_bundle(tmp.path(), "f", &tmp.path().join("nope")).unwrap_err();
        assert!(err.to_string().contains("nope"));
        assert!(!tmp.path().join("functions/f.zip").exists());
    }
}
