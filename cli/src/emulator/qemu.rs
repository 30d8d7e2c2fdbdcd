//! Bundles for the other architecture (an arm64 build served on an x86_64 machine, or the
//! reverse) run under qemu-user: `qemu-aarch64 -L /usr/aarch64-linux-gnu bootstrap`. The
//! process is qemu's, with the same pid, sockets and memory as the function's, so the pool
//! treats it as any instance (its Runtime API endpoint, its process group, its REPORT).
//!
//! No binfmt_misc registration is needed (containers rarely allow one): qemu is started by
//! name. A bootstrap linked against glibc (every bundle `nextr build` makes) needs that
//! architecture's dynamic loader and libc: qemu looks for them under its sysroot (`-L`), by
//! default the folder Debian's and Ubuntu's cross libc installs (`libc6-arm64-cross`:
//! `/usr/aarch64-linux-gnu`), or `QEMU_LD_PREFIX` as qemu itself reads it. Everything is
//! looked for before the first request, and what is missing is named with its install command.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use nextr::manifest::Architecture;

/// How a function's `bootstrap` is started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Launcher {
    /// As it is: it is built for this machine.
    Native,
    /// Under qemu-user: `qemu [-L sysroot] bootstrap`.
    Qemu {
        /// The qemu-user binary for the bundle's architecture.
        qemu: PathBuf,
        /// Where the bundle's dynamic loader and libc are; `None` for a static binary.
        sysroot: Option<PathBuf>,
    },
}

/// Why a bundle for another architecture cannot run here.
#[derive(Debug, thiserror::Error)]
pub enum QemuError {
    /// No qemu-user for the bundle's architecture.
    #[error(
        "this build is for {arch} and this machine is {host}: nextr runs its bundles under \
         qemu-user, and neither `{qemu}` nor `{qemu}-static` is on PATH. Install it (Debian, \
         Ubuntu: `apt-get install qemu-user {libc}`), or serve a build for this machine \
         (`nextr build --arch {host_arch}`; `nextr dev APP` builds for this machine)",
        qemu = qemu_name(*.arch),
        libc = cross_libc_package(*.arch),
        host_arch = host_arch_name(.host)
    )]
    NoQemu {
        /// The bundle's architecture.
        arch: Architecture,
        /// This machine's (`std::env::consts::ARCH`).
        host: String,
    },
    /// The bundle's dynamic loader is not under the sysroot.
    #[error(
        "its bootstrap is linked against {arch}'s glibc, which qemu-user looks for under {}, \
         and {} is not there. Install it (Debian, Ubuntu: `apt-get install {libc}`), or set \
         QEMU_LD_PREFIX to a folder holding {arch}'s glibc",
        .sysroot.display(),
        .sysroot.join(.interpreter.strip_prefix("/").unwrap_or(.interpreter)).display(),
        libc = cross_libc_package(*.arch)
    )]
    NoSysroot {
        /// The bundle's architecture.
        arch: Architecture,
        /// The loader the bootstrap names (`/lib/ld-linux-aarch64.so.1`).
        interpreter: PathBuf,
        /// Where it was looked for.
        sysroot: PathBuf,
    },
    /// The bootstrap's ELF header cannot be read.
    #[error("cannot read {}", .bootstrap.display())]
    Read {
        /// The unpacked bootstrap.
        bootstrap: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// `qemu-aarch64`, `qemu-x86_64`: qemu-user's name for an architecture.
fn qemu_name(arch: Architecture) -> String {
    format!("qemu-{}", arch.machine())
}

/// Debian's cross libc package for an architecture (Debian's names: arm64, amd64).
fn cross_libc_package(arch: Architecture) -> &'static str {
    match arch {
        Architecture::Arm64 => "libc6-arm64-cross",
        Architecture::X86_64 => "libc6-amd64-cross",
    }
}

/// `--arch`'s name for the host, or its machine name when Lambda has no such architecture.
fn host_arch_name(host: &str) -> &str {
    match Architecture::ALL.into_iter().find(|a| a.machine() == host) {
        Some(a) => a.as_str(),
        None => host,
    }
}

/// What this machine offers to run other architectures' bundles, from the developer's
/// environment (`PATH`, `QEMU_LD_PREFIX`): read once per emulator.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Emulation {
    /// `std::env::consts::ARCH`.
    host: String,
    /// Where qemu is looked for.
    path: Option<OsString>,
    /// `QEMU_LD_PREFIX`: the sysroot instead of Debian's cross libc folder.
    ld_prefix: Option<PathBuf>,
}

impl Emulation {
    /// The emulation of this machine, with `env` as the developer's environment.
    pub fn from_env(env: &BTreeMap<String, String>) -> Self {
        Emulation {
            host: std::env::consts::ARCH.to_owned(),
            path: env.get("PATH").map(OsString::from),
            ld_prefix: env
                .get("QEMU_LD_PREFIX")
                .filter(|p| !p.is_empty())
                .map(PathBuf::from),
        }
    }

