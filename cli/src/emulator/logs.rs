//! Lambda-style logs: `START`, the function's own output, `END` and `REPORT`, each line
//! prefixed with the route, and `nextr dev`'s request log (one line per request, as `next dev`
//! prints it), written by one thread so that a burst of requests costs a few buffered writes
//! rather than one locked write per line.
//!
//! Lambda's platform lines (`START`, `END`, `REPORT`) are written only when asked for
//! ([`LambdaLines::Shown`]: `nextr invoke`, `nextr dev --lambda-logs`); the function's own
//! output and the error lines Lambda adds to a failed invocation always are.
//!
//! The formats are Lambda's text format:
//!
//! ```text
//! START RequestId: 8476a536-e9f4-41e8-9739-2dfe598c3fcd Version: $LATEST
//! END RequestId: 8476a536-e9f4-41e8-9739-2dfe598c3fcd
//! REPORT RequestId: 8476a536-…\tDuration: 4.42 ms\tBilled Duration: 338 ms\tMemory Size: 1024 MB\tMax Memory Used: 12 MB\tInit Duration: 333.05 ms\t
//! ```
//!
//! For OS-only runtimes (`provided.al2023`) the init phase is billed, so a cold start's billed
//! duration is `ceil(duration + init duration)` (a custom-runtime REPORT shows
//! `Duration: 4.42 ms Billed Duration: 338 ms … Init Duration: 333.05 ms`).

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::report::Shown;

/// How long a line may wait before the writer thread writes it. Lines are not handed over one
/// by one: waking the writer for each of the three or more lines of every request took a core's
/// worth of context switches away from the functions and the client (on 2 cores, about 10 % of
/// the requests per second of a hello route at one connection).
const WRITE_INTERVAL: Duration = Duration::from_millis(10);
/// Past this many buffered bytes the writer is woken at once.
const WAKE_BYTES: usize = 256 * 1024;

/// Where log lines go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sink {
    /// Standard output (`nextr dev`).
    Stdout,
    /// Standard error (`nextr invoke`, whose stdout is the response).
    Stderr,
}

#[derive(Default)]
struct Buffer {
    bytes: Vec<u8>,
    /// Flushes asked for, and flushes done (every line buffered before flush `n` is written
    /// once `written >= n`).
    requested: u64,
    written: u64,
}

#[derive(Default)]
struct Shared {
    buffer: Mutex<Buffer>,
    /// Whether Lambda's `START`, `END` and `REPORT` lines are written.
    lambda_lines: AtomicBool,
    /// The writer waits on this (with [`WRITE_INTERVAL`] as timeout).
    work: Condvar,
    /// Flushers wait on this.
    done: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Buffer> {
        self.buffer.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Whether Lambda's platform lines (`START`, `END`, `REPORT`) are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LambdaLines {
    /// Written, as Lambda writes them to CloudWatch.
    Shown,
    /// Left out: `nextr dev`'s request log says what they would.
    Hidden,
}

/// A cheap handle to the log writer; clone it freely.
#[derive(Clone)]
pub struct Logger {
    shared: Arc<Shared>,
}

/// Owns the writer thread; dropping it flushes everything sent so far.
pub struct LogWriter {
    logger: Logger,
    thread: Option<JoinHandle<()>>,
}

impl LogWriter {
    /// Starts the writer thread.
    pub fn start(sink: Sink, lambda_lines: LambdaLines) -> (Self, Logger) {
        let shared = Arc::new(Shared {
            lambda_lines: AtomicBool::new(lambda_lines == LambdaLines::Shown),
            ..Shared::default()
        });
        let thread = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("nextr-logs".into())
                .spawn(move || write_loop(sink, &shared))
                .ok()
        };
        let logger = Logger { shared };
        (
            LogWriter {
                logger: logger.clone(),
                thread,
            },
            logger,
        )
    }

