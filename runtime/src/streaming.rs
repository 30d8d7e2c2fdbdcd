//! Response streaming: which invocations stream, and the pipe between the handler's `res` and
//! the body `lambda_runtime` posts to the Runtime API.
//!
//! A streamed invocation is answered with Lambda's streaming protocol: one chunked `POST
//! …/response` with `Lambda-Runtime-Function-Response-Mode: streaming`, whose body is a JSON
//! *prelude* (`statusCode`, `headers`, `cookies`), eight NUL bytes, then the response body as
//! the handler writes it. `lambda_runtime` sends that POST as soon as the service returns a
//! [`StreamResponse`], and pulls the body from a [`BodyStream`] chunk by chunk.
//!
//! The handler runs in its own task and writes through a [`Writer`] (held by its
//! [`NextApiResponse`](crate::NextApiResponse)): the head (status and headers) goes out once,
//! with the first write (or `write_head`, `end`, or the handler returning), which lets the
//! service return; each chunk is queued without waiting (`res.write` is synchronous, as in
//! Node) and handed to `lambda_runtime` the next time it polls; `res.drain()` waits until the
//! queue is empty, which is the handler's backpressure. The body ends when the response ends
//! (`res.end()`, the handler returning, or its deadline).
//!
//! Two things differ from Next's `http.ServerResponse` and cannot be helped:
//!
//! - `lambda_runtime` adds `Content-Type: application/octet-stream` to a prelude without one
//!   (Next sends no content type then): a streamed route should set its content type.
//! - A stream has no trailers to report a failure after the head left (`lambda_runtime` would
//!   write the error into the body as text), so the runtime never fails a stream: it ends it
//!   and logs why.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use bytes::Bytes;
use futures_core::Stream;
use http::header::SET_COOKIE;
use http::{HeaderMap, HeaderValue, StatusCode};
use lambda_http::request::LambdaRequest;
use lambda_runtime::{MetadataPrelude, StreamResponse};
use tokio::sync::{oneshot, Notify};
use tokio::task::JoinHandle;

use crate::dispatch::{Endpoint, Outgoing, Route};
use crate::manifest::{ResponseMode, RESPONSE_MODE_ENV};
use crate::watchdog::{Answer, Armed, Watchdog};

/// What separates the prelude from the body in Lambda's streaming protocol.
pub(crate) const PRELUDE_DELIMITER: [u8; 8] = [0; 8];

/// The function's response mode is not one nextr knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{var}={value:?} is not a response mode: use \"stream\" or \"buffered\" (unset means buffered); `nextr build` sets it from nextr.toml's `response`")]
pub struct ResponseModeError {
    /// The variable's name ([`RESPONSE_MODE_ENV`]).
    pub var: &'static str,
    /// The value it had.
    pub value: String,
}

/// The function's [`ResponseMode`] from [`RESPONSE_MODE_ENV`]: `stream` or `buffered`,
/// buffered when unset; any other value (also empty or not UTF-8) is an error naming the
/// variable, so that a typo stops the function at start rather than silently buffering.
pub(crate) fn mode_from_env() -> Result<ResponseMode, ResponseModeError> {
    match std::env::var_os(RESPONSE_MODE_ENV) {
        None => Ok(ResponseMode::Buffered),
        Some(value) => parse_mode(&value.to_string_lossy()),
    }
}

fn parse_mode(value: &str) -> Result<ResponseMode, ResponseModeError> {
    value.parse().map_err(|_| ResponseModeError {
        var: RESPONSE_MODE_ENV,
        value: value.to_owned(),
    })
}

/// Whether one invocation is answered as a stream: only when the function's mode is
/// [`ResponseMode::Stream`] **and** the event came through a front that streams, that is a
/// REST API proxy event (payload 1.0) or a Lambda function URL event (payload 2.0 whose
/// `requestContext.domainName` contains `.lambda-url.`, which also covers `nextr dev`'s
/// `<function>.lambda-url.localhost`). An HTTP API event (payload 2.0 from any other domain) is
/// always answered buffered, as the HTTP API cannot stream: one function can sit behind an
/// HTTP API route and a streaming function URL at once. ALB events are buffered too.
pub(crate) fn streams(mode: ResponseMode, event: &LambdaRequest) -> bool {
    if mode != ResponseMode::Stream {
        return false;
    }
    match event {
        LambdaRequest::ApiGatewayV1(_) => true,
        LambdaRequest::ApiGatewayV2(ag) => ag
            .request_context
            .domain_name
            .as_deref()
            .is_some_and(|d| d.contains(".lambda-url.")),
        _ => false,
    }
}

