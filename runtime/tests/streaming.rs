//! Response streaming through the real Lambda loop (`nextr::lambda::start` with
//! `NEXTR_RESPONSE_MODE=stream`) against a fake Runtime API that records each chunk of the
//! streaming POST as it arrives (`support/streaming_api.rs`). One process is one function, as on
//! Lambda: the route `/api/loop/[[...slug]]` (`max_duration: 3`) does what its first segment
//! says. The tests that need a process of their own (a start-up error, a handler blocking its
//! thread) run this binary again as a child (`child_function`).

// `read_request` is for the tests with a buffered-only fake API.
#[path = "support/streaming_api.rs"]
mod streaming_api;
#[allow(dead_code)]
mod support;

use std::io::Read;
use std::pin::Pin;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use nextr::deps::futures_core::Stream;
use nextr::prelude::*;
use serde_json::Value as Json;
use streaming_api::{Response, RuntimeApi, Seen, Streamed};

/// The gaps between the SSE example's writes (a second in the issue; shorter here).
const SSE_GAP: Duration = Duration::from_millis(100);
const BIG_CHUNK: usize = 64 * 1024;
const BIG_CHUNKS: usize = 1600; // 100 MiB

/// Lets the SSE handler write its next event once the test saw the previous one arrive.
fn gate() -> &'static tokio::sync::Semaphore {
    static GATE: OnceLock<tokio::sync::Semaphore> = OnceLock::new();
    GATE.get_or_init(|| tokio::sync::Semaphore::new(0))
}

/// When the `after-end` handler returned.
static FINISHED: Mutex<Option<Instant>> = Mutex::new(None);
/// When the SSE handler made each write.
static WROTE: Mutex<Vec<Instant>> = Mutex::new(Vec::new());
/// The most the 100 MB loop ever had queued, just after a write.
static BIG_MAX_QUEUED: AtomicUsize = AtomicUsize::new(0);
/// What the loop without `drain` had queued at its end.
static NO_DRAIN_QUEUED: AtomicUsize = AtomicUsize::new(0);

/// A stream of byte chunks from a list (the last item may be an error).
struct Chunks(Vec<Result<&'static str, String>>);

impl Stream for Chunks {
    type Item = Result<&'static str, String>;

    fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.0.is_empty() {
            Poll::Ready(None)
        } else {
            Poll::Ready(Some(self.0.remove(0)))
        }
    }
}

mod route {
    use super::*;

    nextr::config! { max_duration: 3 }

    pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
        let first = req.query.all("slug").first().cloned().unwrap_or_default();
        match first.as_str() {
            "text" => {
                res.write_head(200, [("Content-Type", "text/plain; charset=utf-8")])?;
                res.write("hello ")?;
                res.write("world")?;
                res.end()
            }
            "sse" => {
                // The issue's example.
                res.write_head(
                    200,
                    [
                        ("Content-Type", "text/event-stream"),
                        ("Cache-Control", "no-store"),
                    ],
                )?;
                for i in 0..10 {
                    if i > 0 {
                        tokio::time::sleep(SSE_GAP).await;
                    }
                    res.write(format!("data: {i}\n\n"))?;
                    WROTE
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(Instant::now());
                    // Until the test saw this event arrive.
                    gate().acquire().await?.forget();
                }
                res.end()
            }
            "json" => res.json(&json!({ "ok": true, "n": [1, 2, 3] })),
            "after-end" => {
                res.write_head(200, [("content-type", "text/plain")])?;
                res.end_with("done")?;
                // Code after `res.end()` runs on, as in Node; the client already has it all.
                tokio::time::sleep(Duration::from_millis(300)).await;
                *FINISHED.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
                Ok(())
            }
            "cookie" => {
                res.set_cookie("session", "a b", &CookieOptions::session())?;
                res.set_cookie("theme", "dark", &CookieOptions::default())?;
                res.append_header("vary", "accept")?;
                res.append_header("vary", "origin")?;
                res.json(&json!({ "ok": true }))
            }
            "slow" => {
                res.write_head(200, [("content-type", "text/plain")])?;
                res.write("partial")?;
                tokio::time::sleep(Duration::from_secs(10)).await;
                res.write("never")?;
                res.end()
            }
            "stream" => {
                res.set_header("content-type", "text/plain")?;
                res.stream(Chunks(vec![Ok("a"), Ok("b"), Ok("c")])).await
            }
            "stream-err" => {
                res.set_header("content-type", "text/plain")?;
                res.stream(Chunks(vec![
                    Ok("a"),
                    Ok("b"),
                    Err("the source failed".into()),
                    Ok("never"),
                ]))
                .await
            }
            "big" => {
                res.set_header("content-type", "application/octet-stream")?;
                let chunk = vec![b'x'; BIG_CHUNK];
                for _ in 0..BIG_CHUNKS {
                    res.write(&chunk)?;
                    BIG_MAX_QUEUED.fetch_max(res.writable_length(), Ordering::SeqCst);
                    res.drain().await;
                }
                res.end()
            }
            "no-drain" => {
                let chunk = vec![b'y'; BIG_CHUNK];
                for _ in 0..16 {
                    res.write(&chunk)?;
                }
                NO_DRAIN_QUEUED.store(res.writable_length(), Ordering::SeqCst);
                res.end()
            }
            "block-before" => {
                // Blocks the runtime's only thread before anything was written.
                std::thread::sleep(Duration::from_secs(8));
                res.send("too late")
            }
            "block-after" => {
                res.write_head(200, [("content-type", "text/plain")])?;
                res.write("x")?;
                // Lets the runtime put the chunk on the wire before the thread blocks.
                res.drain().await;
                tokio::time::sleep(Duration::from_millis(200)).await;
                std::thread::sleep(Duration::from_secs(8));
                res.end()
            }
            _ => res.status(404).json(&json!({ "slug": first })),
        }
    }
}

