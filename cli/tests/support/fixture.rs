//! Apps made without `nextr build`: a real Lambda function (the `lambda-fn` fixture, built once
//! with cargo under `target/tmp/lambda-fn-target` and cached by it) zipped as `bootstrap` into a
//! temporary build folder with a hand-written route manifest, served as it is (`nextr dev
//! <build folder>`). The fixture also serves the `$default` route, as `test-default`: it echoes
//! the event it gets, so tests see what the `$default` function receives.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::{json, Value};

use super::dev::Dev;

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
    /// The function's response mode (`buffered` or `stream`).
    pub response_mode: &'static str,
    /// The function URL's auth (`none` or `iam`), when it has one.
    pub function_url: Option<&'static str>,
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
            response_mode: "buffered",
            function_url: None,
        }
    }

    /// A streaming function (`response_mode = "stream"`) with a function URL of this auth.
    pub fn streaming(mut self, auth: &'static str) -> Self {
        self.response_mode = "stream";
        self.url(auth)
    }

    /// With a function URL of this auth (`none` or `iam`).
    pub fn url(mut self, auth: &'static str) -> Self {
        self.function_url = Some(auth);
        self
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

    /// The build folder, `.nextr`.
    pub fn out(&self) -> PathBuf {
        self.path().join(".nextr")
    }

    /// `nextr dev APP/.nextr --port 0 ARGS…`, ready to serve: a build folder is served as it
    /// is (there is no Cargo package to build).
    pub fn dev(&self, args: &[&str]) -> Dev {
        Dev::start(&self.out(), args)
    }

    /// (Re)writes the bundle and the manifest, as `nextr build` would.
    pub fn write(&self, routes: &[Route], bundle: &[u8], bundle_name: &str) {
        let out = self.path().join(".nextr");
        std::fs::create_dir_all(out.join("functions")).unwrap();
        std::fs::write(out.join("functions").join(bundle_name), bundle).unwrap();
        let sha = sha256(bundle);
        let function = |name: &str, timeout_s: u32| {
            json!({
                "name": name,
                "bundle": format!("functions/{bundle_name}"),
                "sha256": sha,
                "bytes": bundle.len(),
                "runtime": "provided.al2023",
                "handler": "bootstrap",
                "architecture": "x86_64",
                "timeout_s": timeout_s,
                "memory_mb": 256
            })
        };
        let routes: Vec<Value> = routes
            .iter()
            .map(|r| {
                let (kind, params, keys) = r.shape();
                let mut f = function(&r.function, r.timeout_s);
                f["response_mode"] = json!(r.response_mode);
                if let Some(auth) = r.function_url {
                    f["function_url"] = json!({"auth": auth});
                }
                json!({
                    "page": r.page,
                    "file": r.file(),
                    "router": "pages",
                    "kind": kind,
                    "segments": r.segments(),
                    "params": params,
                    "route_keys": keys,
                    "config": {},
                    "function": f
                })
            })
            .collect();
        let manifest = json!({
            "version": nextr::manifest::MANIFEST_VERSION,
            "app": "test",
            "nextr_version": "0.1.0",
            "profile": "debug",
            "gateway": {"kind": "http", "fallback_keys": ["$default"]},
            "deploy": {"stage": "dev"},
            "source": {"app_root": "..", "inputs": [], "fingerprint": ""},
            "routes": routes,
            "fallback": function("test-default", 3)
        });
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
