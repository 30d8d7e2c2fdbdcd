//! The HTTP front: what the deployed API Gateway HTTP API answers, request by request.
//!
//! 1. A path that does not percent-decode, or two `Host` headers: 400
//!    `{"message":"Bad Request"}` (API Gateway rejects them before routing).
//! 2. Routing as the deployed API routes: the gateway model's selection over the manifest's
//!    route keys, on the decoded path (`nextr_infra::gateway`). What no key takes goes to the
//!    `$default` route's function, the app's built fallback bundle, which answers as Next
//!    does: 308 for `//`, `\` and trailing slashes (`Location`, `Refresh: 0;url=…`, the
//!    destination as the body) and 404. Where this differs from `next start` (an encoded
//!    path such as `/api/%61bout` reaches the static route `about`, an encoded `/` separates
//!    segments), it is because API Gateway decodes the path before routing; `nextr dev`
//!    repeats the build's warnings about route pairs whose precedence differs.
//! 3. A body over HTTP API's 10 MB payload limit, or an event over Lambda's 6 MB invocation
//!    limit: 413 `{"message":"Request Entity Too Large"}`.
//! 4. The payload 2.0 event goes to the route's function; its response is mapped back
//!    (see `response`). Any function error — an error the runtime reported, a crash, a
//!    timeout, an init failure, a response over 6 MB, or a malformed response — is
//!    500 `{"message":"Internal Server Error"}`, as HTTP APIs answer a failed Lambda
//!    invocation; no answer within the integration timeout (30 s, HTTP API's maximum and
//!    default) is 503 `{"message":"Service Unavailable"}`.
//!
//! 5. A streamed response (the function's runtime posted in streaming mode, see
//!    `runtime_api`) becomes an HTTP/1.1 response with the prelude's status and headers (and
//!    a `Set-Cookie` per cookie), `Transfer-Encoding: chunked`, each chunk flushed to the
//!    client as the function writes it (`stream::body`). Only a REST API streams (its
//!    `responseTransferMode: STREAM`): it waits for a streaming route's first bytes up to
//!    `REST_API_STREAM_TIMEOUT_S` and closes a stream that sends nothing for
//!    `REST_API_STREAM_IDLE_S` (`EmulatorConfig::stream_idle_timeout`); an HTTP API invokes
//!    buffered, so a stream reaching it is a function error (500, and a log line saying why).
//!    A stream the function ends with an error, by crashing or at its timeout is cut: the
//!    connection closes without the terminating chunk. A client that goes away only stops
//!    the forwarding; the invocation runs to its end.
//!
//! Before step 4, the protections the manifest sets (`protect`): a CORS preflight is answered
//! `204` by the gateway itself, and a request over the stage's or its route's throttle is
//! `429 {"message":"Too Many Requests"}`; after it, behind an HTTP API with CORS, the
//! function's answer gets the gateway's CORS headers instead of its own.
//!
//! Requests whose `Host` is `<function-name>.lambda-url.localhost[:port]` are not the API's:
//! they go to that function's URL (see `function_url`).
//!
//! Every API answer carries `apigw-requestid`, as API Gateway's do.
//!
//! With a request log (`EmulatorConfig::request_log`, `nextr dev`), each request is logged
//! once its response's head is ready (`logs::request_line`): for a streamed response that is
//! the time to its first byte, not the stream's length. Who answered travels with the
//! response as an [`Answerer`] extension, set where a function was invoked; a response
//! without one is the gateway's own.
//!
//! Behind a REST API (`gateway = "rest"`) the same steps run on the REST model
//! (`nextr_infra::gateway::rest_api`): resources matched on the path as received, payload 1.0
//! events, 502 `{"message": "Internal server error"}` for a failed function and 504
//! `{"message": "Endpoint request timed out"}` for a timeout. The deployed API serves under
//! `/{stage}`; the emulator serves at the root and names the stage in
//! `requestContext.stage` and `requestContext.path`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, Version};
use http_body_util::{BodyExt, Either, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;

use nextr::limits::LAMBDA_PAYLOAD_BYTES;
use nextr::manifest::GatewayKind;
use nextr_infra::gateway::http_api::event::{ClientRequest, RequestMeta};
use nextr_infra::gateway::http_api::response::Mapped;
use nextr_infra::gateway::GatewayError;

use super::deployment::Resolved;
use super::function_url;
use super::logs::{self, Answerer, RequestLine, RequestLog};
use super::pool::{Invoked, Outcome};
use super::protect::Verdict;
use super::stream::body::{ClientBody, IdleLog};
use super::stream::Streamed;
use super::Emulator;

/// What the front answers with: a whole body, or a streamed one.
pub(super) type FrontBody = Either<Full<Bytes>, ClientBody>;

/// A whole-body answer as a front answer.
pub(super) fn whole(r: Response<Full<Bytes>>) -> Response<FrontBody> {
    r.map(Either::Left)
}

/// A streamed answer: the prelude's status and headers, then the chunks as they come
/// (hyper frames a body of unknown length as `Transfer-Encoding: chunked` and writes each
/// chunk as it is yielded).
pub(super) fn streamed(s: Streamed, idle: Option<(Duration, IdleLog)>) -> Response<FrontBody> {
    let mut r = Response::new(Either::Right(ClientBody::new(s.body, idle)));
    *r.status_mut() = s.prelude.status;
    let headers = r.headers_mut();
    for (name, value) in s.prelude.headers {
        headers.append(name, value);
    }
    r
}

/// Marks a response as a function's answer, for the request log.
pub(super) fn answered_by(mut r: Response<FrontBody>, answerer: Answerer) -> Response<FrontBody> {
    r.extensions_mut().insert(answerer);
    r
}

/// What the request log needs of a request, read before the request is consumed; `None` when
/// there is no request log.
struct Logged {
    method: http::Method,
    target: String,
    started: Instant,
    style: RequestLog,
}

impl Logged {
    fn of<B>(req: &Request<B>, style: RequestLog) -> Option<Self> {
        if style == RequestLog::Off {
            return None;
        }
        Some(Logged {
            method: req.method().clone(),
            target: req
                .uri()
                .path_and_query()
                .map(|pq| pq.as_str().to_owned())
                .unwrap_or_else(|| req.uri().to_string()),
            started: Instant::now(),
            style,
        })
    }

    /// Writes the request's line, now that its response's head is ready.
    fn write<B>(self, r: &mut Response<B>, emulator: &Emulator) {
        let answerer = r
            .extensions_mut()
            .remove::<Answerer>()
            .unwrap_or(Answerer::Gateway);
        let line = RequestLine {
            method: self.method.as_str(),
            target: &self.target,
            status: r.status().as_u16(),
            duration: self.started.elapsed(),
            answerer: &answerer,
        };
        emulator
            .logger()
            .line(logs::request_line(&line, self.style));
    }
}

/// Headers of a function's buffered response that describe its own hop, not the response:
/// the front owns the client's connection and frames the body itself, so they are dropped (as
/// a streamed prelude's are, `stream::prelude`). Forwarded, a function's
/// `Connection: keep-alive` reached a client the front was closing on as
/// `Connection: keep-alive, close`.
const HOP_BY_HOP: [&str; 5] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
];

