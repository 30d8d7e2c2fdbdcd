//! Real nextr apps for the `nextr dev` tests: route files written by the tests, built by the
//! real `nextr build --debug`, served by the real `nextr dev` as a child process.
//!
//! Conventions (shared with the build tests' support module, to be unified):
//!
//! - Every app builds with `CARGO_TARGET_DIR=<workspace target>/nextr-test-apps`, so the
//!   bundles of every test app share one cargo target dir (`…/nextr-test-apps/nextr/target`)
//!   and tokio, lambda_runtime, hyper and serde compile once for the whole suite.
//! - Every app has the same dependencies (`nextr` by path, `serde`, `serde_json`, `tokio` with
//!   `time`, a feature the runtime already enables, so nothing compiles twice) and starts from
//!   the workspace's `Cargo.lock`, so every app resolves to the same versions.
//! - Apps live at stable paths (`…/nextr-test-apps/apps/<name>`) and files are only rewritten
//!   when their content changes: a second run of the suite finds every binary fresh.
//! - Each app has a unique name (its bundle crate is `…/nextr/<name>`).

#![allow(dead_code)] // each test binary uses a different part of this module

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The workspace root (`cli/..`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("cli/ has a parent")
        .to_path_buf()
}

/// The cargo target dir every test app builds in.
pub fn shared_target_dir() -> PathBuf {
    let outer = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| {
            if p.is_absolute() {
                p
            } else {
                workspace_root().join(p)
            }
        })
        .unwrap_or_else(|| workspace_root().join("target"));
    outer.join("nextr-test-apps")
}

/// Where the apps live.
pub fn apps_dir() -> PathBuf {
    shared_target_dir().join("apps")
}

/// Writes `bytes` unless the file already holds them (an unchanged mtime keeps cargo's
/// fingerprints fresh).
pub fn write_if_changed(path: &Path, bytes: &[u8]) {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return;
    }
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    // Through a rename, so that a watcher never sees half a file.
    let tmp = path.with_file_name(format!(
        ".{}.tmp",
        path.file_name().unwrap().to_string_lossy()
    ));
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// A nextr app on disk.
#[derive(Debug, Clone)]
pub struct TestApp {
    root: PathBuf,
    name: String,
}

impl TestApp {
    /// Creates (or brings up to date) the app `name` with exactly these files under `api/`
    /// (paths relative to the app root, e.g. `api/hello.rs`). Other files under `api/` from
    /// an earlier run are removed.
    pub fn write(name: &str, files: &[(String, String)]) -> TestApp {
        let root = apps_dir().join(name);
        let runtime = workspace_root().join("runtime");
        let cargo_toml = format!(
            "[package]\nname = {name:?}\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n\
             [dependencies]\nnextr = {{ path = {runtime:?} }}\nserde = {{ version = \"1\", features = [\"derive\"] }}\n\
             serde_json = \"1\"\ntokio = {{ version = \"1\", features = [\"time\"] }}\n\n\
             # Its own workspace, not a member of nextr's.\n[workspace]\n",
            runtime = runtime.display().to_string()
        );
        write_if_changed(&root.join("Cargo.toml"), cargo_toml.as_bytes());
        write_if_changed(
            &root.join("src/lib.rs"),
            b"//! Shared code of a nextr test app.\n",
        );
        let lock = root.join("Cargo.lock");
        if !lock.exists() {
            std::fs::copy(workspace_root().join("Cargo.lock"), &lock).unwrap();
        }
        let wanted: std::collections::HashSet<PathBuf> =
            files.iter().map(|(p, _)| root.join(p)).collect();
        if root.join("api").is_dir() {
            for stale in walk(&root.join("api")) {
                if !wanted.contains(&stale) {
                    std::fs::remove_file(&stale).unwrap();
                }
            }
        }
        for (rel, content) in files {
            write_if_changed(&root.join(rel), content.as_bytes());
        }
        TestApp {
            root,
            name: name.to_owned(),
        }
    }

    /// The app `name` with the files under `cli/tests/fixtures/<fixture>/api/`.
    pub fn from_fixture(name: &str, fixture: &str) -> TestApp {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(fixture);
        let files: Vec<(String, String)> = walk(&dir.join("api"))
            .into_iter()
            .map(|p| {
                let rel = p.strip_prefix(&dir).unwrap().to_string_lossy().into_owned();
                (rel, std::fs::read_to_string(&p).unwrap())
            })
            .collect();
        TestApp::write(name, &files)
    }

