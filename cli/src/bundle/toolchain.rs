//! Which compiler and linker build the route binaries, and whether this machine has them.
//!
//! Binaries must run on `provided.al2023` (glibc 2.34). A build for this machine's own
//! architecture is a plain `cargo build`, with the host's linker and glibc (the ELF check then
//! decides whether that glibc is old enough). A build for the other architecture (arm64 on an
//! x86_64 machine, or the reverse) is `cargo zigbuild --target <triple>.2.34`: zig links
//! against the glibc version asked for, whatever the host has. `NEXTR_ZIGBUILD=1` asks for
//! zigbuild for the host's architecture too, for a host whose glibc is newer than Lambda's.
//!
//! Everything a zigbuild needs (cargo-zigbuild, zig, the target's standard library) is looked
//! for before anything compiles, and all that is missing is named at once with its install
//! command: a cross build must not fail minutes in with a linker error.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use nextr::manifest::Architecture;

/// The glibc version zigbuild links against: `provided.al2023`'s, the newest a bundle may
/// need (the ELF check's limit), so that C dependencies can use all of it.
pub const ZIG_GLIBC: &str = "2.34";

/// The variable that asks for zigbuild for the host's own architecture too.
pub const ZIGBUILD_ENV: &str = "NEXTR_ZIGBUILD";

/// How the binaries are compiled and linked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Toolchain {
    /// `cargo build` for the host, with the host's linker and glibc.
    Native,
    /// `cargo zigbuild --target <triple>.2.34`.
    Zigbuild {
        /// The target passed to `--target`, glibc suffix included.
        target: String,
    },
}

impl Toolchain {
    /// The toolchain of a build for `arch` on a `host` machine (`std::env::consts::ARCH`):
    /// zigbuild for another architecture, or when `zigbuild` asks for it.
    pub fn for_build(arch: Architecture, host: &str, zigbuild: bool) -> Self {
        if arch.machine() == host && !zigbuild {
            return Toolchain::Native;
        }
        Toolchain::Zigbuild {
            target: format!("{}.{ZIG_GLIBC}", arch.target_triple()),
        }
    }
}

/// Something a zigbuild needs that this machine lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// `cargo zigbuild` does not run.
    CargoZigbuild,
    /// cargo-zigbuild would find no zig (`python3 -m ziglang`, or `zig` on `PATH`).
    Zig,
    /// The target's standard library is not installed.
    Std {
        /// The Rust target.
        triple: &'static str,
    },
}

/// Why this machine cannot build with the toolchain the build needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{} on this {host} machine needs what is not installed here:{}",
    purpose(*.arch, .host),
    missing_lines(.missing)
)]
pub struct ToolchainError {
    /// The architecture asked for.
    pub arch: Architecture,
    /// The host's architecture (`std::env::consts::ARCH`).
    pub host: String,
    /// What is missing, in the order it is installed.
    pub missing: Vec<Missing>,
}

fn purpose(arch: Architecture, host: &str) -> String {
    if arch.machine() == host {
        format!("linking {arch} functions with cargo-zigbuild ({ZIGBUILD_ENV}=1)")
    } else {
        format!("building {arch} functions")
    }
}

fn missing_lines(missing: &[Missing]) -> String {
    let zigbuild = missing.contains(&Missing::CargoZigbuild);
    let zig = missing.contains(&Missing::Zig);
    let mut lines = String::new();
    match (zigbuild, zig) {
        (true, true) => lines.push_str(
            "\n  - cargo-zigbuild and zig, the cross linker: `pip install cargo-zigbuild ziglang`",
        ),
        (true, false) => {
            lines.push_str("\n  - cargo-zigbuild, the cross linker: `pip install cargo-zigbuild`")
        }
        (false, true) => lines.push_str(
            "\n  - zig, which cargo-zigbuild links with (as `python3 -m ziglang` or `zig` on \
             PATH): `pip install ziglang`",
        ),
        (false, false) => {}
    }
    for m in missing {
        if let Missing::Std { triple } = m {
            lines.push_str(&format!(
                "\n  - the Rust standard library for {triple}: `rustup target add {triple}`"
            ));
        }
    }
    lines
}

