//! `nextr dev` streams: responses a function streams through the Runtime API reach the client
//! chunk by chunk as they are written, through the function's URL
//! (`<name>.lambda-url.localhost`), over real HTTP, against real Lambda bootstraps (the
//! `lambda-fn` fixture, which streams with `lambda_runtime`'s streaming mode exactly when
//! nextr's runtime does: `NEXTR_RESPONSE_MODE=stream` and a function URL or REST event).

mod support;

use std::time::{Duration, Instant};

use support::chunked::{Piece, Streaming};
use support::dev::Dev;
use support::fixture::{App, Route};
use support::http;

const LOG_WAIT: Duration = Duration::from_secs(10);

fn host(name: &str, dev: &Dev) -> String {
    format!("{name}.lambda-url.localhost:{}", dev.port())
}

fn event(i: usize) -> Vec<u8> {
    format!("data: {i}\n\n").into_bytes()
}

fn app() -> App {
    App::new(&[
        Route::new("/api/stream").timeout(20).streaming("none"),
        Route::new("/api/stream-exit").streaming("none"),
        Route::new("/api/stream-trailer").streaming("none"),
        Route::new("/api/slow").timeout(2).streaming("none"),
        Route::new("/api/private").streaming("iam"),
        Route::new("/api/hello").url("none"),
    ])
}

/// The issue's "Done means": ten events written one second apart arrive about one second
/// apart, the status and headers before the first of them, and the invocation's REPORT
/// comes at the end of the stream with its whole duration.
#[test]
fn ten_events_written_a_second_apart_arrive_a_second_apart() {
    let app = app();
    let dev = app.dev(&["--lambda-logs"]);
    let url_line = dev
        .wait_for(
            |l| l.contains("test-api-stream.lambda-url.localhost"),
            LOG_WAIT,
        )
        .unwrap_or_else(|| panic!("no function URL line:\n{}", dev.output()));
    assert!(
        url_line.contains(&format!(
            "http://test-api-stream.lambda-url.localhost:{}/",
            dev.port()
        )),
        "{url_line}"
    );

    let mut s = Streaming::get(
        dev.port(),
        &host("test-api-stream", &dev),
        "/api/stream?n=10&ms=1000",
        &[],
    );
    assert_eq!(s.status, 201);
    assert_eq!(s.header("content-type"), Some("text/event-stream"));
    assert_eq!(s.header("x-fixture"), Some("stream"));
    assert_eq!(s.all("set-cookie"), ["s=1; Path=/"]);
    assert_eq!(s.header("transfer-encoding"), Some("chunked"));
    assert_eq!(s.header("content-length"), None);
    assert!(s.header("x-amzn-requestid").is_some());

    let mut arrivals = Vec::new();
    for i in 0..10 {
        let (piece, at) = s.next();
        assert_eq!(piece, Piece::Data(event(i)), "event {i}");
        arrivals.push(at);
    }
    assert_eq!(s.next().0, Piece::End);
    // The head came with the first write (a cold start may delay both), long before the
    // last event: nothing was buffered.
    assert!(
        arrivals[0] - s.head_at < Duration::from_millis(900),
        "the first event came {:?} after the head",
        arrivals[0] - s.head_at
    );
    for (i, pair) in arrivals.windows(2).enumerate() {
        let gap = pair[1] - pair[0];
        assert!(
            // Generous bounds: the machine is shared and noisy.
            gap >= Duration::from_millis(600) && gap <= Duration::from_millis(2500),
            "events {i} and {} arrived {gap:?} apart (written 1 s apart)",
            i + 1
        );
    }
    let report = dev
        .wait_for(
            |l| l.starts_with("[/api/stream] REPORT RequestId:"),
            LOG_WAIT,
        )
        .unwrap_or_else(|| panic!("no REPORT:\n{}", dev.output()));
    let duration_ms: f64 = report
        .split("Duration: ")
        .nth(1)
        .and_then(|d| d.split(' ').next())
        .and_then(|d| d.parse().ok())
        .unwrap_or_else(|| panic!("no duration in {report}"));
    assert!(duration_ms >= 8_500.0, "{report}");
}