/// A function's buffered response as the front sends it: its status, its headers but the
/// [`HOP_BY_HOP`] ones, its body.
pub(super) fn buffered(mapped: Mapped) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(mapped.body));
    *r.status_mut() = mapped.status;
    let headers = r.headers_mut();
    for (name, value) in mapped.headers {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            headers.append(name, value);
        }
    }
    r
}

/// Why a request's body could not be read.
pub(super) enum BodyFailure {
    /// Over the limit.
    TooLarge,
    /// The client hung up mid-body, or stalled past the body timeout.
    Broken,
}

/// Reads a request's whole body within the front's body timeout, up to `max` bytes.
pub(super) async fn read_body(
    body: Incoming,
    max: usize,
    emulator: &Emulator,
) -> Result<Bytes, BodyFailure> {
    let read = Limited::new(body, max).collect();
    match tokio::time::timeout(emulator.config().front.body_timeout, read).await {
        Ok(Ok(c)) => Ok(c.to_bytes()),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(BodyFailure::TooLarge),
        Ok(Err(_)) | Err(_) => Err(BodyFailure::Broken),
    }
}

/// Accepts connections until `stop` turns true.
///
/// As a production front does, it bounds what clients can hold: a connection must deliver a
/// request's headers within the header timeout, also when it idles between requests (then it
/// is closed), and a request's body within the body timeout; at most `max_connections` are
/// open at once, and one more is answered 503 and closed, so stalled clients cannot exhaust
/// the process's file descriptors.
pub async fn serve(
    listener: TcpListener,
    emulator: Arc<Emulator>,
    mut stop: watch::Receiver<bool>,
) {
    let local_port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    let limits = emulator.config().front;
    let permits = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.changed() => break,
        };
        let Ok((stream, peer)) = accepted else {
            // Out of file descriptors, typically: do not spin.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let emulator = emulator.clone();
        let permit = permits.clone().try_acquire_owned().ok();
        connections.spawn(async move {
            let mut builder = http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .keep_alive(permit.is_some());
            let log_style = emulator.config().request_log;
            if permit.is_none() {
                let busy = service_fn(|req| {
                    let logged = Logged::of(&req, log_style);
                    let emulator = emulator.clone();
                    async move {
                        let mut r = gateway_error(GatewayError::Timeout, &RequestMeta::now());
                        r.headers_mut()
                            .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
                        let mut r = whole(r);
                        if let Some(logged) = logged {
                            logged.write(&mut r, &emulator);
                        }
                        Ok::<_, Infallible>(r)
                    }
                });
                let _ = builder.serve_connection(TokioIo::new(stream), busy).await;
                return;
            }
            let service = service_fn(move |req| {
                let emulator = emulator.clone();
                let logged = Logged::of(&req, log_style);
                async move {
                    let mut r = handle(req, peer, local_port, &emulator).await;
                    if let Some(logged) = logged {
                        logged.write(&mut r, &emulator);
                    }
                    Ok::<_, Infallible>(r)
                }
            });
            let _ = builder
                .serve_connection(TokioIo::new(stream), service)
                .await;
            drop(permit);
        });
        while connections.try_join_next().is_some() {}
    }
}

