//! Real apps, built by the real `nextr build` against the workspace's own runtime crate, in
//! the cargo target dir the whole suite shares ([`super::target_dir`]): tokio, hyper,
//! lambda_http and serde compile once for the whole test suite, and stay compiled across
//! `cargo test` runs; a further app costs its own lib and one link per route.
//!
//! Every app made here has the same dependency set ([`cargo_toml`]: `nextr` from the
//! workspace's `runtime/`, `serde` with `derive`, `serde_json`, and for cached apps `tokio`
//! with `time`, a feature the runtime already enables, so nothing compiles twice) and starts
//! from the same lock file (the workspace's own `Cargo.lock`, so versions match what the
//! workspace tests). There are two kinds:
//!
//! - [`TestApp::new`]: a fresh app in a temporary folder (removed on drop), named
//!   `<test file>-<name>`, for tests of the build itself;
//! - [`TestApp::cached`] and [`TestApp::from_fixture`]: an app at a stable path
//!   ([`apps_dir`]`/<name>`) whose files are only rewritten when their content changes, so a
//!   second run of the suite finds every binary fresh; for tests that serve an app.
//!
//! ```ignore
//! mod support;
//! use support::apps::{TestApp, HELLO};
//!
//! let app = TestApp::new("hello"); // app name `<test file>-hello`
//! app.write("api/hello.rs", HELLO);
//! let manifest = app.build(); // `nextr build --debug`, asserting success
//! let call = app.invoke("/api/hello", &["--path", "/api/hello?x=1"]);
//! assert_eq!(call.response["statusCode"], 200);
//! // Anything else: `app.nextr()` is `nextr` with the shared target dir set.
//! let out = app.nextr().arg("dev").arg(app.path()).arg("--port").arg("0");
//! ```
//!
//! Bundle crates live at `<target dir>/nextr/<app name>`, so two apps built at the same time
//! need different app names: [`TestApp::new`] prefixes the name it is given with the test
//! file's name, so a name only has to be unique within one test file; a cached app's name
//! must be unique within the suite.
//!
//! Builds use `--debug` (tests never build release). Only x86_64/aarch64 Linux hosts can run
//! the bootstraps; callers gate their tests on that.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant, SystemTime};

use nextr::manifest::Manifest;
use serde_json::Value;

use super::{target_dir, workspace_root};

/// A route that answers `{"message":"Hello from Next.js!"}`.
pub const HELLO: &str = r#"use nextr::prelude::*;

pub async fn handler(_req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.status(200).json(&json!({ "message": "Hello from Next.js!" }))
}
"#;

/// The `src/lib.rs` of an app made by [`TestApp::new`]: `test_app::greeting(name)`.
pub const LIB: &str = r#"//! Code shared by the routes of a test app.

/// A greeting for `name`.
pub fn greeting(name: &str) -> String {
    format!("Hello, {name}!")
}
"#;

/// The package name of every app made by [`TestApp::new`] (its lib is `test_app`).
pub const PACKAGE: &str = "test-app";

/// The `src/lib.rs` of a cached app ([`TestApp::cached`]).
const CACHED_LIB: &str = "//! Shared code of a nextr test app.\n";

/// The dependency cached apps add ([`TestApp::cached`]).
const CACHED_DEPENDENCIES: &str = "tokio = { version = \"1\", features = [\"time\"] }\n";

/// How long one `nextr` command may take: the first build compiles every dependency.
const COMMAND_LIMIT: Duration = Duration::from_secs(30 * 60);

/// A route tree for `nextr routes`, which reads file names only: a `Cargo.toml` and a
/// placeholder file per path (relative to the app root) in a fresh temporary folder.
pub fn route_tree(files: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .expect("writing Cargo.toml");
    fs::create_dir_all(dir.path().join("api")).expect("creating api/");
    for rel in files {
        let path = dir.path().join(rel);
        fs::create_dir_all(path.parent().expect("a path inside the app"))
            .expect("creating the route's folder");
        fs::write(&path, "// route\n").expect("writing a route file");
    }
    dir
}

/// Where the cached apps live: `apps/` in the shared target dir.
pub fn apps_dir() -> PathBuf {
    target_dir().join("apps")
}

/// The workspace's `Cargo.lock`, which every test app starts from.
pub fn lockfile() -> PathBuf {
    workspace_root().join("Cargo.lock")
}