/// Deterministic: each write of the handler waits for a marker file the test creates only
/// after it has seen what came before, so the head can only have arrived before the first
/// write, and each event before the next write.
#[test]
fn the_head_and_each_event_arrive_before_the_next_write() {
    let app = app();
    let dev = app.dev(&[]);
    let markers = tempfile::tempdir().unwrap();
    let marker = markers.path().join("m");
    let target = format!(
        "/api/stream?n=3&marker={}",
        http::encode(&marker.display().to_string())
    );
    // Returns once the head is read: no write has happened yet.
    let mut s = Streaming::get(dev.port(), &host("test-api-stream", &dev), &target, &[]);
    assert_eq!(s.status, 201);
    assert_eq!(s.header("content-type"), Some("text/event-stream"));
    for i in 0..3 {
        std::fs::write(format!("{}.{i}", marker.display()), b"").unwrap();
        assert_eq!(s.next().0, Piece::Data(event(i)), "event {i}");
    }
    assert_eq!(s.next().0, Piece::End);
}

/// Through the HTTP API the same streaming function answers buffered (its runtime streams
/// only function URL and REST events), and a buffered function is unchanged, also through
/// its own function URL.
#[test]
fn the_http_api_and_buffered_functions_answer_buffered() {
    let app = app();
    let dev = app.dev(&[]);
    let r = dev.get("/api/stream?n=3&ms=10");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text(), "data: 0\n\ndata: 1\n\ndata: 2\n\n");
    assert_eq!(r.header("content-type"), Some("text/event-stream"));
    assert_eq!(r.header("content-length"), Some("27"));
    assert!(r.header("apigw-requestid").is_some());

    let r = dev.get("/api/hello");
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), r#"{"message":"Hello from Next.js!"}"#);

    let s = Streaming::get(dev.port(), &host("test-api-hello", &dev), "/api/hello", &[]);
    assert_eq!(s.status, 200);
    assert_eq!(
        s.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert!(s.header("content-length").is_some(), "{:?}", s.headers);
}

