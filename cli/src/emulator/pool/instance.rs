//! One instance: the function's `bootstrap` process, started with Lambda's environment and
//! its own Runtime API endpoint, with what the REPORT line needs to know about it.

use std::os::fd::OwnedFd;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use super::driver::drive;
use super::output::Pipe;
use super::queue::{fail_oldest, instance_gone};
use super::{FailureKind, FunctionError, FunctionSpec, Inner};
use crate::emulator::logs::{self, Report, ReportStatus};
use crate::emulator::qemu::Launcher;
use crate::emulator::runtime_api::RuntimeApi;
use nextr_infra::ids::{self, Utc};

/// How stale the peak memory in a REPORT line may be.
const MEMORY_SAMPLE_AGE: Duration = Duration::from_millis(200);

/// One instance: its process, Runtime API endpoint and pipes.
pub(super) struct Instance {
    pub(super) inner: Arc<Inner>,
    pub(super) child: Child,
    pid: Option<u32>,
    pub(super) out: Option<Pipe>,
    pub(super) err: Option<Pipe>,
    pub(super) spawned: Instant,
    /// The init duration, until the first invocation's REPORT shows it.
    pub(super) init: Option<Duration>,
    /// The last peak memory read, for a REPORT after the process is gone (MB).
    max_memory_mb: u64,
    /// When `max_memory_mb` was read.
    memory_sampled: Option<Instant>,
    /// The END and REPORT of an invocation already answered, written once the answer is out.
    pub(super) pending_report: Option<(String, Duration, ReportStatus)>,
    /// Counted in the pool's `finishing` (answered, not yet back in `/next`).
    finishing: bool,
    pub(super) initialized: bool,
}

impl Drop for Instance {
    /// An instance dropped without [`Instance::kill`] (`nextr dev` exiting, its tasks
    /// dropped) takes its processes with it; `kill_on_drop` would only end `bootstrap`.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.kill_group();
        }
    }
}

impl Instance {
    pub(super) fn set_finishing(&mut self, finishing: bool) {
        if self.finishing != finishing {
            self.finishing = finishing;
            let mut st = self.inner.lock();
            if finishing {
                st.finishing += 1;
            } else {
                st.finishing = st.finishing.saturating_sub(1);
            }
        }
    }

    pub(super) fn log(&self, text: &str) {
        self.inner.logger.route(&self.inner.spec.route, text);
    }

    /// Writes one of Lambda's platform lines (`START`, `END`, `REPORT`), unless hidden.
    pub(super) fn lambda_line(&self, text: &str) {
        self.inner.logger.lambda_line(&self.inner.spec.route, text);
    }

    pub(super) fn print(&self, lines: Vec<String>) {
        for line in lines {
            self.log(&line);
        }
    }

    /// Prints the output already written, so that it comes before what we print next.
    pub(super) fn flush_output(&mut self, end: bool) {
        let mut lines = Vec::new();
        if let Some(p) = self.out.as_mut() {
            p.drain_now(&mut lines, end);
        }
        if let Some(p) = self.err.as_mut() {
            p.drain_now(&mut lines, end);
        }
        self.print(lines);
    }

    pub(super) async fn kill(&mut self) {
        // Read the peak memory while /proc still has the process.
        self.sample_memory(Duration::ZERO);
        self.kill_group();
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }

    /// Kills every process the function started (its process group, which `bootstrap`
    /// leads), as Lambda ends a whole execution environment: a child left behind by a
    /// timed-out or crashed function must not outlive it.
    fn kill_group(&self) {
        if let Some(pid) = self.pid.and_then(|p| i32::try_from(p).ok()) {
            if let Some(pid) = rustix::process::Pid::from_raw(pid) {
                let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
            }
        }
    }

    /// The process's resident memory now, in MB.
    pub(super) fn resident_mb(&self) -> Option<u64> {
        logs::resident_mb(self.pid)
    }

    /// Reads the peak memory unless it was read less than `max_age` ago: the kernel formats
    /// all of `/proc/<pid>/status` for it, which took a tenth of the emulator's CPU time per
    /// invocation under load, and a peak only grows.
    fn sample_memory(&mut self, max_age: Duration) {
        if self.memory_sampled.is_some_and(|t| t.elapsed() < max_age) {
            return;
        }
        if let Ok(None) = self.child.try_wait() {
            self.max_memory_mb = self.max_memory_mb.max(logs::max_memory_mb(self.pid));
            self.memory_sampled = Some(Instant::now());
        }
    }