/// The prelude for a status and headers: `Set-Cookie` values in `cookies`, every other header
/// once with its values joined by `", "` (the way payload 2.0 joins them).
pub(crate) fn prelude(status: u16, headers: &HeaderMap) -> MetadataPrelude {
    let mut joined = HeaderMap::new();
    let mut cookies = Vec::new();
    for name in headers.keys() {
        let mut values = headers.get_all(name).iter();
        if name == SET_COOKIE {
            cookies.extend(values.map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()));
            continue;
        }
        let Some(first) = values.next() else {
            continue;
        };
        let mut line = first.as_bytes().to_vec();
        for v in values {
            line.extend_from_slice(b", ");
            line.extend_from_slice(v.as_bytes());
        }
        // Valid values joined with ", " are a valid value; `from_bytes` still checks.
        if let Ok(v) = HeaderValue::from_bytes(&line) {
            joined.insert(name.clone(), v);
        }
    }
    MetadataPrelude {
        // `check_status` kept the status in 100–999, which `StatusCode` accepts.
        status_code: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        headers: joined,
        cookies,
    }
}

/// A whole answer in the streaming protocol's bytes (prelude, delimiter, body), as the
/// watchdog posts it; `lambda_runtime`'s default content type is applied the same way.
pub(crate) fn encode_whole(out: &Outgoing) -> Result<Vec<u8>, serde_json::Error> {
    let mut prelude = prelude(out.status, &out.headers);
    prelude
        .headers
        .entry(http::header::CONTENT_TYPE)
        .or_insert(HeaderValue::from_static("application/octet-stream"));
    let mut bytes = serde_json::to_vec(&prelude)?;
    bytes.extend_from_slice(&PRELUDE_DELIMITER);
    bytes.extend_from_slice(&out.body);
    Ok(bytes)
}

/// What a streamed invocation has done so far, readable from any thread (the watchdog's).
#[derive(Debug, Default)]
pub(crate) struct Progress {
    head_sent: AtomicBool,
    bytes: AtomicU64,
}

impl Progress {
    /// Whether the head left (a 504 can no longer be sent).
    pub(crate) fn head_sent(&self) -> bool {
        self.head_sent.load(Ordering::Acquire)
    }

    /// Body bytes written to the stream so far.
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Acquire)
    }
}

/// The chunks written and not yet taken by `lambda_runtime`.
#[derive(Default)]
struct Queue {
    chunks: VecDeque<Bytes>,
    /// Bytes in `chunks`.
    queued: usize,
    /// The body is complete: the stream ends once `chunks` is empty.
    closed: bool,
    /// The [`BodyStream`] was dropped (the POST failed): writes are discarded.
    receiver_gone: bool,
    /// The task polling the [`BodyStream`], woken by a write or the end.
    waker: Option<Waker>,
}

struct Shared {
    queue: Mutex<Queue>,
    /// Signalled whenever chunks are taken (or the receiver goes away): wakes `drain`.
    taken: Notify,
    /// Receives the prelude once; `None` after.
    head: Mutex<Option<oneshot::Sender<MetadataPrelude>>>,
    progress: Arc<Progress>,
    /// A HEAD request: the head goes out, body bytes are dropped.
    head_request: bool,
    /// Changes the head's headers as it leaves (the proxy's response headers on a route's
    /// streamed answer).
    head_hook: Mutex<Option<HeadHook>>,
}

/// What [`Writer::on_head`] runs on the headers of a head as it leaves.
pub(crate) type HeadHook = Box<dyn Fn(&mut HeaderMap) + Send>;

impl Shared {
    fn queue(&self) -> MutexGuard<'_, Queue> {
        // A panic cannot leave the queue half-updated (every update is a few plain
        // assignments), so a poisoned lock is still usable.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The handler's end of a streamed response (cheap to clone: every clone is the same pipe).
#[derive(Clone)]
pub(crate) struct Writer {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("head_sent", &self.started())
            .field("bytes", &self.bytes_sent())
            .field("queued", &self.queued())
            .finish()
    }
}

/// The service's end: the prelude when it is known, then the body.
pub(crate) struct Started {
    head: oneshot::Receiver<MetadataPrelude>,
    body: BodyStream,
}

