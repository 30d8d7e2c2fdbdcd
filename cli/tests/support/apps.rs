//! Real apps, built by the real `nextr build` against the workspace's own runtime crate.
//!
//! Every app made here has the same dependency set ([`cargo_toml`]: `nextr` from the
//! workspace's `runtime/`, `serde` with `derive`, `serde_json`) and starts from the same lock
//! file (the workspace's own `Cargo.lock`, so versions match what the workspace tests), and
//! every command run through [`nextr`] builds in one shared cargo target dir, [`target_dir`]
//! (`<workspace target>/nextr-test-apps`). So tokio, hyper, lambda_http and serde compile
//! once for the whole test suite, and stay compiled across `cargo test` runs; a further app
//! costs its own lib and one link per route.
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
//! file's name, so a name only has to be unique within one test file.
//!
//! Builds use `--debug` (tests never build release). Only x86_64/aarch64 Linux hosts can run
//! the bootstraps; callers gate their tests on that.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, SystemTime};

use nextr::manifest::Manifest;
use serde_json::Value;

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

/// The package name of every test app (its lib is `test_app`).
pub const PACKAGE: &str = "test-app";

/// How long one `nextr` command may take: the first build compiles every dependency.
const COMMAND_LIMIT: Duration = Duration::from_secs(30 * 60);

/// The workspace root (the folder of the workspace `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    let cli = Path::new(env!("CARGO_MANIFEST_DIR"));
    cli.parent().unwrap_or(cli).to_path_buf()
}

/// The cargo target dir every test app builds in: `nextr-test-apps` next to the workspace's
/// own `debug/` (wherever `CARGO_TARGET_DIR` put it).
pub fn target_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(tmp).join("nextr-test-apps")
}

/// The workspace's `Cargo.lock`, which every test app starts from.
pub fn lockfile() -> PathBuf {
    workspace_root().join("Cargo.lock")
}

/// The `Cargo.toml` of a test app.
pub fn cargo_toml() -> String {
    format!(
        "[package]\nname = \"{PACKAGE}\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n\
         [dependencies]\nnextr = {{ path = {:?} }}\nserde = {{ version = \"1\", features = [\"derive\"] }}\n\
         serde_json = \"1\"\n\n[workspace]\n",
        workspace_root().join("runtime").display().to_string()
    )
}

/// `nextr` (the binary under test) set up to build test apps: the shared target dir, no
/// colours, plain progress, nothing inherited that would change what cargo compiles.
pub fn nextr() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("nextr").expect("the nextr binary is built");
    cmd.env("CARGO_TARGET_DIR", target_dir())
        .env("CI", "true")
        .env("NO_COLOR", "1")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .timeout(COMMAND_LIMIT);
    cmd
}

/// A test app in a temporary folder (removed on drop).
pub struct TestApp {
    dir: tempfile::TempDir,
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
    /// An app named `<test file>-<name>` with [`cargo_toml`], the workspace's lock file, an
    /// empty `api/` and `src/lib.rs` = [`LIB`].
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
        let app = TestApp { dir, root, name };
        app.write("Cargo.toml", &cargo_toml());
        app.write(
            "nextr.toml",
            &format!("app = {:?}\nmemory = 256\n", app.name),
        );
        fs::copy(lockfile(), app.root.join("Cargo.lock")).expect("the workspace has a Cargo.lock");
        fs::create_dir_all(app.root.join("api")).expect("api/ is created");
        app
    }

    /// The app folder (canonical).
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// The app name (`nextr.toml`'s `app`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Writes a file of the app (folders created).
    pub fn write(&self, rel: &str, text: &str) -> &Self {
        let path = self.root.join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("folders are created");
        }
        fs::write(&path, text).expect("the file is written");
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

    /// `nextr build --debug APP`, asserting success; the manifest it wrote.
    pub fn build(&self) -> Manifest {
        let out = self.build_output();
        assert!(
            out.status.success(),
            "nextr build failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
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

    /// Keeps the folder after the test, for debugging.
    pub fn keep(self) -> PathBuf {
        let root = self.root.clone();
        let _ = self.dir.keep();
        root
    }
}