/// The `Cargo.toml` of a test app: package `package`, the dependencies every test app has,
/// then `extra` dependency lines; its own workspace.
pub fn cargo_toml(package: &str, extra: &str) -> String {
    format!(
        "[package]\nname = {package:?}\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n\
         [dependencies]\nnextr = {{ path = {runtime:?} }}\nserde = {{ version = \"1\", features = [\"derive\"] }}\n\
         serde_json = \"1\"\n{extra}\n\
         # Its own workspace, not a member of nextr's.\n[workspace]\n",
        runtime = workspace_root().join("runtime").display().to_string()
    )
}

/// `nextr` with the shared target dir (see [`super::nextr`]), as an `assert_cmd` command with a
/// time limit.
pub fn nextr() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::from_std(super::nextr());
    cmd.timeout(COMMAND_LIMIT);
    cmd
}

/// Writes `bytes` unless the file already holds them (an unchanged mtime keeps cargo's
/// fingerprints fresh), folders created, through a rename (a watcher never sees half a file).
pub fn write_if_changed(path: &Path, bytes: &[u8]) {
    if fs::read(path).is_ok_and(|old| old == bytes) {
        return;
    }
    let parent = path.parent().expect("a file has a folder");
    fs::create_dir_all(parent).expect("folders are created");
    let name = path
        .file_name()
        .expect("a file has a name")
        .to_string_lossy();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    fs::write(&tmp, bytes).expect("the file is written");
    fs::rename(&tmp, path).expect("the file is renamed into place");
}

/// Every file under a folder, recursively.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).expect("the folder is readable") {
        let path = entry.expect("the folder is readable").path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// A nextr app on disk: temporary ([`TestApp::new`]) or cached ([`TestApp::cached`]).
#[derive(Debug)]
pub struct TestApp {
    /// The temporary folder of a fresh app (removed on drop); `None` for a cached app.
    dir: Option<tempfile::TempDir>,
    root: PathBuf,
    name: String,
}

/// One `nextr invoke`: its exit code, the Lambda response it printed, and its stderr (the
/// function's Lambda-style logs).
#[derive(Debug)]
pub struct Invocation {
    /// The exit code.
    pub code: i32,
    /// stdout as JSON: the Lambda response payload.
    pub response: Value,
    /// stderr.
    pub stderr: String,
}

impl Invocation {
    /// The response's `body`, as JSON.
    pub fn body_json(&self) -> Value {
        let body = self.response["body"].as_str().unwrap_or_default();
        serde_json::from_str(body).unwrap_or_else(|e| panic!("body is not JSON ({e}): {body}"))
    }
}

/// Every file under a folder: bytes and mtime by relative path (see [`TestApp::out_files`]).
pub type FileSnapshot = BTreeMap<PathBuf, (Vec<u8>, SystemTime)>;

impl TestApp {
    /// A fresh app in a temporary folder, named `<test file>-<name>`: package [`PACKAGE`]
    /// ([`cargo_toml`]), the workspace's lock file, an empty `api/` and `src/lib.rs` = [`LIB`].
    pub fn new(name: &str) -> TestApp {
        let app = TestApp::without_lib(name);
        app.write("src/lib.rs", LIB);
        app
    }

    /// The same without `src/`: a package with no cargo target of its own.
    pub fn without_lib(name: &str) -> TestApp {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let root = fs::canonicalize(dir.path()).expect("the temporary folder exists");
        let name = format!("{}-{name}", env!("CARGO_CRATE_NAME")).replace('_', "-");
        let app = TestApp {
            dir: Some(dir),
            root,
            name,
        };
        app.write("Cargo.toml", &cargo_toml(PACKAGE, ""));
        app.write(
            "nextr.toml",
            &format!("app = {:?}\nmemory = 256\n", app.name),
        );
        fs::copy(lockfile(), app.root.join("Cargo.lock")).expect("the workspace has a Cargo.lock");
        fs::create_dir_all(app.root.join("api")).expect("api/ is created");
        app
    }

    /// The cached app `name` (package and app name) at [`apps_dir`]`/<name>`, created or brought
    /// up to date with exactly these files under `api/` (paths relative to the app root, e.g.
    /// `api/hello.rs`): other files under `api/` from an earlier run are removed, unchanged
    /// ones are left alone, so a build of an unchanged app finds everything fresh.
    pub fn cached(name: &str, files: &[(String, String)]) -> TestApp {
        let root = apps_dir().join(name);
        write_if_changed(
            &root.join("Cargo.toml"),
            cargo_toml(name, CACHED_DEPENDENCIES).as_bytes(),
        );
        write_if_changed(&root.join("src/lib.rs"), CACHED_LIB.as_bytes());
        let lock = root.join("Cargo.lock");
        if !lock.exists() {
            fs::copy(lockfile(), &lock).expect("the workspace has a Cargo.lock");
        }
        let wanted: HashSet<PathBuf> = files.iter().map(|(p, _)| root.join(p)).collect();
        if root.join("api").is_dir() {
            for stale in walk(&root.join("api")) {
                if !wanted.contains(&stale) {
                    fs::remove_file(&stale).expect("a stale file is removed");
                }
            }
        }
        for (rel, content) in files {
            write_if_changed(&root.join(rel), content.as_bytes());
        }
        TestApp {
            dir: None,
            root,
            name: name.to_owned(),
        }
    }