/// The request line plus header values, as API Gateway counts them against its limit.
fn header_bytes<B>(req: &Request<B>, target: &str) -> usize {
    let line = req.method().as_str().len() + 1 + target.len() + 1 + "HTTP/1.1".len();
    line + req.headers().values().map(|v| v.len()).sum::<usize>()
}

fn with_request_id(mut r: Response<Full<Bytes>>, meta: &RequestMeta) -> Response<Full<Bytes>> {
    if let Ok(v) = HeaderValue::from_str(&meta.request_id) {
        r.headers_mut().insert("apigw-requestid", v);
    }
    r
}

fn gateway_error(e: GatewayError, meta: &RequestMeta) -> Response<Full<Bytes>> {
    answer(e.parts(), meta)
}

/// One of the gateway's own answers: status and JSON body, as its kind of API sends them.
fn answer((status, body): (StatusCode, &'static str), meta: &RequestMeta) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    with_request_id(r, meta)
}

/// `nextr dev`'s answer for a route whose file does not build: 500 with the diagnostic as
/// text, so the route keeps its paths and the developer sees why where they called it.
fn does_not_build(text: String, meta: &RequestMeta) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(text)));
    *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    with_request_id(r, meta)
}

/// Next's redirect: 308 with `Location`, `Refresh` and the destination as the body.
pub(super) fn protocol(v: Version) -> &'static str {
    match v {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_2 => "HTTP/2.0",
        Version::HTTP_3 => "HTTP/3.0",
        _ => "HTTP/1.1",
    }
}