    /// Writes the answered invocation's output, END and REPORT.
    pub(super) fn write_pending_report(&mut self) {
        if let Some((id, duration, status)) = self.pending_report.take() {
            self.flush_output(false);
            self.report(&id, duration, status);
        }
    }

    pub(super) fn report(&mut self, request_id: &str, duration: Duration, status: ReportStatus) {
        self.sample_memory(MEMORY_SAMPLE_AGE);
        let report = Report {
            request_id,
            duration,
            init: self.init.take(),
            memory_mb: self.inner.spec.memory_mb,
            max_memory_mb: self.max_memory_mb,
            status,
        };
        self.lambda_line(&logs::end_line(request_id));
        self.lambda_line(&logs::report_line(&report));
        if self.max_memory_mb > u64::from(self.inner.spec.memory_mb) {
            // A burst between two checks: say what Lambda would have done.
            self.log(&format!(
                "nextr: the function used {} MB, over its {} MB: on Lambda this invocation is killed (Runtime.OutOfMemory); raise `memory`",
                self.max_memory_mb, self.inner.spec.memory_mb
            ));
        }
    }
}

/// How the process ended, in the words of Lambda's `Runtime.ExitError`.
pub(super) fn exit_text(status: std::io::Result<std::process::ExitStatus>) -> String {
    use std::os::unix::process::ExitStatusExt;
    match status {
        Ok(s) => match (s.code(), s.signal()) {
            (Some(code), _) => format!("exit status {code}"),
            (None, Some(sig)) => format!("signal {sig}"),
            _ => "unknown status".into(),
        },
        Err(e) => e.to_string(),
    }
}

