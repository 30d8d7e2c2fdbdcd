//! The user's Cargo package, as `cargo metadata` sees it: what the bundle crate must copy.
//!
//! `cargo metadata --no-deps` is enough: it resolves `workspace = true` inheritance and makes
//! path dependencies absolute, needs no network and never touches the lockfile.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cargo_metadata::{CrateType, DependencyKind as CargoKind, MetadataCommand, TargetKind};

mod targetless;

/// The user's package: everything `nextr build` needs to generate the bundle crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// The package name (`my-app`).
    pub name: String,
    /// The package version.
    pub version: String,
    /// The Rust edition; route files are compiled with it inside the bundle crate.
    pub edition: String,
    /// Absolute path of the package's `Cargo.toml`.
    pub manifest_path: PathBuf,
    /// The lib target's crate name (`my_app`), when the package has a library.
    pub lib: Option<String>,
    /// Every declared dependency (normal, dev and build), in `Cargo.toml` order.
    pub dependencies: Vec<Dependency>,
    /// The package's `[features]`, which may enable its optional dependencies.
    pub features: BTreeMap<String, Vec<String>>,
    /// The root of the workspace the package belongs to (the package's own folder when alone).
    pub workspace_root: PathBuf,
    /// The workspace's target directory (honours `CARGO_TARGET_DIR` and `build.target-dir`).
    pub target_dir: PathBuf,
}

impl Package {
    /// The folder holding the package's `Cargo.toml`.
    pub fn root(&self) -> &Path {
        self.manifest_path.parent().unwrap_or(Path::new("/"))
    }

    /// The workspace's `Cargo.lock`, when there is one: the bundle reuses its versions.
    pub fn lockfile(&self) -> Option<PathBuf> {
        let lock = self.workspace_root.join("Cargo.lock");
        lock.is_file().then_some(lock)
    }

    /// The dependencies a route binary links: the normal ones.
    pub fn normal_dependencies(&self) -> impl Iterator<Item = &Dependency> {
        self.dependencies
            .iter()
            .filter(|d| d.kind == DependencyKind::Normal)
    }
}

/// One dependency as declared, with every setting needed to declare it again elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    /// The package depended on (`serde_json`).
    pub package: String,
    /// The name it is imported under when renamed (`json = { package = "serde_json" }`).
    pub rename: Option<String>,
    /// The version requirement (`^1.0.100`), `*` when none was given.
    pub req: String,
    /// Normal, dev or build.
    pub kind: DependencyKind,
    /// `optional = true`.
    pub optional: bool,
    /// `default-features`.
    pub default_features: bool,
    /// `features = [...]`.
    pub features: Vec<String>,
    /// The `[target.'cfg(…)'.dependencies]` platform, if any.
    pub target: Option<String>,
    /// Where the package comes from.
    pub source: DependencySource,
}

impl Dependency {
    /// The key the dependency is declared under, which is also its name in code.
    pub fn key(&self) -> &str {
        self.rename.as_deref().unwrap_or(&self.package)
    }
}

/// Which `[…dependencies]` table a dependency is declared in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DependencyKind {
    /// `[dependencies]`.
    Normal,
    /// `[dev-dependencies]`.
    Dev,
    /// `[build-dependencies]`.
    Build,
}

/// Where a dependency comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DependencySource {
    /// A registry: crates.io when `index` is `None`, otherwise the index URL of another one.
    Registry {
        /// The index URL of an alternative registry.
        index: Option<String>,
    },
    /// A local package, by absolute path.
    Path(PathBuf),
    /// A git repository.
    Git {
        /// The repository URL.
        url: String,
        /// The branch, tag or revision asked for.
        reference: GitReference,
    },
}

/// The `branch` / `tag` / `rev` of a git dependency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitReference {
    /// None given: the repository's default branch.
    DefaultBranch,
    /// `branch = "…"`.
    Branch(String),
    /// `tag = "…"`.
    Tag(String),
    /// `rev = "…"`.
    Rev(String),
}

