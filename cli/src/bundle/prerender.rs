//! Build-time prerendering of App routes, as `next build` does for a route handler that opts
//! in (`dynamic: "force-static"` or `"error"`, `revalidate: false` or above 0) and exports GET
//! alone: the route's own built binary is run once on the build machine with
//! [`PRERENDER_OUT_ENV`] naming a file, runs its GET handler with Next's synthetic request,
//! writes the response there and exits; the bundle ships that file as [`PRERENDERED_FILE`]
//! beside `bootstrap`, and the function serves it.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nextr::config::RouteConfig;
use nextr::manifest::{Architecture, PRERENDERED_FILE, PRERENDER_OUT_ENV};

use crate::analysis::{get_only, MethodFn};

/// How often a running prerender is checked for its end.
const POLL: Duration = Duration::from_millis(10);
/// The most of the binary's output a failure message quotes (its end, where the cause is).
const OUTPUT_TAIL: usize = 4000;

/// Whether an App route with this config and these method functions is prerendered at
/// build: Next's opt-in ([`RouteConfig::prerenders`]) on a file that exports GET alone
/// (with another method, Next silently runs it per request).
pub fn prerenders(config: &RouteConfig, methods: &[MethodFn]) -> bool {
    config.prerenders() && get_only(methods)
}

/// Whether this machine runs binaries built for `arch`: prerendering needs to.
pub fn host_runs(arch: Architecture) -> bool {
    std::env::consts::ARCH == arch.machine()
}

/// One route to prerender.
#[derive(Debug, Clone)]
pub struct PrerenderJob<'a> {
    /// The route file, which messages name (`app/about/route.rs`).
    pub file: &'a str,
    /// The route's built binary (its `bootstrap`).
    pub binary: &'a Path,
    /// The function's environment as the manifest lists it (`Function::runtime_env`).
    pub env: BTreeMap<String, String>,
    /// The route's timeout (its `max_duration`): a prerender running longer fails the build.
    pub timeout: Duration,
}

