//! The one `cargo build` of the bundle crate: every route binary in one invocation, so that
//! dependencies compile once and links run in parallel, with cargo's JSON messages turned into
//! per-route progress events.
//!
//! (Which cargo subcommand and target: [`super::toolchain`].)

use std::collections::BTreeMap;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use cargo_metadata::Message;

use super::toolchain::Toolchain;

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
    /// `--keep-going`: a binary with compiler errors does not stop the others (`nextr dev`,
    /// which serves the routes that build; see [`CargoError::partial`]).
    pub keep_going: bool,
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
        /// The binaries that were built all the same (with `--keep-going`), by name.
        built: BTreeMap<String, PathBuf>,
        /// The compiler errors of each binary in `bins`, rendered, without ANSI colours.
        rendered: BTreeMap<String, String>,
    },
    /// cargo succeeded but did not report a binary that was asked for.
    #[error("cargo did not produce the binary {0}")]
    MissingBinary(String),
}

/// What a `--keep-going` build that failed only in route binaries' own code still gives: the
/// binaries that built, and the errors of each one that did not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartialBuild {
    /// The binaries that built, by name.
    pub binaries: BTreeMap<String, PathBuf>,
    /// Each failed binary's compiler errors, as plain text.
    pub failed: BTreeMap<String, String>,
}

impl CargoError {
    /// The failure as a [`PartialBuild`] when every binary of `bins` either built or failed
    /// with compiler errors in its own code, and every one of `required` built. `None` when
    /// the failure is not only the binaries' own (the app's lib, a dependency, cargo itself,
    /// the fallback): no binary can be left out to get past it.
    pub fn partial(&self, bins: &[String], required: &[String]) -> Option<PartialBuild> {
        let CargoError::Failed {
            bins: failed,
            built,
            rendered,
            ..
        } = self
        else {
            return None;
        };
        let accounted = bins
            .iter()
            .all(|b| built.contains_key(b) || failed.contains(b));
        let required_built = required.iter().all(|b| built.contains_key(b));
        if failed.is_empty() || !accounted || !required_built {
            return None;
        }
        Some(PartialBuild {
            binaries: built.clone(),
            failed: failed
                .iter()
                .map(|b| (b.clone(), rendered.get(b).cloned().unwrap_or_default()))
                .collect(),
        })
    }
}

/// `text` without ANSI escape sequences (rustc's colours), for where it is stored or served
/// rather than shown on a terminal.
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        // CSI: `ESC [`, parameters, then one final byte in `@`..=`~`.
        if chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        } else {
            // Another escape: ESC and the character after it.
            chars.next();
        }
    }
    out
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
        if self.keep_going {
            cmd.arg("--keep-going");
        }
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
        let mut rendered_errors: BTreeMap<String, String> = BTreeMap::new();
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
                            if self.bins.contains(bin) {
                                if !failed.contains(bin) {
                                    failed.push(bin.clone());
                                }
                                if let Some(text) = &m.message.rendered {
                                    rendered_errors
                                        .entry(bin.clone())
                                        .or_default()
                                        .push_str(&strip_ansi(text));
                                }
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
                built: binaries,
                rendered: rendered_errors,
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

    #[test]
    fn the_command_builds_every_bin_at_once() {
        let bins = vec!["a-1".to_owned(), "b-2".to_owned()];
        let zig = Toolchain::Zigbuild {
            target: "x86_64-unknown-linux-gnu.2.34".into(),
        };
        let build = CargoBuild {
            cargo: Path::new("cargo"),
            manifest: Path::new("/t/nextr/app/Cargo.toml"),
            target_dir: Path::new("/t/nextr/target"),
            bins: &bins,
            release: true,
            toolchain: &zig,
            color: false,
            keep_going: false,
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
                "x86_64-unknown-linux-gnu.2.34",
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
    fn keep_going_is_asked_for_when_set() {
        let bins = vec!["a-1".to_owned()];
        let build = |keep_going| CargoBuild {
            cargo: Path::new("cargo"),
            manifest: Path::new("/t/Cargo.toml"),
            target_dir: Path::new("/t/target"),
            bins: &bins,
            release: false,
            toolchain: &Toolchain::Native,
            color: true,
            keep_going,
        };
        let has = |b: CargoBuild<'_>| b.command().get_args().any(|a| a == "--keep-going");
        assert!(has(build(true)));
        assert!(!has(build(false)));
    }

    fn failed(failed: &[&str], built: &[&str]) -> CargoError {
        CargoError::Failed {
            errors: failed.len(),
            stderr: String::new(),
            bins: failed.iter().map(|b| b.to_string()).collect(),
            built: built
                .iter()
                .map(|b| (b.to_string(), PathBuf::from(format!("/t/{b}"))))
                .collect(),
            rendered: failed
                .iter()
                .map(|b| (b.to_string(), format!("error: in {b}\n")))
                .collect(),
        }
    }

    #[test]
    fn a_failure_in_route_binaries_alone_is_a_partial_build() {
        let bins: Vec<String> = ["a", "b", "c", "fallback"].map(String::from).to_vec();
        let required = vec!["fallback".to_owned()];
        // `b` failed on its own code, every other binary built.
        let partial = failed(&["b"], &["a", "c", "fallback"])
            .partial(&bins, &required)
            .unwrap();
        assert_eq!(
            partial.binaries.keys().collect::<Vec<_>>(),
            ["a", "c", "fallback"]
        );
        assert_eq!(partial.failed["b"], "error: in b\n");
        assert_eq!(partial.failed.len(), 1);
        // Two failed: both are left out.
        let partial = failed(&["a", "c"], &["b", "fallback"])
            .partial(&bins, &required)
            .unwrap();
        assert_eq!(partial.failed.keys().collect::<Vec<_>>(), ["a", "c"]);

        // A binary that neither built nor failed on its own code (the app's lib failed under
        // it, or a dependency): nothing to leave out.
        assert_eq!(
            failed(&["b"], &["a", "fallback"]).partial(&bins, &required),
            None
        );
        // The lib failed: no binary failed on its own, none built.
        assert_eq!(failed(&[], &[]).partial(&bins, &required), None);
        // The fallback must build.
        assert_eq!(
            failed(&["fallback"], &["a", "b", "c"]).partial(&bins, &required),
            None
        );
        // Anything but a failed build is not partial.
        assert_eq!(
            CargoError::MissingBinary("a".into()).partial(&bins, &required),
            None
        );
    }

    #[test]
    fn ansi_colours_are_stripped() {
        let coloured = "\u{1b}[0m\u{1b}[1m\u{1b}[38;5;9merror[E0308]\u{1b}[0m\u{1b}[0m\u{1b}[1m: mismatched types\u{1b}[0m\n \u{1b}[0m\u{1b}[1m\u{1b}[38;5;12m--> \u{1b}[0m\u{1b}[0mapi/x.rs:1:5\n";
        assert_eq!(
            strip_ansi(coloured),
            "error[E0308]: mismatched types\n --> api/x.rs:1:5\n"
        );
        assert_eq!(strip_ansi("plain → text"), "plain → text");
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
            keep_going: false,
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
