//! The bundle crate: one Cargo package, in its own workspace under the app's target dir, with
//! one `[[bin]]` per route. Each bin's `main` includes the route file with `#[path]` and calls
//! the runtime with the route's pattern and config baked in, so that one `cargo build` shares
//! every dependency across all routes.
//!
//! The crate declares the user's normal dependencies exactly as the user did (path sources
//! absolute) so that route files can `use` any of them, plus the user's own package when it has
//! a library, so that they can `use my_app::…`. It is its own workspace (`[workspace]`), so
//! cargo never mistakes it for a member of the app's workspace above it.
//!
//! An app's `proxy.rs` is a module of every binary (see [`mains`]), and the runtime then needs
//! its `proxy` feature.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use toml::Value;

use crate::analysis::MethodFn;
use crate::persist;
use crate::project::{Dependency, DependencySource, GitReference, Package};

mod mains;

pub use mains::{fallback_main_rs, main_rs, ProxyMain};

/// The runtime crate every bundle links.
const RUNTIME: &str = "nextr";
/// The runtime feature holding the Lambda entry point.
const LAMBDA_FEATURE: &str = "lambda";
/// The runtime feature that runs an app's proxy (its rewrites invoke other functions).
const PROXY_FEATURE: &str = "proxy";
/// The runtime feature that reads a function's secrets at start.
const SECRETS_FEATURE: &str = "secrets";
/// Where the copy of the user's lockfile is recorded, to refresh it only when it changes.
const LOCK_SEED: &str = "nextr-lock-seed.sha256";

/// One route to compile into the bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleRoute {
    /// The page pattern (`/api/post/[pid]`).
    pub page: String,
    /// The route file relative to the app root (`api/post/[pid].rs`).
    pub file: String,
    /// The function name, which is also the binary's name.
    pub function: String,
    /// True when the file invokes `config!`, which defines `route::config()`.
    pub declares_config: bool,
    /// Which router's entry point the `main` calls, with what it needs.
    pub entry: BundleEntry,
}

/// The entry point of one route binary: its file's router, with what that router needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BundleEntry {
    /// A Pages Router file: `lambda::start` with `handler!(route::handler)`.
    Pages,
    /// An App Router route file: `lambda::start_app` with its method functions.
    App {
        /// The file's method functions and their arity (the `app_handler!` form).
        methods: Vec<MethodFn>,
        /// The app also has Pages Router routes (Next then answers a malformed escape 400).
        pages_router: bool,
    },
}

/// The `[profile.*]` settings of the bundle workspace, as TOML values by key.
///
/// They apply to every crate of the bundle, dependencies included. `panic = "abort"` must not
/// be used: the runtime turns a handler's panic into a 500 and keeps serving.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profiles {
    /// `[profile.release]`, used by `nextr build`.
    pub release: BTreeMap<String, Value>,
    /// `[profile.dev]`, used by `nextr build --debug`.
    pub dev: BTreeMap<String, Value>,
}

impl Profiles {
    /// The profiles `nextr build` gives bundles, chosen by measurement (`bench/profiles.sh`,
    /// table in `bench/RESULTS.md`; hello route, dependencies warm, 2 cores):
    ///
    /// - release: `opt-level = "s"`, `codegen-units = 1`, `lto = false` (rustc's per-crate
    ///   thin-local LTO), `strip = true`, `debug = false`. The hello bundle is 0.92 MB zipped
    ///   (1.88 MB unzipped) and an extra route costs 0.3 s, against 2.32 MB and 0.7 s for
    ///   cargo's default release profile; cold start (spawn to first response) stays about
    ///   2 ms. Thin or fat LTO shrinks the bundle by at most 15% more but costs 15–23 s per
    ///   route, because LTO re-optimises tokio, hyper and lambda_http inside every binary.
    /// - dev (`--debug`): `debug = false` and `strip = "debuginfo"`: 2.4 MB zipped, 0.36 s per
    ///   extra route, against 12.3 MB and 1.7 s with full debug info. Panic messages still
    ///   name file and line (they do not need debug info), and backtraces keep function names.
    ///
    /// `panic` is left at `unwind`, which the runtime needs (see [`Profiles`]). Cargo's own
    /// overrides still win: `CARGO_PROFILE_RELEASE_<KEY>` variables, or `[profile.release]` in
    /// a `.cargo/config.toml` of the folder `nextr build` runs in.
    pub fn bundles() -> Profiles {
        let table = |entries: &[(&str, Value)]| {
            entries
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect()
        };
        Profiles {
            release: table(&[
                ("opt-level", Value::String("s".into())),
                ("codegen-units", Value::Integer(1)),
                ("lto", Value::Boolean(false)),
                ("strip", Value::Boolean(true)),
                ("debug", Value::Boolean(false)),
            ]),
            dev: table(&[
                ("debug", Value::Boolean(false)),
                ("strip", Value::String("debuginfo".into())),
            ]),
        }
    }
}