fn lambda_env(spec: &FunctionSpec, runtime_api: &str) -> Vec<(String, String)> {
    let now = Utc::from_system(SystemTime::now());
    let mut env: Vec<(String, String)> = [
        ("AWS_LAMBDA_RUNTIME_API", runtime_api.to_owned()),
        ("AWS_LAMBDA_FUNCTION_NAME", spec.name.clone()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            spec.memory_mb.to_string(),
        ),
        // Not set by Lambda itself (runtimes read Lambda-Runtime-Deadline-Ms); set here as the
        // Runtime Interface Emulator does, for tools that want the configured timeout.
        (
            "AWS_LAMBDA_FUNCTION_TIMEOUT",
            spec.timeout.as_secs().to_string(),
        ),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{}", spec.name),
        ),
        (
            "AWS_LAMBDA_LOG_STREAM_NAME",
            format!("{}/[$LATEST]{}", now.slash_date(), ids::hex32()),
        ),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".into()),
        ("AWS_REGION", spec.region.clone()),
        ("AWS_DEFAULT_REGION", spec.region.clone()),
        // Fake credentials: the function must not act on a real account from a laptop by
        // accident, and code that signs requests still finds well-formed values.
        ("AWS_ACCESS_KEY_ID", "ASIANEXTRDEVFAKEKEY0".into()),
        (
            "AWS_SECRET_ACCESS_KEY",
            "nextr/dev/fake/secret/access/key/0000000".into(),
        ),
        ("AWS_SESSION_TOKEN", "nextr-dev-fake-session-token".into()),
        ("_HANDLER", spec.handler.clone()),
        ("LAMBDA_TASK_ROOT", spec.task_root.display().to_string()),
        ("TZ", ":UTC".into()),
        ("LANG", "en_US.UTF-8".into()),
        ("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    env.extend(spec.passthrough_env.iter().cloned());
    env
}

/// Starts the process, retrying briefly on ETXTBSY (a just-written executable can still be
/// open in a process forked by another thread, until that process execs).
fn spawn_process(spec: &FunctionSpec, runtime_api: &str) -> std::io::Result<Child> {
    let mut attempt = 0;
    loop {
        let bootstrap = spec.task_root.join("bootstrap");
        let mut cmd = match &spec.launcher {
            Launcher::Native => Command::new(bootstrap),
            Launcher::Qemu { qemu, sysroot } => {
                let mut cmd = Command::new(qemu);
                if let Some(sysroot) = sysroot {
                    cmd.arg("-L").arg(sysroot);
                }
                cmd.arg(bootstrap);
                cmd
            }
        };
        cmd.env_clear()
            .envs(lambda_env(spec, runtime_api))
            .current_dir(&spec.task_root)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group, so that everything it starts can be killed with it.
            .process_group(0)
            .kill_on_drop(true);
        match cmd.spawn() {
            Err(e) if e.raw_os_error() == Some(26) && attempt < 5 => {
                attempt += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// Starts an instance and runs it until it is gone; the queue spawns one per instance.
pub(super) async fn run_instance(inner: Arc<Inner>, _id: u64) {
    let (calls_tx, calls) = mpsc::channel(8);
    let api = match RuntimeApi::start(calls_tx).await {
        Ok(api) => api,
        Err(e) => {
            let error = FunctionError::new(
                FailureKind::Spawn,
                "Runtime.Unknown",
                &format!("cannot open a Runtime API endpoint: {e}"),
            );
            inner
                .logger
                .route(&inner.spec.route, &format!("nextr: {e}"));
            fail_oldest(&inner, &error);
            instance_gone(&inner, true);
            return;
        }
    };
    let runtime_api = api.addr().to_string();
    let spawned = Instant::now();
    let mut child = match spawn_process(&inner.spec, &runtime_api) {
        Ok(c) => c,
        Err(e) => {
            let message = format!(
                "cannot start {}: {e}",
                inner.spec.task_root.join("bootstrap").display()
            );
            inner
                .logger
                .route(&inner.spec.route, &format!("nextr: {message}"));
            let error =
                FunctionError::new(FailureKind::Spawn, "Runtime.InvalidEntrypoint", &message);
            fail_oldest(&inner, &error);
            instance_gone(&inner, true);
            return;
        }
    };
    if let Some(pid) = child.id() {
        api.allow(pid);
    }
    let pipe = |fd: Option<std::io::Result<OwnedFd>>| {
        fd.and_then(|r| r.ok()).and_then(|fd| Pipe::new(fd).ok())
    };
    let out = pipe(child.stdout.take().map(|s| s.into_owned_fd()));
    let err = pipe(child.stderr.take().map(|s| s.into_owned_fd()));
    let mut instance = Instance {
        pid: child.id(),
        inner: inner.clone(),
        child,
        out,
        err,
        spawned,
        init: None,
        max_memory_mb: 0,
        memory_sampled: None,
        pending_report: None,
        finishing: false,
        initialized: false,
    };
    drive(&mut instance, calls).await;
    instance.write_pending_report();
    instance.set_finishing(false);
    // Whatever happened, the process is gone before the instance is.
    instance.kill().await;
    instance.flush_output(true);
    drop(api);
    instance_gone(&inner, !instance.initialized);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_environment() {
        let spec = FunctionSpec {
            name: "app-hello".into(),
            route: "/api/hello".into(),
            task_root: "/tmp/x".into(),
            handler: "bootstrap".into(),
            timeout: Duration::from_secs(3),
            memory_mb: 256,
            region: "eu-west-1".into(),
            max_instances: 2,
            passthrough_env: vec![("RUST_LOG".into(), "debug".into())],
            launcher: Launcher::Native,
        };
        let env: std::collections::HashMap<String, String> =
            lambda_env(&spec, "127.0.0.1:9001").into_iter().collect();
        assert_eq!(env["AWS_LAMBDA_RUNTIME_API"], "127.0.0.1:9001");
        assert_eq!(env["AWS_LAMBDA_FUNCTION_NAME"], "app-hello");
        assert_eq!(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "256");
        assert_eq!(env["AWS_LAMBDA_FUNCTION_VERSION"], "$LATEST");
        assert_eq!(env["_HANDLER"], "bootstrap");
        assert_eq!(env["AWS_LAMBDA_LOG_GROUP_NAME"], "/aws/lambda/app-hello");
        assert!(env["AWS_LAMBDA_LOG_STREAM_NAME"].contains("/[$LATEST]"));
        assert_eq!(env["AWS_REGION"], "eu-west-1");
        assert_eq!(env["RUST_LOG"], "debug");
        assert_eq!(
            spec.arn(),
            "arn:aws:lambda:eu-west-1:123456789012:function:app-hello"
        );
    }
}
