//! The Lambda Runtime API (version 2018-06-01) that one function instance talks to.
//!
//! Every instance gets its own listener on 127.0.0.1, as every Lambda execution environment
//! has its own endpoint; `AWS_LAMBDA_RUNTIME_API` is its `host:port`. The server only parses
//! and answers HTTP: each call is handed to the instance's driver (see `pool`), which owns the
//! invocation state and decides the answer, mirroring Lambda's:
//!
//! | call | answer |
//! |---|---|
//! | `GET /2018-06-01/runtime/invocation/next` | 200, the event, `Lambda-Runtime-Aws-Request-Id`, `-Deadline-Ms`, `-Invoked-Function-Arn`, `-Trace-Id`, and `-Client-Context` for an invocation that carried one (the Invoke API's `X-Amz-Client-Context`, decoded) (long-polls until there is one) |
//! | `POST …/invocation/{id}/response` | 202 `{"status":"OK"}`; 400 `InvalidRequestID` for another id; 413 `RequestEntityTooLarge` past 6 MB (the invocation then fails) |
//! | the same with `Lambda-Runtime-Function-Response-Mode: streaming` | the body is streamed to the client as it arrives, without a size limit (see `stream`); 202 once the runtime ends it; 403 `InvalidStateTransition` for a second answer |
//! | `POST …/invocation/{id}/error` | 202; the invocation fails with the posted error (`Lambda-Runtime-Function-Error-Type`) |
//! | `POST /2018-06-01/runtime/init/error` | 202; the init fails |
//! | a call the current state does not allow | 403 `InvalidStateTransition` |
//!
//! A streamed response (chunked, `Content-Type: application/vnd.awslambda.http-integration-response`)
//! starts with a JSON prelude (`statusCode`, `headers`, `multiValueHeaders`, `cookies`) and
//! 8 NUL bytes; the client gets its status and headers as soon as the prelude is complete,
//! then every chunk as the function writes it. A malformed prelude is a function error. An
//! error the runtime reports in the trailers (`Lambda-Runtime-Function-Error-Type`, `-Body`)
//! is logged and cuts the client's response (no terminating chunk), as does a runtime that
//! dies mid-stream. The instance takes its next invocation only once the stream has ended,
//! and the invocation's REPORT comes then, with the stream's whole duration; the function's
//! timeout applies to the whole stream.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use super::stream::pump::{pump, BodyKind};
use super::stream::StreamGrant;

/// Lambda's synchronous response limit, exactly as the Runtime API enforces it
/// (6 MiB plus 100 bytes of envelope, `interop.MaxPayloadSize`).
pub const MAX_RESPONSE_BYTES: usize = nextr::limits::LAMBDA_PAYLOAD_BYTES + 100;

const PREFIX: &str = "/2018-06-01/runtime/";

/// An event handed to the runtime by `/invocation/next`.
#[derive(Debug, Clone)]
pub struct NextEvent {
    /// `Lambda-Runtime-Aws-Request-Id`.
    pub request_id: String,
    /// `Lambda-Runtime-Deadline-Ms`.
    pub deadline_ms: u64,
    /// `Lambda-Runtime-Invoked-Function-Arn`.
    pub function_arn: String,
    /// `Lambda-Runtime-Trace-Id`.
    pub trace_id: String,
    /// The event JSON.
    pub payload: Bytes,
    /// `Lambda-Runtime-Client-Context`: the invoker's client context, decoded JSON.
    pub client_context: Option<String>,
}