fn spec() -> nextr::RouteSpec {
    nextr::RouteSpec {
        page: "/api/loop/[[...slug]]",
        file: "api/loop/[[...slug]].rs",
        config: route::config(),
    }
}

/// The in-process function (stream mode) and its Runtime API.
fn api() -> &'static RuntimeApi {
    static API: OnceLock<RuntimeApi> = OnceLock::new();
    API.get_or_init(|| {
        let api = RuntimeApi::start();
        std::env::set_var("AWS_LAMBDA_RUNTIME_API", api.addr.to_string());
        std::env::set_var("AWS_LAMBDA_FUNCTION_NAME", "loop");
        std::env::set_var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128");
        std::env::set_var("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
        std::env::set_var(nextr::manifest::RESPONSE_MODE_ENV, "stream");
        std::thread::spawn(|| nextr::lambda::start(spec(), nextr::handler!(route::handler)));
        api
    })
}

/// One test at a time talks to the in-process function (one invocation at a time, as on
/// Lambda, and each test reads its own responses).
fn turn() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|e| e.into_inner())
}

fn next_id() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!("req-{}", N.fetch_add(1, Ordering::SeqCst))
}

fn fixture(name: &str) -> Json {
    let text = std::fs::read_to_string(format!(
        "{}/tests/fixtures/events/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture");
    serde_json::from_str(&text).expect("fixture JSON")
}

/// A function URL event (payload 2.0 from `*.lambda-url.*`) for `path`.
fn function_url(path: &str) -> Json {
    let mut e = fixture("function-url.json");
    e["rawPath"] = json!(path);
    e["rawQueryString"] = json!("");
    e["requestContext"]["http"]["path"] = json!(path);
    e
}

/// The same request as `nextr dev`'s function URLs send it.
fn dev_function_url(path: &str) -> Json {
    let mut e = function_url(path);
    e["requestContext"]["domainName"] = json!("loop.lambda-url.localhost");
    e["headers"]["host"] = json!("loop.lambda-url.localhost:3000");
    e
}

/// An HTTP API event (payload 2.0 from `*.execute-api.*`, `$default` stage) for `path`.
fn http_api(path: &str) -> Json {
    let mut e = fixture("v2-named-stage.json");
    e["rawPath"] = json!(path);
    e["requestContext"]["stage"] = json!("$default");
    e["requestContext"]["http"]["path"] = json!(path);
    e
}

/// A REST API proxy event (payload 1.0) for `path`.
fn rest(path: &str) -> Json {
    let mut e = fixture("v1-rest.json");
    e["path"] = json!(path);
    e
}

/// Sends one event and reads the whole response.
fn call(event: &Json) -> Response {
    let id = next_id();
    api().send_event(&id, &event.to_string());
    let response = api().response();
    let got = match &response {
        Response::Buffered { id, .. } => id,
        Response::Streamed(s) => &s.id,
    };
    assert_eq!(got, &id);
    response
}

fn assert_streaming_post(s: &Streamed) {
    assert_eq!(
        s.headers
            .get("lambda-runtime-function-response-mode")
            .map(String::as_str),
        Some("streaming")
    );
    assert_eq!(
        s.headers.get("content-type").map(String::as_str),
        Some("application/vnd.awslambda.http-integration-response")
    );
    assert_eq!(
        s.headers.get("transfer-encoding").map(String::as_str),
        Some("chunked")
    );
}

#[test]
fn prelude_json_then_eight_nuls_then_each_write_as_its_own_chunk() {
    let _turn = turn();
    let s = call(&function_url("/api/loop/text")).streamed();
    assert_streaming_post(&s);
    let chunks: Vec<&[u8]> = s.chunks.iter().map(|(c, _)| c.as_slice()).collect();
    assert_eq!(chunks.len(), 4, "{chunks:?}");
    let prelude: Json = serde_json::from_slice(chunks[0]).expect("a JSON prelude");
    assert_eq!(
        prelude,
        json!({
            "statusCode": 200,
            "headers": { "content-type": "text/plain; charset=utf-8" },
            "cookies": []
        })
    );
    assert_eq!(chunks[1], &[0u8; 8]);
    assert_eq!(chunks[2], b"hello ");
    assert_eq!(chunks[3], b"world");
}

#[test]
fn sse_example_each_event_arrives_before_the_next_write() {
    let _turn = turn();
    WROTE.lock().unwrap_or_else(|e| e.into_inner()).clear();
    let id = next_id();
    api().send_event(&id, &dev_function_url("/api/loop/sse").to_string());
    let Some(Seen::Post { id: got, headers }) = api().next_seen() else {
        panic!("expected the streaming POST");
    };
    assert_eq!(got, id);
    assert_eq!(
        headers
            .get("lambda-runtime-function-response-mode")
            .map(String::as_str),
        Some("streaming")
    );
    let mut head = Vec::new();
    while !head.windows(8).any(|w| w == [0u8; 8]) {
        let Some(Seen::Chunk { bytes, .. }) = api().next_seen() else {
            panic!("expected the prelude");
        };
        head.extend_from_slice(&bytes);
    }
    let prelude: Json = serde_json::from_slice(&head[..head.len() - 8]).expect("prelude");
    assert_eq!(prelude["statusCode"], 200);
    assert_eq!(prelude["headers"]["content-type"], "text/event-stream");
    assert_eq!(prelude["headers"]["cache-control"], "no-store");

    let mut arrived = Vec::new();
    for i in 0..10 {
        let Some(Seen::Chunk { bytes, at }) = api().next_seen() else {
            panic!("expected event {i} as its own chunk");
        };
        assert_eq!(String::from_utf8_lossy(&bytes), format!("data: {i}\n\n"));
        arrived.push(at);
        // Only now may the handler write the next event.
        gate().add_permits(1);
    }
    let Some(Seen::End { .. }) = api().next_seen() else {
        panic!("expected the end of the stream");
    };
    let wrote = WROTE.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert_eq!(wrote.len(), 10);
    for i in 0..10 {
        assert!(
            arrived[i] >= wrote[i],
            "event {i} arrived before it was written"
        );
        if i + 1 < 10 {
            // Each event reached the Runtime API before the next one was written: nothing
            // waits for more data or for the end.
            assert!(arrived[i] < wrote[i + 1], "event {i} was held back");
            assert!(
                arrived[i + 1] - arrived[i] >= SSE_GAP,
                "events {i} and {} too close",
                i + 1
            );
        }
    }
}

#[test]
fn http_api_event_in_stream_mode_is_answered_buffered() {
    let _turn = turn();
    let res = call(&http_api("/api/loop/text")).buffered();
    assert_eq!(res["statusCode"], 200);
    assert_eq!(res["body"], "hello world");
    assert_eq!(res["headers"]["content-type"], "text/plain; charset=utf-8");
    let res = call(&http_api("/api/loop/json")).buffered();
    assert_eq!(res["statusCode"], 200);
    assert_eq!(res["body"], r#"{"ok":true,"n":[1,2,3]}"#);
}

#[test]
fn function_url_and_rest_events_stream() {
    let _turn = turn();
    for event in [
        function_url("/api/loop/text"),
        dev_function_url("/api/loop/text"),
        rest("/api/loop/text"),
    ] {
        let s = call(&event).streamed();
        assert_streaming_post(&s);
        let (prelude, body) = s.split();
        assert_eq!(prelude["statusCode"], 200);
        assert_eq!(body, b"hello world");
    }
}

#[test]
fn end_closes_the_stream_before_the_handler_returns() {
    let _turn = turn();
    let s = call(&function_url("/api/loop/after-end")).streamed();
    assert_eq!(s.split().1, b"done");
    // The next invocation waits for the handler (one at a time), then is served.
    let (prelude, _) = call(&function_url("/api/loop/json")).streamed().split();
    assert_eq!(prelude["statusCode"], 200);
    let finished = FINISHED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .expect("the handler finished");
    assert!(s.end < finished, "the stream ended only with the handler");
}

#[test]
fn a_head_request_streams_the_head_without_a_body() {
    let _turn = turn();
    let mut event = rest("/api/loop/text");
    event["httpMethod"] = json!("HEAD");
    event["body"] = Json::Null;
    let (prelude, body) = call(&event).streamed().split();
    assert_eq!(prelude["statusCode"], 200);
    assert_eq!(
        prelude["headers"]["content-type"],
        "text/plain; charset=utf-8"
    );
    assert!(body.is_empty(), "{body:?}");
}

#[test]
fn json_in_stream_mode_is_the_prelude_and_the_whole_body_as_buffered() {
    let _turn = turn();
    let buffered = call(&http_api("/api/loop/json")).buffered();
    let s = call(&function_url("/api/loop/json")).streamed();
    let (prelude, body) = s.split();
    assert_eq!(prelude["statusCode"], buffered["statusCode"]);
    assert_eq!(prelude["headers"], buffered["headers"]);
    assert!(prelude["headers"]["etag"].is_string(), "{prelude}");
    assert_eq!(prelude["headers"]["content-length"], "23");
    assert_eq!(
        String::from_utf8(body).expect("text"),
        buffered["body"].as_str().expect("body")
    );
    // An answer the runtime makes before any handler (Next's trailing-slash redirect) is
    // streamed the same way.
    let (prelude, body) = call(&function_url("/api/loop/x/")).streamed().split();
    assert_eq!(prelude["statusCode"], 308);
    assert_eq!(prelude["headers"]["location"], "/api/loop/x");
    assert_eq!(body, b"/api/loop/x");
}

#[test]
fn cookies_go_in_the_prelude_and_repeated_headers_are_joined() {
    let _turn = turn();
    let (prelude, body) = call(&function_url("/api/loop/cookie")).streamed().split();
    assert_eq!(
        prelude["cookies"],
        json!(["session=a%20b; Path=/; HttpOnly", "theme=dark"])
    );
    assert!(prelude["headers"].get("set-cookie").is_none(), "{prelude}");
    assert_eq!(prelude["headers"]["vary"], "accept, origin");
    assert_eq!(body, br#"{"ok":true}"#);
}

#[test]
fn the_deadline_ends_a_started_stream_and_the_next_invocation_is_served() {
    let _turn = turn();
    let start = Instant::now();
    let s = call(&function_url("/api/loop/slow")).streamed();
    let (prelude, body) = s.split();
    assert_eq!(prelude["statusCode"], 200);
    // What was written, then a clean end: no 504, no error text.
    assert_eq!(body, b"partial");
    let took = s.end - start;
    assert!(took >= Duration::from_millis(2800), "ended early: {took:?}");
    let (prelude, body) = call(&function_url("/api/loop/json")).streamed().split();
    assert_eq!(prelude["statusCode"], 200);
    assert_eq!(body, br#"{"ok":true,"n":[1,2,3]}"#);
}

#[test]
fn stream_sends_a_stream_as_the_body() {
    let _turn = turn();
    let s = call(&function_url("/api/loop/stream")).streamed();
    let (prelude, body) = s.split();
    assert_eq!(prelude["headers"]["content-type"], "text/plain");
    assert_eq!(body, b"abc");
    // Each item its own chunk.
    let chunks: Vec<&[u8]> = s.chunks.iter().skip(2).map(|(c, _)| c.as_slice()).collect();
    assert_eq!(chunks, [b"a", b"b", b"c"]);
    // An error item ends the response cleanly with what was sent.
    let (prelude, body) = call(&function_url("/api/loop/stream-err"))
        .streamed()
        .split();
    assert_eq!(prelude["statusCode"], 200);
    assert_eq!(body, b"ab");
    // Buffered, the same stream is collected.
    let res = call(&http_api("/api/loop/stream")).buffered();
    assert_eq!(res["body"], "abc");
    let res = call(&http_api("/api/loop/stream-err")).buffered();
    assert_eq!(res["body"], "ab");
}

#[test]
fn drain_keeps_a_100_mb_loop_to_one_chunk_queued() {
    let _turn = turn();
    let id = next_id();
    api().send_event(&id, &function_url("/api/loop/big").to_string());
    let Some(Seen::Post { .. }) = api().next_seen() else {
        panic!("expected the streaming POST");
    };
    let mut total = 0usize;
    loop {
        match api().next_seen() {
            Some(Seen::Chunk { bytes, .. }) => total += bytes.len(),
            Some(Seen::End { .. }) => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    let prelude = serde_json::to_vec(&json!({
        "statusCode": 200,
        "headers": { "content-type": "application/octet-stream" },
        "cookies": []
    }))
    .expect("json");
    assert_eq!(total, prelude.len() + 8 + BIG_CHUNK * BIG_CHUNKS);
    // After each write, only that chunk was waiting: `drain` let the sender take it before the
    // next one was made.
    assert_eq!(BIG_MAX_QUEUED.load(Ordering::SeqCst), BIG_CHUNK);

    // Without `drain`, a loop that never yields queues everything it writes (which is what
    // `writable_length` measures).
    let (_, body) = call(&function_url("/api/loop/no-drain")).streamed().split();
    assert_eq!(body.len(), 16 * BIG_CHUNK);
    assert_eq!(NO_DRAIN_QUEUED.load(Ordering::SeqCst), 16 * BIG_CHUNK);
}

#[test]
fn a_non_http_event_in_stream_mode_is_an_invocation_error_and_the_next_is_served() {
    let _turn = turn();
    let id = next_id();
    api().send_event(&id, r#"{"Records":[{"eventSource":"aws:sqs"}]}"#);
    let Some(Seen::Error { id: got, body }) = api().next_seen() else {
        panic!("expected an invocation error");
    };
    assert_eq!(got, id);
    assert!(String::from_utf8_lossy(&body).contains("expects an API Gateway"));
    let (prelude, _) = call(&function_url("/api/loop/json")).streamed().split();
    assert_eq!(prelude["statusCode"], 200);
}

/// `write_head`, `drain`, `writable_length` and `stream` when buffered (`nextr::testing`).
async fn buffered_api(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    if req.query.str("case") == Some("invalid") {
        // Typed errors, and nothing changes.
        let mut error = |status: u16, headers: &[(&str, &str)]| {
            res.write_head(status, headers.iter().copied())
                .err()
                .map(|e| e.to_string())
        };
        let name = error(201, &[("x-ok", "1"), ("bad name", "x")]);
        let value = error(201, &[("x-ok", "bad\nvalue")]);
        let status = error(1000, &[("x-ok", "1")]);
        let sent = res.headers_sent();
        let set = res.has_header("x-ok");
        return res.json(&json!({
            "name": name,
            "value": value,
            "status": status,
            "sent": sent,
            "set": set,
        }));
    }
    res.set_header("x-a", "old")?;
    res.write_head(
        202,
        [("x-a", "1"), ("x-a", "2"), ("content-type", "text/plain")],
    )?;
    assert!(res.headers_sent());
    assert!(res.write_head(200, [("x-b", "1")]).is_err());
    assert!(res.set_header("x-b", "1").is_err());
    res.write("a")?;
    res.drain().await;
    assert_eq!(res.writable_length(), 0);
    res.stream(Chunks(vec![Ok("b"), Err("the source failed".into())]))
        .await
}

#[tokio::test]
async fn buffered_write_head_drain_and_stream_work_as_before() {
    let route = nextr::testing::TestRoute::new("/api/b", nextr::handler!(buffered_api));
    let res = route.get("/api/b").send().await.expect("response");
    assert_eq!(res.status, 202);
    let a: Vec<_> = res.headers.get_all("x-a").iter().collect();
    assert_eq!(a, ["1", "2"]);
    assert_eq!(res.header("content-type"), Some("text/plain"));
    assert_eq!(res.text(), "ab");
    assert!(
        res.logs.iter().any(
            |l| l.contains("the body stream of /api/b failed after 2 bytes: the source failed")
        ),
        "{:?}",
        res.logs
    );

    let res = route
        .get("/api/b?case=invalid")
        .send()
        .await
        .expect("response");
    let body: Json = res.json().expect("json");
    assert_eq!(body["name"], "Invalid header name: \"bad name\"");
    assert_eq!(
        body["value"],
        "Invalid character in header content [\"bad\\nvalue\"]"
    );
    assert_eq!(body["status"], "Invalid status code: 1000");
    assert_eq!(body["sent"], false);
    assert_eq!(body["set"], false);
}

const CHILD: &str = "NEXTR_TEST_STREAMING_CHILD";

/// The function itself, when a test runs this binary as its child.
#[test]
fn child_function() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let code = nextr::lambda::start(spec(), nextr::handler!(route::handler));
    if code == std::process::ExitCode::FAILURE {
        std::process::exit(1);
    }
}

/// Runs the function in a child process against `api` with this response mode.
fn child(api: &RuntimeApi, mode: &str) -> std::process::Child {
    Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "child_function",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .env("AWS_LAMBDA_RUNTIME_API", api.addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "loop")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env(nextr::manifest::RESPONSE_MODE_ENV, mode)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the function")
}

/// Waits for the child to exit; its status and what it logged.
fn exited(mut child: std::process::Child) -> (std::process::ExitStatus, String) {
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            start.elapsed() < streaming_api::PATIENCE,
            "the function did not exit"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut stderr);
    }
    (status, stderr)
}

#[test]
fn a_response_mode_typo_stops_the_function_at_start() {
    let api = RuntimeApi::start();
    let (status, stderr) = exited(child(&api, "steam"));
    assert!(!status.success());
    assert!(
        stderr.contains(r#"NEXTR_RESPONSE_MODE="steam" is not a response mode"#),
        "{stderr}"
    );
}

#[test]
fn a_handler_blocking_before_writing_gets_a_streamed_504() {
    let api = RuntimeApi::start();
    let function = child(&api, "stream");
    api.send_event("req-1", &function_url("/api/loop/block-before").to_string());
    let s = api.response().streamed();
    assert_streaming_post(&s);
    let (prelude, body) = s.split();
    assert_eq!(prelude["statusCode"], 504);
    assert_eq!(
        prelude["headers"]["content-type"],
        "application/json; charset=utf-8"
    );
    let body: Json = serde_json::from_slice(&body).expect("json");
    assert_eq!(body["maxDuration"], 3);
    let (status, stderr) = exited(function);
    assert!(!status.success());
    assert!(stderr.contains("blocks its thread"), "{stderr}");
}

#[test]
fn a_handler_blocking_after_its_head_left_ends_the_invocation() {
    let api = RuntimeApi::start();
    let function = child(&api, "stream");
    api.send_event("req-1", &function_url("/api/loop/block-after").to_string());
    let Some(Seen::Post { .. }) = api.next_seen() else {
        panic!("expected the streaming POST");
    };
    let mut body = Vec::new();
    while !body.ends_with(b"x") {
        let Some(Seen::Chunk { bytes, .. }) = api.next_seen() else {
            panic!("expected the chunks written before the handler blocked");
        };
        body.extend_from_slice(&bytes);
    }
    // The process exits: the Runtime API sees the connection close without an end.
    let (status, stderr) = exited(function);
    assert!(!status.success());
    assert!(
        stderr.contains("after its response started streaming; 1 bytes were sent"),
        "{stderr}"
    );
    assert!(
        stderr.contains("/api/loop/[[...slug]]") && stderr.contains("3 s"),
        "{stderr}"
    );
}