/// Why the user's package could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// DIR has no `Cargo.toml`.
    #[error("no Cargo.toml in {}: a nextr app is a Cargo package with an `api/` folder", .dir.display())]
    NoManifest {
        /// The app folder.
        dir: PathBuf,
    },
    /// `Cargo.toml` is a virtual workspace manifest: no `[package]` to build.
    #[error("{} has no [package]: run nextr in the folder of the app's own package, not at the workspace root", .manifest.display())]
    NoPackage {
        /// The manifest at fault.
        manifest: PathBuf,
    },
    /// The package sits below another workspace's root without being one of its members.
    #[error(
        "{} lies inside the workspace of {} but is not one of its members; add it to that \
         workspace's `members`, or to its `exclude`, or give the app's Cargo.toml an empty \
         `[workspace]` table",
        .manifest.display(),
        .workspace.display()
    )]
    ForeignWorkspace {
        /// The app's manifest.
        manifest: PathBuf,
        /// The other workspace's manifest.
        workspace: PathBuf,
    },
    /// The package has no target at all (an app with only `api/`), which cargo refuses, and
    /// nextr cannot read its manifest alone either (see `reason`).
    #[error("{} declares no target, which cargo refuses{}; add a `src/lib.rs` (it may stay empty, and is where code shared by routes goes)", .manifest.display(), .reason.as_ref().map(|r| format!(", and it {r}")).unwrap_or_default())]
    NoTargets {
        /// The manifest at fault.
        manifest: PathBuf,
        /// Why nextr could not read it without cargo.
        reason: Option<String>,
    },
    /// `cargo metadata` failed: a broken manifest, an unknown key, a missing path dependency…
    #[error("cargo could not read {}:\n{}", .manifest.display(), .message)]
    Cargo {
        /// The manifest cargo was asked about.
        manifest: PathBuf,
        /// Cargo's own explanation (its stderr, trimmed).
        message: String,
    },
    /// `cargo` itself could not be run.
    #[error("cannot run `cargo metadata` for {}: is cargo installed and on PATH?", .manifest.display())]
    CargoNotRun {
        /// The manifest cargo was asked about.
        manifest: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A dependency declaration nextr cannot carry over to the bundle crate.
    #[error("{}: dependency `{}` has a source nextr does not understand: {}", .manifest.display(), .dependency, .source_repr)]
    UnknownSource {
        /// The manifest declaring it.
        manifest: PathBuf,
        /// The dependency's key.
        dependency: String,
        /// The source as cargo wrote it.
        source_repr: String,
    },
}

/// Reads the package whose `Cargo.toml` is in `dir` with `cargo metadata --no-deps`, or, for a
/// package with no target of its own (only `api/`, which cargo refuses), from its manifest.
pub fn discover(dir: &Path) -> Result<Package, PackageError> {
    let manifest = dir.join("Cargo.toml");
    if !manifest.is_file() {
        return Err(PackageError::NoManifest {
            dir: dir.to_path_buf(),
        });
    }
    // Absolute, so that every path in errors and in the bundle crate is absolute too.
    let manifest = std::fs::canonicalize(&manifest).map_err(|_| PackageError::NoManifest {
        dir: dir.to_path_buf(),
    })?;
    let metadata = match MetadataCommand::new()
        .manifest_path(&manifest)
        .no_deps()
        .exec()
        .map_err(|e| metadata_error(&manifest, e))
    {
        Ok(metadata) => metadata,
        // An app of routes only (no `src/`): nextr reads its manifest itself.
        Err(PackageError::NoTargets { .. }) => return targetless::read(&manifest),
        Err(e) => return Err(e),
    };
    let package = metadata
        .packages
        .iter()
        .find(|p| p.manifest_path.as_std_path() == manifest)
        .ok_or_else(|| PackageError::NoPackage {
            manifest: manifest.clone(),
        })?;

    let lib = package
        .targets
        .iter()
        .find(|t| {
            t.kind.iter().any(|k| {
                matches!(
                    k,
                    TargetKind::Lib | TargetKind::RLib | TargetKind::DyLib | TargetKind::ProcMacro
                )
            }) || t.crate_types.iter().any(|c| matches!(c, CrateType::Lib))
        })
        .map(|t| t.name.replace('-', "_"));
    let dependencies = package
        .dependencies
        .iter()
        .map(|d| dependency(&manifest, d))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Package {
        name: package.name.to_string(),
        version: package.version.to_string(),
        edition: package.edition.as_str().to_owned(),
        manifest_path: manifest,
        lib,
        dependencies,
        features: package.features.clone(),
        workspace_root: metadata.workspace_root.clone().into_std_path_buf(),
        target_dir: metadata.target_directory.clone().into_std_path_buf(),
    })
}