/// Why a route could not be prerendered.
#[derive(Debug, thiserror::Error)]
pub enum PrerenderError {
    /// The binaries are for an architecture this machine cannot run.
    #[error("cannot prerender {file}: its bundle is built for {arch} and this machine ({host}) cannot run it; build on an {arch} machine (or with `--arch {host_arch}`), or remove `dynamic: \"force-static\"`/`\"error\"` and `revalidate` from its config!")]
    ForeignArchitecture {
        /// The route file.
        file: String,
        /// The bundle's architecture.
        arch: Architecture,
        /// This machine's (`uname -m`).
        host: &'static str,
        /// This machine's as `--arch` names it.
        host_arch: String,
    },
    /// The binary could not be started, or its output read.
    #[error("cannot prerender {file}: {what}")]
    Io {
        /// The route file.
        file: String,
        /// What failed.
        what: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The binary failed (its GET handler errored, or read the request under
    /// `dynamic: "error"`).
    #[error("prerendering {file} failed ({status}); its output:\n{output}")]
    Failed {
        /// The route file.
        file: String,
        /// How it ended (`exit status: 1`).
        status: String,
        /// The end of what it printed.
        output: String,
    },
    /// The binary ran longer than the route's `max_duration`.
    #[error("prerendering {file} took longer than its max_duration of {seconds} s and was stopped; its output:\n{output}")]
    Timeout {
        /// The route file.
        file: String,
        /// The limit.
        seconds: u64,
        /// The end of what it printed.
        output: String,
    },
    /// The binary exited 0 without writing a JSON response.
    #[error("prerendering {file} wrote no valid response ({reason}); its output:\n{output}")]
    NoResponse {
        /// The route file.
        file: String,
        /// What was wrong with the file.
        reason: String,
        /// The end of what it printed.
        output: String,
    },
}

/// The environment a prerender runs in: Lambda's basics, the function's own variables, and
/// the path to write to; nothing else of the build's environment leaks into the response.
fn environment(job: &PrerenderJob<'_>, out: &Path) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = [
        ("TZ", ":UTC".to_owned()),
        ("LANG", "en_US.UTF-8".to_owned()),
        ("PATH", "/usr/local/bin:/usr/bin:/bin".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    env.extend(job.env.iter().map(|(k, v)| (k.clone(), v.clone())));
    env.push((PRERENDER_OUT_ENV.to_owned(), out.display().to_string()));
    env
}

/// The last [`OUTPUT_TAIL`] bytes of a file, as text.
fn tail(path: &Path) -> String {
    let bytes = fs::read(path).unwrap_or_default();
    let start = bytes.len().saturating_sub(OUTPUT_TAIL);
    String::from_utf8_lossy(&bytes[start..])
        .trim_end()
        .to_owned()
}

/// Kills a prerender that ran out of time, with everything it started, and reaps it.
fn stop(child: &mut std::process::Child) {
    #[cfg(unix)]
    {
        let group = rustix::process::Pid::from_child(child);
        let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Runs one route's binary to prerender it; returns the response file's bytes, which the
/// bundle ships as [`PRERENDERED_FILE`].
pub fn prerender(job: &PrerenderJob<'_>) -> Result<Vec<u8>, PrerenderError> {
    let io = |what: &str| {
        let file = job.file.to_owned();
        let what = what.to_owned();
        move |source| PrerenderError::Io { file, what, source }
    };
    let dir = tempfile::tempdir().map_err(io("cannot make a temporary folder"))?;
    let out: PathBuf = dir.path().join(PRERENDERED_FILE);
    let log_path = dir.path().join("output.log");
    let log = File::create(&log_path).map_err(io("cannot make a temporary file"))?;
    let log_err = log
        .try_clone()
        .map_err(io("cannot make a temporary file"))?;
    let mut command = Command::new(job.binary);
    command
        .env_clear()
        .envs(environment(job, &out))
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err);
    // Its own process group, so a timeout stops whatever it started too; and it dies with an
    // interrupted build.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    super::cargo::dies_with_this_thread(&mut command);
    let mut child = command
        .spawn()
        .map_err(io(&format!("cannot run {}", job.binary.display())))?;
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(io("cannot wait for its binary"))? {
            break status;
        }
        if started.elapsed() > job.timeout {
            stop(&mut child);
            return Err(PrerenderError::Timeout {
                file: job.file.to_owned(),
                seconds: job.timeout.as_secs(),
                output: tail(&log_path),
            });
        }
        std::thread::sleep(POLL);
    };
    if !status.success() {
        return Err(PrerenderError::Failed {
            file: job.file.to_owned(),
            status: status.to_string(),
            output: tail(&log_path),
        });
    }
    let no_response = |reason: String| PrerenderError::NoResponse {
        file: job.file.to_owned(),
        reason,
        output: tail(&log_path),
    };
    let bytes = fs::read(&out).map_err(|e| no_response(e.to_string()))?;
    serde_json::from_slice::<serde_json::Value>(&bytes)
        .map_err(|e| no_response(format!("not JSON: {e}")))?;
    Ok(bytes)
}

/// Prerenders every job, refusing at once when the binaries are for another architecture.
/// Returns each job's response by its index.
pub fn prerender_all(
    jobs: &[PrerenderJob<'_>],
    arch: Architecture,
) -> Result<Vec<Vec<u8>>, PrerenderError> {
    if let Some(first) = jobs.first() {
        if !host_runs(arch) {
            let host = std::env::consts::ARCH;
            return Err(PrerenderError::ForeignArchitecture {
                file: first.file.to_owned(),
                arch,
                host,
                host_arch: Architecture::ALL
                    .into_iter()
                    .find(|a| a.machine() == host)
                    .map_or_else(|| host.to_owned(), |a| a.to_string()),
            });
        }
    }
    jobs.iter().map(prerender).collect()
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::analysis::{Arity, Method};
    use nextr::config::{Dynamic, Revalidate};
    use std::os::unix::fs::PermissionsExt;

    /// A shell script standing in for a route's binary.
    fn script(dir: &Path, body: &str) -> PathBuf {
        let path = dir.join("bootstrap");
        fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    fn job<'a>(binary: &'a Path, timeout: Duration) -> PrerenderJob<'a> {
        PrerenderJob {
            file: "app/about/route.rs",
            binary,
            env: BTreeMap::from([("GREETING".into(), "hi".into())]),
            timeout,
        }
    }

    #[test]
    fn only_get_only_files_that_opt_in_prerender() {
        let get = MethodFn {
            method: Method::Get,
            arity: Arity::None,
        };
        let post = MethodFn {
            method: Method::Post,
            arity: Arity::Request,
        };
        let fs = RouteConfig {
            dynamic: Some(Dynamic::ForceStatic),
            ..RouteConfig::default()
        };
        assert!(prerenders(&fs, &[get]));
        assert!(!prerenders(&fs, &[get, post]), "Next ignores it with POST");
        assert!(!prerenders(&RouteConfig::default(), &[get]));
        let r = RouteConfig {
            revalidate: Some(Revalidate::Seconds(60)),
            ..RouteConfig::default()
        };
        assert!(prerenders(&r, &[get]));
    }

    #[test]
    fn the_response_is_what_the_binary_wrote_with_the_functions_env() {
        let tmp = tempfile::tempdir().unwrap();
        let bin = script(
            tmp.path(),
            &format!(
                "printf '{{\"status\":200,\"headers\":[],\"body_base64\":\"%s\"}}' \"$GREETING\" > \"${PRERENDER_OUT_ENV}\""
            ),
        );
        let bytes = prerender(&job(&bin, Duration::from_secs(10))).unwrap();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            r#"{"status":200,"headers":[],"body_base64":"hi"}"#
        );
    }

    #[test]
    fn a_failing_binary_fails_naming_the_route_and_its_output() {
        let tmp = tempfile::tempdir().unwrap();
        let bin = script(
            tmp.path(),
            "echo 'Route /about used request.url' >&2; exit 3",
        );
        let e = prerender(&job(&bin, Duration::from_secs(10))).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("prerendering app/about/route.rs failed"),
            "{text}"
        );
        assert!(text.contains("Route /about used request.url"), "{text}");

        let bin = script(tmp.path(), "exit 0");
        let e = prerender(&job(&bin, Duration::from_secs(10))).unwrap_err();
        assert!(matches!(e, PrerenderError::NoResponse { .. }), "{e}");

        let pid_file = tmp.path().join("sleep.pid");
        let bin = script(
            tmp.path(),
            &format!("echo started; sleep 30 & echo $! > {pid_file:?}; wait"),
        );
        let e = prerender(&job(&bin, Duration::from_millis(500))).unwrap_err();
        assert!(
            matches!(&e, PrerenderError::Timeout { output, .. } if output == "started"),
            "{e}"
        );
        // What it started was stopped with it (gone, or a zombie of a dead shell).
        let pid = fs::read_to_string(&pid_file).unwrap();
        let stat = PathBuf::from(format!("/proc/{}/stat", pid.trim()));
        let running = || fs::read_to_string(&stat).is_ok_and(|s| !s.contains(") Z"));
        let deadline = Instant::now() + Duration::from_secs(5);
        while running() && Instant::now() < deadline {
            std::thread::sleep(POLL);
        }
        assert!(!running(), "the prerender's child still runs");
    }

    #[test]
    fn another_architecture_is_refused_before_running_anything() {
        let other = Architecture::ALL
            .into_iter()
            .find(|a| !host_runs(*a))
            .unwrap_or(Architecture::Arm64);
        if host_runs(other) {
            return;
        }
        let jobs = [job(Path::new("/nonexistent"), Duration::from_secs(1))];
        let e = prerender_all(&jobs, other).unwrap_err();
        assert!(
            matches!(e, PrerenderError::ForeignArchitecture { .. }),
            "{e}"
        );
        assert!(e.to_string().contains("app/about/route.rs"), "{e}");
        assert!(prerender_all(&[], other).unwrap().is_empty());
    }
}
