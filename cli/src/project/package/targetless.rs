//! A package with no cargo target of its own: an app that is only `api/` (no `src/`), which
//! `cargo metadata` refuses ("no targets specified in the manifest"). Its `Cargo.toml` is read
//! here directly, for what the bundle crate needs: name, edition, dependencies, features.
//!
//! Only a standalone package is read this way. Anything that needs cargo's own resolution
//! (inheriting from a workspace, being a workspace member) is refused with a clear message
//! that asks for a `src/lib.rs`, with which cargo reads the package as usual. The target dir is
//! cargo's answer for an empty package next to nothing (so `CARGO_TARGET_DIR` and
//! `build.target-dir` count as they would), or the package's own `target/`.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use cargo_metadata::MetadataCommand;
use toml::{Table, Value};

use super::{
    metadata_error, Dependency, DependencyKind, DependencySource, GitReference, Package,
    PackageError,
};

/// The dependency tables of a manifest (cargo accepts both spellings of the older ones).
const TABLES: &[(&str, DependencyKind)] = &[
    ("dependencies", DependencyKind::Normal),
    ("dev-dependencies", DependencyKind::Dev),
    ("dev_dependencies", DependencyKind::Dev),
    ("build-dependencies", DependencyKind::Build),
    ("build_dependencies", DependencyKind::Build),
];

/// Reads the package of `manifest` (canonical) without cargo.
pub(super) fn read(manifest: &Path) -> Result<Package, PackageError> {
    let root = manifest.parent().unwrap_or(Path::new("/")).to_path_buf();
    let unsupported = |reason: String| PackageError::NoTargets {
        manifest: manifest.to_path_buf(),
        reason: Some(reason),
    };
    let text = std::fs::read_to_string(manifest).map_err(|e| PackageError::Cargo {
        manifest: manifest.to_path_buf(),
        message: e.to_string(),
    })?;
    let doc: Table = toml::from_str(&text).map_err(|e| PackageError::Cargo {
        manifest: manifest.to_path_buf(),
        message: e.to_string(),
    })?;
    let Some(package) = doc.get("package").and_then(Value::as_table) else {
        return Err(PackageError::NoPackage {
            manifest: manifest.to_path_buf(),
        });
    };
    if doc.get("workspace").is_none() {
        if let Some(workspace) = enclosing_workspace(&root) {
            return Err(unsupported(format!(
                "lies below the workspace of {}",
                workspace.display()
            )));
        }
    }
    let field = |key: &str, default: &str| -> Result<String, PackageError> {
        match package.get(key) {
            None => Ok(default.to_owned()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(unsupported(format!(
                "its `package.{key}` is not a plain string (workspace inheritance needs cargo)"
            ))),
        }
    };
    let name = match package.get("name") {
        Some(Value::String(s)) => s.clone(),
        _ => {
            return Err(PackageError::Cargo {
                manifest: manifest.to_path_buf(),
                message: "`package.name` is missing".to_owned(),
            })
        }
    };
    let version = field("version", "0.0.0")?;
    let edition = field("edition", "2015")?;

    let mut dependencies = Vec::new();
    let mut tables: Vec<(Option<String>, &Table)> = vec![(None, &doc)];
    if let Some(targets) = doc.get("target").and_then(Value::as_table) {
        for (platform, table) in targets {
            if let Some(table) = table.as_table() {
                tables.push((Some(platform.clone()), table));
            }
        }
    }
    for (platform, table) in tables {
        for (key, kind) in TABLES {
            let Some(deps) = table.get(*key).and_then(Value::as_table) else {
                continue;
            };
            for (dep_key, spec) in deps {
                let dep = dependency(&root, dep_key, spec, *kind, platform.clone())
                    .map_err(|reason| unsupported(format!("dependency `{dep_key}` {reason}")))?;
                dependencies.push(dep);
            }
        }
    }

    let mut features = BTreeMap::new();
    if let Some(table) = doc.get("features").and_then(Value::as_table) {
        for (feature, enables) in table {
            features.insert(feature.clone(), strings(Some(enables)));
        }
    }

    Ok(Package {
        name,
        version,
        edition,
        manifest_path: manifest.to_path_buf(),
        lib: None,
        dependencies,
        features,
        target_dir: target_dir(manifest, &root)?,
        workspace_root: root,
    })
}

/// One dependency from its `Cargo.toml` form; `Err` says why nextr cannot read it alone.
fn dependency(
    root: &Path,
    key: &str,
    spec: &Value,
    kind: DependencyKind,
    target: Option<String>,
) -> Result<Dependency, String> {
    let mut dep = Dependency {
        package: key.to_owned(),
        rename: None,
        req: "*".to_owned(),
        kind,
        optional: false,
        default_features: true,
        features: Vec::new(),
        target,
        source: DependencySource::Registry { index: None },
    };
    let table = match spec {
        Value::String(req) => {
            dep.req = req.clone();
            return Ok(dep);
        }
        Value::Table(t) => t,
        _ => return Err("is neither a version nor a table".to_owned()),
    };
    let string = |k: &str| table.get(k).and_then(Value::as_str).map(str::to_owned);
    if table.contains_key("workspace") {
        return Err("is inherited from a workspace, which needs cargo".to_owned());
    }
    if let Some(package) = string("package") {
        dep.rename = Some(key.to_owned());
        dep.package = package;
    }
    if let Some(req) = string("version") {
        dep.req = req;
    }
    dep.optional = table
        .get("optional")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    dep.default_features = table
        .get("default-features")
        .or_else(|| table.get("default_features"))
        .and_then(Value::as_bool)
        .unwrap_or(true);
    dep.features = strings(table.get("features"));
    dep.source = if let Some(path) = string("path") {
        DependencySource::Path(normalize(&root.join(path)))
    } else if let Some(url) = string("git") {
        let reference = if let Some(b) = string("branch") {
            GitReference::Branch(b)
        } else if let Some(t) = string("tag") {
            GitReference::Tag(t)
        } else if let Some(r) = string("rev") {
            GitReference::Rev(r)
        } else {
            GitReference::DefaultBranch
        };
        DependencySource::Git { url, reference }
    } else if let Some(registry) = string("registry").or_else(|| string("registry-index")) {
        DependencySource::Registry {
            index: Some(registry),
        }
    } else {
        DependencySource::Registry { index: None }
    };
    Ok(dep)
}

/// `a/b/../c` → `a/c`, without touching the disk (as cargo reports path dependencies).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The nearest folder above `root` whose `Cargo.toml` has a `[workspace]`.
fn enclosing_workspace(root: &Path) -> Option<PathBuf> {
    root.ancestors().skip(1).find_map(|dir| {
        let manifest = dir.join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).ok()?;
        let doc: Table = toml::from_str(&text).ok()?;
        doc.contains_key("workspace").then_some(manifest)
    })
}

