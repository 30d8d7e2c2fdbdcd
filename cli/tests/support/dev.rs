//! `nextr dev` as a child process on a free port of 127.0.0.1, with everything it prints
//! collected line by line.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::http::{self, Reply};

/// How long `nextr dev` may take to print its ready line when it builds first (a guard against
/// hangs, not a performance expectation: a cold build of the docs example compiles every
/// dependency).
const BUILD_READY_LIMIT: Duration = Duration::from_secs(40 * 60);

/// The same for a build folder or `--no-build`, which only read a manifest.
const NO_BUILD_READY_LIMIT: Duration = Duration::from_secs(60);

/// How long `nextr dev` has to stop on SIGTERM before it is killed.
const STOP_LIMIT: Duration = Duration::from_secs(10);

/// What `nextr dev` printed so far (stdout and stderr, interleaved as the lines came), and how
/// many of the two streams are still open.
#[derive(Default)]
struct Printed {
    lines: Vec<String>,
    open: usize,
}

/// `nextr dev` running on a free port; stopped on drop (SIGTERM, which makes it stop its
/// function processes itself, then SIGKILL after 10 s).
pub struct Dev {
    child: Child,
    port: u16,
    printed: Arc<(Mutex<Printed>, Condvar)>,
    /// Already stopped by [`Dev::stop`]: its process id may be another process's by now.
    stopped: bool,
}

impl Dev {
    /// Starts `nextr dev APP --port 0 ARGS…` (with [`super::nextr`]'s environment) and waits
    /// for its ready line (a build included, unless `ARGS` has `--no-build` or APP is a build
    /// folder).
    pub fn start(app: &Path, args: &[&str]) -> Dev {
        let mut cmd = super::nextr();
        cmd.arg("dev").arg(app).args(["--port", "0"]).args(args);
        let serves_a_build = nextr::manifest::layout::is_build_folder(app);
        let limit = if serves_a_build || args.contains(&"--no-build") {
            NO_BUILD_READY_LIMIT
        } else {
            BUILD_READY_LIMIT
        };
        Dev::spawn(cmd, limit)
    }

    /// Starts `nextr dev ARGS… --port 0` in `cwd` with `env` added, as a user runs it in an
    /// app's folder, and waits for its ready line (a build included).
    pub fn start_in(cwd: &Path, args: &[&str], env: &[(&str, &OsStr)]) -> Dev {
        let mut cmd = super::nextr();
        cmd.current_dir(cwd)
            .arg("dev")
            .args(args)
            .args(["--port", "0"])
            .envs(env.iter().copied());
        Dev::spawn(cmd, BUILD_READY_LIMIT)
    }

    /// Starts `nextr dev APP ARGS…` without `--port` or `PORT`, so on its default port, and
    /// waits for its ready line.
    pub fn start_on_default_port(app: &Path, args: &[&str]) -> Dev {
        let mut cmd = super::nextr();
        cmd.arg("dev").arg(app).args(args).env_remove("PORT");
        Dev::spawn(cmd, NO_BUILD_READY_LIMIT)
    }

    fn spawn(mut cmd: Command, ready_limit: Duration) -> Dev {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("nextr starts");
        let streams: [Box<dyn Read + Send>; 2] = [
            Box::new(child.stdout.take().expect("piped stdout")),
            Box::new(child.stderr.take().expect("piped stderr")),
        ];
        let printed = Arc::new((
            Mutex::new(Printed {
                lines: Vec::new(),
                open: streams.len(),
            }),
            Condvar::new(),
        ));
        for stream in streams {
            let printed = printed.clone();
            std::thread::spawn(move || {
                let (store, cv) = &*printed;
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    store.lock().unwrap().lines.push(line);
                    cv.notify_all();
                }
                store.lock().unwrap().open -= 1;
                cv.notify_all();
            });
        }
        let mut dev = Dev {
            child,
            port: 0,
            printed,
            stopped: false,
        };
        let ready = dev
            .wait_for(|l| l.starts_with("ready on http://127.0.0.1:"), ready_limit)
            .unwrap_or_else(|| {
                let why = if dev.exited() {
                    "nextr dev exited before its ready line"
                } else {
                    "no ready line"
                };
                panic!("{why}; output:\n{}", dev.output())
            });
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

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The process id of `nextr dev`.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Every line printed so far.
    pub fn lines(&self) -> Vec<String> {
        self.printed.0.lock().unwrap().lines.clone()
    }

    /// Everything printed so far, for failure messages.
    pub fn output(&self) -> String {
        self.lines().join("\n")
    }

    /// Whether `nextr dev` closed its stdout and stderr (it exited): nothing more will come.
    fn exited(&self) -> bool {
        self.printed.0.lock().unwrap().open == 0
    }

    /// The first line (printed so far or within `limit`) that satisfies `pred`; `None` at once
    /// when `nextr dev` has exited without printing one.
    pub fn wait_for(&self, pred: impl Fn(&str) -> bool, limit: Duration) -> Option<String> {
        let deadline = Instant::now() + limit;
        let (store, cv) = &*self.printed;
        let mut guard = store.lock().unwrap();
        loop {
            if let Some(l) = guard.lines.iter().find(|l| pred(l)) {
                return Some(l.clone());
            }
            let now = Instant::now();
            if guard.open == 0 || now >= deadline {
                return None;
            }
            guard = cv.wait_timeout(guard, deadline - now).unwrap().0;
        }
    }

    /// Sends one request to `nextr dev` (see [`http::request`]): `target` reaches it byte for
    /// byte.
    pub fn request(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Reply {
        http::request(self.port, method, target, headers, body)
    }

    /// `GET target` (see [`Dev::request`]).
    pub fn get(&self, target: &str) -> Reply {
        http::get(self.port, target)
    }
}

impl Dev {
    /// Stops `nextr dev` as Ctrl-C or a service manager does (SIGTERM; SIGKILL after 10 s)
    /// and waits until everything it printed has been read; [`Dev::lines`] still answers.
    pub fn stop(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        // SIGTERM to `nextr dev` alone: stopping its function processes is its job, which
        // `dev.rs` checks (so no signal to the process group here).
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + STOP_LIMIT;
        loop {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // The reader threads see the pipes close once the process (and anything holding its
        // pipes) is gone.
        let _ = self.wait_for(|_| false, Duration::from_secs(5));
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        self.stop();
    }
}
