//! Shared by the tests that serve real apps (`examples/docs`, `examples/notes`, a `nextr new`
//! app) with `nextr dev` and talk to them over HTTP on 127.0.0.1.
//!
//! Every app is built into one cargo target dir, `target/nextr-test-apps` under the workspace,
//! so that the dependencies the apps share (the nextr runtime, serde, tokio, …, pinned to the
//! same versions by the apps' lock files) compile once for the whole suite.

#![allow(dead_code)] // each test binary uses a different part of this module

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// The workspace root (the folder holding `examples/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the cli crate sits in the workspace")
        .to_path_buf()
}

/// The cargo target dir every test app builds into.
pub fn apps_target_dir() -> PathBuf {
    workspace_root().join("target").join("nextr-test-apps")
}

/// How long a first build may take before the test gives up (a guard against hangs, not a
/// performance expectation: a cold build of the docs example compiles every dependency).
const READY_LIMIT: Duration = Duration::from_secs(40 * 60);

/// `nextr dev` running on a free port of 127.0.0.1; stopped on drop.
pub struct DevServer {
    child: Child,
    port: u16,
    lines: Arc<(Mutex<Vec<String>>, Condvar)>,
}

impl DevServer {
    /// Runs `nextr dev [ARGS…] --port 0` in `cwd` with `env` added, and waits for its ready line.
    pub fn start<I, S>(cwd: &Path, args: I, env: &[(&str, &OsStr)]) -> DevServer
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_nextr"));
        cmd.current_dir(cwd)
            .arg("dev")
            .args(args)
            .args(["--port", "0"])
            .env("CARGO_TARGET_DIR", apps_target_dir())
            // The outer `cargo test` may set these for its own build; the apps are separate.
            .env_remove("CARGO_BUILD_TARGET")
            .env_remove("RUSTFLAGS")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("nextr starts");
        let lines = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
        let streams: [Box<dyn std::io::Read + Send>; 2] = [
            Box::new(child.stdout.take().expect("piped stdout")),
            Box::new(child.stderr.take().expect("piped stderr")),
        ];
        for stream in streams {
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
        let mut dev = DevServer {
            child,
            port: 0,
            lines,
        };
        let ready = dev
            .wait_for(|l| l.starts_with("ready on http://127.0.0.1:"), READY_LIMIT)
            .unwrap_or_else(|| panic!("nextr dev never got ready; output:\n{}", dev.output()));
        dev.port = ready
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {ready:?}"));
        dev
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Everything printed so far.
    pub fn output(&self) -> String {
        self.lines.0.lock().unwrap().join("\n")
    }

    /// The first line printed (so far, or within `limit`) that satisfies `pred`.
    pub fn wait_for(&self, pred: impl Fn(&str) -> bool, limit: Duration) -> Option<String> {
        let deadline = Instant::now() + limit;
        let (store, cv) = &*self.lines;
        let mut guard = store.lock().unwrap();
        loop {
            if let Some(l) = guard.iter().find(|l| pred(l)) {
                return Some(l.clone());
            }
            if self.exited() {
                return None;
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            let wait = (deadline - now).min(Duration::from_millis(500));
            guard = cv.wait_timeout(guard, wait).unwrap().0;
        }
    }

    fn exited(&self) -> bool {
        // `try_wait` needs `&mut`; a zero-signal `kill` asks the OS instead.
        !Command::new("kill")
            .args(["-0", &self.child.id().to_string()])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }
}

impl Drop for DevServer {
    fn drop(&mut self) {
        // SIGTERM first: nextr dev stops its function processes on the way out.
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
    /// Headers, lower-case names, in order.
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

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends one request (no redirect followed, every status returned as is).
pub fn request(method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .allow_non_standard_methods(true)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let mut builder = ureq::http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    // No body at all (rather than an empty one) when there is nothing to send.
    let response = if body.is_empty() {
        agent.run(builder.body(()).expect("a valid request"))
    } else {
        agent.run(builder.body(body.to_vec()).expect("a valid request"))
    }
    .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = response
        .into_body()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_vec()
        .unwrap_or_else(|e| panic!("{method} {url}: reading the body: {e}"));
    Reply {
        status,
        headers,
        body,
    }
}

/// The headers a comparison ignores: they change with every request or are the transport's.
pub const VOLATILE_HEADERS: &[&str] = &["date", "apigw-requestid", "content-length"];