/// A new pipe for one invocation (`head_request`: the request is a HEAD, whose body is
/// dropped).
pub(crate) fn channel(head_request: bool) -> (Writer, Started) {
    let (tx, rx) = oneshot::channel();
    let shared = Arc::new(Shared {
        queue: Mutex::new(Queue::default()),
        taken: Notify::new(),
        head: Mutex::new(Some(tx)),
        progress: Arc::new(Progress::default()),
        head_request,
        head_hook: Mutex::new(None),
    });
    let body = BodyStream {
        shared: Arc::clone(&shared),
    };
    (Writer { shared }, Started { head: rx, body })
}

impl Writer {
    /// Sends the head unless it already left; later calls do nothing (the head is sent once).
    pub(crate) fn send_head(&self, status: u16, headers: &HeaderMap) {
        let sender = self
            .shared
            .head
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(sender) = sender {
            self.shared
                .progress
                .head_sent
                .store(true, Ordering::Release);
            let hook = self
                .shared
                .head_hook
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let prelude = match hook.as_ref() {
                Some(hook) => {
                    let mut headers = headers.clone();
                    hook(&mut headers);
                    prelude(status, &headers)
                }
                None => prelude(status, headers),
            };
            // The receiver is gone only when the service future was dropped (the runtime is
            // shutting down): nothing left to answer.
            let _ = sender.send(prelude);
        }
    }

    /// Sets (or with `None` removes) what changes the head's headers when it leaves: the
    /// proxy's headers reach a streamed answer this way, since its head leaves before the
    /// handler returns.
    pub(crate) fn on_head(&self, hook: Option<HeadHook>) {
        *self
            .shared
            .head_hook
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = hook;
    }

    /// Whether the head left.
    pub(crate) fn started(&self) -> bool {
        self.shared.progress.head_sent()
    }

    /// Queues one chunk (its own chunk on the wire) and wakes the sender; never waits.
    pub(crate) fn push(&self, chunk: Bytes) {
        if chunk.is_empty() || self.shared.head_request {
            return;
        }
        let mut queue = self.shared.queue();
        if queue.receiver_gone || queue.closed {
            return;
        }
        self.shared
            .progress
            .bytes
            .fetch_add(chunk.len() as u64, Ordering::AcqRel);
        queue.queued += chunk.len();
        queue.chunks.push_back(chunk);
        if let Some(waker) = queue.waker.take() {
            waker.wake();
        }
    }

    /// Ends the body (after the chunks already queued).
    pub(crate) fn close(&self) {
        let mut queue = self.shared.queue();
        queue.closed = true;
        if let Some(waker) = queue.waker.take() {
            waker.wake();
        }
    }

    /// A whole answer at once: the head (if it has not left), the body, the end.
    pub(crate) fn complete(&self, out: &Outgoing) {
        if !self.started() {
            self.send_head(out.status, &out.headers);
            self.push(out.body.clone());
        }
        self.close();
    }

    /// Bytes written and not yet taken by the sender (`res.writableLength`).
    pub(crate) fn queued(&self) -> usize {
        self.shared.queue().queued
    }

    /// Body bytes written so far.
    pub(crate) fn bytes_sent(&self) -> u64 {
        self.shared.progress.bytes()
    }

    /// The progress the watchdog reads.
    pub(crate) fn progress(&self) -> Arc<Progress> {
        Arc::clone(&self.shared.progress)
    }

    /// Waits until every chunk written so far has been taken by the sender (or the sender is
    /// gone, when waiting would never end).
    pub(crate) async fn drained(&self) {
        loop {
            // Registered before the check, so a take between the check and the wait still
            // wakes it.
            let mut taken = pin!(self.shared.taken.notified());
            taken.as_mut().enable();
            {
                let queue = self.shared.queue();
                if queue.queued == 0 || queue.receiver_gone {
                    return;
                }
            }
            taken.await;
        }
    }
}

impl Started {
    /// Waits for the head and returns what `lambda_runtime` posts: the prelude, then the body.
    pub(crate) async fn response(self) -> StreamResponse<BodyStream> {
        let metadata_prelude = match self.head.await {
            Ok(prelude) => prelude,
            // Only when every `Writer` went away without a head, which `Finish` prevents; a
            // bare 500 rather than a hung invocation.
            Err(_) => prelude(500, &HeaderMap::new()),
        };
        StreamResponse {
            metadata_prelude,
            stream: self.body,
        }
    }
}

/// A whole answer as a stream response (the head and the full body, already known).
pub(crate) fn whole(out: &Outgoing, head_request: bool) -> StreamResponse<BodyStream> {
    let (writer, started) = channel(head_request);
    writer.complete(out);
    StreamResponse {
        metadata_prelude: prelude(out.status, &out.headers),
        stream: started.body,
    }
}

