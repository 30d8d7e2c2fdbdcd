//! What a build was made from, and a digest that proves nothing changed since: `nextr dev`
//! starts from the last build without running `cargo metadata` or cargo when the digest of
//! the manifest's inputs still matches.
//!
//! Like cargo's own fingerprints, the digest reads names, sizes and modification times, not
//! contents: a change cargo would rebuild for changes it. The inputs are the app's folder,
//! its workspace's `Cargo.toml` and `Cargo.lock`, every path dependency's folder and the
//! `Cargo.toml`s above it (where cargo looks for the workspace it inherits from), plus the
//! `nextr` executable itself and the build settings. A path dependency of a path dependency
//! is not among them: after editing one, run `nextr build` (or touch the app).

use std::fs;
use std::path::{Component, Path, PathBuf};
use std::time::UNIX_EPOCH;

use nextr::manifest::{Architecture, Profile};
use sha2::{Digest, Sha256};

use crate::project::{DependencySource, Package};

/// Folders never walked: build outputs, version control, and other tools' caches.
const SKIPPED_DIRS: [&str; 4] = [
    "target",
    nextr::manifest::layout::OUT_DIR,
    ".git",
    "node_modules",
];

/// Environment variables that change what cargo builds.
const BUILD_ENV: [&str; 5] = [
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET_DIR",
    "RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "RUSTUP_TOOLCHAIN",
];

/// The folders and files an app's bundles are built from (absolute, deduplicated).
pub fn inputs(package: &Package) -> Vec<PathBuf> {
    let mut paths = vec![package.root().to_path_buf()];
    paths.push(package.workspace_root.join("Cargo.toml"));
    paths.push(package.workspace_root.join("Cargo.lock"));
    for dep in &package.dependencies {
        if let DependencySource::Path(dir) = &dep.source {
            paths.push(dir.clone());
            paths.extend(
                dir.ancestors()
                    .skip(1)
                    .map(|a| a.join("Cargo.toml"))
                    .filter(|p| p.is_file()),
            );
        }
    }
    paths.sort();
    paths.dedup();
    paths
}

/// The digest of `inputs` as they are now, for a build with these settings.
pub fn digest(inputs: &[PathBuf], profile: Profile, arch: Architecture) -> String {
    let mut hash = Sha256::new();
    hash.update(format!("nextr {}\n", env!("CARGO_PKG_VERSION")));
    hash.update(format!("profile {profile}\narch {arch}\n"));
    if let Some((exe, meta)) = std::env::current_exe()
        .ok()
        .and_then(|exe| fs::metadata(&exe).ok().map(|m| (exe, m)))
    {
        stamp(&mut hash, &exe, &meta);
    }
    for name in BUILD_ENV {
        hash.update(format!("env {name}={:?}\n", std::env::var_os(name)));
    }
    // Names are hashed relative to their input, so that the same files spelled from another
    // folder (`/app/.nextr/dev/../..` or `.nextr/dev/../..`) give the same digest.
    for (i, input) in inputs.iter().enumerate() {
        hash.update(format!("input {i}\n"));
        walk(&mut hash, input, Path::new(""));
    }
    hex(&hash.finalize())
}

/// Hashes a file's stamp, or every file below a folder in name order; `rel` is the name
/// under the input.
fn walk(hash: &mut Sha256, path: &Path, rel: &Path) {
    let Ok(meta) = fs::metadata(path) else {
        hash.update(format!("missing {}\n", rel.display()));
        return;
    };
    if !meta.is_dir() {
        stamp(hash, rel, &meta);
        return;
    }
    let Ok(entries) = fs::read_dir(path) else {
        hash.update(format!("unreadable {}\n", rel.display()));
        return;
    };
    let mut children: Vec<(std::ffi::OsString, PathBuf)> = entries
        .flatten()
        .filter(|e| !SKIPPED_DIRS.iter().any(|s| e.file_name() == *s))
        .map(|e| (e.file_name(), e.path()))
        .collect();
    children.sort();
    for (name, child) in children {
        walk(hash, &child, &rel.join(name));
    }
}

