//! The deadline of a handler that blocks its thread.
//!
//! The route runs on a single-threaded tokio runtime, so `max_duration` is a tokio timer: a
//! handler that blocks the thread (`std::thread::sleep`, a blocking lock or socket) also
//! blocks that timer, and the client got Lambda's own timeout error instead of the documented
//! 504. The watchdog is a plain thread, armed for each invocation with the 504 already encoded
//! for the event's format. Shortly after the deadline, if the invocation is still running, it
//! posts the 504 to the Runtime API itself and exits the process: the blocked thread cannot be
//! stopped, and Lambda (or `nextr dev`) starts a fresh process for the next request.
//!
//! A streamed invocation gets its 504 in the streaming protocol while its head has not left.
//! Once it has, no answer can be posted any more (the Runtime API has the response's head, on
//! a connection the blocked thread owns): the watchdog logs how far the stream got and exits,
//! which ends the invocation.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::streaming::Progress;

/// How long after the deadline the watchdog waits for the runtime's own timer to answer (a
/// handler that yields gets its 504 that way, and the process keeps serving). Half of
/// [`DEADLINE_MARGIN`](crate::dispatch::DEADLINE_MARGIN), so the answer still arrives before
/// Lambda's own deadline.
const GRACE: Duration = Duration::from_millis(50);

/// How long posting the 504 may take before the process exits anyway.
const POST_TIMEOUT: Duration = Duration::from_secs(1);

/// One running invocation the watchdog answers if it overruns.
pub(crate) struct Armed {
    /// The Lambda request id (the Runtime API path names it).
    pub(crate) request_id: String,
    /// The handler's deadline.
    pub(crate) deadline: Instant,
    /// The 504, encoded for the event's format.
    pub(crate) payload: Answer,
    /// The line to log when it fires.
    pub(crate) log: String,
}

/// How the watchdog answers an overrun invocation.
pub(crate) enum Answer {
    /// A buffered invocation: the 504 as the event's JSON response.
    Buffered(String),
    /// A streamed one: the 504 as prelude, delimiter and body while the head has not left;
    /// once it has, `started_log` (completed with the bytes sent) is logged instead.
    Streamed {
        bytes: Vec<u8>,
        progress: Arc<Progress>,
        started_log: String,
    },
}

#[derive(Default)]
struct Shared {
    armed: Mutex<Option<Armed>>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Option<Armed>> {
        self.armed.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The watchdog thread's handle.
pub(crate) struct Watchdog {
    shared: Arc<Shared>,
}

impl Watchdog {
    /// Starts the thread; it answers through the Runtime API at `runtime_api` (`host:port`).
    pub(crate) fn start(runtime_api: String) -> std::io::Result<Self> {
        let shared = Arc::new(Shared::default());
        let watched = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("nextr-watchdog".into())
            .spawn(move || watch(&watched, &runtime_api))?;
        Ok(Watchdog { shared })
    }

    /// Watches one invocation (replacing any previous one).
    pub(crate) fn arm(&self, armed: Armed) {
        *self.shared.lock() = Some(armed);
        self.shared.changed.notify_one();
    }

    /// The invocation finished in time.
    pub(crate) fn disarm(&self) {
        *self.shared.lock() = None;
        self.shared.changed.notify_one();
    }
}

fn watch(shared: &Shared, runtime_api: &str) {
    let mut armed = shared.lock();
    loop {
        let fire_at = match armed.as_ref() {
            None => {
                armed = shared
                    .changed
                    .wait(armed)
                    .unwrap_or_else(|e| e.into_inner());
                continue;
            }
            Some(a) => a.deadline + GRACE,
        };
        let now = Instant::now();
        if now < fire_at {
            armed = shared
                .changed
                .wait_timeout(armed, fire_at - now)
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
            continue;
        }
        let Some(overrun) = armed.take() else {
            continue;
        };
        drop(armed);
        fire(runtime_api, &overrun)
    }
}

/// Posts the 504 and exits: the blocked handler still holds the runtime's only thread.
fn fire(runtime_api: &str, overrun: &Armed) -> ! {
    const EXITS: &str = "the handler blocks its thread; the process exits so that a fresh one serves the next request";
    let posted = match &overrun.payload {
        Answer::Streamed {
            progress,
            started_log,
            ..
        } if progress.head_sent() => {
            eprintln!(
                "{started_log}; {} bytes were sent ({EXITS})",
                progress.bytes()
            );
            std::process::exit(1)
        }
        Answer::Streamed { bytes, .. } => {
            eprintln!("{} ({EXITS})", overrun.log);
            post_response(runtime_api, &overrun.request_id, bytes, true)
        }
        Answer::Buffered(payload) => {
            eprintln!("{} ({EXITS})", overrun.log);
            post_response(runtime_api, &overrun.request_id, payload.as_bytes(), false)
        }
    };
    if let Err(e) = posted {
        eprintln!("nextr: could not send the 504 to the Lambda Runtime API: {e}");
    }
    std::process::exit(1)
}

/// `POST /2018-06-01/runtime/invocation/{id}/response`, as the Runtime API documents it:
/// buffered, a JSON payload; streamed, the streaming protocol's headers and one chunk.
fn post_response(
    runtime_api: &str,
    request_id: &str,
    payload: &[u8],
    streamed: bool,
) -> std::io::Result<()> {
    let mut stream = TcpStream::connect(runtime_api)?;
    stream.set_write_timeout(Some(POST_TIMEOUT))?;
    stream.set_read_timeout(Some(POST_TIMEOUT))?;
    write!(
        stream,
        "POST /2018-06-01/runtime/invocation/{request_id}/response HTTP/1.1\r\nHost: {runtime_api}\r\nConnection: close\r\n"
    )?;
    if streamed {
        write!(
            stream,
            "Lambda-Runtime-Function-Response-Mode: streaming\r\nContent-Type: application/vnd.awslambda.http-integration-response\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n",
            payload.len()
        )?;
        stream.write_all(payload)?;
        stream.write_all(b"\r\n0\r\n\r\n")?;
    } else {
        write!(
            stream,
            "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            payload.len()
        )?;
        stream.write_all(payload)?;
    }
    stream.flush()?;
    // Wait for the status line, so the answer is delivered before the process exits.
    let mut status = [0u8; 12];
    stream.read_exact(&mut status)?;
    if status.starts_with(b"HTTP/1.1 2") || status.starts_with(b"HTTP/1.0 2") {
        Ok(())
    } else {
        Err(std::io::Error::other(format!(
            "the Runtime API answered `{}`",
            String::from_utf8_lossy(&status).trim()
        )))
    }
}