fn metadata_error(manifest: &Path, error: cargo_metadata::Error) -> PackageError {
    match error {
        cargo_metadata::Error::CargoMetadata { stderr } => {
            let message = stderr.trim().to_owned();
            if message.contains("no targets specified in the manifest") {
                return PackageError::NoTargets {
                    manifest: manifest.to_path_buf(),
                    reason: None,
                };
            }
            match foreign_workspace(&message) {
                Some(workspace) => PackageError::ForeignWorkspace {
                    manifest: manifest.to_path_buf(),
                    workspace,
                },
                None => PackageError::Cargo {
                    manifest: manifest.to_path_buf(),
                    message,
                },
            }
        }
        cargo_metadata::Error::Io(source) => PackageError::CargoNotRun {
            manifest: manifest.to_path_buf(),
            source,
        },
        other => PackageError::Cargo {
            manifest: manifest.to_path_buf(),
            message: other.to_string(),
        },
    }
}

/// The other workspace's manifest, from cargo's "believes it's in a workspace" error.
fn foreign_workspace(stderr: &str) -> Option<PathBuf> {
    if !stderr.contains("believes it's in a workspace when it's not") {
        return None;
    }
    stderr.lines().find_map(|line| {
        line.trim()
            .strip_prefix("workspace:")
            .map(|p| PathBuf::from(p.trim()))
    })
}

fn dependency(manifest: &Path, d: &cargo_metadata::Dependency) -> Result<Dependency, PackageError> {
    let kind = match d.kind {
        CargoKind::Development => DependencyKind::Dev,
        CargoKind::Build => DependencyKind::Build,
        _ => DependencyKind::Normal,
    };
    let source = match (&d.path, &d.source) {
        (Some(path), _) => DependencySource::Path(path.clone().into_std_path_buf()),
        (None, None) => DependencySource::Registry { index: None },
        (None, Some(source)) => {
            parse_source(&source.repr, d.registry.as_deref()).ok_or_else(|| {
                PackageError::UnknownSource {
                    manifest: manifest.to_path_buf(),
                    dependency: d.rename.clone().unwrap_or_else(|| d.name.clone()),
                    source_repr: source.repr.clone(),
                }
            })?
        }
    };
    Ok(Dependency {
        package: d.name.clone(),
        rename: d.rename.clone(),
        req: d.req.to_string(),
        kind,
        optional: d.optional,
        default_features: d.uses_default_features,
        features: d.features.clone(),
        target: d.target.as_ref().map(ToString::to_string),
        source,
    })
}