/// The previous streamed invocation's task: its handler may run on after its stream ended
/// (code after `res.end()`), and the next invocation waits for it, one at a time as on Lambda.
pub(crate) type Previous = Mutex<Option<JoinHandle<()>>>;

/// One streamed invocation: the handler runs in its own task, and the answer is returned as
/// soon as its head is known, with the body the handler goes on writing. A blocked handler is
/// the watchdog's, armed here with the 504 in the streaming protocol.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn respond(
    route: &Arc<Route>,
    endpoint: &Endpoint,
    watchdog: &Arc<Watchdog>,
    previous: &Previous,
    request: LambdaRequest,
    event: &str,
    context: lambda_runtime::Context,
    platform_deadline: Option<Instant>,
) -> Result<StreamResponse<BodyStream>, serde_json::Error> {
    let (_, converted) = crate::lambda::convert(request, event, Some(context), platform_deadline);
    let incoming = match converted {
        Ok(incoming) => incoming,
        Err(out) => return Ok(whole(&out, false)),
    };
    let head = incoming.method == http::Method::HEAD;
    let (writer, started) = channel(head);
    watchdog.arm(Armed {
        deadline: route.deadline(Instant::now(), platform_deadline),
        payload: Answer::Streamed {
            bytes: encode_whole(&route.timeout_response(head))?,
            progress: writer.progress(),
            started_log: route.stream_timeout_log(&incoming.request_id),
        },
        log: route.timeout_log(&incoming.request_id),
        request_id: incoming.request_id.clone(),
    });
    let task = tokio::spawn({
        let route = Arc::clone(route);
        let watchdog = Arc::clone(watchdog);
        let endpoint = endpoint.clone();
        async move {
            let finish = Finish(writer.clone());
            let (out, logs) = route.dispatch_to(&endpoint, incoming, Some(writer)).await;
            finish.complete(&out);
            watchdog.disarm();
            for line in &logs {
                eprintln!("{line}");
            }
        }
    });
    *previous.lock().unwrap_or_else(|e| e.into_inner()) = Some(task);
    Ok(started.response().await)
}

/// The body `lambda_runtime` pulls: each queued chunk as one item, in order; it ends once the
/// response is closed and every chunk was taken. Never yields an error (see the module docs).
pub(crate) struct BodyStream {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for BodyStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodyStream").finish_non_exhaustive()
    }
}