fn stamp(hash: &mut Sha256, name: &Path, meta: &fs::Metadata) {
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    hash.update(format!("{} {} {mtime}\n", name.display(), meta.len()));
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `to` relative to the folder `from` (both absolute), with `..` where needed: how the
/// manifest names paths, so a build folder can move with the app.
pub fn relative(from: &Path, to: &Path) -> String {
    let from: Vec<Component> = from.components().collect();
    let to_parts: Vec<Component> = to.components().collect();
    let common = from
        .iter()
        .zip(&to_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for part in &to_parts[common..] {
        out.push(part);
    }
    let text = out.to_string_lossy().into_owned();
    if text.is_empty() {
        ".".to_owned()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        let r = |a: &str, b: &str| relative(Path::new(a), Path::new(b));
        assert_eq!(r("/app/.nextr", "/app"), "..");
        assert_eq!(r("/app/.nextr/dev", "/app"), "../..");
        assert_eq!(r("/app/.nextr", "/runtime"), "../../runtime");
        assert_eq!(r("/app", "/app"), ".");
        assert_eq!(r("/out", "/app/src"), "../app/src");
    }

    #[test]
    fn the_digest_sees_edits_new_files_and_settings_but_not_outputs() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        fs::create_dir_all(root.join("api")).unwrap();
        fs::write(root.join("api/hello.rs"), "a").unwrap();
        let inputs = [root.to_path_buf()];
        let d = || digest(&inputs, Profile::Debug, Architecture::X86_64);
        let first = d();
        assert_eq!(d(), first, "stable");
        // The same folder spelled another way.
        let detour = [root.join("api/..")];
        assert_eq!(digest(&detour, Profile::Debug, Architecture::X86_64), first);
        // Outputs do not count.
        fs::create_dir_all(root.join(".nextr/dev")).unwrap();
        fs::write(root.join(".nextr/dev/routes-manifest.json"), "{}").unwrap();
        fs::create_dir_all(root.join("target")).unwrap();
        fs::write(root.join("target/x"), "x").unwrap();
        assert_eq!(d(), first);
        // A new file, a changed size, other settings do.
        fs::write(root.join("api/other.rs"), "b").unwrap();
        let second = d();
        assert_ne!(second, first);
        fs::write(root.join("api/other.rs"), "bb").unwrap();
        assert_ne!(d(), second);
        assert_ne!(digest(&inputs, Profile::Release, Architecture::X86_64), d());
        assert_ne!(digest(&inputs, Profile::Debug, Architecture::Arm64), d());
    }

    #[test]
    fn app_router_files_are_inputs_like_api_files() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        fs::create_dir_all(root.join("app/hooks/[id]")).unwrap();
        fs::write(root.join("app/hooks/[id]/route.rs"), "a").unwrap();
        let inputs = [root.to_path_buf()];
        let d = || digest(&inputs, Profile::Debug, Architecture::X86_64);
        let first = d();
        fs::write(root.join("app/hooks/[id]/route.rs"), "ab").unwrap();
        let second = d();
        assert_ne!(second, first);
        fs::create_dir_all(root.join("app/items")).unwrap();
        fs::write(root.join("app/items/route.rs"), "x").unwrap();
        assert_ne!(d(), second);
    }

    #[test]
    fn env_files_are_inputs() {
        // Dotfiles are not skipped: a `.env.local` edit must rebuild, or dev's fast start
        // would serve the functions' old environment.
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let inputs = [root.to_path_buf()];
        let d = || digest(&inputs, Profile::Debug, Architecture::X86_64);
        let first = d();
        fs::write(root.join(".env.local"), "AA=1\n").unwrap();
        let second = d();
        assert_ne!(second, first);
        fs::write(root.join(".env.local"), "AA=12\n").unwrap();
        assert_ne!(d(), second);
    }
}