/// Everything the bundle crate is generated from.
#[derive(Debug, Clone)]
pub struct BundleSpec<'a> {
    /// The app name.
    pub app: &'a str,
    /// The app folder (absolute): route files are found under it.
    pub app_root: &'a Path,
    /// The user's package.
    pub package: &'a Package,
    /// The routes, in precedence order.
    pub routes: &'a [BundleRoute],
    /// Profile settings.
    pub profiles: &'a Profiles,
    /// The function name of the app's built-in `$default` function, when it is built.
    pub fallback: Option<&'a str>,
    /// The app's proxy, compiled into every binary.
    pub proxy: Option<&'a BundleProxy>,
    /// Whether any function reads secrets at start (`nextr.toml`'s `[secrets]`): the runtime
    /// then needs its `secrets` feature, in every binary, since one crate builds them all.
    pub secrets: bool,
}

/// The app's proxy file, as the bundle crate includes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleProxy {
    /// The file relative to the app root: `proxy.rs` (or `middleware.rs`).
    pub file: String,
    /// The function every `main` wraps: `proxy` (or `middleware`).
    pub function: String,
}

/// The generated crate: file contents by path relative to the crate's folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleCrate {
    /// `Cargo.toml` and `src/bin/<function>.rs` for each route.
    pub files: BTreeMap<PathBuf, String>,
}

/// What writing the bundle crate changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteSummary {
    /// Files written because they were new or different.
    pub written: Vec<PathBuf>,
    /// Files left alone because they were already up to date.
    pub unchanged: usize,
    /// Binaries of routes that no longer exist, removed.
    pub removed: Vec<PathBuf>,
}

/// Why the bundle crate could not be generated or written.
#[derive(Debug, thiserror::Error)]
pub enum CodegenError {
    /// The user's package does not depend on nextr, so the generated `main`s cannot call it.
    #[error("{} has no dependency on `nextr`; add it to [dependencies] (the route files and their generated `main` need it)", .manifest.display())]
    NoRuntimeDependency {
        /// The user's manifest.
        manifest: PathBuf,
    },
    /// A path that cannot be written into Rust or TOML source.
    #[error("{} is not valid UTF-8; nextr needs UTF-8 paths to generate the bundle", .0.display())]
    NonUtf8Path(PathBuf),
    /// A dependency from a registry other than crates.io, which a manifest names by its
    /// `.cargo/config.toml` name, not by the index URL cargo metadata reports.
    #[error("{}: dependency `{dependency}` comes from the registry at {index}; dependencies from registries other than crates.io are not supported yet", .manifest.display())]
    AlternativeRegistry {
        /// The user's manifest.
        manifest: PathBuf,
        /// The dependency's key.
        dependency: String,
        /// The registry's index URL.
        index: String,
    },
    /// A file of the bundle crate could not be written.
    #[error("cannot write {}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
}

/// The folder of an app's bundle crate: `<target dir>/nextr/<app>`, stable across builds so
/// that cargo's fingerprints stay warm.
pub fn bundle_dir(package: &Package, app: &str) -> PathBuf {
    package.target_dir.join("nextr").join(app)
}

