//! Function instances, as Lambda runs them: each instance is the function's real `bootstrap`
//! process with its own Runtime API endpoint; it is started when a request finds no free
//! instance, serves one invocation at a time, stays warm afterwards, and the pool scales out
//! to `max_instances` under concurrent requests (requests beyond that wait in a queue).
//!
//! One driver task per instance owns everything about it — the process, its Runtime API calls,
//! its output pipes and its current invocation — so every failure has exactly one place that
//! sees it and answers the waiting client:
//!
//! - timeout: the process is killed at the function's timeout (`Sandbox.Timedout`);
//! - the process exits mid-invocation: `Runtime.ExitError`;
//! - the process fails its init (`/init/error`, exit, or no `/next` within the init limit):
//!   the oldest waiting invocation gets the error, as the invocation that caused the cold
//!   start does on Lambda;
//! - the process cannot be started at all: `Runtime.InvalidEntrypoint`.
//!
//! A dead instance is replaced by the next invocation that needs one (a cold start, with
//! `Init Duration`, as on Lambda).

use std::collections::VecDeque;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use tokio::net::unix::pipe;
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot, watch};

use super::logs::{self, Logger, Report, ReportStatus};
use super::runtime_api::{Answer, ApiCall, NextEvent, RuntimeApi, MAX_RESPONSE_BYTES};
use nextr_infra::ids::{self, Utc};

/// Lambda's limit for the init phase of an on-demand function.
const INIT_LIMIT: Duration = Duration::from_secs(10);

/// How stale the peak memory in a REPORT line may be.
const MEMORY_SAMPLE_AGE: Duration = Duration::from_millis(200);

/// Everything needed to run instances of one function.
#[derive(Debug, Clone)]
pub struct FunctionSpec {
    /// The Lambda function name.
    pub name: String,
    /// The route's page pattern, prefixed to every log line.
    pub route: String,
    /// The unpacked bundle (holds `bootstrap`); the process's working directory.
    pub task_root: PathBuf,
    /// `_HANDLER`.
    pub handler: String,
    /// The function timeout.
    pub timeout: Duration,
    /// The configured memory, MB.
    pub memory_mb: u32,
    /// `AWS_REGION`.
    pub region: String,
    /// At most this many instances at once.
    pub max_instances: usize,
    /// Extra variables: the function's own from `nextr.toml`, then those passed through from
    /// the developer's environment (`RUST_LOG`, …).
    pub passthrough_env: Vec<(String, String)>,
}

impl FunctionSpec {
    /// `arn:aws:lambda:<region>:<account>:function:<name>`.
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{}",
            self.region,
            nextr_infra::gateway::http_api::event::ACCOUNT_ID,
            self.name
        )
    }
}

/// Why an invocation failed, as Lambda classifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The function reported an error on `/invocation/{id}/error` (handler error or panic).
    Function,
    /// Killed at the function's timeout.
    Timeout,
    /// The process exited during the invocation.
    RuntimeExit,
    /// The process failed its init.
    Init,
    /// The response was over Lambda's 6 MB limit.
    ResponseTooLarge,
    /// `bootstrap` could not be started.
    Spawn,
    /// `nextr dev` is stopping.
    Shutdown,
}

/// A failed invocation: what `Invoke` returns with `X-Amz-Function-Error: Unhandled`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionError {
    /// The class of failure.
    pub kind: FailureKind,
    /// Lambda's error document (`{"errorType": …, "errorMessage": …}` or what the runtime posted).
    pub payload: Bytes,
}

impl FunctionError {
    fn new(kind: FailureKind, error_type: &str, message: &str) -> Self {
        FunctionError {
            kind,
            payload: Bytes::from(
                serde_json::json!({"errorType": error_type, "errorMessage": message}).to_string(),
            ),
        }
    }

    /// The `errorType` of the document, if it has one.
    pub fn error_type(&self) -> Option<String> {
        serde_json::from_slice::<serde_json::Value>(&self.payload)
            .ok()?
            .get("errorType")?
            .as_str()
            .map(str::to_owned)
    }
}

/// What an invocation produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The runtime posted a response payload.
    Response(Bytes),
    /// The invocation failed.
    Failed(FunctionError),
}