/// One Runtime API call, for the instance's driver to decide.
#[derive(Debug)]
pub enum ApiCall {
    /// `GET /invocation/next`: answer with an event when there is one (or refuse the call).
    Next(oneshot::Sender<Result<NextEvent, Answer>>),
    /// `POST /invocation/{id}/response`.
    Response {
        /// The id in the path.
        request_id: String,
        /// The response payload.
        body: Bytes,
        /// The HTTP answer.
        reply: oneshot::Sender<Answer>,
    },
    /// `POST /invocation/{id}/response` in streaming mode
    /// (`Lambda-Runtime-Function-Response-Mode: streaming`): may the body be streamed?
    Stream {
        /// The id in the path.
        request_id: String,
        /// Where to stream it, or the refusal.
        reply: oneshot::Sender<Result<StreamGrant, Answer>>,
    },
    /// `POST /invocation/{id}/response` with a body past [`MAX_RESPONSE_BYTES`].
    ResponseTooLarge {
        /// The id in the path.
        request_id: String,
        /// The HTTP answer.
        reply: oneshot::Sender<Answer>,
    },
    /// `POST /invocation/{id}/error`.
    Error {
        /// The id in the path.
        request_id: String,
        /// `Lambda-Runtime-Function-Error-Type`, if sent.
        error_type: Option<String>,
        /// The error document.
        body: Bytes,
        /// The HTTP answer.
        reply: oneshot::Sender<Answer>,
    },
    /// `POST /init/error`.
    InitError {
        /// `Lambda-Runtime-Function-Error-Type`, if sent.
        error_type: Option<String>,
        /// The error document.
        body: Bytes,
        /// The HTTP answer.
        reply: oneshot::Sender<Answer>,
    },
}

/// The driver's answer to a response, error or init-error call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// 202 `{"status":"OK"}`.
    Accepted,
    /// 400: the id is not the current invocation's.
    InvalidRequestId,
    /// 403: not allowed in the current state.
    InvalidState,
    /// 413: the response is over the limit.
    TooLarge,
}

/// A running Runtime API endpoint; dropping it stops the server.
///
/// Only the instance nextr started may use it: a connection is served only when the
/// instance's `bootstrap` process holds its other end (its socket is among the process's
/// open files, read from `/proc`), so another local process that finds the port can neither
/// take an event (its headers, cookies) nor forge an answer; it gets 403. The check runs once
/// per connection (the runtime keeps its connections open). `AWS_LAMBDA_RUNTIME_API` stays
/// `127.0.0.1:PORT`, as every Lambda runtime client expects.
pub struct RuntimeApi {
    addr: SocketAddr,
    caller: watch::Sender<Option<u32>>,
    task: JoinHandle<()>,
}

impl RuntimeApi {
    /// Binds 127.0.0.1 on a free port and serves, sending every call to `calls`; no
    /// connection is served before [`RuntimeApi::allow`] names the process.
    pub async fn start(calls: mpsc::Sender<ApiCall>) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (caller, allowed) = watch::channel(None);
        let task = tokio::spawn(serve(listener, allowed, calls));
        Ok(RuntimeApi { addr, caller, task })
    }

    /// The address for `AWS_LAMBDA_RUNTIME_API` (`127.0.0.1:PORT`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The process whose connections are served: the instance's `bootstrap`.
    pub fn allow(&self, pid: u32) {
        let _ = self.caller.send(Some(pid));
    }
}

/// How long a connection waits for the instance's process to be named (it connects right
/// after its start, which names it).
const CALLER_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Whether the connection from `peer` to `server` belongs to the process `pid`.
#[cfg(target_os = "linux")]
fn belongs_to(pid: u32, peer: SocketAddr, server: SocketAddr) -> bool {
    let hex = |a: SocketAddr| match a.ip() {
        std::net::IpAddr::V4(ip) => {
            format!("{:08X}:{:04X}", u32::from_le_bytes(ip.octets()), a.port())
        }
        std::net::IpAddr::V6(_) => String::new(),
    };
    let (local, remote) = (hex(peer), hex(server));
    let Ok(table) = std::fs::read_to_string("/proc/net/tcp") else {
        return false;
    };
    // `sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode`
    let inode = table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        (fields.get(1) == Some(&local.as_str()) && fields.get(2) == Some(&remote.as_str()))
            .then(|| fields.get(9).map(|i| format!("socket:[{i}]")))
            .flatten()
    });
    let Some(socket) = inode else {
        return false;
    };
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.flatten()
        .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|l| l.as_os_str() == socket.as_str()))
}

