//! The phases of an instance and what moves it between them: an invocation given to a
//! runtime parked in `/next`, and each Runtime API call the runtime makes.

use std::time::{Instant, SystemTime};

use tokio::sync::oneshot;

use super::driver::init_failed;
use super::instance::Instance;
use super::queue::{init_done, requeue_front, Invocation};
use super::{posted_error, FailureKind, FunctionError, Outcome, Reply};
use crate::emulator::logs::{self, ReportStatus};
use crate::emulator::runtime_api::{Answer, ApiCall, NextEvent, MAX_RESPONSE_BYTES};
use crate::emulator::stream::{StreamEnd, StreamGrant};
use nextr_infra::ids;

/// The invocation an instance is running.
pub(super) struct Running {
    pub(super) request_id: String,
    pub(super) reply: Reply,
    pub(super) started: Instant,
    pub(super) deadline: tokio::time::Instant,
    /// Set while the runtime streams its response: how the stream ended arrives here. The
    /// invocation (and the instance) is busy until then, and the deadline still applies.
    pub(super) stream: Option<oneshot::Receiver<StreamEnd>>,
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
        client_context: invocation.client_context.clone(),
    };
    instance.flush_output(false);
    match next.send(Ok(event)) {
        Ok(()) => {
            if let Some(init) = instance.init {
                // The init not yet reported is this instance's: this invocation is its first.
                let _ = invocation.cold_start.set(init);
            }
            instance.lambda_line(&logs::start_line(&invocation.request_id, "$LATEST"));
            Phase::Busy(Running {
                started: Instant::now(),
                deadline: tokio::time::Instant::now() + timeout,
                request_id: invocation.request_id,
                reply: Reply::from(invocation.reply),
                stream: None,
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
        (Phase::Busy(mut running), ApiCall::Next(reply)) if running.stream.is_some() => {
            // The stream's end is reported before the runtime's POST is answered, so a
            // runtime back in `/next` has always ended its stream: take that end first.
            let ended = running.stream.as_mut().map(|rx| rx.try_recv());
            match ended {
                Some(Ok(end)) if end != StreamEnd::Broken => {
                    stream_ended(instance, Phase::Busy(running), Some(end));
                    instance.set_finishing(false);
                    Some(Phase::Parked(reply))
                }
                _ => {
                    let _ = reply.send(Err(Answer::InvalidState));
                    Some(Phase::Busy(running))
                }
            }
        }
        (Phase::Busy(running), call) => Some(busy_call(instance, running, call)),
        (phase, ApiCall::Response { reply, .. })
        | (phase, ApiCall::ResponseTooLarge { reply, .. })
        | (phase, ApiCall::Error { reply, .. }) => {
            // No invocation is running: whatever id it names, it is not a current one.
            let _ = reply.send(Answer::InvalidRequestId);
            Some(phase)
        }
        (phase, ApiCall::Stream { reply, .. }) => {
            let _ = reply.send(Err(Answer::InvalidRequestId));
            Some(phase)
        }
        (phase, ApiCall::InitError { reply, .. }) => {
            let _ = reply.send(Answer::InvalidState);
            Some(phase)
        }
    }
}

fn busy_call(instance: &mut Instance, mut running: Running, call: ApiCall) -> Phase {
    let current = running.request_id.as_str();
    // Once a stream has started, the invocation's answer is that stream: a second answer
    // is refused, as Lambda refuses it.
    let streaming = running.stream.is_some();
    match call {
        ApiCall::Response {
            request_id,
            body,
            reply,
        } if request_id == current && !streaming => {
            let _ = reply.send(Answer::Accepted);
            finish(
                instance,
                running,
                Some(Outcome::Response(body)),
                ReportStatus::Done,
            )
        }
        ApiCall::Stream { request_id, reply } if request_id == current && !streaming => {
            let (end, ended) = oneshot::channel();
            let grant = StreamGrant {
                reply: running.reply.clone(),
                end,
            };
            if reply.send(Ok(grant)).is_ok() {
                running.stream = Some(ended);
            }
            Phase::Busy(running)
        }
        ApiCall::Error {
            request_id,
            error_type,
            body,
            reply,
        } if request_id == current && !streaming => {
            let _ = reply.send(Answer::Accepted);
            let error = posted_error(FailureKind::Function, error_type, body, "Runtime.Unknown");
            finish(
                instance,
                running,
                Some(Outcome::Failed(error)),
                ReportStatus::Done,
            )
        }
        ApiCall::ResponseTooLarge { request_id, reply } if request_id == current && !streaming => {
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
                Some(Outcome::Failed(error)),
                ReportStatus::Done,
            )
        }
        ApiCall::Response {
            request_id, reply, ..
        }
        | ApiCall::Error {
            request_id, reply, ..
        }
        | ApiCall::ResponseTooLarge { request_id, reply } => {
            let answer = if request_id == current {
                Answer::InvalidState
            } else {
                Answer::InvalidRequestId
            };
            let _ = reply.send(answer);
            Phase::Busy(running)
        }
        ApiCall::Stream { request_id, reply } => {
            let answer = if request_id == current {
                Answer::InvalidState
            } else {
                Answer::InvalidRequestId
            };
            let _ = reply.send(Err(answer));
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

/// The runtime's stream ended (`None`: its reader went away without a word, as when the
/// Runtime API connection was dropped): the invocation is over unless the connection broke,
/// in which case the process's exit or the deadline ends it.
pub(super) fn stream_ended(instance: &mut Instance, phase: Phase, end: Option<StreamEnd>) -> Phase {
    let Phase::Busy(mut running) = phase else {
        return phase;
    };
    match end.unwrap_or(StreamEnd::Broken) {
        StreamEnd::Broken => {
            running.stream = None;
            return Phase::Busy(running);
        }
        StreamEnd::Complete => {}
        StreamEnd::FunctionError { error_type, body } => {
            // What Lambda logs for an error a runtime reports mid-stream; the client's
            // response was cut without its terminating chunk.
            instance.flush_output(false);
            instance.log(&format!(
                "RequestId: {} Error: the function reported an error mid-stream: {error_type}: {body}",
                running.request_id
            ));
        }
        StreamEnd::Malformed(e) => {
            instance.log(&format!("nextr: {e}; the client gets a function error"))
        }
    }
    finish(instance, running, None, ReportStatus::Done)
}

/// Ends the invocation: the client's outcome (unless a stream already answered it), then the
/// END and REPORT lines once the answer is out.
fn finish(
    instance: &mut Instance,
    running: Running,
    outcome: Option<Outcome>,
    status: ReportStatus,
) -> Phase {
    let duration = running.started.elapsed();
    instance.set_finishing(true);
    // The client gets its answer first; the driver writes the logs after letting the
    // gateway's task send it (`drive`).
    if let Some(outcome) = outcome {
        running.reply.send(outcome);
    }
    instance.pending_report = Some((running.request_id, duration, status));
    Phase::Answered
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

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