    /// Waits (a few seconds at most) until every line sent before this call is written.
    pub fn flush(&self) {
        if self.thread.is_none() {
            return;
        }
        let shared = &self.logger.shared;
        let mut buffer = shared.lock();
        buffer.requested += 1;
        let target = buffer.requested;
        shared.work.notify_one();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while buffer.written < target {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return;
            }
            buffer = match shared.done.wait_timeout(buffer, left) {
                Ok((b, _)) => b,
                Err(p) => p.into_inner().0,
            };
        }
    }
}

impl Drop for LogWriter {
    fn drop(&mut self) {
        self.flush();
        // The thread ends once the last Logger is dropped; do not wait for clones held
        // elsewhere (tasks that may outlive this owner).
        drop(self.thread.take());
    }
}

fn write_loop(sink: Sink, shared: &Arc<Shared>) {
    let mut out: Vec<u8> = Vec::with_capacity(64 * 1024);
    loop {
        let (flushed, last) = {
            let mut buffer = shared.lock();
            if buffer.bytes.is_empty() && buffer.written == buffer.requested {
                buffer = match shared.work.wait_timeout(buffer, WRITE_INTERVAL) {
                    Ok((b, _)) => b,
                    Err(p) => p.into_inner().0,
                };
            }
            std::mem::swap(&mut out, &mut buffer.bytes);
            // Only this thread holds it: every Logger is gone.
            (buffer.requested, Arc::strong_count(shared) == 1)
        };
        if !out.is_empty() {
            // A closed stdout (the reader went away) must not stop the emulator.
            let _ = match sink {
                Sink::Stdout => {
                    let mut w = std::io::stdout().lock();
                    w.write_all(&out).and_then(|_| w.flush())
                }
                Sink::Stderr => {
                    let mut w = std::io::stderr().lock();
                    w.write_all(&out).and_then(|_| w.flush())
                }
            };
            out.clear();
        }
        {
            let mut buffer = shared.lock();
            if buffer.written < flushed {
                buffer.written = flushed;
                shared.done.notify_all();
            }
        }
        if last {
            return;
        }
    }
}

impl Logger {
    /// Writes one line as is.
    pub fn line(&self, text: impl Into<String>) {
        self.push(&[text.into().as_str()]);
    }

    /// Writes one line of a route's log, prefixed with `[route] `.
    pub fn route(&self, route: &str, text: &str) {
        self.push(&["[", &Shown(route).to_string(), "] ", text]);
    }

    /// Writes one of Lambda's platform lines (`START`, `END`, `REPORT`) of a route's log,
    /// unless they are hidden.
    pub fn lambda_line(&self, route: &str, text: &str) {
        if self.shared.lambda_lines.load(Ordering::Relaxed) {
            self.route(route, text);
        }
    }

    /// Appends the parts and a newline; wakes the writer only when a lot is waiting.
    fn push(&self, parts: &[&str]) {
        let mut buffer = self.shared.lock();
        for part in parts {
            buffer.bytes.extend_from_slice(part.as_bytes());
        }
        buffer.bytes.push(b'\n');
        if buffer.bytes.len() >= WAKE_BYTES {
            self.shared.work.notify_one();
        }
    }
}

/// Lambda's `START` line.
pub fn start_line(request_id: &str, version: &str) -> String {
    format!("START RequestId: {request_id} Version: {version}")
}

/// Lambda's `END` line.
pub fn end_line(request_id: &str) -> String {
    format!("END RequestId: {request_id}")
}

/// How an invocation ended, for the `Status` field Lambda adds to failed invocations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportStatus {
    /// Responded (or reported an error through the Runtime API).
    Done,
    /// Killed at the timeout.
    Timeout,
    /// The runtime failed (`Runtime.ExitError`, an init error, …).
    Error(String),
}

/// The figures of one `REPORT` line.
#[derive(Debug, Clone, PartialEq)]
pub struct Report<'a> {
    /// The Lambda request id.
    pub request_id: &'a str,
    /// Invocation time.
    pub duration: Duration,
    /// Init time when this invocation was the instance's first (cold start).
    pub init: Option<Duration>,
    /// Configured memory, MB.
    pub memory_mb: u32,
    /// Peak memory of the process, MB.
    pub max_memory_mb: u64,
    /// How it ended.
    pub status: ReportStatus,
}