    /// The cached app `name` with the files under `cli/tests/fixtures/<fixture>/api/`.
    pub fn from_fixture(name: &str, fixture: &str) -> TestApp {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(fixture);
        let files: Vec<(String, String)> = walk(&dir.join("api"))
            .into_iter()
            .map(|p| {
                let rel = p.strip_prefix(&dir).expect("under the fixture");
                let text = fs::read_to_string(&p).expect("the fixture file is readable");
                (rel.to_string_lossy().into_owned(), text)
            })
            .collect();
        TestApp::cached(name, &files)
    }

    /// The app folder (canonical for a fresh app).
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// The app name (`nextr.toml`'s `app`, or the package name of a cached app).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Writes a file of the app, unless it already holds `text` (see [`write_if_changed`]).
    pub fn write(&self, rel: &str, text: &str) -> &Self {
        write_if_changed(&self.root.join(rel), text.as_bytes());
        self
    }

    /// Removes a file of the app.
    pub fn remove(&self, rel: &str) -> &Self {
        fs::remove_file(self.root.join(rel)).expect("the file exists");
        self
    }

    /// `nextr` with the shared target dir (see [`nextr`]).
    pub fn nextr(&self) -> assert_cmd::Command {
        nextr()
    }

    /// `nextr build --debug APP`, whatever happens.
    pub fn build_output(&self) -> Output {
        self.nextr()
            .args(["build", "--debug"])
            .arg(&self.root)
            .output()
            .expect("nextr runs")
    }

    /// `nextr build --debug APP`, asserting success (the failure shows stdout and stderr);
    /// the manifest it wrote.
    pub fn build(&self) -> Manifest {
        let started = Instant::now();
        let out = self.build_output();
        assert!(
            out.status.success(),
            "nextr build failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        eprintln!(
            "built {} in {:.1} s",
            self.name,
            started.elapsed().as_secs_f64()
        );
        self.manifest()
    }

    /// The output folder, `APP/.nextr`.
    pub fn out(&self) -> PathBuf {
        self.root.join(".nextr")
    }

    /// `.nextr/routes-manifest.json`, parsed.
    pub fn manifest(&self) -> Manifest {
        let text = fs::read_to_string(self.out().join("routes-manifest.json"))
            .expect("the manifest exists");
        Manifest::from_json(&text).expect("the manifest is valid")
    }

    /// Every file under `.nextr/`, to check that a failed build left it as it was.
    pub fn out_files(&self) -> FileSnapshot {
        let mut files = BTreeMap::new();
        let mut stack = vec![self.out()];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if let Ok(meta) = fs::metadata(&path) {
                    let rel = path.strip_prefix(self.out()).unwrap_or(&path).to_path_buf();
                    let bytes = fs::read(&path).unwrap_or_default();
                    files.insert(rel, (bytes, meta.modified().expect("mtimes are supported")));
                }
            }
        }
        files
    }

    /// The generated bundle crate: `<target dir>/nextr/<app>`.
    pub fn bundle_crate(&self) -> PathBuf {
        target_dir().join("nextr").join(&self.name)
    }

    /// A route binary as cargo left it (`--debug` builds).
    pub fn binary(&self, function: &str) -> PathBuf {
        target_dir().join("nextr/target/debug").join(function)
    }

    /// `nextr invoke ROUTE APP ARGS…` (which builds first, then runs the route's bundle once
    /// through the emulator's Runtime API).
    pub fn invoke(&self, route: &str, args: &[&str]) -> Invocation {
        let out = self
            .nextr()
            .arg("invoke")
            .arg(route)
            .arg(&self.root)
            .args(args)
            .output()
            .expect("nextr runs");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let response = serde_json::from_str(stdout.trim())
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {stdout}\nstderr: {stderr}"));
        Invocation {
            code: out.status.code().unwrap_or(-1),
            response,
            stderr,
        }
    }

    /// Keeps the folder after the test, for debugging (a cached app is always kept).
    pub fn keep(self) -> PathBuf {
        let root = self.root.clone();
        if let Some(dir) = self.dir {
            let _ = dir.keep();
        }
        root
    }
}
