//! Will this binary start on Lambda? A built route binary must be a 64-bit ELF for the
//! requested architecture and need no glibc newer than `provided.al2023`'s 2.34: a binary
//! linked on a newer host fails at start with a loader error nobody sees until it is deployed.

use std::fmt;
use std::path::{Path, PathBuf};

use nextr::manifest::Architecture;
use object::elf::{FileHeader64, EM_AARCH64, EM_X86_64, SHN_UNDEF, SHT_DYNSYM};
use object::read::elf::{FileHeader, Sym};
use object::read::ReadCache;
use object::{Endianness, ReadRef};

use super::toolchain::{ZIGBUILD_ENV, ZIG_GLIBC};

/// The glibc of Lambda's `provided.al2023` runtime.
pub const LAMBDA_GLIBC: GlibcVersion = GlibcVersion(2, 34, 0);

/// How many of the symbols that need the offending version an error lists.
const LISTED_SYMBOLS: usize = 5;

/// A glibc symbol version such as `GLIBC_2.34` (or `GLIBC_2.2.5`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GlibcVersion(pub u32, pub u32, pub u32);

impl GlibcVersion {
    /// Parses `GLIBC_x.y` or `GLIBC_x.y.z`; other names (`GLIBC_PRIVATE`) give `None`.
    pub fn parse(name: &str) -> Option<Self> {
        let mut parts = name.strip_prefix("GLIBC_")?.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        let patch = match parts.next() {
            Some(p) => p.parse().ok()?,
            None => 0,
        };
        parts
            .next()
            .is_none()
            .then_some(GlibcVersion(major, minor, patch))
    }
}

impl fmt::Display for GlibcVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.0, self.1)?;
        if self.2 != 0 {
            write!(f, ".{}", self.2)?;
        }
        Ok(())
    }
}

/// What the check found in a binary that passed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfInfo {
    /// The CPU architecture.
    pub architecture: Architecture,
    /// The newest `GLIBC_` version required; `None` for a binary that needs no glibc at all.
    pub max_glibc: Option<GlibcVersion>,
}

/// Why a binary would not run on Lambda.
#[derive(Debug, thiserror::Error)]
pub enum ElfError {
    /// The binary could not be read.
    #[error("{route}: cannot read the binary {}", .binary.display())]
    Io {
        /// The route it was built for.
        route: String,
        /// The binary.
        binary: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Not an ELF file, or not a 64-bit one.
    #[error("{route}: {} is not a 64-bit Linux executable ({reason}); Lambda runs x86_64 or arm64 Linux binaries", .binary.display())]
    NotElf64 {
        /// The route.
        route: String,
        /// The binary.
        binary: PathBuf,
        /// What was found instead.
        reason: String,
    },
    /// An ELF file whose tables cannot be read.
    #[error("{route}: {} is a damaged ELF file: {message}", .binary.display())]
    Malformed {
        /// The route.
        route: String,
        /// The binary.
        binary: PathBuf,
        /// The parser's explanation.
        message: String,
    },
    /// Built for another CPU than requested.
    #[error("{route}: {} is built for {found}, but the function is {}; build it for {} (`--target {}`)", .binary.display(), Architecture::as_str(*.requested), rust_arch(*.requested), Architecture::target_triple(*.requested))]
    WrongArchitecture {
        /// The route.
        route: String,
        /// The binary.
        binary: PathBuf,
        /// The machine found (`aarch64`, `x86-64`, `EM_ARM (40)`).
        found: String,
        /// The architecture asked for.
        requested: Architecture,
    },
    /// Needs a newer glibc than Lambda has.
    #[error(
        "{route}: {} needs GLIBC_{found}{}, but Lambda's provided.al2023 has glibc {LAMBDA_GLIBC}, so \
         the function would fail to start. Link against Lambda's glibc with cargo-zigbuild: `pip \
         install ziglang cargo-zigbuild`, then build with `{ZIGBUILD_ENV}=1` set (nextr then runs \
         `cargo zigbuild --target {}.{ZIG_GLIBC}`)",
        .binary.display(),
        symbols_clause(.symbols),
        Architecture::target_triple(*.architecture)
    )]
    GlibcTooNew {
        /// The route.
        route: String,
        /// The binary.
        binary: PathBuf,
        /// The newest version it requires.
        found: GlibcVersion,
        /// Some symbols that require it.
        symbols: Vec<String>,
        /// The binary's architecture, for the fix's target triple.
        architecture: Architecture,
    },
}

fn rust_arch(a: Architecture) -> &'static str {
    match a {
        Architecture::X86_64 => "x86-64",
        Architecture::Arm64 => "aarch64",
    }
}

fn symbols_clause(symbols: &[String]) -> String {
    if symbols.is_empty() {
        return String::new();
    }
    let list: Vec<String> = symbols.iter().map(|s| format!("`{s}`")).collect();
    format!(" (for {})", list.join(", "))
}

/// Reads the binary built for `route` and checks it against `requested` and Lambda's glibc.
///
/// Only the parts of the file the check needs are read (the header, the section table, the
/// version sections): a debug route binary is 40 MB, and reading every one of them whole
/// took most of a no-op `nextr build`.
pub fn check(binary: &Path, route: &str, requested: Architecture) -> Result<ElfInfo, ElfError> {
    let file = std::fs::File::open(binary).map_err(|source| ElfError::Io {
        route: route.to_owned(),
        binary: binary.to_path_buf(),
        source,
    })?;
    let cache = ReadCache::new(file);
    check_data(&cache, binary, route, requested)
}