    /// How to start `bootstrap`, a bundle built for `arch`: as it is on a machine of that
    /// architecture, else under qemu-user, checked to be able to start it.
    pub fn launcher(&self, arch: Architecture, bootstrap: &Path) -> Result<Launcher, QemuError> {
        if arch.machine() == self.host {
            return Ok(Launcher::Native);
        }
        let qemu = self.find_qemu(arch).ok_or_else(|| QemuError::NoQemu {
            arch,
            host: self.host.clone(),
        })?;
        let interpreter =
            crate::bundle::elf::interpreter(bootstrap).map_err(|source| QemuError::Read {
                bootstrap: bootstrap.to_path_buf(),
                source,
            })?;
        let Some(interpreter) = interpreter else {
            return Ok(Launcher::Qemu {
                qemu,
                sysroot: None,
            });
        };
        let sysroot = self
            .ld_prefix
            .clone()
            .unwrap_or_else(|| PathBuf::from(format!("/usr/{}-linux-gnu", arch.machine())));
        let loader = sysroot.join(interpreter.strip_prefix("/").unwrap_or(&interpreter));
        if !loader.is_file() {
            return Err(QemuError::NoSysroot {
                arch,
                interpreter,
                sysroot,
            });
        }
        Ok(Launcher::Qemu {
            qemu,
            sysroot: Some(sysroot),
        })
    }

    /// `qemu-<machine>` on `PATH`, else Debian's `qemu-<machine>-static`.
    fn find_qemu(&self, arch: Architecture) -> Option<PathBuf> {
        let name = qemu_name(arch);
        let path = self.path.as_ref()?;
        [name.clone(), format!("{name}-static")]
            .iter()
            .flat_map(|n| std::env::split_paths(path).map(move |dir| dir.join(n)))
            .find(|p| is_executable(p))
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn other_arch() -> Architecture {
        Architecture::ALL
            .into_iter()
            .find(|a| a.machine() != std::env::consts::ARCH)
            .unwrap_or(Architecture::Arm64)
    }

    fn executable(path: &Path) {
        std::fs::write(path, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    fn emulation(path: &Path, ld_prefix: Option<&Path>) -> Emulation {
        let mut env = BTreeMap::from([("PATH".to_owned(), path.display().to_string())]);
        if let Some(p) = ld_prefix {
            env.insert("QEMU_LD_PREFIX".into(), p.display().to_string());
        }
        Emulation::from_env(&env)
    }

    #[test]
    fn this_machines_own_bundles_run_as_they_are() {
        let e = Emulation::from_env(&BTreeMap::new());
        if let Some(host) = Architecture::host() {
            // Not even read: a missing file is fine.
            assert_eq!(
                e.launcher(host, Path::new("/nonexistent")).unwrap(),
                Launcher::Native
            );
        }
    }

    #[test]
    fn another_architecture_without_qemu_names_what_to_install() {
        let tmp = tempfile::tempdir().unwrap();
        let arch = other_arch();
        let err = emulation(tmp.path(), None)
            .launcher(arch, Path::new("/nonexistent"))
            .unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, QemuError::NoQemu { .. }), "{text}");
        assert!(
            text.contains(&format!("`qemu-{}`", arch.machine())),
            "{text}"
        );
        assert!(text.contains("apt-get install qemu-user libc6-"), "{text}");
        assert!(
            text.contains(&format!("this build is for {arch}")),
            "{text}"
        );
    }

    #[test]
    fn qemu_and_the_sysroot_are_found_or_the_missing_loader_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        let arch = other_arch();
        let bin = tmp.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        // Debian's static build is found when the plain one is not there.
        let qemu = bin.join(format!("qemu-{}-static", arch.machine()));
        executable(&qemu);
        // A dynamically linked bootstrap: this test binary names its loader.
        let exe = std::env::current_exe().unwrap();
        let Some(interp) = crate::bundle::elf::interpreter(&exe).unwrap() else {
            return;
        };
        let sysroot = tmp.path().join("sysroot");
        let err = emulation(&bin, Some(&sysroot))
            .launcher(arch, &exe)
            .unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, QemuError::NoSysroot { .. }), "{text}");
        assert!(text.contains("QEMU_LD_PREFIX"), "{text}");
        assert!(text.contains("apt-get install libc6-"), "{text}");
        let loader = sysroot.join(interp.strip_prefix("/").unwrap());
        std::fs::create_dir_all(loader.parent().unwrap()).unwrap();
        std::fs::write(&loader, "").unwrap();
        assert_eq!(
            emulation(&bin, Some(&sysroot))
                .launcher(arch, &exe)
                .unwrap(),
            Launcher::Qemu {
                qemu,
                sysroot: Some(sysroot)
            }
        );
    }
}
