//! The phases of an instance and what moves it between them: an invocation given to a
//! runtime parked in `/next`, and each Runtime API call the runtime makes.

use std::time::{Instant, SystemTime};

use bytes::Bytes;
use tokio::sync::oneshot;

use super::driver::init_failed;
use super::instance::Instance;
use super::queue::{init_done, requeue_front, Invocation};
use super::{FailureKind, FunctionError, Outcome};
use crate::emulator::logs::{self, ReportStatus};
use crate::emulator::runtime_api::{Answer, ApiCall, NextEvent, MAX_RESPONSE_BYTES};
use nextr_infra::ids;

/// The invocation an instance is running.
pub(super) struct Running {
    pub(super) invocation: Invocation,
    pub(super) started: Instant,
    pub(super) deadline: tokio::time::Instant,
}

/// Where an instance is in its life, as its Runtime API calls move it.
pub(super) enum Phase {
    /// Started; waiting for the runtime's first `/next`.
    Init,
    /// The runtime waits in `/next`.
    Parked(oneshot::Sender<Result<NextEvent, Answer>>),
    /// Running an invocation.
    Busy(Running),
    /// Answered; waiting for the runtime's next `/next`.
    Answered,
}

/// Gives an invocation to the runtime parked in `/next`.
pub(super) fn deliver(
    instance: &mut Instance,
    phase: Phase,
    invocation: Invocation,
    arn: &str,
) -> Phase {
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
pub(super) fn handle_call(instance: &mut Instance, phase: Phase, call: ApiCall) -> Option<Phase> {
    match (phase, call) {
        (Phase::Init, ApiCall::Next(reply)) => {
            instance.initialized = true;
            instance.init = Some(instance.spawned.elapsed());
            init_done(&instance.inner);
            Some(Phase::Parked(reply))
        }
        (Phase::Parked(parked), ApiCall::Next(reply)) if !parked.is_closed() => {
            // A parked `/next` is never taken over: only one caller waits for the event.
            let _ = reply.send(Err(Answer::InvalidState));
            Some(Phase::Parked(parked))
        }
        (Phase::Parked(_) | Phase::Answered, ApiCall::Next(reply)) => {
            // Back for more work (or a second `/next` replacing a first one that hung up).
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
}
