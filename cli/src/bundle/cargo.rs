//! The one `cargo build` of the bundle crate: every route binary in one invocation, so that
//! dependencies compile once and links run in parallel, with cargo's JSON messages turned into
//! per-route progress events.
//!
//! Binaries must run on `provided.al2023` (glibc 2.34). When `cargo-zigbuild` is installed the
//! build links against glibc 2.17 (`--target <triple>.2.17`), which leaves a margin and is also
//! how arm64 is linked on an x86_64 host; otherwise a native build serves the host's own
//! architecture and the ELF check decides whether its glibc is old enough.

use std::collections::BTreeMap;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use cargo_metadata::Message;
use nextr::manifest::Architecture;

/// The glibc version zigbuild links against: old enough for every Lambda runtime.
pub const ZIG_GLIBC: &str = "2.17";

/// How the binaries are compiled and linked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Toolchain {
    /// `cargo build` for the host, with the host's linker and glibc.
    Native,
    /// `cargo zigbuild --target <triple>.2.17`.
    Zigbuild {
        /// The target passed to `--target`, glibc suffix included.
        target: String,
    },
}

/// Why no toolchain can build for the requested architecture.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToolchainError {
    /// Cross-compiling without a cross linker.
    #[error(
        "building {arch} functions on this {host} machine needs a cross linker: `pip install ziglang \
         cargo-zigbuild`{}",
        std_hint(.triple, *.std_installed)
    )]
    NoCrossLinker {
        /// The architecture asked for.
        arch: &'static str,
        /// The host's architecture.
        host: String,
        /// The Rust target.
        triple: &'static str,
        /// Whether the target's standard library is installed.
        std_installed: bool,
    },
    /// The target's standard library is missing.
    #[error(
        "the Rust standard library for {triple} is not installed: `rustup target add {triple}`"
    )]
    NoStd {
        /// The Rust target.
        triple: &'static str,
    },
}

fn std_hint(triple: &str, installed: bool) -> String {
    if installed {
        String::new()
    } else {
        format!(" and the standard library for it: `rustup target add {triple}`")
    }
}

/// What the machine offers, as far as the choice of toolchain goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostTools {
    /// `std::env::consts::ARCH` of the machine running nextr.
    pub arch: String,
    /// Whether `cargo zigbuild` runs.
    pub zigbuild: bool,
    /// Rust targets whose standard library is installed.
    pub installed_targets: Vec<String>,
}

impl HostTools {
    /// Looks at this machine: its architecture, `cargo zigbuild --version`, the sysroot. The
    /// two commands run at the same time (every build, a no-op one too, waits for them).
    pub fn detect(cargo: &Path) -> Self {
        let zigbuild = Command::new(cargo)
            .args(["zigbuild", "--version"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let sysroot = Command::new("rustc")
            .args(["--print", "sysroot"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn();
        let zigbuild = zigbuild
            .and_then(|mut c| c.wait())
            .is_ok_and(|s| s.success());
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
            installed_targets,
        }
    }
}

/// Picks the toolchain for `arch` on a machine with `tools`.
pub fn choose_toolchain(
    arch: Architecture,
    tools: &HostTools,
) -> Result<Toolchain, ToolchainError> {
    let triple = arch.target_triple();
    let native = tools.arch == arch.machine();
    let std_installed = native || tools.installed_targets.iter().any(|t| t == triple);
    if tools.zigbuild {
        if !std_installed {
            return Err(ToolchainError::NoStd { triple });
        }
        return Ok(Toolchain::Zigbuild {
            target: format!("{triple}.{ZIG_GLIBC}"),
        });
    }
    if native {
        return Ok(Toolchain::Native);
    }
    Err(ToolchainError::NoCrossLinker {
        arch: arch.as_str(),
        host: tools.arch.clone(),
        triple,
        std_installed,
    })
}

/// One build of the bundle crate.
#[derive(Debug, Clone)]
pub struct CargoBuild<'a> {
    /// The cargo to run (`$CARGO`, or `cargo`).
    pub cargo: &'a Path,
    /// The bundle crate's `Cargo.toml`.
    pub manifest: &'a Path,
    /// Where cargo puts its outputs.
    pub target_dir: &'a Path,
    /// The binaries to build (the function names).
    pub bins: &'a [String],
    /// `--release` (false for `nextr build --debug`).
    pub release: bool,
    /// Native or zigbuild.
    pub toolchain: &'a Toolchain,
    /// Whether rendered diagnostics should carry ANSI colours.
    pub color: bool,
}

/// Something cargo reported while building.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildEvent {
    /// A crate finished compiling (a dependency, the user's lib, or a route binary).
    Compiled {
        /// The crate's target name.
        name: String,
    },
    /// A route binary is ready.
    Binary {
        /// The binary (function) name.
        name: String,
        /// Its path.
        path: PathBuf,
    },
    /// A warning or error from the compiler, rendered as rustc does, pointing at the user's
    /// files (route files are included by absolute path, so that is where spans point).
    Diagnostic {
        /// `error`, `warning`, …
        level: String,
        /// The rendered text.
        rendered: String,
    },
}

/// Why the build failed.
#[derive(Debug, thiserror::Error)]
pub enum CargoError {
    /// cargo could not be started.
    #[error("cannot run {}", .cargo.display())]
    Spawn {
        /// The cargo binary.
        cargo: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The build failed; compiler errors were reported as events.
    #[error("the build failed{}{}", if *.errors > 0 { format!(" with {} compiler error{}", .errors, if *.errors == 1 { "" } else { "s" }) } else { String::new() }, if .stderr.is_empty() { String::new() } else { format!(":\n{}", .stderr) })]
    Failed {
        /// How many compiler errors were reported.
        errors: usize,
        /// What cargo itself said (resolution, network, lock problems).
        stderr: String,
        /// The binaries asked for whose own code had compiler errors (the route files at
        /// fault), in the order the errors came.
        bins: Vec<String>,
    },
    /// cargo succeeded but did not report a binary that was asked for.
    #[error("cargo did not produce the binary {0}")]
    MissingBinary(String),
}

/// Makes the child get SIGKILL when the thread that spawns it ends, however it ends (`kill -9`
/// of nextr included), so an interrupted build stops compiling. [`CargoBuild::run`] waits for
/// cargo on the spawning thread, so that thread outlives a build that is not interrupted.
///
/// Only cargo itself: the rustc processes it runs are not signalled, but no new one starts,
/// and a running one dies of SIGPIPE at its next message to the cargo that is gone (at the
/// latest when its crate is compiled). Under `cargo zigbuild` the cargo that dies is the outer
/// one, and the `cargo-zigbuild` it runs finishes its build.
#[cfg(target_os = "linux")]
pub(crate) fn dies_with_this_thread(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    let parent = rustix::process::getpid();
    let arm = move || -> std::io::Result<()> {
        rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL))?;
        // nextr died between fork and prctl: the signal will never come, so give up now.
        if rustix::process::getppid() != Some(parent) {
            // A raw OS error: building a custom one would allocate, which is unsafe here.
            return Err(rustix::io::Errno::SRCH.into());
        }
        Ok(())
    };
    // SAFETY: the closure runs between fork and exec, where only async-signal-safe calls are
    // allowed: it makes two system calls (prctl, getppid), allocates nothing and takes no lock.
    unsafe {
        command.pre_exec(arm);
    }
}