/// A runtime that streams its answer to an HTTP API event: HTTP APIs invoke buffered, so it
/// is a function error (500), and the log says why.
#[test]
fn a_stream_reaching_an_http_api_is_a_function_error() {
    let app = app();
    let dev = app.dev(&[]);
    let r = dev.get("/api/stream?n=2&ms=10&force-stream");
    assert_eq!(r.status, 500, "{}", r.text());
    assert_eq!(r.text(), r#"{"message":"Internal Server Error"}"#);
    dev.wait_for(|l| l.contains("an HTTP API invokes it buffered"), LOG_WAIT)
        .unwrap_or_else(|| panic!("no log line:\n{}", dev.output()));
    // The invocation still ran to its end, and the instance serves the next request.
    let r = dev.get("/api/stream?n=1");
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn iam_function_urls_need_a_signature_and_unknown_names_are_not_found() {
    let app = app();
    let dev = app.dev(&[]);
    let private = host("test-api-private", &dev);
    let s = Streaming::get(dev.port(), &private, "/api/stream?n=1", &[]);
    assert_eq!(s.status, 403);
    assert_eq!(s.header("content-type"), Some("application/json"));
    let length: usize = s.header("content-length").unwrap().parse().unwrap();
    assert_eq!(length, r#"{"Message":"Forbidden"}"#.len());

    let signed = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0";
    let mut s = Streaming::get(
        dev.port(),
        &private,
        "/api/stream?n=2&ms=10",
        &[("Authorization", signed)],
    );
    assert_eq!(s.status, 201);
    assert_eq!(s.rest(), ("data: 0\n\ndata: 1\n\n".into(), Piece::End));

    let s = Streaming::get(
        dev.port(),
        &host("no-such-function", &dev),
        "/api/stream",
        &[],
    );
    assert_eq!(s.status, 404);
}

/// A process that dies mid-stream cuts the client's body (no terminating chunk), the error
/// is logged as Lambda logs it, and the function's next request is served by a new instance.
#[test]
fn a_crash_mid_stream_cuts_the_body_and_the_next_request_is_served() {
    let app = app();
    let dev = app.dev(&["--lambda-logs"]);
    let h = host("test-api-stream-exit", &dev);
    let mut s = Streaming::get(dev.port(), &h, "/api/stream-exit", &[]);
    assert_eq!(s.status, 201);
    assert_eq!(s.next().0, Piece::Data(event(0)));
    assert_eq!(s.next().0, Piece::Cut);
    dev.wait_for(
        |l| l.contains("Error: Runtime exited with error: exit status 3"),
        LOG_WAIT,
    )
    .unwrap_or_else(|| panic!("no exit error:\n{}", dev.output()));
    dev.wait_for(
        |l| l.starts_with("[/api/stream-exit] REPORT") && l.contains("Runtime.ExitError"),
        LOG_WAIT,
    )
    .unwrap_or_else(|| panic!("no REPORT with the error:\n{}", dev.output()));

    let mut s = Streaming::get(dev.port(), &h, "/api/stream-exit?ok&n=2&ms=10", &[]);
    assert_eq!(s.status, 201);
    assert_eq!(s.rest(), ("data: 0\n\ndata: 1\n\n".into(), Piece::End));
}

/// An error the runtime reports in the trailers of its stream is logged as Lambda logs it and
/// cuts the client's body; the instance then serves the next request.
#[test]
fn an_error_in_the_trailers_cuts_the_body_and_is_logged() {
    let app = app();
    let dev = app.dev(&["--lambda-logs"]);
    let h = host("test-api-stream-trailer", &dev);
    let mut s = Streaming::get(dev.port(), &h, "/api/stream-trailer", &[]);
    assert_eq!(s.status, 200);
    assert_eq!(s.header("content-type"), Some("text/event-stream"));
    assert_eq!(s.rest(), ("data: 0\n\n".into(), Piece::Cut));
    dev.wait_for(
        |l| {
            l.contains("Error: the function reported an error mid-stream: Fixture.StreamError: fixture failed mid-stream")
        },
        LOG_WAIT,
    )
    .unwrap_or_else(|| panic!("no error line:\n{}", dev.output()));
    dev.wait_for(|l| l.starts_with("[/api/stream-trailer] REPORT"), LOG_WAIT)
        .unwrap_or_else(|| panic!("no REPORT:\n{}", dev.output()));
    // The same instance (its runtime back in `/next`) serves the next request.
    let mut s = Streaming::get(dev.port(), &h, "/api/stream-trailer", &[]);
    assert_eq!(s.rest(), ("data: 0\n\n".into(), Piece::Cut));
    let reports = || -> Vec<String> {
        dev.lines()
            .into_iter()
            .filter(|l| l.starts_with("[/api/stream-trailer] REPORT"))
            .collect()
    };
    let deadline = Instant::now() + LOG_WAIT;
    while reports().len() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let reports = reports();
    assert_eq!(reports.len(), 2, "{}", dev.output());
    assert!(!reports[1].contains("Init Duration"), "{}", dev.output());
}

/// The function's timeout bounds the whole stream: the process is killed at it and the
/// client's body is cut.
#[test]
fn the_timeout_applies_to_the_whole_stream() {
    let app = app();
    let dev = app.dev(&[]);
    let started = Instant::now();
    let mut s = Streaming::get(
        dev.port(),
        &host("test-api-slow", &dev),
        "/api/stream?n=10&ms=500",
        &[],
    );
    assert_eq!(s.status, 201);
    let (text, end) = s.rest();
    assert_eq!(end, Piece::Cut, "{text}");
    assert!(text.starts_with("data: 0\n\n"), "{text}");
    assert!(started.elapsed() < Duration::from_secs(8));
    dev.wait_for(
        |l| l.contains("Task timed out after 2.00 seconds"),
        LOG_WAIT,
    )
    .unwrap_or_else(|| panic!("no timeout line:\n{}", dev.output()));
}

/// A client that goes away stops the forwarding only: the invocation runs to its end (its
/// REPORT comes), and the instance serves the next request.
#[test]
fn a_client_that_goes_away_does_not_stop_the_invocation() {
    let app = app();
    let dev = app.dev(&["--lambda-logs"]);
    let h = host("test-api-stream", &dev);
    let mut s = Streaming::get(dev.port(), &h, "/api/stream?n=4&ms=300", &[]);
    assert_eq!(s.next().0, Piece::Data(event(0)));
    drop(s);
    dev.wait_for(|l| l.starts_with("[/api/stream] REPORT"), LOG_WAIT)
        .unwrap_or_else(|| panic!("no REPORT:\n{}", dev.output()));
    assert!(
        dev.output().contains("fixture wrote event 3"),
        "{}",
        dev.output()
    );
    let mut s = Streaming::get(dev.port(), &h, "/api/stream?n=1", &[]);
    assert_eq!(s.rest(), ("data: 0\n\n".into(), Piece::End));
}

/// The route of the real app: the issue's example, `n` events `ms` apart.
const EVENTS: &str = r#"use nextr::prelude::*;

nextr::config! { max_duration: 20 }

fn number(req: &NextApiRequest, key: &str, default: u64) -> u64 {
    req.query.all(key).first().and_then(|v| v.parse().ok()).unwrap_or(default)
}

pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    let n = number(req, "n", 10);
    let ms = number(req, "ms", 1000);
    let crash = number(req, "crash", 0) == 1;
    res.write_head(200, [("Content-Type", "text/event-stream"), ("Cache-Control", "no-store")])?;
    for i in 0..n {
        if i > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        }
        res.write(format!("data: {i}\n\n"))?;
        if crash {
            res.drain().await;
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            eprintln!("crashing mid-stream on purpose");
            std::process::exit(3);
        }
    }
    res.end()
}
"#;

const NEXTR_TOML: &str = r#"[routes."/api/events"]
response = "stream"
function_url = true
"#;

/// The same through nextr's own runtime (a real app built by `nextr build`): its function
/// URL streams the ten events a second apart, the HTTP API answers the same route buffered,
/// and a crash after one write cuts the body and is logged, the next request served.
#[test]
fn a_real_app_streams_through_its_function_url() {
    let app = support::apps::TestApp::cached(
        "nextr-dev-stream",
        &[
            ("api/events.rs".to_owned(), EVENTS.to_owned()),
            ("nextr.toml".to_owned(), NEXTR_TOML.to_owned()),
        ],
    );
    let dev = Dev::start(app.path(), &[]);
    let line = dev
        .wait_for(|l| l.contains(".lambda-url.localhost:"), LOG_WAIT)
        .unwrap_or_else(|| panic!("no function URL line:\n{}", dev.output()));
    let host = line
        .split("http://")
        .nth(1)
        .and_then(|u| u.split('/').next())
        .unwrap_or_else(|| panic!("no URL in {line}"))
        .to_owned();

    let mut s = Streaming::get(dev.port(), &host, "/api/events", &[]);
    assert_eq!(s.status, 200);
    assert_eq!(s.header("content-type"), Some("text/event-stream"));
    assert_eq!(s.header("transfer-encoding"), Some("chunked"));
    let mut arrivals = Vec::new();
    let mut text = String::new();
    loop {
        match s.next() {
            (Piece::Data(d), at) => {
                text.push_str(&String::from_utf8_lossy(&d));
                arrivals.push(at);
            }
            (end, _) => {
                assert_eq!(end, Piece::End, "{text}");
                break;
            }
        }
    }
    let expected: String = (0..10).map(|i| format!("data: {i}\n\n")).collect();
    assert_eq!(text, expected);
    // However the runtime cuts its chunks, the last event arrives about 9 s after the first:
    // each left when it was written.
    let span = arrivals[arrivals.len() - 1] - arrivals[0];
    assert!(
        span >= Duration::from_millis(8_000) && span <= Duration::from_secs(14),
        "{span:?}"
    );
    assert!(
        arrivals[0] - s.head_at < Duration::from_millis(900),
        "{:?}",
        arrivals[0] - s.head_at
    );

    let r = dev.get("/api/events?n=3&ms=10");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text(), "data: 0\n\ndata: 1\n\ndata: 2\n\n");
    assert!(r.header("content-length").is_some());

    let mut s = Streaming::get(dev.port(), &host, "/api/events?crash=1", &[]);
    assert_eq!(s.status, 200);
    assert_eq!(s.rest(), ("data: 0\n\n".into(), Piece::Cut));
    dev.wait_for(|l| l.contains("Runtime.ExitError"), LOG_WAIT)
        .unwrap_or_else(|| panic!("no exit error:\n{}", dev.output()));
    let mut s = Streaming::get(dev.port(), &host, "/api/events?n=2&ms=10", &[]);
    assert_eq!(s.rest(), ("data: 0\n\ndata: 1\n\n".into(), Piece::End));
}