/// The lock file in the bundle crate's folder (see [`lock_bundle_dir`]).
pub const BUILD_LOCK: &str = ".nextr-build.lock";

/// Takes the lock a build holds on an app's bundle crate from writing it until its binaries
/// are zipped: two nextr processes building one app at once (`nextr dev` beside `nextr
/// build`, or tests) would otherwise delete each other's files mid-write (a build removes
/// what its crate does not list from `src/bin`) and read each other's binaries. `waiting` is
/// told when another process holds it; the lock is released when the returned file closes,
/// also when the process dies.
pub fn lock_bundle_dir(dir: &Path, waiting: impl FnOnce(&Path)) -> Result<fs::File, CodegenError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| CodegenError::Io { path, source }
    };
    fs::create_dir_all(dir).map_err(io(dir))?;
    let path = dir.join(BUILD_LOCK);
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io(&path))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => {
            waiting(&path);
            file.lock().map_err(io(&path))?;
        }
        Err(fs::TryLockError::Error(e)) => return Err(io(&path)(e)),
    }
    Ok(file)
}

/// The bundle crate's package name.
pub fn bundle_package_name(app: &str) -> String {
    format!("nextr-bundle-{app}")
}

/// Generates the bundle crate's files.
pub fn generate(spec: &BundleSpec<'_>) -> Result<BundleCrate, CodegenError> {
    let package = spec.package;
    let runtime = package
        .normal_dependencies()
        .find(|d| d.package == RUNTIME)
        .ok_or_else(|| CodegenError::NoRuntimeDependency {
            manifest: package.manifest_path.clone(),
        })?;
    let runtime_path = runtime.key().replace('-', "_");

    let mut files = BTreeMap::new();
    files.insert(PathBuf::from("Cargo.toml"), manifest(spec)?);
    let proxy_source = spec
        .proxy
        .map(|p| utf8_path(&spec.app_root.join(&p.file)))
        .transpose()?;
    let proxy = spec
        .proxy
        .zip(proxy_source.as_deref())
        .map(|(p, source)| ProxyMain {
            source,
            function: &p.function,
        });
    for route in spec.routes {
        let source = utf8_path(&spec.app_root.join(&route.file))?;
        files.insert(
            bin_path(&route.function),
            main_rs(&runtime_path, &source, route, proxy.as_ref()),
        );
    }
    if let Some(name) = spec.fallback {
        files.insert(
            bin_path(name),
            fallback_main_rs(&runtime_path, proxy.as_ref()),
        );
    }
    Ok(BundleCrate { files })
}

/// A path as Rust source spells it (a `#[path]`), which needs it in UTF-8.
fn utf8_path(path: &Path) -> Result<String, CodegenError> {
    path.to_str()
        .map(str::to_owned)
        .ok_or_else(|| CodegenError::NonUtf8Path(path.to_path_buf()))
}

fn bin_path(function: &str) -> PathBuf {
    PathBuf::from("src/bin").join(format!("{function}.rs"))
}