/// Elsewhere the child outlives an interrupted nextr (no parent-death signal).
#[cfg(not(target_os = "linux"))]
pub(crate) fn dies_with_this_thread(_command: &mut Command) {}

impl CargoBuild<'_> {
    /// The command line, for tests and for `--verbose` output.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(self.cargo);
        match self.toolchain {
            Toolchain::Native => {
                cmd.arg("build");
            }
            Toolchain::Zigbuild { target } => {
                cmd.args(["zigbuild", "--target", target]);
            }
        }
        cmd.arg("--manifest-path")
            .arg(self.manifest)
            .arg("--target-dir")
            .arg(self.target_dir)
            .arg("--message-format")
            .arg(if self.color {
                "json-diagnostic-rendered-ansi"
            } else {
                "json"
            })
            // Status lines would fight the progress display; errors still reach stderr.
            .arg("--quiet")
            // cargo's own stderr is shown inside nextr's error message, escaped: no colour
            // there whatever CARGO_TERM_COLOR says (diagnostics follow `--message-format`).
            .args(["--color", "never"]);
        if self.release {
            cmd.arg("--release");
        }
        for bin in self.bins {
            cmd.args(["--bin", bin]);
        }
        cmd
    }

    /// Runs the build, reporting progress through `on_event`; returns each binary's path.
    pub fn run(
        &self,
        mut on_event: impl FnMut(BuildEvent),
    ) -> Result<BTreeMap<String, PathBuf>, CargoError> {
        let mut command = self.command();
        dies_with_this_thread(&mut command);
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| CargoError::Spawn {
                cargo: self.cargo.to_path_buf(),
                source,
            })?;
        // Drained on a thread so that a chatty stderr cannot block cargo while we read stdout.
        let stderr = child.stderr.take().map(|mut pipe| {
            std::thread::spawn(move || {
                let mut text = String::new();
                let _ = pipe.read_to_string(&mut text);
                text
            })
        });
        let mut binaries = BTreeMap::new();
        let mut errors = 0;
        let mut failed = Vec::new();
        if let Some(stdout) = child.stdout.take() {
            for message in Message::parse_stream(BufReader::new(stdout)) {
                let Ok(message) = message else { break };
                match message {
                    Message::CompilerArtifact(artifact) => {
                        let name = artifact.target.name.clone();
                        match artifact.executable {
                            Some(path) if self.bins.contains(&name) => {
                                let path = path.into_std_path_buf();
                                binaries.insert(name.clone(), path.clone());
                                on_event(BuildEvent::Binary { name, path });
                            }
                            _ => on_event(BuildEvent::Compiled { name }),
                        }
                    }
                    Message::CompilerMessage(m) => {
                        let level = format!("{:?}", m.message.level).to_lowercase();
                        if level.starts_with("error") {
                            errors += 1;
                            let bin = &m.target.name;
                            if self.bins.contains(bin) && !failed.contains(bin) {
                                failed.push(bin.clone());
                            }
                        }
                        if let Some(rendered) = m.message.rendered {
                            on_event(BuildEvent::Diagnostic { level, rendered });
                        }
                    }
                    _ => {}
                }
            }
        }
        let status = child.wait().map_err(|source| CargoError::Spawn {
            cargo: self.cargo.to_path_buf(),
            source,
        })?;
        let stderr = stderr
            .and_then(|h| h.join().ok())
            .unwrap_or_default()
            .trim()
            .to_owned();
        if !status.success() {
            return Err(CargoError::Failed {
                errors,
                stderr,
                bins: failed,
            });
        }
        for bin in self.bins {
            if !binaries.contains_key(bin) {
                return Err(CargoError::MissingBinary(bin.clone()));
            }
        }
        Ok(binaries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tools(arch: &str, zigbuild: bool, targets: &[&str]) -> HostTools {
        HostTools {
            arch: arch.into(),
            zigbuild,
            installed_targets: targets.iter().map(|t| t.to_string()).collect(),
        }
    }

    #[test]
    fn toolchain_choice() {
        let x86 = tools("x86_64", false, &["x86_64-unknown-linux-gnu"]);
        assert_eq!(
            choose_toolchain(Architecture::X86_64, &x86),
            Ok(Toolchain::Native)
        );
        let err = choose_toolchain(Architecture::Arm64, &x86).unwrap_err();
        assert_eq!(
            err.to_string(),
            "building arm64 functions on this x86_64 machine needs a cross linker: `pip install \
             ziglang cargo-zigbuild` and the standard library for it: `rustup target add \
             aarch64-unknown-linux-gnu`"
        );
        let zig = tools("x86_64", true, &["x86_64-unknown-linux-gnu"]);
        assert_eq!(
            choose_toolchain(Architecture::X86_64, &zig),
            Ok(Toolchain::Zigbuild {
                target: "x86_64-unknown-linux-gnu.2.17".into()
            })
        );
        assert_eq!(
            choose_toolchain(Architecture::Arm64, &zig),
            Err(ToolchainError::NoStd {
                triple: "aarch64-unknown-linux-gnu"
            })
        );
        let zig_arm = tools("x86_64", true, &["aarch64-unknown-linux-gnu"]);
        assert_eq!(
            choose_toolchain(Architecture::Arm64, &zig_arm),
            Ok(Toolchain::Zigbuild {
                target: "aarch64-unknown-linux-gnu.2.17".into()
            })
        );
        let arm_host = tools("aarch64", false, &[]);
        assert_eq!(
            choose_toolchain(Architecture::Arm64, &arm_host),
            Ok(Toolchain::Native)
        );
    }

    #[test]
    fn detection_sees_this_machine() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let t = HostTools::detect(Path::new(&cargo));
        assert_eq!(t.arch, std::env::consts::ARCH);
        // The toolchain running these tests has its own host's standard library.
        assert!(!t.installed_targets.is_empty());
    }

    #[test]
    fn the_command_builds_every_bin_at_once() {
        let bins = vec!["a-1".to_owned(), "b-2".to_owned()];
        let zig = Toolchain::Zigbuild {
            target: "x86_64-unknown-linux-gnu.2.17".into(),
        };
        let build = CargoBuild {
            cargo: Path::new("cargo"),
            manifest: Path::new("/t/nextr/app/Cargo.toml"),
            target_dir: Path::new("/t/nextr/target"),
            bins: &bins,
            release: true,
            toolchain: &zig,
            color: false,
        };
        let cmd = build.command();
        let args: Vec<String> = cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            args,
            [
                "zigbuild",
                "--target",
                "x86_64-unknown-linux-gnu.2.17",
                "--manifest-path",
                "/t/nextr/app/Cargo.toml",
                "--target-dir",
                "/t/nextr/target",
                "--message-format",
                "json",
                "--quiet",
                "--color",
                "never",
                "--release",
                "--bin",
                "a-1",
                "--bin",
                "b-2"
            ]
        );
    }

    #[test]
    fn a_failing_cargo_is_reported_with_its_stderr() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("Cargo.toml"), "[package]\nname = \"x\"\n").unwrap();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let bins = vec!["x".to_owned()];
        let build = CargoBuild {
            cargo: Path::new(&cargo),
            manifest: &tmp.path().join("Cargo.toml"),
            target_dir: &tmp.path().join("target"),
            bins: &bins,
            release: false,
            toolchain: &Toolchain::Native,
            color: false,
        };
        let mut events = Vec::new();
        let err = build.run(|e| events.push(e)).unwrap_err();
        let CargoError::Failed { errors, stderr, .. } = &err else {
            panic!("{err}");
        };
        assert_eq!(*errors, 0);
        assert!(stderr.contains("Cargo.toml"), "{stderr}");
        assert!(events.is_empty());
    }
}