/// Behind a REST API (`gateway = "rest"`, where routes stream unless told otherwise) the API
/// itself streams, and closes a stream that sends nothing for its idle timeout (300 s, here
/// shortened with the hidden `--stream-idle-timeout-ms`).
#[test]
fn a_rest_api_streams_and_closes_idle_streams() {
    let app = support::apps::TestApp::cached(
        "nextr-dev-stream-rest",
        &[
            ("api/events.rs".to_owned(), EVENTS.to_owned()),
            ("nextr.toml".to_owned(), "gateway = \"rest\"\n".to_owned()),
        ],
    );
    let dev = Dev::start(
        app.path(),
        &["--stream-idle-timeout-ms", "700", "--lambda-logs"],
    );
    let local = format!("127.0.0.1:{}", dev.port());

    let mut s = Streaming::get(dev.port(), &local, "/api/events?n=3&ms=300", &[]);
    assert_eq!(s.status, 200);
    assert_eq!(s.header("transfer-encoding"), Some("chunked"));
    assert!(s.header("apigw-requestid").is_some());
    let mut arrivals = Vec::new();
    let mut text = String::new();
    let end = loop {
        match s.next() {
            (Piece::Data(d), at) => {
                text.push_str(&String::from_utf8_lossy(&d));
                arrivals.push(at);
            }
            (end, _) => break end,
        }
    };
    assert_eq!(end, Piece::End, "{text}");
    assert_eq!(text, "data: 0\n\ndata: 1\n\ndata: 2\n\n");
    let span = arrivals[arrivals.len() - 1] - arrivals[0];
    assert!(span >= Duration::from_millis(450), "{span:?}");

    // 1.5 s of silence after the first event: the API closes the stream at 0.7 s, before
    // the second event is written (a cut, not an end, and no second event).
    let mut s = Streaming::get(dev.port(), &local, "/api/events?n=2&ms=1500", &[]);
    assert_eq!(s.status, 200);
    assert_eq!(s.rest(), ("data: 0\n\n".into(), Piece::Cut));
    dev.wait_for(|l| l.contains("REST API idle timeout"), LOG_WAIT)
        .unwrap_or_else(|| panic!("no idle line:\n{}", dev.output()));
    // The invocation itself ran to its end.
    dev.wait_for(|l| l.starts_with("[/api/events] REPORT"), LOG_WAIT)
        .unwrap_or_else(|| panic!("no REPORT:\n{}", dev.output()));
}

/// A new manifest that gives a route a function URL: dev shows the URL and serves it, with
/// the function's new response mode.
#[test]
fn a_function_url_from_a_new_manifest_is_shown_and_served() {
    let app = App::new(&[Route::new("/api/stream")]);
    let dev = app.dev(&[]);
    let h = host("test-api-stream", &dev);
    let s = Streaming::get(dev.port(), &h, "/api/stream?n=1", &[]);
    assert_eq!(s.status, 404);

    app.write(
        &[Route::new("/api/stream").streaming("none")],
        &support::fixture::bundle_bytes(&[]),
        "fixture.zip",
    );
    dev.wait_for(
        |l| l.contains("http://test-api-stream.lambda-url.localhost:"),
        LOG_WAIT,
    )
    .unwrap_or_else(|| panic!("no function URL line after the reload:\n{}", dev.output()));
    let mut s = Streaming::get(dev.port(), &h, "/api/stream?n=2&ms=10", &[]);
    assert_eq!(s.status, 201);
    assert_eq!(s.rest(), ("data: 0\n\ndata: 1\n\n".into(), Piece::End));
}