impl Stream for BodyStream {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut queue = self.shared.queue();
        if let Some(chunk) = queue.chunks.pop_front() {
            queue.queued -= chunk.len();
            drop(queue);
            self.shared.taken.notify_waiters();
            return Poll::Ready(Some(Ok(chunk)));
        }
        if queue.closed {
            return Poll::Ready(None);
        }
        queue.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for BodyStream {
    fn drop(&mut self) {
        let mut queue = self.shared.queue();
        queue.receiver_gone = true;
        queue.chunks.clear();
        queue.queued = 0;
        drop(queue);
        self.shared.taken.notify_waiters();
    }
}

/// Makes sure a streamed invocation always answers: when the handler's task ends (normally,
/// or by unwinding) without a head, it sends a 500; and it always ends the body.
pub(crate) struct Finish(pub(crate) Writer);

impl Finish {
    /// The task's answer: `out` when the head has not left, else just the end of the body.
    pub(crate) fn complete(self, out: &Outgoing) {
        self.0.complete(out);
    }
}

impl Drop for Finish {
    fn drop(&mut self) {
        if !self.0.started() {
            self.0.send_head(500, &HeaderMap::new());
            self.0.push(Bytes::from_static(b"Internal Server Error"));
        }
        self.0.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &str) -> LambdaRequest {
        let path = format!(
            "{}/tests/fixtures/events/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(path).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    fn with_domain(domain: &str) -> LambdaRequest {
        let path = format!(
            "{}/tests/fixtures/events/v2-named-stage.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let mut json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        json["requestContext"]["domainName"] = serde_json::json!(domain);
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn stream_mode_streams_rest_and_function_url_events_only() {
        let stream = ResponseMode::Stream;
        assert!(streams(stream, &event("v1-rest.json")));
        assert!(streams(stream, &event("function-url.json")));
        assert!(streams(
            stream,
            &with_domain("abc.lambda-url.eu-west-1.on.aws")
        ));
        // `nextr dev`'s function URLs.
        assert!(streams(stream, &with_domain("loop.lambda-url.localhost")));
        // HTTP API events, ALB events and 2.0 events without a domain are answered buffered.
        assert!(!streams(stream, &event("v2-named-stage.json")));
        assert!(!streams(stream, &with_domain("lambda-url.example.com")));
        assert!(!streams(stream, &event("alb.json")));
        let mut json: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(format!(
                "{}/tests/fixtures/events/v2-named-stage.json",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap(),
        )
        .unwrap();
        json["requestContext"]
            .as_object_mut()
            .unwrap()
            .remove("domainName");
        assert!(!streams(stream, &serde_json::from_value(json).unwrap()));
    }

    #[test]
    fn buffered_mode_never_streams() {
        for name in ["v1-rest.json", "function-url.json", "v2-named-stage.json"] {
            assert!(!streams(ResponseMode::Buffered, &event(name)), "{name}");
        }
    }

    #[test]
    fn the_mode_is_stream_or_buffered_and_nothing_else() {
        assert_eq!(parse_mode("stream"), Ok(ResponseMode::Stream));
        assert_eq!(parse_mode("buffered"), Ok(ResponseMode::Buffered));
        for typo in ["steam", "Stream", "", " stream", "buffer"] {
            let e = parse_mode(typo).unwrap_err();
            assert!(e.to_string().starts_with("NEXTR_RESPONSE_MODE="), "{e}");
            assert_eq!(e.value, typo);
        }
    }

    #[test]
    fn a_started_stream_past_its_deadline_is_ended_where_it_is_and_logged() {
        use crate::config::RouteConfig;
        use crate::dispatch::{HandlerFuture, Incoming};
        use crate::{NextApiRequest, NextApiResponse, RouteSpec};

        fn handler<'a>(
            _: &'a mut NextApiRequest,
            res: &'a mut NextApiResponse,
        ) -> HandlerFuture<'a> {
            Box::pin(async move {
                res.write("partial")?;
                tokio::time::sleep(std::time::Duration::from_secs(60)).await;
                res.end()
            })
        }
        let route = Route::new(RouteSpec {
            page: "/api/s",
            file: "api/s.rs",
            config: RouteConfig {
                max_duration: Some(1),
                ..RouteConfig::default()
            },
        });
        let incoming = Incoming {
            method: http::Method::GET,
            target: "/api/s".into(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
            extensions: http::Extensions::new(),
            request_id: "r1".into(),
            platform_deadline: None,
            source_ip: None,
            rewrite_depth: 0,
        };
        let (writer, started) = channel(false);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (_, logs) = runtime.block_on(route.dispatch_to(
            &Endpoint::Pages(handler),
            incoming,
            Some(writer.clone()),
        ));
        assert_eq!(
            logs,
            ["nextr: [r1] /api/s (api/s.rs): the handler did not finish within 1 s (max_duration) after its response started streaming; the stream was ended after 7 bytes"]
        );
        // The body is what was written, then its end: no error text.
        let mut body = started.body;
        let mut cx = Context::from_waker(Waker::noop());
        let mut got = Vec::new();
        while let Poll::Ready(Some(Ok(chunk))) = Pin::new(&mut body).poll_next(&mut cx) {
            got.extend_from_slice(&chunk);
        }
        assert_eq!(got, b"partial");
        assert!(matches!(
            Pin::new(&mut body).poll_next(&mut cx),
            Poll::Ready(None)
        ));
    }

    #[test]
    fn prelude_puts_cookies_apart_and_joins_repeated_headers() {
        let mut headers = HeaderMap::new();
        headers.append("set-cookie", HeaderValue::from_static("a=1; Path=/"));
        headers.append("set-cookie", HeaderValue::from_static("b=2"));
        headers.append("vary", HeaderValue::from_static("accept"));
        headers.append("vary", HeaderValue::from_static("origin"));
        headers.append(
            "content-type",
            HeaderValue::from_static("text/event-stream"),
        );
        let p = prelude(201, &headers);
        assert_eq!(p.status_code, StatusCode::CREATED);
        assert_eq!(p.cookies, vec!["a=1; Path=/", "b=2"]);
        assert_eq!(p.headers.get_all("vary").iter().count(), 1);
        assert_eq!(p.headers["vary"], "accept, origin");
        assert!(p.headers.get("set-cookie").is_none());
        let json: serde_json::Value = serde_json::to_value(&p).unwrap();
        assert_eq!(json["statusCode"], 201);
        assert_eq!(json["headers"]["content-type"], "text/event-stream");
    }
}
