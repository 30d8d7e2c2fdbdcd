//! Shared by the emulator's integration tests: a real Lambda function (the `lambda-fn`
//! fixture, built once with cargo and cached by it), zipped as `bootstrap` into a temporary
//! app with a hand-written route manifest, and `nextr dev` run as a child process.
//!
//! [`apps`]: real apps (route files, the workspace's runtime crate) built by the real
//! `nextr build` in one cargo target dir shared by the whole test suite.

#![allow(dead_code)] // each test binary uses a different part of this module

pub mod apps;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The fixture's `bootstrap`, built once per test binary (cargo caches across runs).
pub fn fixture_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let manifest =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lambda-fn/Cargo.toml");
        let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("lambda-fn-target");
        let status = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "--locked", "--manifest-path"])
            .arg(&manifest)
            .arg("--target-dir")
            .arg(&target)
            // The outer `cargo test` may set these for its own build; the fixture is separate.
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("CARGO_BUILD_TARGET")
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the lambda-fn fixture failed");
        target.join("debug/lambda-fn")
    })
}

/// One route of a test app.
#[derive(Debug, Clone)]
pub struct Route {
    /// Page pattern.
    pub page: &'static str,
    /// Lambda function name (the fixture fails its init when it contains `initfail`).
    pub function: String,
    /// Function timeout, seconds.
    pub timeout_s: u32,
}

impl Route {
    /// A route with a 5 s timeout and a function named after the page.
    pub fn new(page: &'static str) -> Self {
        let name = page
            .trim_start_matches('/')
            .replace(['/', '[', ']', '.'], "-")
            .replace("--", "-");
        Route {
            page,
            function: format!("test-{}", name.trim_matches('-')),
            timeout_s: 5,
        }
    }

    /// With another timeout.
    pub fn timeout(mut self, s: u32) -> Self {
        self.timeout_s = s;
        self
    }

    fn file(&self) -> String {
        format!("{}.rs", self.page.trim_start_matches('/'))
    }

    fn segments(&self) -> Vec<String> {
        self.page
            .trim_start_matches('/')
            .split('/')
            .map(str::to_owned)
            .collect()
    }

    /// (kind, params, route keys) as nextr build writes them.
    fn shape(&self) -> (&'static str, Vec<Value>, Vec<String>) {
        let mut kind = "static";
        let mut params = Vec::new();
        let mut path = String::new();
        for s in self.segments() {
            if let Some(name) = s.strip_prefix("[[...").and_then(|r| r.strip_suffix("]]")) {
                kind = "optional_catch_all";
                params.push(json!({"name": name, "kind": "optional_catch_all"}));
                let parent = if path.is_empty() {
                    "/".to_owned()
                } else {
                    path.clone()
                };
                return (
                    kind,
                    params,
                    vec![format!("ANY {parent}"), format!("ANY {path}/{{{name}+}}")],
                );
            } else if let Some(name) = s.strip_prefix("[...").and_then(|r| r.strip_suffix(']')) {
                kind = "catch_all";
                params.push(json!({"name": name, "kind": "catch_all"}));
                path.push_str(&format!("/{{{name}+}}"));
            } else if let Some(name) = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
                kind = "dynamic";
                params.push(json!({"name": name, "kind": "single"}));
                path.push_str(&format!("/{{{name}}}"));
            } else {
                path.push('/');
                path.push_str(&s);
            }
        }
        (kind, params, vec![format!("ANY {path}")])
    }
}

/// A temporary app: `.nextr/functions/*.zip` and `.nextr/routes-manifest.json`.
pub struct App {
    dir: tempfile::TempDir,
}