/// [`check`] on bytes already in memory (crafted ELF files in the tests); `binary` and
/// `route` name them in errors.
#[cfg(test)]
pub fn check_bytes(
    data: &[u8],
    binary: &Path,
    route: &str,
    requested: Architecture,
) -> Result<ElfInfo, ElfError> {
    check_data(data, binary, route, requested)
}

fn check_data<'data, R: ReadRef<'data>>(
    data: R,
    binary: &Path,
    route: &str,
    requested: Architecture,
) -> Result<ElfInfo, ElfError> {
    let not_elf = |reason: &str| ElfError::NotElf64 {
        route: route.to_owned(),
        binary: binary.to_path_buf(),
        reason: reason.to_owned(),
    };
    let malformed = |e: object::read::Error| ElfError::Malformed {
        route: route.to_owned(),
        binary: binary.to_path_buf(),
        message: e.to_string(),
    };
    let ident = data.read_bytes_at(0, 5).unwrap_or_default();
    if ident.get(..4) != Some(b"\x7fELF".as_slice()) {
        return Err(not_elf("no ELF header"));
    }
    if ident.get(4) != Some(&object::elf::ELFCLASS64) {
        return Err(not_elf("a 32-bit ELF file"));
    }
    let header = FileHeader64::<Endianness>::parse(data).map_err(malformed)?;
    let endian = header.endian().map_err(malformed)?;
    let architecture = match header.e_machine(endian) {
        EM_X86_64 => Architecture::X86_64,
        EM_AARCH64 => Architecture::Arm64,
        other => {
            return Err(ElfError::WrongArchitecture {
                route: route.to_owned(),
                binary: binary.to_path_buf(),
                found: format!("machine {other}"),
                requested,
            })
        }
    };
    if architecture != requested {
        return Err(ElfError::WrongArchitecture {
            route: route.to_owned(),
            binary: binary.to_path_buf(),
            found: rust_arch(architecture).to_owned(),
            requested,
        });
    }

    let sections = header.sections(endian, data).map_err(malformed)?;
    let mut max_glibc: Option<GlibcVersion> = None;
    if let Some((mut needs, link)) = sections.gnu_verneed(endian, data).map_err(malformed)? {
        let strings = sections.strings(endian, data, link).map_err(malformed)?;
        while let Some((_, mut auxes)) = needs.next().map_err(malformed)? {
            while let Some(aux) = auxes.next().map_err(malformed)? {
                let name = aux.name(endian, strings).map_err(malformed)?;
                let version = std::str::from_utf8(name).ok().and_then(GlibcVersion::parse);
                if version > max_glibc {
                    max_glibc = version;
                }
            }
        }
    }

    if let Some(found) = max_glibc.filter(|v| *v > LAMBDA_GLIBC) {
        return Err(ElfError::GlibcTooNew {
            route: route.to_owned(),
            binary: binary.to_path_buf(),
            found,
            symbols: symbols_needing(data, found).unwrap_or_default(),
            architecture,
        });
    }
    Ok(ElfInfo {
        architecture,
        max_glibc,
    })
}

/// The program interpreter a binary names (`PT_INTERP`: its dynamic loader, such as
/// `/lib/ld-linux-aarch64.so.1`); `None` for a static binary. qemu-user needs that loader
/// under its sysroot to run a dynamically linked binary of another architecture.
pub fn interpreter(binary: &Path) -> std::io::Result<Option<PathBuf>> {
    let file = std::fs::File::open(binary)?;
    interpreter_of(&ReadCache::new(file))
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()))
}

fn interpreter_of<'data, R: ReadRef<'data>>(data: R) -> object::read::Result<Option<PathBuf>> {
    use object::read::elf::ProgramHeader as _;
    use std::os::unix::ffi::OsStrExt;
    let header = FileHeader64::<Endianness>::parse(data)?;
    let endian = header.endian()?;
    for segment in header.program_headers(endian, data)? {
        if let Some(path) = segment.interpreter(endian, data)? {
            return Ok(Some(PathBuf::from(std::ffi::OsStr::from_bytes(path))));
        }
    }
    Ok(None)
}

/// The undefined dynamic symbols bound to one glibc version, for the error message.
fn symbols_needing<'data, R: ReadRef<'data>>(
    data: R,
    version: GlibcVersion,
) -> object::read::Result<Vec<String>> {
    let header = FileHeader64::<Endianness>::parse(data)?;
    let endian = header.endian()?;
    let sections = header.sections(endian, data)?;
    let Some(versions) = sections.versions(endian, data)? else {
        return Ok(Vec::new());
    };
    let symbols = sections.symbols(endian, data, SHT_DYNSYM)?;
    let mut out = Vec::new();
    for (index, symbol) in symbols.enumerate() {
        if symbol.st_shndx(endian) != SHN_UNDEF {
            continue;
        }
        let Some(v) = versions.version(versions.version_index(endian, index))? else {
            continue;
        };
        let matches = std::str::from_utf8(v.name())
            .ok()
            .and_then(GlibcVersion::parse)
            == Some(version);
        if matches {
            out.push(String::from_utf8_lossy(symbol.name(endian, symbols.strings())?).into_owned());
        }
    }
    out.sort();
    out.dedup();
    out.truncate(LISTED_SYMBOLS);
    Ok(out)
}

#[cfg(test)]
mod tests;
