//! The task that drives one instance: it waits on the Runtime API, the invocation slot, the
//! process, the deadline, the output pipes and shutdown at once, and answers the waiting
//! client whichever of them ends the invocation.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::instance::{exit_text, Instance};
use super::output::read_pipe;
use super::phase::{deliver, handle_call, stream_ended, Phase, Running};
use super::queue::{fail_oldest, requeue_front, take, Invocation, Take};
use super::{FailureKind, FunctionError, Inner, Outcome};
use crate::emulator::logs::{self, ReportStatus};
use crate::emulator::runtime_api::ApiCall;

/// Lambda's limit for the init phase of an on-demand function.
const INIT_LIMIT: Duration = Duration::from_secs(10);

/// How often a running invocation's memory is checked against the function's memory size.
/// (A shorter burst over it is reported after the invocation, not stopped.)
const MEMORY_CHECK: Duration = Duration::from_millis(100);

/// Fails the init: logs like Lambda's `INIT_REPORT` and fails the oldest waiting invocation.
pub(super) fn init_failed(instance: &mut Instance, error: FunctionError) {
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

/// Runs the instance until its process is gone, it fails, or the pool stops it.
pub(super) async fn drive(instance: &mut Instance, mut calls: mpsc::Receiver<ApiCall>) {
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
    // One timer for the memory checks, kept across loop turns: a new one per turn would
    // register a timer for every Runtime API call of every invocation.
    let mut memory_check = tokio::time::interval(MEMORY_CHECK);
    memory_check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
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
                        let id = running.request_id.clone();
                        instance.log(&format!("RequestId: {id} Error: Runtime exited with error: {status}"));
                        instance.log("Runtime.ExitError");
                        instance.report(&id, running.started.elapsed(), ReportStatus::Error("Runtime.ExitError".into()));
                        let message = format!("RequestId: {id} Error: Runtime exited with error: {status}");
                        running.reply.send(Outcome::Failed(FunctionError::new(
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
                        let id = running.request_id.clone();
                        instance.log(&logs::timeout_line(&id, spec.timeout));
                        instance.report(&id, running.started.elapsed(), ReportStatus::Timeout);
                        let message = format!(
                            "RequestId: {id} Error: Task timed out after {:.2} seconds",
                            spec.timeout.as_secs_f64()
                        );
                        running.reply.send(Outcome::Failed(FunctionError::new(
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
            _ = memory_check.tick(), if matches!(phase, Phase::Busy(_)) => {
                let used = instance.resident_mb();
                if used.is_none_or(|mb| mb <= u64::from(spec.memory_mb)) {
                    continue;
                }
                recover(&inner, &mut slot);
                instance.kill().await;
                if let Phase::Busy(running) = std::mem::replace(&mut phase, Phase::Answered) {
                    instance.flush_output(true);
                    let id = running.request_id.clone();
                    let message = format!("RequestId: {id} Error: Runtime exited with error: signal: killed");
                    instance.log(&message);
                    instance.log("Runtime.OutOfMemory");
                    instance.report(&id, running.started.elapsed(), ReportStatus::Error("Runtime.OutOfMemory".into()));
                    running.reply.send(Outcome::Failed(FunctionError::new(
                        FailureKind::OutOfMemory,
                        "Runtime.OutOfMemory",
                        &message,
                    )));
                }
                return;
            }
            end = stream_end(&mut phase) => phase = stream_ended(instance, phase, end),
            lines = read_pipe(&mut instance.out) => instance.print(lines),
            lines = read_pipe(&mut instance.err) => instance.print(lines),
            _ = shutdown.changed() => {
                recover(&inner, &mut slot);
                if let Phase::Busy(running) = std::mem::replace(&mut phase, Phase::Answered) {
                    running.reply.send(Outcome::Failed(FunctionError::new(
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

async fn wait_slot(slot: &mut Option<oneshot::Receiver<Invocation>>) -> Option<Invocation> {
    match slot {
        Some(rx) => rx.await.ok(),
        None => std::future::pending().await,
    }
}

/// How the running invocation's stream ended; never ready when none is streaming.
async fn stream_end(phase: &mut Phase) -> Option<crate::emulator::stream::StreamEnd> {
    match phase {
        Phase::Busy(Running {
            stream: Some(ended),
            ..
        }) => ended.await.ok(),
        _ => std::future::pending().await,
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
