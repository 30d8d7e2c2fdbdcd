//! `examples/stream` served by `nextr dev` (a REST API front, `gateway = "rest"`), over real
//! HTTP: the Next.js docs' server-sent events example arrives one event per second as the
//! handler writes it, a body past Lambda's 6 MB buffered limit streams whole, a `Stream` body
//! arrives tick by tick, a bad query gets its 400 whole, and the buffered route answers as
//! before (ETag, `Content-Length`).

mod support;

use std::time::Duration;

use support::chunked::{Piece, Streaming};
use support::dev::Dev;
use support::workspace_root;

#[test]
fn stream_example_end_to_end() {
    let dev = Dev::start(&workspace_root().join("examples/stream"), &[]);
    let host = format!("127.0.0.1:{}", dev.port());

    // The buffered route: whole, with Next's ETag and a length.
    let hello = dev.get("/api/hello");
    assert_eq!(hello.status, 200);
    assert_eq!(hello.text(), r#"{"message":"Hello from Next.js!"}"#);
    assert!(hello.header("etag").is_some());
    assert_eq!(hello.header("content-length"), Some("33"));

    // The docs' SSE example: the head first, then ten events, each on its own, about one
    // second apart (bounds loose enough for a loaded machine, tight enough that buffering —
    // all ten at the end — fails).
    let mut events = Streaming::get(dev.port(), &host, "/api/events", &[]);
    assert_eq!(events.status, 200);
    assert_eq!(events.header("content-type"), Some("text/event-stream"));
    assert_eq!(events.header("cache-control"), Some("no-store"));
    assert_eq!(events.header("transfer-encoding"), Some("chunked"));
    let mut arrivals = Vec::new();
    let mut text = String::new();
    loop {
        match events.next() {
            (Piece::Data(d), at) => {
                let chunk = String::from_utf8(d).unwrap();
                if chunk.contains("data:") {
                    arrivals.push(at);
                }
                text.push_str(&chunk);
            }
            (Piece::End, _) => break,
            (Piece::Cut, _) => panic!("the stream was cut after {text:?}"),
        }
    }
    let expected: String = (0..10).map(|i| format!("data: {i}\n\n")).collect();
    assert_eq!(text, expected);
    assert_eq!(arrivals.len(), 10, "one chunk per event");
    assert!(
        arrivals[0] - events.sent < Duration::from_millis(900),
        "the first event comes at once, not after the handler: {:?}",
        arrivals[0] - events.sent
    );
    for pair in arrivals.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap > Duration::from_millis(700) && gap < Duration::from_millis(2500),
            "events one second apart: {gap:?}"
        );
    }

    // 8 MiB: more than a buffered Lambda response may carry.
    let mut big = Streaming::get(dev.port(), &host, "/api/big?mb=8", &[]);
    assert_eq!(big.status, 200);
    let mut bytes = 0usize;
    loop {
        match big.next().0 {
            Piece::Data(d) => {
                assert!(d.iter().all(|b| *b == b'x'));
                bytes += d.len();
            }
            Piece::End => break,
            Piece::Cut => panic!("cut after {bytes} bytes"),
        }
    }
    assert_eq!(bytes, 8 * 1024 * 1024);

    // A bad query: the handler answers before writing, so the 400 arrives whole.
    let bad = dev.get("/api/big?mb=2000");
    assert_eq!(bad.status, 400);
    assert_eq!(
        bad.text(),
        r#"{"error":"mb must be a whole number from 0 to 1024"}"#
    );

    // A Rust Stream as the body: three ticks, then the end of the body.
    let mut clock = Streaming::get(dev.port(), &host, "/api/clock?ticks=3", &[]);
    assert_eq!(clock.status, 200);
    let (text, end) = clock.rest();
    assert_eq!(text, "tick 0\ntick 1\ntick 2\n");
    assert_eq!(end, Piece::End);

    // Unknown paths reach the fallback through the REST resource tree.
    assert_eq!(dev.get("/api/nope/deeper").status, 404);
}