    /// The app's root.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// The app's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `nextr build --debug` in the shared target dir: whether it succeeded, and its
    /// output.
    pub fn try_build(&self) -> (bool, String) {
        let out = nextr()
            .args(["build", "--debug"])
            .arg(&self.root)
            .output()
            .expect("nextr runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    /// Runs `nextr build --debug` in the shared target dir; panics with its output on failure.
    pub fn build(&self) -> String {
        let started = Instant::now();
        let (ok, text) = self.try_build();
        assert!(ok, "nextr build failed:\n{text}");
        eprintln!(
            "built {} in {:.1} s",
            self.name,
            started.elapsed().as_secs_f64()
        );
        text
    }

    /// Replaces one file (relative to the root).
    pub fn edit(&self, rel: &str, content: &str) {
        write_if_changed(&self.root.join(rel), content.as_bytes());
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// The `nextr` under test, building in the shared target dir.
pub fn nextr() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nextr"));
    cmd.env("CARGO_TARGET_DIR", shared_target_dir())
        // The outer `cargo test` may set these for its own build; the apps are separate.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env("NO_COLOR", "1");
    cmd
}

/// The line recorded when `nextr dev`'s stdout closes (it exited).
const STDOUT_CLOSED: &str = "<nextr dev closed its stdout>";

/// `nextr dev` running on a free port; stopped (SIGTERM, then SIGKILL) on drop.
pub struct Dev {
    child: Child,
    port: u16,
    lines: Arc<(Mutex<Vec<String>>, Condvar)>,
}

impl Dev {
    /// Starts `nextr dev APP --port 0 ARGS…` and waits (a build included) for its ready line.
    pub fn start(app: &TestApp, args: &[&str]) -> Dev {
        let mut child = nextr()
            .arg("dev")
            .arg(app.path())
            .args(["--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("nextr starts");
        let lines = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
        for (i, stream) in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ]
        .into_iter()
        .enumerate()
        {
            let lines = lines.clone();
            std::thread::spawn(move || {
                let (store, cv) = &*lines;
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    store.lock().unwrap().push(line);
                    cv.notify_all();
                }
                if i == 0 {
                    store.lock().unwrap().push(STDOUT_CLOSED.to_owned());
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
                |l| l.starts_with("ready on http://") || l == STDOUT_CLOSED,
                Duration::from_secs(900),
            )
            .filter(|l| l != STDOUT_CLOSED)
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

    /// Sends one request as raw bytes on a new connection (`Connection: close`) and reads the
    /// whole answer. `target` reaches the server byte for byte.
    pub fn raw(&self, method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        raw_request(self.port, method, target, headers, body)
    }

    /// `GET target` as raw bytes.
    pub fn get(&self, target: &str) -> Reply {
        self.raw("GET", target, &[], b"")
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

/// A response, read whole.
#[derive(Debug, Clone)]
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
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}), status {}: {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One HTTP/1.1 exchange over a fresh TCP connection to 127.0.0.1:`port`, with the request
/// line written exactly as given (no normalisation of `//`, `\`, `..`, `%2e` or brackets).
pub fn raw_request(
    port: u16,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req = Vec::new();
    req.extend_from_slice(method.as_bytes());
    req.push(b' ');
    req.extend_from_slice(target.as_bytes());
    req.extend_from_slice(b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
        req.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    req.extend_from_slice(b"\r\n");
    req.extend_from_slice(body);
    s.write_all(&req).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)
        .unwrap_or_else(|e| panic!("{method} {target}: reading the answer: {e}"));
    parse_response(&raw).unwrap_or_else(|| {
        panic!(
            "{method} {target}: not an HTTP response: {:?}",
            String::from_utf8_lossy(&raw)
        )
    })
}

fn parse_response(raw: &[u8]) -> Option<Reply> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    if chunked {
        body = dechunk(&body)?;
    }
    Some(Reply {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&data[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}

/// Percent-encodes everything but unreserved characters (for building raw query strings).
pub fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