/// What the machine offers for a zigbuild.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostTools {
    /// `std::env::consts::ARCH` of the machine running nextr.
    pub arch: String,
    /// Whether `cargo zigbuild` runs.
    pub zigbuild: bool,
    /// Whether cargo-zigbuild would find zig.
    pub zig: bool,
    /// Rust targets whose standard library is installed.
    pub installed_targets: Vec<String>,
}

/// Starts `program args…` with no output, for its exit status.
fn probe(program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> std::io::Result<Child> {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
}

/// Whether a probe ran and succeeded.
fn succeeded(child: std::io::Result<Child>) -> bool {
    child.and_then(|mut c| c.wait()).is_ok_and(|s| s.success())
}

impl HostTools {
    /// Looks at this machine: `cargo zigbuild --help` (cargo finds cargo-zigbuild on `PATH`
    /// and in `$CARGO_HOME/bin`; `--version` is not an option of the subcommand), zig where
    /// cargo-zigbuild looks for it (`python3 -m ziglang`, then `zig`, each overridable as
    /// cargo-zigbuild's own variables allow), and the sysroot's targets. The probes run at
    /// the same time.
    pub fn detect(cargo: &Path) -> Self {
        let zigbuild = probe(cargo, &["zigbuild", "--help"]);
        let python = std::env::var_os("CARGO_ZIGBUILD_PYTHON_PATH").unwrap_or("python3".into());
        let zig_python = probe(python, &["-m", "ziglang", "version"]);
        let zig_bin = std::env::var_os("CARGO_ZIGBUILD_ZIG_PATH").unwrap_or("zig".into());
        let zig_bin = probe(zig_bin, &["version"]);
        let sysroot = Command::new("rustc")
            .args(["--print", "sysroot"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn();
        let zigbuild = succeeded(zigbuild);
        // Both are waited for, so that neither is left a zombie.
        let zig = [succeeded(zig_python), succeeded(zig_bin)].contains(&true);
        let installed_targets = sysroot
            .and_then(|c| c.wait_with_output())
            .ok()
            .filter(|o| o.status.success())
            .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
            .and_then(|sysroot| std::fs::read_dir(sysroot.join("lib/rustlib")).ok())
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter(|e| e.path().join("lib").is_dir())
                    .filter_map(|e| e.file_name().into_string().ok())
                    .collect()
            })
            .unwrap_or_default();
        HostTools {
            arch: std::env::consts::ARCH.to_owned(),
            zigbuild,
            zig,
            installed_targets,
        }
    }

    /// Checks that this machine can build for `arch` with `toolchain`; a native build needs
    /// nothing more than the cargo running it.
    pub fn check(&self, arch: Architecture, toolchain: &Toolchain) -> Result<(), ToolchainError> {
        if *toolchain == Toolchain::Native {
            return Ok(());
        }
        let triple = arch.target_triple();
        let mut missing = Vec::new();
        if !self.zigbuild {
            missing.push(Missing::CargoZigbuild);
        }
        if !self.zig {
            missing.push(Missing::Zig);
        }
        if !self.installed_targets.iter().any(|t| t == triple) {
            missing.push(Missing::Std { triple });
        }
        if missing.is_empty() {
            return Ok(());
        }
        Err(ToolchainError {
            arch,
            host: self.arch.clone(),
            missing,
        })
    }
}

/// Whether `NEXTR_ZIGBUILD` asks for zigbuild (`1` or `true`).
pub fn zigbuild_asked(value: Option<&str>) -> bool {
    matches!(value.map(str::trim), Some("1" | "true"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tools(arch: &str, zigbuild: bool, zig: bool, targets: &[&str]) -> HostTools {
        HostTools {
            arch: arch.into(),
            zigbuild,
            zig,
            installed_targets: targets.iter().map(|t| t.to_string()).collect(),
        }
    }

    #[test]
    fn the_host_architecture_builds_with_plain_cargo_and_the_other_with_zigbuild() {
        use Architecture::*;
        assert_eq!(
            Toolchain::for_build(X86_64, "x86_64", false),
            Toolchain::Native
        );
        assert_eq!(
            Toolchain::for_build(Arm64, "x86_64", false),
            Toolchain::Zigbuild {
                target: "aarch64-unknown-linux-gnu.2.34".into()
            }
        );
        assert_eq!(
            Toolchain::for_build(Arm64, "aarch64", false),
            Toolchain::Native
        );
        assert_eq!(
            Toolchain::for_build(X86_64, "aarch64", false),
            Toolchain::Zigbuild {
                target: "x86_64-unknown-linux-gnu.2.34".into()
            }
        );
        // NEXTR_ZIGBUILD=1: the host's architecture too.
        assert_eq!(
            Toolchain::for_build(X86_64, "x86_64", true),
            Toolchain::Zigbuild {
                target: "x86_64-unknown-linux-gnu.2.34".into()
            }
        );
    }

    #[test]
    fn zigbuild_links_against_the_glibc_the_elf_check_allows() {
        assert_eq!(ZIG_GLIBC, crate::bundle::elf::LAMBDA_GLIBC.to_string());
    }

    #[test]
    fn everything_missing_is_named_with_its_install_command() {
        let arm = Toolchain::for_build(Architecture::Arm64, "x86_64", false);
        let bare = tools("x86_64", false, false, &["x86_64-unknown-linux-gnu"]);
        assert_eq!(
            bare.check(Architecture::Arm64, &arm)
                .unwrap_err()
                .to_string(),
            "building arm64 functions on this x86_64 machine needs what is not installed here:\n  \
             - cargo-zigbuild and zig, the cross linker: `pip install cargo-zigbuild ziglang`\n  \
             - the Rust standard library for aarch64-unknown-linux-gnu: `rustup target add \
             aarch64-unknown-linux-gnu`"
        );
        let no_zig = tools("x86_64", true, false, &["aarch64-unknown-linux-gnu"]);
        let err = no_zig.check(Architecture::Arm64, &arm).unwrap_err();
        assert_eq!(err.missing, [Missing::Zig]);
        assert!(err.to_string().ends_with("`pip install ziglang`"), "{err}");
        let no_std = tools("x86_64", true, true, &["x86_64-unknown-linux-gnu"]);
        let err = no_std.check(Architecture::Arm64, &arm).unwrap_err();
        assert_eq!(
            err.missing,
            [Missing::Std {
                triple: "aarch64-unknown-linux-gnu"
            }]
        );
        let all = tools("x86_64", true, true, &["aarch64-unknown-linux-gnu"]);
        assert_eq!(all.check(Architecture::Arm64, &arm), Ok(()));
        // A native build needs nothing looked for.
        assert_eq!(bare.check(Architecture::X86_64, &Toolchain::Native), Ok(()));
        // NEXTR_ZIGBUILD for the host's own architecture says why zigbuild is needed.
        let zig_native = Toolchain::for_build(Architecture::X86_64, "x86_64", true);
        let err = bare
            .check(Architecture::X86_64, &zig_native)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("linking x86_64 functions with cargo-zigbuild (NEXTR_ZIGBUILD=1)"),
            "{err}"
        );
        assert!(!err.contains("rustup"), "{err}");
    }

    #[test]
    fn nextr_zigbuild_values() {
        assert!(zigbuild_asked(Some("1")));
        assert!(zigbuild_asked(Some("true")));
        assert!(!zigbuild_asked(Some("0")));
        assert!(!zigbuild_asked(Some("")));
        assert!(!zigbuild_asked(None));
    }

    #[test]
    fn detection_sees_this_machine() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let t = HostTools::detect(Path::new(&cargo));
        assert_eq!(t.arch, std::env::consts::ARCH);
        // The toolchain running these tests has its own host's standard library.
        assert!(!t.installed_targets.is_empty());
    }
}