/// Where cargo would put this package's outputs: asks cargo about an empty standalone package
/// in a temporary folder; a target dir of its own (not `<that folder>/target`) comes from the
/// environment or cargo's config, and applies to the app too.
fn target_dir(manifest: &Path, root: &Path) -> Result<PathBuf, PackageError> {
    let io = |e: std::io::Error| PackageError::CargoNotRun {
        manifest: manifest.to_path_buf(),
        source: e,
    };
    let probe = tempfile::Builder::new()
        .prefix("nextr-target-probe-")
        .tempdir()
        .map_err(io)?;
    let probe_root = probe.path().canonicalize().map_err(io)?;
    std::fs::create_dir_all(probe_root.join("src")).map_err(io)?;
    std::fs::write(probe_root.join("src/lib.rs"), "").map_err(io)?;
    std::fs::write(
        probe_root.join("Cargo.toml"),
        "[package]\nname = \"probe\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[workspace]\n",
    )
    .map_err(io)?;
    let metadata = MetadataCommand::new()
        .manifest_path(probe_root.join("Cargo.toml"))
        .no_deps()
        .exec()
        .map_err(|e| metadata_error(manifest, e))?;
    let found = metadata.target_directory.into_std_path_buf();
    Ok(if found == probe_root.join("target") {
        root.join("target")
    } else {
        found
    })
}