fn manifest(spec: &BundleSpec<'_>) -> Result<String, CodegenError> {
    let package = spec.package;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Generated by nextr build for the app {:?}: one binary per route.\n\
         # Rewritten by every build; edit the app's Cargo.toml instead.\n",
        spec.app
    );
    out.push_str("[package]\n");
    let _ = writeln!(out, "name = {}", string(&bundle_package_name(spec.app)));
    out.push_str("version = \"0.0.0\"\n");
    let _ = writeln!(out, "edition = {}", string(&package.edition));
    out.push_str(
        "publish = false\nautobins = false\nautoexamples = false\nautotests = false\nautobenches = false\n",
    );

    let bins = spec
        .routes
        .iter()
        .map(|r| r.function.as_str())
        .chain(spec.fallback);
    for name in bins {
        let path = bin_path(name);
        let path = path.to_str().unwrap_or_default().replace('\\', "/");
        let _ = writeln!(
            out,
            "\n[[bin]]\nname = {}\npath = {}\ntest = false\nbench = false",
            string(name),
            string(&path)
        );
    }

    // Normal dependencies only: dev and build dependencies belong to the user's own targets.
    let mut tables: BTreeMap<Option<&str>, Vec<(String, String)>> = BTreeMap::new();
    if package.lib.is_some() {
        let root = package.root();
        let root = root
            .to_str()
            .ok_or_else(|| CodegenError::NonUtf8Path(root.to_path_buf()))?;
        tables
            .entry(None)
            .or_default()
            .push((key(&package.name), format!("{{ path = {} }}", string(root))));
    }
    // The runtime features every bundle needs, whatever the user's dependency enables.
    let mut runtime_features = vec![LAMBDA_FEATURE];
    if spec.proxy.is_some() {
        runtime_features.push(PROXY_FEATURE);
    }
    if spec.secrets {
        runtime_features.push(SECRETS_FEATURE);
    }
    for dep in package.normal_dependencies() {
        tables
            .entry(dep.target.as_deref())
            .or_default()
            .push((key(dep.key()), dependency(package, dep, &runtime_features)?));
    }
    for (target, deps) in &tables {
        match target {
            None => out.push_str("\n[dependencies]\n"),
            Some(t) => {
                let _ = writeln!(out, "\n[target.{}.dependencies]", string(t));
            }
        }
        for (k, v) in deps {
            let _ = writeln!(out, "{k} = {v}");
        }
    }

    let features = features(package);
    if !features.is_empty() {
        out.push_str("\n[features]\n");
        for (name, enables) in features {
            let list = Value::Array(enables.into_iter().map(Value::String).collect());
            let _ = writeln!(out, "{} = {list}", key(&name));
        }
    }

    for (name, settings) in [
        ("release", &spec.profiles.release),
        ("dev", &spec.profiles.dev),
    ] {
        if settings.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n[profile.{name}]");
        for (k, v) in settings {
            let _ = writeln!(out, "{} = {v}", key(k));
        }
    }

    out.push_str(
        "\n# Its own workspace, whatever workspace lies above the target dir.\n[workspace]\n",
    );
    Ok(out)
}

/// One dependency as an inline table, with every setting the user gave it, and
/// `runtime_features` added when it is the runtime.
fn dependency(
    package: &Package,
    dep: &Dependency,
    runtime_features: &[&str],
) -> Result<String, CodegenError> {
    let mut fields: Vec<(&str, Value)> = Vec::new();
    if dep.rename.is_some() {
        fields.push(("package", Value::String(dep.package.clone())));
    }
    let has_version = dep.req != "*";
    match &dep.source {
        DependencySource::Registry { index: None } => {
            fields.push(("version", Value::String(dep.req.clone())));
        }
        DependencySource::Registry { index: Some(index) } => {
            return Err(CodegenError::AlternativeRegistry {
                manifest: package.manifest_path.clone(),
                dependency: dep.key().to_owned(),
                index: index.clone(),
            });
        }
        DependencySource::Path(path) => {
            let p = path
                .to_str()
                .ok_or_else(|| CodegenError::NonUtf8Path(path.clone()))?;
            fields.push(("path", Value::String(p.to_owned())));
            if has_version {
                fields.push(("version", Value::String(dep.req.clone())));
            }
        }
        DependencySource::Git { url, reference } => {
            fields.push(("git", Value::String(url.clone())));
            match reference {
                GitReference::DefaultBranch => {}
                GitReference::Branch(b) => fields.push(("branch", Value::String(b.clone()))),
                GitReference::Tag(t) => fields.push(("tag", Value::String(t.clone()))),
                GitReference::Rev(r) => fields.push(("rev", Value::String(r.clone()))),
            }
            if has_version {
                fields.push(("version", Value::String(dep.req.clone())));
            }
        }
    }
    let mut features = dep.features.clone();
    if dep.package == RUNTIME {
        // The CLI-facing build of nextr leaves the Lambda entry point out; bundles need it.
        for needed in runtime_features {
            if !features.iter().any(|f| f == needed) {
                features.push((*needed).to_owned());
            }
        }
    }
    if !dep.default_features {
        fields.push(("default-features", Value::Boolean(false)));
    }
    if !features.is_empty() {
        fields.push((
            "features",
            Value::Array(features.into_iter().map(Value::String).collect()),
        ));
    }
    if dep.optional {
        fields.push(("optional", Value::Boolean(true)));
    }
    let body: Vec<String> = fields
        .into_iter()
        .map(|(k, v)| format!("{k} = {v}"))
        .collect();
    Ok(format!("{{ {} }}", body.join(", ")))
}