async fn handle(
    req: Request<Incoming>,
    peer: SocketAddr,
    local_port: u16,
    emulator: &Emulator,
) -> Response<FrontBody> {
    let _in_flight = emulator.request_in_flight();
    if let Some(name) = function_url::name_of(&req) {
        return function_url::handle(req, &name, peer, local_port, emulator).await;
    }
    handle_api(req, peer, local_port, emulator).await
}

/// A request to the API (not to a function URL).
async fn handle_api(
    req: Request<Incoming>,
    peer: SocketAddr,
    local_port: u16,
    emulator: &Emulator,
) -> Response<FrontBody> {
    let meta = RequestMeta::now();
    let target = req
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str().to_owned())
        .unwrap_or_else(|| "/".to_owned());
    let deployment = emulator.deployment();
    // From here on, the gateway's own answers are those of the manifest's kind of API (a
    // REST API answers a failed function 502 and a timeout 504).
    let kind = deployment.gateway().kind();
    let gateway_error = |e: GatewayError, meta: &RequestMeta| answer(e.parts_for(kind), meta);
    let fail = |e: GatewayError| whole(gateway_error(e, &meta));
    if header_bytes(&req, &target) > deployment.gateway().kind().max_header_bytes() {
        return fail(GatewayError::HeadersTooLarge);
    }
    let (route, routed) = match deployment.resolve(&target) {
        Resolved::Function(t, routed) => (t, routed),
        Resolved::BadRequest => return fail(GatewayError::BadRequest),
    };
    // The gateway's own protections come before any function: a throttled request or a
    // CORS preflight never reaches one.
    let owner = match &routed {
        nextr_infra::gateway::Routed::Route { owner, .. } => Some(*owner),
        _ => None,
    };
    match deployment
        .protections()
        .check(req.method().as_str(), req.headers(), owner)
    {
        Verdict::Pass => {}
        Verdict::Throttled => return fail(GatewayError::Throttled),
        Verdict::Preflight(headers) => {
            let mut r = Response::new(Full::new(Bytes::new()));
            *r.status_mut() = StatusCode::NO_CONTENT;
            for (name, value) in headers {
                if let Ok(v) = HeaderValue::from_str(&value) {
                    r.headers_mut().append(name, v);
                }
            }
            return whole(with_request_id(r, &meta));
        }
        Verdict::MockPreflight(headers) => {
            // What a MOCK integration sends: its integration response's status and fixed
            // headers, an empty body typed as JSON (its request template's content type).
            let mut r = Response::new(Full::new(Bytes::new()));
            r.headers_mut().insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            for (name, value) in headers {
                if let (Ok(n), Ok(v)) = (
                    http::HeaderName::from_bytes(name.as_bytes()),
                    HeaderValue::from_str(&value),
                ) {
                    r.headers_mut().append(n, v);
                }
            }
            return whole(with_request_id(r, &meta));
        }
    }
    // Said once at start; each request names them again, since nothing else runs.
    if let Some(text) = route.misses_secrets() {
        return whole(does_not_build(text, &meta));
    }
    let Some(pool) = route.function.clone() else {
        // Reported once by the rebuild that left the route out, not at every request.
        if let Some(text) = route.does_not_build() {
            return whole(does_not_build(text, &meta));
        }
        emulator.logger().route(
            &route.page,
            "nextr: this route has no built function in the manifest; run `nextr build`",
        );
        return fail(GatewayError::FunctionFailed);
    };
    let (parts, body) = req.into_parts();
    // Kept only when the gateway's CORS headers will need the request's `Origin`.
    let request_headers = deployment
        .protections()
        .finishes()
        .then(|| parts.headers.clone());
    let max_request = deployment.gateway().kind().max_request_bytes();
    let body = match read_body(body, max_request, emulator).await {
        Ok(body) => body,
        Err(BodyFailure::TooLarge) => return fail(GatewayError::TooLarge),
        // Nobody reads this answer, and the connection is closed with it.
        Err(BodyFailure::Broken) => {
            let mut r = gateway_error(GatewayError::BadRequest, &meta);
            r.headers_mut()
                .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
            return whole(r);
        }
    };
    let client = ClientRequest {
        method: parts.method.as_str(),
        target: &target,
        protocol: protocol(parts.version),
        headers: &parts.headers,
        body: &body,
        source_ip: peer.ip(),
        local_port,
    };
    let Some(payload) = deployment.gateway().event(&client, &routed, &meta) else {
        return fail(GatewayError::BadRequest);
    };
    if payload.len() > LAMBDA_PAYLOAD_BYTES {
        return fail(GatewayError::TooLarge);
    }
    // The gateway's integration timeout for this route: a REST API waits for a streaming
    // route as long as its stream may last (`responseTransferMode: STREAM`).
    let limit = emulator
        .config()
        .integration_timeout
        .unwrap_or_else(|| Duration::from_secs(u64::from(kind.timeout_s(route.response_mode))));
    let invoked = tokio::time::timeout(limit, pool.invoke_noting_start(Bytes::from(payload))).await;
    let cold_start = invoked.as_ref().ok().and_then(|i| i.cold_start);
    let answerer = Answerer::Function {
        route: route.page.clone(),
        function_url: false,
        cold_start,
    };
    let r = match invoked.map(|i: Invoked| i.outcome) {
        Err(_elapsed) => {
            emulator.logger().route(
                &route.page,
                &format!(
                    "nextr: no response within the {} s integration timeout; API Gateway answers {}",
                    limit.as_secs(),
                    GatewayError::Timeout.parts_for(kind).0.as_u16()
                ),
            );
            fail(GatewayError::Timeout)
        }
        Ok(Outcome::Failed(_)) => fail(GatewayError::FunctionFailed),
        Ok(Outcome::Streamed(s)) => {
            if kind != GatewayKind::Rest {
                // Dropping the stream lets the invocation finish unread.
                emulator.logger().route(
                    &route.page,
                    "nextr: the function streamed its response, but an HTTP API invokes it buffered (its runtime streams only REST API and function URL events); API Gateway answers 500",
                );
                fail(GatewayError::FunctionFailed)
            } else {
                let idle = IdleLog {
                    logger: emulator.logger().clone(),
                    route: route.page.clone(),
                };
                let mut r = streamed(s, Some((emulator.config().stream_idle_timeout, idle)));
                if let Ok(v) = HeaderValue::from_str(&meta.request_id) {
                    r.headers_mut().insert("apigw-requestid", v);
                }
                r
            }
        }
        Ok(Outcome::Response(payload)) => match deployment.gateway().response(payload) {
            Ok(mapped) => {
                let mut r = buffered(mapped);
                if let Some(request) = &request_headers {
                    deployment.protections().finish(request, r.headers_mut());
                }
                whole(with_request_id(r, &meta))
            }
            Err(e) => {
                emulator.logger().route(
                    &route.page,
                    &format!(
                        "nextr: {e}; API Gateway answers {}",
                        GatewayError::FunctionFailed.parts_for(kind).0.as_u16()
                    ),
                );
                fail(GatewayError::FunctionFailed)
            }
        },
    };
    answered_by(r, answerer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderName;

    #[test]
    fn a_buffered_response_keeps_its_headers_but_those_of_the_functions_hop() {
        let header = |n: &'static str, v: &'static str| {
            (HeaderName::from_static(n), HeaderValue::from_static(v))
        };
        let r = buffered(Mapped {
            status: StatusCode::OK,
            headers: vec![
                header("content-type", "text/event-stream"),
                header("connection", "keep-alive"),
                header("keep-alive", "timeout=5"),
                header("transfer-encoding", "chunked"),
                header("set-cookie", "a=1"),
                header("set-cookie", "b=2"),
            ],
            body: Bytes::from_static(b"data: 1\n\n"),
        });
        assert_eq!(r.status(), StatusCode::OK);
        let kept: Vec<(&str, &str)> = r
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str(), v.to_str().unwrap()))
            .collect();
        assert_eq!(
            kept,
            [
                ("content-type", "text/event-stream"),
                ("set-cookie", "a=1"),
                ("set-cookie", "b=2"),
            ]
        );
    }
}