/// The strings of a TOML array (`features = ["a", "b"]`); anything else reads as empty, as
/// it cannot happen: `cargo metadata` parses the whole manifest, and reports a malformed one,
/// before it refuses a package without targets.
fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn write(path: &Path, text: &str) {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        fs::write(path, text).unwrap();
    }

    #[test]
    fn a_routes_only_package_is_read_from_its_manifest() {
        let tmp = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(tmp.path()).unwrap();
        write(
            &root.join("shared/Cargo.toml"),
            "[package]\nname = \"shared\"\nversion = \"0.2.0\"\n",
        );
        write(
            &root.join("app/Cargo.toml"),
            r#"[package]
name = "routes-only"
version = "0.3.0"
edition = "2021"

[features]
default = ["ids"]
ids = ["dep:uuid"]

[dependencies]
nextr = { path = "../nextr/runtime" }
serde = { version = "1.0.100", features = ["derive"] }
json = { package = "serde_json", version = "1" }
shared = { path = "./../shared", version = "0.2" }
gitdep = { git = "https://example.com/gitdep", rev = "abc" }
uuid = { version = "1", optional = true, default-features = false, features = ["v4"] }

[target.'cfg(unix)'.dependencies]
libc = "0.2"

[dev-dependencies]
tempfile = "3"
"#,
        );
        write(&root.join("app/api/hello.rs"), "");
        let p = super::super::discover(&root.join("app")).unwrap();
        assert_eq!(p.name, "routes-only");
        assert_eq!(p.version, "0.3.0");
        assert_eq!(p.edition, "2021");
        assert_eq!(p.lib, None);
        assert_eq!(p.manifest_path, root.join("app/Cargo.toml"));
        assert_eq!(p.workspace_root, root.join("app"));
        if std::env::var_os("CARGO_TARGET_DIR").is_none() {
            assert_eq!(p.target_dir, root.join("app/target"));
        }
        assert_eq!(p.features["ids"], ["dep:uuid"]);
        let dep = |key: &str| p.dependencies.iter().find(|d| d.key() == key).unwrap();
        assert_eq!(
            dep("nextr").source,
            DependencySource::Path(root.join("nextr/runtime"))
        );
        assert_eq!(dep("serde").req, "1.0.100");
        assert_eq!(dep("serde").features, ["derive"]);
        assert_eq!(dep("json").package, "serde_json");
        assert_eq!(dep("json").rename.as_deref(), Some("json"));
        assert_eq!(
            dep("shared").source,
            DependencySource::Path(root.join("shared"))
        );
        assert_eq!(
            dep("gitdep").source,
            DependencySource::Git {
                url: "https://example.com/gitdep".into(),
                reference: GitReference::Rev("abc".into())
            }
        );
        assert_eq!(dep("gitdep").req, "*");
        let uuid = dep("uuid");
        assert!(uuid.optional && !uuid.default_features);
        assert_eq!(uuid.features, ["v4"]);
        assert_eq!(dep("libc").target.as_deref(), Some("cfg(unix)"));
        assert_eq!(dep("libc").req, "0.2");
        assert_eq!(dep("tempfile").kind, DependencyKind::Dev);
    }

    #[test]
    fn a_malformed_manifest_is_cargo_s_error_naming_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let manifest = tmp.path().join("Cargo.toml");
        write(
            &manifest,
            "[package]\nname = \"x\"\n\n[features]\nfast = \"simd\"\n",
        );
        let err = super::super::discover(tmp.path()).unwrap_err().to_string();
        assert!(err.contains("Cargo.toml"), "{err}");
        assert!(err.contains("expected a sequence"), "{err}");
    }

    #[test]
    fn defaults_follow_cargo() {
        let tmp = tempfile::tempdir().unwrap();
        write(&tmp.path().join("Cargo.toml"), "[package]\nname = \"x\"\n");
        let p = super::super::discover(tmp.path()).unwrap();
        assert_eq!((p.version.as_str(), p.edition.as_str()), ("0.0.0", "2015"));
        assert!(p.dependencies.is_empty());
    }

    #[test]
    fn what_needs_cargo_asks_for_a_lib() {
        let tmp = tempfile::tempdir().unwrap();
        write(
            &tmp.path().join("Cargo.toml"),
            "[package]\nname = \"x\"\nversion = \"0.1.0\"\n\n[dependencies]\nserde = { workspace = true }\n\n[workspace]\n[workspace.dependencies]\nserde = \"1\"\n",
        );
        let err = super::super::discover(tmp.path()).unwrap_err();
        assert!(matches!(err, PackageError::NoTargets { .. }), "{err}");
        let text = err.to_string();
        assert!(
            text.contains("dependency `serde` is inherited from a workspace"),
            "{text}"
        );
        assert!(text.contains("add a `src/lib.rs`"), "{text}");

        // A member of a workspace above it.
        let tmp = tempfile::tempdir().unwrap();
        write(
            &tmp.path().join("Cargo.toml"),
            "[workspace]\nmembers = [\"app\"]\n\n[workspace.package]\nversion = \"0.1.0\"\n",
        );
        write(
            &tmp.path().join("app/Cargo.toml"),
            "[package]\nname = \"app\"\nversion.workspace = true\n",
        );
        let err = super::super::discover(&tmp.path().join("app")).unwrap_err();
        assert!(matches!(err, PackageError::NoTargets { .. }), "{err}");
        assert!(
            err.to_string().contains("lies below the workspace of"),
            "{err}"
        );
    }

    #[test]
    fn paths_are_normalized_lexically() {
        assert_eq!(
            normalize(Path::new("/a/b/../c/./d")),
            PathBuf::from("/a/c/d")
        );
    }
}
