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
pub fn write_bundle(out: &Path, name: &str, binary: &Path) -> Result<ZippedBundle, ZipError> {
    let data = fs::read(binary).map_err(|source| ZipError::ReadBinary {
        path: binary.to_path_buf(),
        source,
    })?;
    let zipped = zip_bootstrap(&data).map_err(|e| ZipError::Encode {
        path: binary.to_path_buf(),
        message: e.to_string(),
    })?;
    let path = out.join("functions").join(format!("{name}.zip"));
    let written = persist::write_if_changed(&path, &zipped).map_err(|source| ZipError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(ZippedBundle {
        path,
        sha256: super::hex(&Sha256::digest(&zipped)),
        bytes: zipped.len() as u64,
        written,
    })
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
    fn a_missing_binary_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        let err = write_bundle(tmp.path(), "f", &tmp.path().join("nope")).unwrap_err();
        assert!(err.to_string().contains("nope"));
        assert!(!tmp.path().join("functions/f.zip").exists());
    }
}