/// Elsewhere there is no `/proc` to ask: every local connection is served.
#[cfg(not(target_os = "linux"))]
fn belongs_to(_pid: u32, _peer: SocketAddr, _server: SocketAddr) -> bool {
    true
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    listener: TcpListener,
    allowed: watch::Receiver<Option<u32>>,
    calls: mpsc::Sender<ApiCall>,
) {
    let server = listener.local_addr().ok();
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            // Out of file descriptors, typically: do not spin.
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let calls = calls.clone();
        let mut allowed = allowed.clone();
        // The JoinSet aborts the connections when the server task is aborted.
        connections.spawn(async move {
            let pid = tokio::time::timeout(CALLER_WAIT, allowed.wait_for(Option::is_some))
                .await
                .ok()
                .and_then(|r| r.ok().and_then(|p| *p));
            let trusted = match (pid, server) {
                (Some(pid), Some(server)) => belongs_to(pid, peer, server),
                _ => false,
            };
            let service = service_fn(move |req| {
                let calls = calls.clone();
                async move {
                    if trusted {
                        handle(req, calls).await
                    } else {
                        Ok(error(
                            StatusCode::FORBIDDEN,
                            "AccessDeniedException",
                            "Only the execution environment's own runtime may use this Runtime API",
                        ))
                    }
                }
            });
            let _ = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
        while connections.try_join_next().is_some() {}
    }
}

fn json(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn error(status: StatusCode, error_type: &str, message: &str) -> Response<Full<Bytes>> {
    json(
        status,
        serde_json::json!({"errorMessage": message, "errorType": error_type}).to_string(),
    )
}

fn answer(a: Answer) -> Response<Full<Bytes>> {
    match a {
        Answer::Accepted => json(StatusCode::ACCEPTED, r#"{"status":"OK"}"#.into()),
        Answer::InvalidRequestId => error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestID",
            "Invalid request ID",
        ),
        Answer::InvalidState => error(
            StatusCode::FORBIDDEN,
            "InvalidStateTransition",
            "The call is not allowed in the runtime's current state",
        ),
        Answer::TooLarge => error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            &format!("Exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."),
        ),
    }
}

/// The instance is going away; the runtime will be stopped with it.
fn gone() -> Response<Full<Bytes>> {
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "ServiceException",
        "The execution environment is shutting down",
    )
}