/// Parses cargo's source strings: `registry+URL`, `sparse+URL`, `git+URL?branch=…`.
fn parse_source(repr: &str, registry: Option<&str>) -> Option<DependencySource> {
    if repr.starts_with("registry+") || repr.starts_with("sparse+") {
        // cargo reports the index of a registry other than crates.io in `registry`.
        return Some(DependencySource::Registry {
            index: registry.map(str::to_owned),
        });
    }
    let git = repr.strip_prefix("git+")?;
    let (url, query) = git.split_once('?').unwrap_or((git, ""));
    let url = url.split('#').next().unwrap_or(url);
    let mut reference = GitReference::DefaultBranch;
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        reference = match key.as_ref() {
            "branch" => GitReference::Branch(value.into_owned()),
            "tag" => GitReference::Tag(value.into_owned()),
            "rev" => GitReference::Rev(value.into_owned()),
            _ => continue,
        };
    }
    Some(DependencySource::Git {
        url: url.to_owned(),
        reference,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::expected_target_dir;
    use std::fs;

    fn write(path: &Path, text: &str) {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        fs::write(path, text).unwrap();
    }

    #[test]
    fn sources_are_parsed() {
        assert_eq!(
            parse_source(
                "registry+https://github.com/rust-lang/crates.io-index",
                None
            ),
            Some(DependencySource::Registry { index: None })
        );
        assert_eq!(
            parse_source(
                "registry+https://example.com/index",
                Some("https://example.com/index")
            ),
            Some(DependencySource::Registry {
                index: Some("https://example.com/index".into())
            })
        );
        assert_eq!(
            parse_source("git+https://example.com/r.git?branch=feat%2Fx", None),
            Some(DependencySource::Git {
                url: "https://example.com/r.git".into(),
                reference: GitReference::Branch("feat/x".into())
            })
        );
        assert_eq!(
            parse_source("git+https://example.com/r", None),
            Some(DependencySource::Git {
                url: "https://example.com/r".into(),
                reference: GitReference::DefaultBranch
            })
        );
        assert_eq!(parse_source("directory+/x", None), None);
    }

    #[test]
    fn discovers_dependencies_with_every_setting() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        write(
            &root.join("shared/Cargo.toml"),
            "[package]\nname = \"shared\"\nversion = \"0.2.0\"\nedition = \"2021\"\n",
        );
        write(&root.join("shared/src/lib.rs"), "");
        write(
            &root.join("app/Cargo.toml"),
            r#"[package]
name = "my-app"
version = "0.3.0"
edition = "2021"

[lib]
name = "my_core"

[features]
default = ["ids"]
ids = ["dep:uuid"]

[dependencies]
serde = { version = "1.0.100", features = ["derive"] }
json = { package = "serde_json", version = "1" }
shared = { path = "../shared", version = "0.2" }
gitdep = { git = "https://example.com/gitdep", tag = "v1" }
uuid = { version = "1", optional = true, default-features = false, features = ["v4"] }

[target.'cfg(unix)'.dependencies]
libc = "0.2"

[dev-dependencies]
tempfile = "3"
"#,
        );
        write(&root.join("app/src/lib.rs"), "");
        let p = discover(&root.join("app")).unwrap();
        let root = fs::canonicalize(root).unwrap();
        assert_eq!(p.name, "my-app");
        assert_eq!(p.edition, "2021");
        assert_eq!(p.lib.as_deref(), Some("my_core"));
        assert_eq!(p.manifest_path, root.join("app/Cargo.toml"));
        assert_eq!(p.root(), root.join("app"));
        assert_eq!(p.workspace_root, root.join("app"));
        assert_eq!(p.target_dir, expected_target_dir(&root.join("app")));
        assert_eq!(p.features["ids"], ["dep:uuid"]);
        let dep = |key: &str| {
            p.dependencies
                .iter()
                .find(|d| d.key() == key)
                .unwrap_or_else(|| panic!("no dependency {key}"))
        };
        assert_eq!(dep("serde").req, "^1.0.100");
        assert_eq!(dep("serde").features, ["derive"]);
        assert_eq!(dep("json").package, "serde_json");
        assert_eq!(dep("json").rename.as_deref(), Some("json"));
        assert_eq!(
            dep("shared").source,
            DependencySource::Path(root.join("shared"))
        );
        assert_eq!(dep("shared").req, "^0.2");
        assert_eq!(
            dep("gitdep").source,
            DependencySource::Git {
                url: "https://example.com/gitdep".into(),
                reference: GitReference::Tag("v1".into())
            }
        );
        let uuid = dep("uuid");
        assert!(uuid.optional && !uuid.default_features);
        assert_eq!(dep("libc").target.as_deref(), Some("cfg(unix)"));
        assert_eq!(dep("tempfile").kind, DependencyKind::Dev);
        assert_eq!(
            p.normal_dependencies().map(Dependency::key).count(),
            p.dependencies.len() - 1
        );
        assert_eq!(p.lockfile(), None);
    }

    #[test]
    fn no_lib_target_means_no_lib() {
        let tmp = tempfile::tempdir().unwrap();
        write(
            &tmp.path().join("Cargo.toml"),
            "[package]\nname = \"bin-only\"\nversion = \"0.1.0\"\nedition = \"2024\"\n",
        );
        write(&tmp.path().join("src/main.rs"), "fn main() {}\n");
        let p = discover(tmp.path()).unwrap();
        assert_eq!(p.lib, None);
        assert_eq!(p.edition, "2024");
    }

    #[test]
    fn missing_manifest_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        let err = discover(tmp.path()).unwrap_err();
        assert!(matches!(err, PackageError::NoManifest { .. }));
        assert!(err.to_string().contains(&tmp.path().display().to_string()));
    }

    #[test]
    fn virtual_manifest_has_no_package() {
        let tmp = tempfile::tempdir().unwrap();
        write(
            &tmp.path().join("Cargo.toml"),
            "[workspace]\nmembers = []\n",
        );
        let err = discover(tmp.path()).unwrap_err();
        assert!(matches!(err, PackageError::NoPackage { .. }), "{err}");
        assert!(err.to_string().contains("Cargo.toml has no [package]"));
    }

    #[test]
    fn package_inside_another_workspace_is_explained() {
        let tmp = tempfile::tempdir().unwrap();
        write(
            &tmp.path().join("Cargo.toml"),
            "[workspace]\nmembers = []\n",
        );
        write(
            &tmp.path().join("app/Cargo.toml"),
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        );
        write(&tmp.path().join("app/src/lib.rs"), "");
        let err = discover(&tmp.path().join("app")).unwrap_err();
        let PackageError::ForeignWorkspace {
            manifest,
            workspace,
        } = &err
        else {
            panic!("expected ForeignWorkspace, got {err}");
        };
        assert!(manifest.ends_with("app/Cargo.toml"));
        assert_eq!(
            fs::canonicalize(workspace).unwrap(),
            fs::canonicalize(tmp.path().join("Cargo.toml")).unwrap()
        );
        assert!(err.to_string().contains("empty `[workspace]`"));
    }

    #[test]
    fn member_of_a_workspace_is_read_with_inheritance() {
        let tmp = tempfile::tempdir().unwrap();
        write(
            &tmp.path().join("Cargo.toml"),
            "[workspace]\nmembers = [\"app\"]\n[workspace.dependencies]\nserde = { version = \"1.0.1\", features = [\"derive\"] }\n",
        );
        write(
            &tmp.path().join("app/Cargo.toml"),
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[dependencies]\nserde = { workspace = true, features = [\"rc\"] }\n",
        );
        write(&tmp.path().join("app/src/lib.rs"), "");
        let p = discover(&tmp.path().join("app")).unwrap();
        let root = fs::canonicalize(tmp.path()).unwrap();
        assert_eq!(p.workspace_root, root);
        assert_eq!(p.target_dir, expected_target_dir(&root));
        let serde = &p.dependencies[0];
        assert_eq!(serde.req, "^1.0.1");
        assert_eq!(serde.features, ["derive", "rc"]);
    }

    #[test]
    fn cargo_errors_carry_cargos_message() {
        let tmp = tempfile::tempdir().unwrap();
        write(
            &tmp.path().join("Cargo.toml"),
            "[package]\nname = \"x\"\nversion =\n",
        );
        let err = discover(tmp.path()).unwrap_err();
        let PackageError::Cargo { manifest, message } = &err else {
            panic!("expected Cargo, got {err}");
        };
        assert!(manifest.ends_with("Cargo.toml"));
        assert!(message.contains("Cargo.toml:3"), "{message}");
    }
}
