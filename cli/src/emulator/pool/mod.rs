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
//!
//! A streamed response ([`Outcome::Streamed`], see `emulator::stream`) answers the client as
//! soon as its prelude is in; the instance stays busy (deadline and memory checks included)
//! until the runtime ends its stream, and only then writes the REPORT and takes more work.
//!
//! | module | what it owns |
//! |---|---|
//! | `queue` | invocations waiting for an instance, idle instances, scale-out |
//! | `instance` | one instance: its process, environment and Runtime API endpoint |
//! | `output` | reading the process's stdout and stderr as lines |
//! | `driver` | the task that runs an instance: deadlines, exits, shutdown |
//! | `phase` | what a Runtime API call or an invocation does in each phase of an instance |

mod driver;
mod instance;
mod output;
mod phase;
mod queue;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use tokio::sync::{oneshot, watch};

use super::logs::Logger;
use super::qemu::Launcher;
use super::stream::Streamed;
use nextr_infra::ids;
use queue::{submit, Invocation, State};

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
    /// How `bootstrap` is started: as it is, or under qemu-user.
    pub launcher: Launcher,
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
    /// Killed for using more memory than the function's memory size, as Lambda kills it.
    OutOfMemory,
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
    pub(crate) fn new(kind: FailureKind, error_type: &str, message: &str) -> Self {
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
#[derive(Debug)]
pub enum Outcome {
    /// The runtime posted a response payload.
    Response(Bytes),
    /// The runtime streams its response: the prelude has arrived, the body follows.
    Streamed(Streamed),
    /// The invocation failed.
    Failed(FunctionError),
}

/// An invocation's outcome, and whether it started a new instance.
#[derive(Debug)]
pub struct Invoked {
    /// What the invocation produced.
    pub outcome: Outcome,
    /// The new instance's init duration when this invocation was its first (a cold start).
    pub cold_start: Option<Duration>,
}

/// Where an invocation's outcome goes, shared by the instance's driver and, for a streamed
/// response, the Runtime API connection reading the stream: whichever knows first answers
/// (the prelude arrived, or the process died or timed out before it did); later sends are
/// dropped.
#[derive(Clone)]
pub struct Reply(Arc<Mutex<Option<oneshot::Sender<Outcome>>>>);

impl Reply {
    /// A reply and the receiver its outcome arrives on.
    pub fn new() -> (Self, oneshot::Receiver<Outcome>) {
        let (tx, rx) = oneshot::channel();
        (Reply::from(tx), rx)
    }

    /// Sends the outcome unless one was sent already.
    pub fn send(&self, outcome: Outcome) {
        let taken = self.0.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(tx) = taken {
            let _ = tx.send(outcome);
        }
    }
}

impl From<oneshot::Sender<Outcome>> for Reply {
    fn from(tx: oneshot::Sender<Outcome>) -> Self {
        Reply(Arc::new(Mutex::new(Some(tx))))
    }
}

/// An error document as the runtime posted it, typed by its header when it has one.
pub(crate) fn posted_error(
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
        self.invoke_noting_start(payload).await.outcome
    }

    /// [`FunctionPool::invoke`], also telling whether the invocation was a cold start.
    pub async fn invoke_noting_start(&self, payload: Bytes) -> Invoked {
        self.invoke_with_context(payload, None).await
    }

    /// [`FunctionPool::invoke_noting_start`] with Lambda's client context (decoded JSON),
    /// which the runtime receives as `Lambda-Runtime-Client-Context` (the Invoke API's
    /// `X-Amz-Client-Context`).
    pub async fn invoke_with_context(
        &self,
        payload: Bytes,
        client_context: Option<String>,
    ) -> Invoked {
        let (reply, outcome) = oneshot::channel();
        let cold_start = Arc::new(OnceLock::new());
        let invocation = Invocation {
            request_id: ids::request_id(),
            trace_id: format!(
                "{};Parent={:016x};Sampled=0",
                ids::trace_root(SystemTime::now()),
                ids::next_u64()
            ),
            payload,
            client_context,
            reply,
            cold_start: cold_start.clone(),
        };
        submit(&self.inner, invocation);
        let outcome = outcome.await.unwrap_or_else(|_| {
            Outcome::Failed(FunctionError::new(
                FailureKind::Shutdown,
                "ServiceException",
                "The function was stopped",
            ))
        });
        Invoked {
            outcome,
            // Set before the invocation was delivered, so before any outcome was sent.
            cold_start: cold_start.get().copied(),
        }
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