/// Milliseconds with two decimals, as Lambda prints them.
fn ms2(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

/// `ceil(duration + init)` in whole milliseconds (OS-only runtimes bill the init phase).
pub fn billed_ms(duration: Duration, init: Option<Duration>) -> u64 {
    let total = duration + init.unwrap_or_default();
    let micros = total.as_micros() as u64;
    micros.div_ceil(1000).max(1)
}

/// Lambda's `REPORT` line (tab-separated, trailing tab).
pub fn report_line(r: &Report<'_>) -> String {
    let mut s = format!(
        "REPORT RequestId: {}\tDuration: {} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {} MB\t",
        r.request_id,
        ms2(r.duration),
        billed_ms(r.duration, r.init),
        r.memory_mb,
        r.max_memory_mb
    );
    if let Some(init) = r.init {
        s.push_str(&format!("Init Duration: {} ms\t", ms2(init)));
    }
    match &r.status {
        ReportStatus::Done => {}
        ReportStatus::Timeout => s.push_str("Status: timeout\t"),
        ReportStatus::Error(kind) => s.push_str(&format!("Status: error\tError Type: {kind}\t")),
    }
    s
}

/// Whether and how `nextr dev` prints its request log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RequestLog {
    /// No request log (`nextr invoke`, the emulator's own tests).
    #[default]
    Off,
    /// One plain line per request.
    Plain,
    /// One line per request, its status coloured (a terminal, without `NO_COLOR` or `CI`).
    Color,
}

/// Who answered a request, for the request log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answerer {
    /// The gateway itself, before any function ran (a 400, 413, 431, 503 of its own).
    Gateway,
    /// A route's function (its page, or `$default`), through the API or its function URL.
    Function {
        /// The route's page.
        route: String,
        /// Reached through the function's URL rather than the API.
        function_url: bool,
        /// The new instance's init duration when this request started one.
        cold_start: Option<Duration>,
    },
}

/// One request of the request log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLine<'a> {
    /// The request method.
    pub method: &'a str,
    /// The request target: path and query, as received.
    pub target: &'a str,
    /// The status sent.
    pub status: u16,
    /// From the request's head to the response's head (for a streamed response, the time to
    /// its first byte).
    pub duration: Duration,
    /// Who answered.
    pub answerer: &'a Answerer,
}

/// A duration as `next dev` shows one, to two significant digits or more: `0.04ms`,
/// `3.1ms`, `42ms`, `1.2s`.
fn short(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 1.0 {
        format!("{ms:.2}ms")
    } else if ms < 10.0 {
        format!("{ms:.1}ms")
    } else if ms < 1000.0 {
        format!("{ms:.0}ms")
    } else {
        format!("{:.1}s", ms / 1000.0)
    }
}

/// One line of the request log, as `next dev` prints it (`GET /api/hello 200 in 3ms`), with
/// who answered: `[/api/hello]`, `[$default]`, `[/api/events, function URL]` or `[gateway]`,
/// and `(cold start 120ms)` when the request started a new instance.
pub fn request_line(r: &RequestLine<'_>, style: RequestLog) -> String {
    let (status_on, dim_on, off) = match style {
        RequestLog::Color => {
            let colour = match r.status {
                200..=299 => "\x1b[32m",
                300..=399 => "\x1b[36m",
                400..=499 => "\x1b[33m",
                _ => "\x1b[31m",
            };
            (colour, "\x1b[2m", "\x1b[0m")
        }
        RequestLog::Plain | RequestLog::Off => ("", "", ""),
    };
    let by = match r.answerer {
        Answerer::Gateway => "gateway".to_owned(),
        Answerer::Function {
            route,
            function_url: false,
            ..
        } => Shown(route).to_string(),
        Answerer::Function {
            route,
            function_url: true,
            ..
        } => format!("{}, function URL", Shown(route)),
    };
    let mut line = format!(
        "{} {} {status_on}{}{off} in {} {dim_on}[{by}]{off}",
        r.method,
        Shown(r.target),
        r.status,
        short(r.duration),
    );
    if let Answerer::Function {
        cold_start: Some(init),
        ..
    } = r.answerer
    {
        line.push_str(&format!(" (cold start {})", short(*init)));
    }
    line
}