struct Invocation {
    request_id: String,
    trace_id: String,
    payload: Bytes,
    reply: oneshot::Sender<Outcome>,
}

#[derive(Default)]
struct State {
    /// Invocations no instance has taken yet, oldest first.
    waiting: VecDeque<Invocation>,
    /// Instances whose runtime waits in `/next`, each with the slot an invocation goes into.
    idle: VecDeque<oneshot::Sender<Invocation>>,
    /// Instances alive or starting.
    live: usize,
    /// Instances started but not yet at their first `/next`.
    starting: usize,
    /// Instances that just answered and are about to ask `/next` again.
    finishing: usize,
    /// No new idle slots: instances stop once the queue is empty.
    draining: bool,
    next_instance: u64,
}

struct Inner {
    spec: FunctionSpec,
    logger: Logger,
    state: Mutex<State>,
    shutdown: watch::Sender<bool>,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the queues half-updated (every update is
        // a single push or pop), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The instances of one function.
pub struct FunctionPool {
    inner: Arc<Inner>,
}

/// A weak reference to a pool, to stop its instances at exit even after it was replaced.
#[derive(Clone)]
pub struct PoolRef(Weak<Inner>);

impl PoolRef {
    /// Kills every instance of the pool, if it still exists.
    pub fn shutdown(&self) {
        if let Some(inner) = self.0.upgrade() {
            shutdown(&inner);
        }
    }

    /// Whether the pool and all its instances are gone.
    pub fn is_gone(&self) -> bool {
        self.0.strong_count() == 0
    }

    /// Instances alive or starting (0 once the pool is gone).
    pub fn live(&self) -> usize {
        self.0.upgrade().map_or(0, |i| i.lock().live)
    }
}

impl FunctionPool {
    /// A pool with no instance yet.
    pub fn new(spec: FunctionSpec, logger: Logger) -> Self {
        let (shutdown, _) = watch::channel(false);
        FunctionPool {
            inner: Arc::new(Inner {
                spec,
                logger,
                state: Mutex::new(State::default()),
                shutdown,
            }),
        }
    }

    /// The function this pool runs.
    pub fn spec(&self) -> &FunctionSpec {
        &self.inner.spec
    }

    /// A weak handle for shutdown.
    pub fn weak(&self) -> PoolRef {
        PoolRef(Arc::downgrade(&self.inner))
    }

    /// Runs one invocation with this event and waits for its outcome. Never hangs longer than
    /// the init limit plus the function timeout once an instance takes it; callers bound the
    /// time spent queued (API Gateway's integration timeout).
    pub async fn invoke(&self, payload: Bytes) -> Outcome {
        let (reply, outcome) = oneshot::channel();
        let invocation = Invocation {
            request_id: ids::request_id(),
            trace_id: format!(
                "{};Parent={:016x};Sampled=0",
                ids::trace_root(SystemTime::now()),
                ids::next_u64()
            ),
            payload,
            reply,
        };
        submit(&self.inner, invocation);
        outcome.await.unwrap_or_else(|_| {
            Outcome::Failed(FunctionError::new(
                FailureKind::Shutdown,
                "ServiceException",
                "The function was stopped",
            ))
        })
    }

    /// Kills every instance now; waiting invocations fail.
    pub fn shutdown(&self) {
        shutdown(&self.inner);
    }
}

impl Drop for FunctionPool {
    /// The last deployment using this pool is gone (its in-flight requests have finished):
    /// let the instances finish what they hold and stop.
    fn drop(&mut self) {
        drain(&self.inner);
    }
}

fn drain(inner: &Arc<Inner>) {
    let idle = {
        let mut st = inner.lock();
        st.draining = true;
        std::mem::take(&mut st.idle)
    };
    // Closing the idle slots wakes their drivers, which stop their processes.
    drop(idle);
}

fn shutdown(inner: &Arc<Inner>) {
    let (idle, waiting) = {
        let mut st = inner.lock();
        st.draining = true;
        (
            std::mem::take(&mut st.idle),
            std::mem::take(&mut st.waiting),
        )
    };
    drop(idle);
    drop(waiting);
    let _ = inner.shutdown.send(true);
}

/// How long a queued invocation waits for an instance that has just answered (and is about to
/// ask for more work) before a new instance is started for it.
const FINISHING_GRACE: Duration = Duration::from_millis(2);

/// Hands an invocation to an idle instance, or queues it and starts an instance if every
/// live one is busy (one new instance per queued invocation, up to the cap, as Lambda does).
///
/// A sequential client's next request often arrives while the instance that served the last
/// one is between its response and its next `/next`; starting an instance for it would only
/// leave one more process idle, so that case waits [`FINISHING_GRACE`] before deciding.
fn submit(inner: &Arc<Inner>, mut invocation: Invocation) {
    let (spawn, recheck) = {
        let mut st = inner.lock();
        // The instance idle for the shortest time: its process is the one still in the CPU's
        // caches. Measured on 2 cores with 8 warm instances and one connection, busy polling
        // off: 6.7k requests per second this way, 4.8k taking them round-robin
        // (bench/RESULTS.md).
        while let Some(slot) = st.idle.pop_back() {
            match slot.send(invocation) {
                Ok(()) => return,
                // That instance went away meanwhile; try the next.
                Err(back) => invocation = back,
            }
        }
        st.waiting.push_back(invocation);
        let unserved = st.waiting.len().saturating_sub(st.starting);
        if unserved > 0 && unserved <= st.finishing {
            (None, true)
        } else {
            (reserve_instance(&mut st, inner.spec.max_instances), false)
        }
    };
    if let Some(id) = spawn {
        tokio::spawn(run_instance(inner.clone(), id));
    }
    if recheck {
        let inner = inner.clone();
        tokio::spawn(async move {
            tokio::time::sleep(FINISHING_GRACE).await;
            let spawn = reserve_instance(&mut inner.lock(), inner.spec.max_instances);
            if let Some(id) = spawn {
                run_instance(inner, id).await;
            }
        });
    }
}

/// Puts back an invocation that an instance took but could not deliver.
fn requeue_front(inner: &Arc<Inner>, mut invocation: Invocation) {
    let spawn = {
        let mut st = inner.lock();
        while let Some(slot) = st.idle.pop_back() {
            match slot.send(invocation) {
                Ok(()) => return,
                Err(back) => invocation = back,
            }
        }
        st.waiting.push_front(invocation);
        reserve_instance(&mut st, inner.spec.max_instances)
    };
    if let Some(id) = spawn {
        tokio::spawn(run_instance(inner.clone(), id));
    }
}

/// Counts a new instance in when queued work outnumbers the instances already starting.
fn reserve_instance(st: &mut State, cap: usize) -> Option<u64> {
    if st.live < cap.max(1) && st.waiting.len() > st.starting {
        st.live += 1;
        st.starting += 1;
        st.next_instance += 1;
        Some(st.next_instance)
    } else {
        None
    }
}

enum Take {
    Now(Invocation),
    Later(oneshot::Receiver<Invocation>),
    Stop,
}

/// An instance's runtime is at `/next`: the oldest queued invocation, or a slot to wait on.
fn take(inner: &Inner) -> Take {
    let mut st = inner.lock();
    while let Some(invocation) = st.waiting.pop_front() {
        // Its client is gone (API Gateway's integration timeout, or a hang-up): skip it.
        if !invocation.reply.is_closed() {
            return Take::Now(invocation);
        }
    }
    if st.draining {
        return Take::Stop;
    }
    let (slot, rx) = oneshot::channel();
    st.idle.push_back(slot);
    Take::Later(rx)
}

/// An instance failed its init: the oldest waiting invocation fails with it.
fn fail_oldest(inner: &Inner, error: &FunctionError) {
    let victim = {
        let mut st = inner.lock();
        let mut found = None;
        while let Some(invocation) = st.waiting.pop_front() {
            if !invocation.reply.is_closed() {
                found = Some(invocation);
                break;
            }
        }
        found
    };
    if let Some(invocation) = victim {
        let _ = invocation.reply.send(Outcome::Failed(error.clone()));
    }
}

/// An instance is gone; start a replacement if queued work needs one.
fn instance_gone(inner: &Arc<Inner>, was_starting: bool) {
    let spawn = {
        let mut st = inner.lock();
        st.live = st.live.saturating_sub(1);
        if was_starting {
            st.starting = st.starting.saturating_sub(1);
        }
        if *inner.shutdown.borrow() {
            None
        } else {
            reserve_instance(&mut st, inner.spec.max_instances)
        }
    };
    if let Some(id) = spawn {
        tokio::spawn(run_instance(inner.clone(), id));
    }
}

fn init_done(inner: &Inner) {
    let mut st = inner.lock();
    st.starting = st.starting.saturating_sub(1);
}

/// One of the process's output pipes, read without blocking.
struct Pipe {
    rx: pipe::Receiver,
    partial: Vec<u8>,
    open: bool,
}

impl Pipe {
    fn new(fd: OwnedFd) -> std::io::Result<Self> {
        Ok(Pipe {
            rx: pipe::Receiver::from_owned_fd(fd)?,
            partial: Vec::new(),
            open: true,
        })
    }

    fn push(&mut self, bytes: &[u8], lines: &mut Vec<String>) {
        self.partial.extend_from_slice(bytes);
        while let Some(i) = self.partial.iter().position(|&b| b == b'\n') {
            let mut line: Vec<u8> = self.partial.drain(..=i).collect();
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            lines.push(String::from_utf8_lossy(&line).into_owned());
        }
    }

    fn finish(&mut self, lines: &mut Vec<String>) {
        if !self.partial.is_empty() {
            let rest = std::mem::take(&mut self.partial);
            lines.push(String::from_utf8_lossy(&rest).into_owned());
        }
    }

    fn close(&mut self, lines: &mut Vec<String>) {
        self.open = false;
        self.finish(lines);
    }

    /// Waits for output and returns the complete lines read (cancel-safe: nothing is read
    /// before the wait completes, and nothing is awaited after reading).
    async fn read_lines(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        let mut buf = [0u8; 16 * 1024];
        loop {
            if self.rx.readable().await.is_err() {
                self.close(&mut lines);
                return lines;
            }
            match self.rx.try_read(&mut buf) {
                Ok(0) => {
                    self.close(&mut lines);
                    return lines;
                }
                Ok(n) => {
                    self.push(&buf[..n], &mut lines);
                    return lines;
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted
                    ) => {}
                Err(_) => {
                    self.close(&mut lines);
                    return lines;
                }
            }
        }
    }

    /// Reads whatever is in the pipe right now, without waiting, so that the output a
    /// function wrote before it answered is printed before `END`. (A direct read: the
    /// reactor may not have seen that data yet.)
    fn drain_now(&mut self, lines: &mut Vec<String>, end: bool) {
        let mut buf = [0u8; 16 * 1024];
        while self.open {
            match rustix::io::read(&self.rx, &mut buf) {
                Ok(0) => self.open = false,
                Ok(n) => self.push(&buf[..n], lines),
                Err(rustix::io::Errno::INTR) => {}
                Err(rustix::io::Errno::AGAIN) => break,
                Err(_) => self.open = false,
            }
        }
        if end || !self.open {
            self.finish(lines);
        }
    }
}

async fn read_pipe(pipe: &mut Option<Pipe>) -> Vec<String> {
    match pipe {
        Some(p) if p.open => p.read_lines().await,
        _ => std::future::pending().await,
    }
}

async fn wait_slot(slot: &mut Option<oneshot::Receiver<Invocation>>) -> Option<Invocation> {
    match slot {
        Some(rx) => rx.await.ok(),
        None => std::future::pending().await,
    }
}

/// The invocation an instance is running.
struct Running {
    invocation: Invocation,
    started: Instant,
    deadline: tokio::time::Instant,
}

enum Phase {
    /// Started; waiting for the runtime's first `/next`.
    Init,
    /// The runtime waits in `/next`.
    Parked(oneshot::Sender<Result<NextEvent, Answer>>),
    /// Running an invocation.
    Busy(Running),
    /// Answered; waiting for the runtime's next `/next`.
    Answered,
}

/// One instance: its process, Runtime API endpoint and pipes.
struct Instance {
    inner: Arc<Inner>,
    child: Child,
    pid: Option<u32>,
    out: Option<Pipe>,
    err: Option<Pipe>,
    spawned: Instant,
    /// The init duration, until the first invocation's REPORT shows it.
    init: Option<Duration>,
    /// The last peak memory read, for a REPORT after the process is gone (MB).
    max_memory_mb: u64,
    /// When `max_memory_mb` was read.
    memory_sampled: Option<Instant>,
    /// The END and REPORT of an invocation already answered, written once the answer is out.
    pending_report: Option<(String, Duration, ReportStatus)>,
    /// Counted in the pool's `finishing` (answered, not yet back in `/next`).
    finishing: bool,
    initialized: bool,
}

impl Instance {
    fn set_finishing(&mut self, finishing: bool) {
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

    fn log(&self, text: &str) {
        self.inner.logger.route(&self.inner.spec.route, text);
    }

    fn print(&self, lines: Vec<String>) {
        for line in lines {
            self.log(&line);
        }
    }

    /// Prints the output already written, so that it comes before what we print next.
    fn flush_output(&mut self, end: bool) {
        let mut lines = Vec::new();
        if let Some(p) = self.out.as_mut() {
            p.drain_now(&mut lines, end);
        }
        if let Some(p) = self.err.as_mut() {
            p.drain_now(&mut lines, end);
        }
        self.print(lines);
    }

    async fn kill(&mut self) {
        // Read the peak memory while /proc still has the process.
        self.sample_memory(Duration::ZERO);
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
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
    fn write_pending_report(&mut self) {
        if let Some((id, duration, status)) = self.pending_report.take() {
            self.flush_output(false);
            self.report(&id, duration, status);
        }
    }

    fn report(&mut self, request_id: &str, duration: Duration, status: ReportStatus) {
        self.sample_memory(MEMORY_SAMPLE_AGE);
        let report = Report {
            request_id,
            duration,
            init: self.init.take(),
            memory_mb: self.inner.spec.memory_mb,
            max_memory_mb: self.max_memory_mb,
            status,
        };
        self.log(&logs::end_line(request_id));
        self.log(&logs::report_line(&report));
    }
}

fn exit_text(status: std::io::Result<std::process::ExitStatus>) -> String {
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
        let mut cmd = Command::new(spec.task_root.join("bootstrap"));
        cmd.env_clear()
            .envs(lambda_env(spec, runtime_api))
            .current_dir(&spec.task_root)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
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

async fn run_instance(inner: Arc<Inner>, _id: u64) {
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

/// Fails the init: logs like Lambda's `INIT_REPORT` and fails the oldest waiting invocation.
fn init_failed(instance: &mut Instance, error: FunctionError) {
    instance.flush_output(true);
    let error_type = error
        .error_type()
        .unwrap_or_else(|| "Runtime.Unknown".into());
    instance.log(&format!(
        "INIT_REPORT Init Duration: {:.2} ms\tPhase: init\tStatus: error\tError Type: {error_type}",
        instance.spawned.elapsed().as_secs_f64() * 1000.0
    ));
    let payload = String::from_utf8_lossy(&error.payload).into_owned();
    instance.log(&payload);
    fail_oldest(&instance.inner, &error);
}

async fn drive(instance: &mut Instance, mut calls: mpsc::Receiver<ApiCall>) {
    let inner = instance.inner.clone();
    let spec = &inner.spec;
    let arn = spec.arn();
    let mut shutdown = inner.shutdown.subscribe();
    if *shutdown.borrow_and_update() {
        return;
    }
    let init_deadline = tokio::time::Instant::now() + INIT_LIMIT.max(spec.timeout);
    let mut phase = Phase::Init;
    // The slot this instance waits on while idle; kept across loop turns so that an
    // invocation put into it is never lost to a cancelled select.
    let mut slot: Option<oneshot::Receiver<Invocation>> = None;
    loop {
        if instance.pending_report.is_some() {
            // The gateway's task was woken on this worker by the answer: it runs first.
            tokio::task::yield_now().await;
            instance.write_pending_report();
        }
        // An idle runtime with no slot yet: take work or register for it.
        if matches!(phase, Phase::Parked(_)) && slot.is_none() {
            match take(&inner) {
                Take::Now(invocation) => {
                    phase = deliver(instance, phase, invocation, &arn);
                    continue;
                }
                Take::Later(rx) => slot = Some(rx),
                Take::Stop => return,
            }
        }
        let deadline = match &phase {
            Phase::Init => Some(init_deadline),
            Phase::Busy(r) => Some(r.deadline),
            _ => None,
        };
        tokio::select! {
            call = calls.recv() => {
                let Some(call) = call else { return };
                phase = match handle_call(instance, phase, call) {
                    Some(p) => p,
                    None => return,
                };
            }
            invocation = wait_slot(&mut slot), if slot.is_some() => {
                slot = None;
                match invocation {
                    Some(invocation) => phase = deliver(instance, phase, invocation, &arn),
                    // The pool closed the slot: it is draining.
                    None => return,
                }
            }
            status = instance.child.wait() => {
                recover(&inner, &mut slot);
                let status = exit_text(status);
                match std::mem::replace(&mut phase, Phase::Answered) {
                    Phase::Init => {
                        let message = format!("Runtime exited with error: {status}");
                        init_failed(instance, FunctionError::new(FailureKind::Init, "Runtime.ExitError", &message));
                    }
                    Phase::Busy(running) => {
                        instance.flush_output(true);
                        let id = running.invocation.request_id.clone();
                        instance.log(&format!("RequestId: {id} Error: Runtime exited with error: {status}"));
                        instance.log("Runtime.ExitError");
                        instance.report(&id, running.started.elapsed(), ReportStatus::Error("Runtime.ExitError".into()));
                        let message = format!("RequestId: {id} Error: Runtime exited with error: {status}");
                        let _ = running.invocation.reply.send(Outcome::Failed(FunctionError::new(
                            FailureKind::RuntimeExit,
                            "Runtime.ExitError",
                            &message,
                        )));
                    }
                    _ => {
                        instance.flush_output(true);
                        instance.log(&format!("nextr: the function process exited ({status}) between invocations"));
                    }
                }
                return;
            }
            _ = sleep_until(deadline) => {
                recover(&inner, &mut slot);
                instance.kill().await;
                match std::mem::replace(&mut phase, Phase::Answered) {
                    Phase::Busy(running) => {
                        instance.flush_output(true);
                        let id = running.invocation.request_id.clone();
                        instance.log(&logs::timeout_line(&id, spec.timeout));
                        instance.report(&id, running.started.elapsed(), ReportStatus::Timeout);
                        let message = format!(
                            "RequestId: {id} Error: Task timed out after {:.2} seconds",
                            spec.timeout.as_secs_f64()
                        );
                        let _ = running.invocation.reply.send(Outcome::Failed(FunctionError::new(
                            FailureKind::Timeout,
                            "Sandbox.Timedout",
                            &message,
                        )));
                    }
                    _ => {
                        let message = format!(
                            "The runtime did not ask for an invocation within {:.2} seconds",
                            INIT_LIMIT.max(spec.timeout).as_secs_f64()
                        );
                        init_failed(instance, FunctionError::new(FailureKind::Init, "Sandbox.Timedout", &message));
                    }
                }
                return;
            }
            lines = read_pipe(&mut instance.out) => instance.print(lines),
            lines = read_pipe(&mut instance.err) => instance.print(lines),
            _ = shutdown.changed() => {
                recover(&inner, &mut slot);
                if let Phase::Busy(running) = std::mem::replace(&mut phase, Phase::Answered) {
                    let _ = running.invocation.reply.send(Outcome::Failed(FunctionError::new(
                        FailureKind::Shutdown,
                        "ServiceException",
                        "nextr dev is stopping",
                    )));
                }
                return;
            }
        }
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Puts back an invocation already placed in this instance's slot, which it will not run.
fn recover(inner: &Arc<Inner>, slot: &mut Option<oneshot::Receiver<Invocation>>) {
    if let Some(mut rx) = slot.take() {
        rx.close();
        if let Ok(invocation) = rx.try_recv() {
            requeue_front(inner, invocation);
        }
    }
}

/// Gives an invocation to the runtime parked in `/next`.
fn deliver(instance: &mut Instance, phase: Phase, invocation: Invocation, arn: &str) -> Phase {
    let Phase::Parked(next) = phase else {
        // Only a parked runtime takes work; anything else is a bug in the state machine, and
        // the work must not be lost.
        requeue_front(&instance.inner, invocation);
        return phase;
    };
    let timeout = instance.inner.spec.timeout;
    let now = SystemTime::now();
    let event = NextEvent {
        request_id: invocation.request_id.clone(),
        deadline_ms: ids::epoch_ms(now) + timeout.as_millis() as u64,
        function_arn: arn.to_owned(),
        trace_id: invocation.trace_id.clone(),
        payload: invocation.payload.clone(),
    };
    instance.flush_output(false);
    match next.send(Ok(event)) {
        Ok(()) => {
            instance.log(&logs::start_line(&invocation.request_id, "$LATEST"));
            Phase::Busy(Running {
                started: Instant::now(),
                deadline: tokio::time::Instant::now() + timeout,
                invocation,
            })
        }
        Err(_) => {
            // The runtime's `/next` request went away; it will ask again (or die).
            requeue_front(&instance.inner, invocation);
            instance.set_finishing(true);
            Phase::Answered
        }
    }
}

/// Applies one Runtime API call; `None` stops the instance.
fn handle_call(instance: &mut Instance, phase: Phase, call: ApiCall) -> Option<Phase> {
    match (phase, call) {
        (Phase::Init, ApiCall::Next(reply)) => {
            instance.initialized = true;
            instance.init = Some(instance.spawned.elapsed());
            init_done(&instance.inner);
            Some(Phase::Parked(reply))
        }
        (Phase::Parked(_) | Phase::Answered, ApiCall::Next(reply)) => {
            // Back for more work (or a second `/next` replacing a dropped first one).
            instance.set_finishing(false);
            Some(Phase::Parked(reply))
        }
        (
            Phase::Init,
            ApiCall::InitError {
                error_type,
                body,
                reply,
            },
        ) => {
            let _ = reply.send(Answer::Accepted);
            let error = posted_error(FailureKind::Init, error_type, body, "Runtime.InitError");
            init_failed(instance, error);
            None
        }
        (Phase::Busy(running), call) => Some(busy_call(instance, running, call)),
        (phase, ApiCall::Response { reply, .. })
        | (phase, ApiCall::ResponseTooLarge { reply, .. })
        | (phase, ApiCall::Error { reply, .. }) => {
            // No invocation is running: whatever id it names, it is not a current one.
            let _ = reply.send(Answer::InvalidRequestId);
            Some(phase)
        }
        (phase, ApiCall::InitError { reply, .. }) => {
            let _ = reply.send(Answer::InvalidState);
            Some(phase)
        }
    }
}

/// An error document as the runtime posted it, typed by its header when it has one.
fn posted_error(
    kind: FailureKind,
    error_type: Option<String>,
    body: Bytes,
    default_type: &str,
) -> FunctionError {
    let parsed = serde_json::from_slice::<serde_json::Value>(&body).ok();
    let payload = match parsed {
        Some(serde_json::Value::Object(mut doc)) => {
            if !doc.contains_key("errorType") {
                doc.insert(
                    "errorType".into(),
                    error_type.unwrap_or_else(|| default_type.into()).into(),
                );
            }
            Bytes::from(serde_json::Value::Object(doc).to_string())
        }
        _ => Bytes::from(
            serde_json::json!({
                "errorType": error_type.unwrap_or_else(|| default_type.into()),
                "errorMessage": String::from_utf8_lossy(&body),
            })
            .to_string(),
        ),
    };
    FunctionError { kind, payload }
}

fn busy_call(instance: &mut Instance, running: Running, call: ApiCall) -> Phase {
    let current = running.invocation.request_id.as_str();
    match call {
        ApiCall::Response {
            request_id,
            body,
            reply,
        } if request_id == current => {
            let _ = reply.send(Answer::Accepted);
            finish(
                instance,
                running,
                Outcome::Response(body),
                ReportStatus::Done,
            )
        }
        ApiCall::Error {
            request_id,
            error_type,
            body,
            reply,
        } if request_id == current => {
            let _ = reply.send(Answer::Accepted);
            let error = posted_error(FailureKind::Function, error_type, body, "Runtime.Unknown");
            finish(
                instance,
                running,
                Outcome::Failed(error),
                ReportStatus::Done,
            )
        }
        ApiCall::ResponseTooLarge { request_id, reply } if request_id == current => {
            let _ = reply.send(Answer::TooLarge);
            let error = FunctionError::new(
                FailureKind::ResponseTooLarge,
                "Function.ResponseSizeTooLarge",
                &format!(
                    "Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."
                ),
            );
            instance.log(&format!(
                "nextr: the response is over Lambda's {MAX_RESPONSE_BYTES}-byte limit"
            ));
            finish(
                instance,
                running,
                Outcome::Failed(error),
                ReportStatus::Done,
            )
        }
        ApiCall::Response { reply, .. }
        | ApiCall::Error { reply, .. }
        | ApiCall::ResponseTooLarge { reply, .. } => {
            let _ = reply.send(Answer::InvalidRequestId);
            Phase::Busy(running)
        }
        ApiCall::InitError { reply, .. } => {
            let _ = reply.send(Answer::InvalidState);
            Phase::Busy(running)
        }
        ApiCall::Next(reply) => {
            let _ = reply.send(Err(Answer::InvalidState));
            Phase::Busy(running)
        }
    }
}

fn finish(
    instance: &mut Instance,
    running: Running,
    outcome: Outcome,
    status: ReportStatus,
) -> Phase {
    let duration = running.started.elapsed();
    instance.set_finishing(true);
    // The client gets its answer first; the driver writes the logs after letting the
    // gateway's task send it (`drive`).
    let _ = running.invocation.reply.send(outcome);
    instance.pending_report = Some((running.invocation.request_id, duration, status));
    Phase::Answered
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posted_errors_keep_the_runtime_document() {
        let e = posted_error(
            FailureKind::Function,
            Some("Header".into()),
            Bytes::from_static(br#"{"errorType":"Panic","errorMessage":"boom"}"#),
            "Runtime.Unknown",
        );
        assert_eq!(e.error_type().as_deref(), Some("Panic"));
        let e = posted_error(
            FailureKind::Function,
            Some("Header".into()),
            Bytes::from_static(br#"{"errorMessage":"boom"}"#),
            "Runtime.Unknown",
        );
        assert_eq!(e.error_type().as_deref(), Some("Header"));
        let e = posted_error(
            FailureKind::Init,
            None,
            Bytes::from_static(b"plain"),
            "Runtime.InitError",
        );
        let doc: serde_json::Value = serde_json::from_slice(&e.payload).unwrap();
        assert_eq!(doc["errorType"], "Runtime.InitError");
        assert_eq!(doc["errorMessage"], "plain");
    }

    #[test]
    fn scale_out_reserves_one_instance_per_queued_invocation() {
        let mut st = State::default();
        let (tx, _rx) = oneshot::channel();
        st.waiting.push_back(Invocation {
            request_id: "a".into(),
            trace_id: String::new(),
            payload: Bytes::new(),
            reply: tx,
        });
        assert_eq!(reserve_instance(&mut st, 2), Some(1));
        // One instance is already starting for the one queued invocation.
        assert_eq!(reserve_instance(&mut st, 2), None);
        let (tx, _rx2) = oneshot::channel();
        st.waiting.push_back(Invocation {
            request_id: "b".into(),
            trace_id: String::new(),
            payload: Bytes::new(),
            reply: tx,
        });
        assert_eq!(reserve_instance(&mut st, 2), Some(2));
        let (tx, _rx3) = oneshot::channel();
        st.waiting.push_back(Invocation {
            request_id: "c".into(),
            trace_id: String::new(),
            payload: Bytes::new(),
            reply: tx,
        });
        // The cap holds.
        assert_eq!(reserve_instance(&mut st, 2), None);
        assert_eq!((st.live, st.starting), (2, 2));
    }

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