/// The zip bytes of a bundle holding the fixture as `bootstrap` (plus `extra` files, to make
/// a bundle with another sha256).
pub fn bundle_bytes(extra: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .unix_permissions(0o755)
        .last_modified_time(zip::DateTime::default());
    w.start_file("bootstrap", opts).unwrap();
    w.write_all(&std::fs::read(fixture_binary()).unwrap())
        .unwrap();
    for (name, data) in extra {
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl App {
    /// An app serving `routes`, every function from the same fixture bundle.
    pub fn new(routes: &[Route]) -> App {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("api")).unwrap();
        let app = App { dir };
        app.write(routes, &bundle_bytes(&[]), "fixture.zip");
        app
    }

    /// The app's root.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// (Re)writes the bundle and the manifest, as `nextr build` would.
    pub fn write(&self, routes: &[Route], bundle: &[u8], bundle_name: &str) {
        let out = self.path().join(".nextr");
        std::fs::create_dir_all(out.join("functions")).unwrap();
        std::fs::write(out.join("functions").join(bundle_name), bundle).unwrap();
        let sha = sha256(bundle);
        let routes: Vec<Value> = routes
            .iter()
            .map(|r| {
                let (kind, params, keys) = r.shape();
                json!({
                    "page": r.page,
                    "file": r.file(),
                    "kind": kind,
                    "segments": r.segments(),
                    "params": params,
                    "route_keys": keys,
                    "config": {},
                    "function": {
                        "name": r.function,
                        "bundle": format!("functions/{bundle_name}"),
                        "sha256": sha,
                        "bytes": bundle.len(),
                        "runtime": "provided.al2023",
                        "handler": "bootstrap",
                        "architecture": "x86_64",
                        "timeout_s": r.timeout_s,
                        "memory_mb": 256
                    }
                })
            })
            .collect();
        let manifest =
            json!({"version": 1, "app": "test", "nextr_version": "0.1.0", "routes": routes});
        // Atomically, as nextr build writes it.
        let tmp = out.join("routes-manifest.json.tmp");
        std::fs::write(&tmp, serde_json::to_string_pretty(&manifest).unwrap()).unwrap();
        std::fs::rename(&tmp, out.join("routes-manifest.json")).unwrap();
    }
}

/// Every route kind and behaviour the fixture has.
pub fn all_routes() -> Vec<Route> {
    vec![
        Route::new("/api/hello"),
        Route::new("/api/echo"),
        Route::new("/api/items/[id]"),
        Route::new("/api/files/[...path]"),
        Route::new("/api/opt/[[...rest]]"),
        Route::new("/api/sleep").timeout(1),
        Route::new("/api/panic"),
        Route::new("/api/exit"),
        Route::new("/api/binary"),
        Route::new("/api/cookies"),
        Route::new("/api/pid"),
        Route::new("/api/big"),
        Route::new("/api/initfail"),
        Route::new("/api/initexit"),
    ]
}

/// `nextr dev` running on a free port; stopped (SIGTERM) on drop.
pub struct Dev {
    child: Child,
    port: u16,
    lines: Arc<(Mutex<Vec<String>>, Condvar)>,
}

impl Dev {
    /// Starts `nextr dev APP --port 0 ARGS…` and waits for its ready line.
    pub fn start(app: &App, args: &[&str]) -> Dev {
        fixture_binary();
        let mut child = Command::new(env!("CARGO_BIN_EXE_nextr"))
            .arg("dev")
            .arg(app.path())
            // A hand-written manifest, not a Cargo package: serve it as it is.
            .args(["--port", "0", "--no-build"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("nextr starts");
        let lines = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    let (store, cv) = &*lines;
                    store.lock().unwrap().push(line);
                    cv.notify_all();
                }
            });
        }
        let mut dev = Dev {
            child,
            port: 0,
            lines,
        };
        let ready = dev
            .wait_for(
                |l| l.starts_with("ready on http://"),
                Duration::from_secs(60),
            )
            .unwrap_or_else(|| panic!("no ready line; output:\n{}", dev.output()));
        dev.port = ready.rsplit(':').next().unwrap().parse().unwrap();
        dev
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every line printed so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.0.lock().unwrap().clone()
    }

    /// Everything printed so far, for failure messages.
    pub fn output(&self) -> String {
        self.lines().join("\n")
    }

    /// The first line (printed so far or within `limit`) that satisfies `pred`.
    pub fn wait_for(&self, pred: impl Fn(&str) -> bool, limit: Duration) -> Option<String> {
        let deadline = Instant::now() + limit;
        let (store, cv) = &*self.lines;
        let mut guard = store.lock().unwrap();
        loop {
            if let Some(l) = guard.iter().find(|l| pred(l)) {
                return Some(l.clone());
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            guard = cv.wait_timeout(guard, deadline - now).unwrap().0;
        }
    }

    /// The process id of `nextr dev`.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP client that reports every status as is and follows no redirect.
pub fn client() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(40)))
        .build()
        .into()
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Headers, lower-case names, in order (repeated names repeated).
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Reply {
    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a header.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Reads a ureq response whole.
pub fn reply(r: ureq::http::Response<ureq::Body>) -> Reply {
    let status = r.status().as_u16();
    let headers = r
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let body = r
        .into_body()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_vec()
        .unwrap();
    Reply {
        status,
        headers,
        body,
    }
}

/// GET a URL.
pub fn get(url: &str) -> Reply {
    reply(client().get(url).call().unwrap())
}