/// What became of an invocation through the Invoke API, for its log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvokeStatus<'a> {
    /// The function answered; the status of its HTTP response.
    Answered(u16),
    /// The invocation failed, with this error type.
    Failed(&'a str),
}

/// One invocation through dev's Invoke API (a proxy's rewrite to another function).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvokeLine<'a> {
    /// The function's manifest name.
    pub function: &'a str,
    /// Its route's page (`$default` for the fallback).
    pub route: &'a str,
    /// What it answered.
    pub status: InvokeStatus<'a>,
    /// How long the invocation took.
    pub duration: Duration,
    /// The new instance's init duration when it started one.
    pub cold_start: Option<Duration>,
}

/// The log line of an invocation through the Invoke API, marked as such so it is not read
/// as a client request: `↳ invoke docs-post-1a2b 200 in 3ms [/api/post/[pid]]` (a failure:
/// `… failed (Runtime.ExitError) in …`).
pub fn invoke_line(r: &InvokeLine<'_>, style: RequestLog) -> String {
    let colour = |code: &'static str| match style {
        RequestLog::Color => (code, "\x1b[2m", "\x1b[0m"),
        RequestLog::Plain | RequestLog::Off => ("", "", ""),
    };
    let (status, (on, dim, off)) = match &r.status {
        InvokeStatus::Answered(s) => (
            s.to_string(),
            colour(match s {
                200..=299 => "\x1b[32m",
                300..=399 => "\x1b[36m",
                400..=499 => "\x1b[33m",
                _ => "\x1b[31m",
            }),
        ),
        InvokeStatus::Failed(kind) => (format!("failed ({kind})"), colour("\x1b[31m")),
    };
    let mut line = format!(
        "↳ invoke {} {on}{status}{off} in {} {dim}[{}]{off}",
        r.function,
        short(r.duration),
        Shown(r.route)
    );
    if let Some(init) = r.cold_start {
        line.push_str(&format!(" (cold start {})", short(init)));
    }
    line
}

/// Lambda's timeout line: `2020-03-12T19:03:58.123Z <id> Task timed out after 1.00 seconds`.
pub fn timeout_line(request_id: &str, timeout: Duration) -> String {
    format!(
        "{} {request_id} Task timed out after {:.2} seconds",
        nextr_infra::ids::Utc::from_system(std::time::SystemTime::now()).iso(),
        timeout.as_secs_f64()
    )
}

/// Peak resident memory of a process in MB (`VmHWM` of `/proc/<pid>/status`), 0 if unknown.
pub fn max_memory_mb(pid: Option<u32>) -> u64 {
    let Some(pid) = pid else { return 0 };
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return 0;
    };
    parse_vm_hwm_kb(&status).map_or(0, |kb| kb.div_ceil(1024))
}

/// The resident memory of a process now, in MB (from `/proc/<pid>/statm`, which is cheap to
/// read: a few numbers, where `status` is a page of text).
pub fn resident_mb(pid: Option<u32>) -> Option<u64> {
    let statm = std::fs::read_to_string(format!("/proc/{}/statm", pid?)).ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some((pages * rustix::param::page_size() as u64).div_ceil(1024 * 1024))
}