/// The user's `[features]`, keeping only what refers to the bundle's own dependencies and
/// features: a feature may also enable a dev or build dependency, which the bundle lacks.
fn features(package: &Package) -> BTreeMap<String, Vec<String>> {
    let deps: BTreeSet<&str> = package.normal_dependencies().map(Dependency::key).collect();
    let optional: BTreeSet<&str> = package
        .normal_dependencies()
        .filter(|d| d.optional)
        .map(Dependency::key)
        .collect();
    let names: BTreeSet<&str> = package.features.keys().map(String::as_str).collect();
    package
        .features
        .iter()
        .map(|(name, enables)| {
            let kept = enables
                .iter()
                .filter(|e| {
                    if let Some(dep) = e.strip_prefix("dep:") {
                        return optional.contains(dep);
                    }
                    if let Some((dep, _)) = e.split_once('/') {
                        return deps.contains(dep.trim_end_matches('?'));
                    }
                    names.contains(e.as_str()) || optional.contains(e.as_str())
                })
                .cloned()
                .collect();
            (name.clone(), kept)
        })
        .collect()
}

/// A TOML key: bare when it can be, quoted otherwise.
fn key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        k.to_owned()
    } else {
        string(k)
    }
}

/// A TOML string, escaped as TOML requires.
fn string(s: &str) -> String {
    Value::String(s.to_owned()).to_string()
}

impl BundleCrate {
    /// Writes the crate into `dir`: only the files whose content changed, and removes the
    /// binaries of routes that are gone.
    pub fn write(&self, dir: &Path) -> Result<WriteSummary, CodegenError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| CodegenError::Io { path, source }
        };
        let mut summary = WriteSummary::default();
        for (rel, content) in &self.files {
            let path = dir.join(rel);
            if persist::write_if_changed(&path, content.as_bytes()).map_err(io(&path))? {
                summary.written.push(rel.clone());
            } else {
                summary.unchanged += 1;
            }
        }
        let bin = dir.join("src/bin");
        if bin.is_dir() {
            let mut stale = Vec::new();
            for entry in fs::read_dir(&bin).map_err(io(&bin))? {
                let entry = entry.map_err(io(&bin))?;
                let rel = PathBuf::from("src/bin").join(entry.file_name());
                if !self.files.contains_key(&rel) {
                    stale.push(rel);
                }
            }
            stale.sort();
            for rel in stale {
                let path = dir.join(&rel);
                fs::remove_file(&path).map_err(io(&path))?;
                summary.removed.push(rel);
            }
        }
        Ok(summary)
    }
}

/// Copies the user's `Cargo.lock` into the bundle crate so that it builds with the versions
/// the user tested, but only when the user's lockfile changed since the last copy: cargo adds
/// the bundle's own entry to the copy, so comparing the files themselves would always differ.
/// Returns whether it copied.
pub fn seed_lockfile(package: &Package, dir: &Path) -> Result<bool, CodegenError> {
    let Some(lock) = package.lockfile() else {
        return Ok(false);
    };
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| CodegenError::Io { path, source }
    };
    let bytes = fs::read(&lock).map_err(io(&lock))?;
    let digest = super::hex(&Sha256::digest(&bytes));
    let seed = dir.join(LOCK_SEED);
    let target = dir.join("Cargo.lock");
    if target.is_file() && fs::read_to_string(&seed).is_ok_and(|s| s.trim() == digest) {
        return Ok(false);
    }
    persist::write_atomic(&target, &bytes).map_err(io(&target))?;
    persist::write_atomic(&seed, format!("{digest}\n").as_bytes()).map_err(io(&seed))?;
    Ok(true)
}

#[cfg(test)]
mod tests;