fn header_text(req: &Request<Incoming>, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

async fn ask(
    calls: &mpsc::Sender<ApiCall>,
    make: impl FnOnce(oneshot::Sender<Answer>) -> ApiCall,
) -> Response<Full<Bytes>> {
    let (tx, rx) = oneshot::channel();
    if calls.send(make(tx)).await.is_err() {
        return gone();
    }
    match rx.await {
        Ok(a) => answer(a),
        Err(_) => gone(),
    }
}

async fn handle(
    req: Request<Incoming>,
    calls: mpsc::Sender<ApiCall>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_owned();
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return Ok(error(
            StatusCode::NOT_FOUND,
            "NotFound",
            "No such Runtime API route",
        ));
    };
    let post = req.method() == Method::POST;
    if rest == "invocation/next" {
        if req.method() != Method::GET {
            return Ok(error(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                "Use GET",
            ));
        }
        let (tx, rx) = oneshot::channel();
        if calls.send(ApiCall::Next(tx)).await.is_err() {
            return Ok(gone());
        }
        return Ok(match rx.await {
            Ok(Ok(event)) => next_response(event),
            Ok(Err(refused)) => answer(refused),
            Err(_) => gone(),
        });
    }
    if rest == "init/error" {
        if !post {
            return Ok(error(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                "Use POST",
            ));
        }
        let error_type = header_text(&req, "lambda-runtime-function-error-type");
        let body = read_body(req).await.unwrap_or_else(|_| Bytes::new());
        return Ok(ask(&calls, |reply| ApiCall::InitError {
            error_type,
            body,
            reply,
        })
        .await);
    }
    let Some(rest) = rest.strip_prefix("invocation/") else {
        return Ok(error(
            StatusCode::NOT_FOUND,
            "NotFound",
            "No such Runtime API route",
        ));
    };
    let Some((request_id, action)) = rest.rsplit_once('/') else {
        return Ok(error(
            StatusCode::NOT_FOUND,
            "NotFound",
            "No such Runtime API route",
        ));
    };
    let request_id = request_id.to_owned();
    if action == "response" && post && is_streaming(&req) {
        return Ok(stream_response(req, request_id, &calls).await);
    }
    match (action, post) {
        ("response", true) => match read_body(req).await {
            Ok(body) => Ok(ask(&calls, |reply| ApiCall::Response {
                request_id,
                body,
                reply,
            })
            .await),
            Err(BodyError::TooLarge) => Ok(ask(&calls, |reply| ApiCall::ResponseTooLarge {
                request_id,
                reply,
            })
            .await),
            // The runtime hung up mid-body; nobody reads this answer.
            Err(BodyError::Broken) => Ok(gone()),
        },
        ("error", true) => {
            let error_type = header_text(&req, "lambda-runtime-function-error-type");
            let body = read_body(req).await.unwrap_or_else(|_| Bytes::new());
            Ok(ask(&calls, |reply| ApiCall::Error {
                request_id,
                error_type,
                body,
                reply,
            })
            .await)
        }
        ("response" | "error", false) => Ok(error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "Use POST",
        )),
        _ => Ok(error(
            StatusCode::NOT_FOUND,
            "NotFound",
            "No such Runtime API route",
        )),
    }
}

/// Whether a response POST streams (`Lambda-Runtime-Function-Response-Mode: streaming`).
fn is_streaming(req: &Request<Incoming>) -> bool {
    req.headers()
        .get("lambda-runtime-function-response-mode")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("streaming"))
}

/// A streamed response: once the driver accepts it, the body goes to the client chunk by
/// chunk as it arrives (no size limit); the runtime gets its 202 when its stream has ended,
/// after the driver has been told how it ended.
async fn stream_response(
    req: Request<Incoming>,
    request_id: String,
    calls: &mpsc::Sender<ApiCall>,
) -> Response<Full<Bytes>> {
    let (tx, rx) = oneshot::channel();
    if calls
        .send(ApiCall::Stream {
            request_id,
            reply: tx,
        })
        .await
        .is_err()
    {
        return gone();
    }
    match rx.await {
        Ok(Ok(grant)) => {
            let kind = BodyKind::of(req.headers().get(http::header::CONTENT_TYPE));
            pump(req.into_body(), kind, grant).await;
            answer(Answer::Accepted)
        }
        Ok(Err(refused)) => answer(refused),
        Err(_) => gone(),
    }
}

enum BodyError {
    TooLarge,
    Broken,
}

/// The whole body, refusing more than [`MAX_RESPONSE_BYTES`].
async fn read_body(req: Request<Incoming>) -> Result<Bytes, BodyError> {
    match Limited::new(req.into_body(), MAX_RESPONSE_BYTES)
        .collect()
        .await
    {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(BodyError::TooLarge),
        Err(_) => Err(BodyError::Broken),
    }
}

fn next_response(event: NextEvent) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(event.payload));
    let h = r.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let mut put = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    };
    put("lambda-runtime-aws-request-id", event.request_id);
    put("lambda-runtime-deadline-ms", event.deadline_ms.to_string());
    put("lambda-runtime-invoked-function-arn", event.function_arn);
    put("lambda-runtime-trace-id", event.trace_id);
    if let Some(context) = event.client_context {
        put("lambda-runtime-client-context", context);
    }
    r
}