fn parse_vm_hwm_kb(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line["VmHWM:".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(
            start_line("abc", "$LATEST"),
            "START RequestId: abc Version: $LATEST"
        );
        assert_eq!(end_line("abc"), "END RequestId: abc");
        let cold = Report {
            request_id: "abc",
            duration: Duration::from_micros(4_420),
            init: Some(Duration::from_micros(333_050)),
            memory_mb: 1152,
            max_memory_mb: 76,
            status: ReportStatus::Done,
        };
        assert_eq!(
            report_line(&cold),
            "REPORT RequestId: abc\tDuration: 4.42 ms\tBilled Duration: 338 ms\tMemory Size: 1152 MB\tMax Memory Used: 76 MB\tInit Duration: 333.05 ms\t"
        );
        let warm = Report {
            init: None,
            duration: Duration::from_micros(2_050),
            status: ReportStatus::Timeout,
            ..cold.clone()
        };
        assert_eq!(
            report_line(&warm),
            "REPORT RequestId: abc\tDuration: 2.05 ms\tBilled Duration: 3 ms\tMemory Size: 1152 MB\tMax Memory Used: 76 MB\tStatus: timeout\t"
        );
        let crashed = Report {
            status: ReportStatus::Error("Runtime.ExitError".into()),
            ..warm
        };
        assert!(report_line(&crashed).ends_with("Status: error\tError Type: Runtime.ExitError\t"));
        assert!(timeout_line("abc", Duration::from_secs(1))
            .ends_with(" abc Task timed out after 1.00 seconds"));
        assert_eq!(billed_ms(Duration::ZERO, None), 1);
        assert_eq!(billed_ms(Duration::from_millis(3), None), 3);
    }

    #[test]
    fn request_lines() {
        let hello = Answerer::Function {
            route: "/api/hello".into(),
            function_url: false,
            cold_start: Some(Duration::from_micros(120_400)),
        };
        let line = |target, status, ms: u64, answerer: &Answerer, style| {
            request_line(
                &RequestLine {
                    method: "GET",
                    target,
                    status,
                    duration: Duration::from_micros(ms),
                    answerer,
                },
                style,
            )
        };
        assert_eq!(
            line("/api/hello?x=1", 200, 3_140, &hello, RequestLog::Plain),
            "GET /api/hello?x=1 200 in 3.1ms [/api/hello] (cold start 120ms)"
        );
        assert_eq!(
            line(
                "/nope",
                413,
                1_234_000,
                &Answerer::Gateway,
                RequestLog::Plain
            ),
            "GET /nope 413 in 1.2s [gateway]"
        );
        let url = Answerer::Function {
            route: "/api/\x1b[31m".into(),
            function_url: true,
            cold_start: None,
        };
        assert_eq!(
            line("/x", 308, 42_000, &url, RequestLog::Plain),
            "GET /x 308 in 42ms [/api/\\u{1b}[31m, function URL]"
        );
        assert_eq!(
            line("/x", 500, 42_000, &Answerer::Gateway, RequestLog::Color),
            "GET /x \x1b[31m500\x1b[0m in 42ms \x1b[2m[gateway]\x1b[0m"
        );
    }

    #[test]
    fn invoke_lines() {
        let line = |status, cold_start, style| {
            invoke_line(
                &InvokeLine {
                    function: "docs-post-1a2b",
                    route: "/api/post/[pid]",
                    status,
                    duration: Duration::from_micros(3_140),
                    cold_start,
                },
                style,
            )
        };
        assert_eq!(
            line(InvokeStatus::Answered(200), None, RequestLog::Plain),
            "↳ invoke docs-post-1a2b 200 in 3.1ms [/api/post/[pid]]"
        );
        assert_eq!(
            line(
                InvokeStatus::Failed("Runtime.ExitError"),
                Some(Duration::from_millis(120)),
                RequestLog::Plain
            ),
            "↳ invoke docs-post-1a2b failed (Runtime.ExitError) in 3.1ms [/api/post/[pid]] (cold start 120ms)"
        );
        assert_eq!(
            line(InvokeStatus::Answered(404), None, RequestLog::Color),
            "↳ invoke docs-post-1a2b \x1b[33m404\x1b[0m in 3.1ms \x1b[2m[/api/post/[pid]]\x1b[0m"
        );
    }

    #[test]
    fn memory() {
        let status =
            "Name:\tbootstrap\nVmPeak:\t  10000 kB\nVmHWM:\t    5121 kB\nVmRSS:\t 5000 kB\n";
        assert_eq!(parse_vm_hwm_kb(status), Some(5121));
        assert_eq!(parse_vm_hwm_kb("nothing"), None);
        assert!(max_memory_mb(Some(std::process::id())) > 0);
        assert_eq!(max_memory_mb(None), 0);
    }
}
