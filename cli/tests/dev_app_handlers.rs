//! Every applicable case of the App Router handler corpus (`runtime/tests/fixtures/
//! app-handlers.json`, recorded from Next.js 16.4.6) through a real `nextr dev`, as
//! `runtime/tests/app_handlers.rs` runs them in process: the fixture app
//! (`runtime/tests/fixtures/app-handlers`, every corpus handler translated to Rust) is copied
//! out of the repository, built once and served by one `nextr dev`; each recorded request is
//! written byte for byte over TCP (its headers, its body as recorded: multipart, 1–20 MB,
//! chunked) and the answer compared by the rules both tests share
//! (`runtime/tests/app_handlers/compare.rs`): status, the recorded headers and the named
//! ones' absence, the body; a recorded `{port}` origin is `nextr dev`'s.
//!
//! Where `nextr dev`, emulating the deployed API Gateway HTTP API and Lambda, answers
//! differently from both `next start` and the in-process test, the case is in
//! [`DEV_DIFFERENCES`] with the reason, and dev's own answer is asserted instead. Every
//! mismatch is collected before the test fails.

mod support;

use serde_json::{json, Value};

use support::apps::TestApp;
use support::dev::Dev;
use support::http;
use support::workspace_root;

// The comparison rules, shared with the in-process test.
#[path = "../../runtime/tests/app_handlers/compare.rs"]
mod compare;

use compare::{
    compare, exchanges, expect, Answer, Difference, Exchange, Origin, DIFFERENCES, REQUESTS,
};

/// What `nextr dev`, as the deployed API Gateway HTTP API and Lambda do, answers differently
/// from `next start` and from the in-process test (whose [`compare::DIFFERENCES`] hold the
/// runtime's own differences, which apply here too unless this table has the case): why, and
/// dev's answer, checked instead of the recording.
const DEV_DIFFERENCES: &[Difference] = &[
    (
        "q-cookies-duplicates-odd",
        "payload 2.0 carries the Cookie header as a `cookies` list split at `;` and trimmed; the function rejoins it with \"; \" (`;b=` becomes `; b=`); every cookie is Next's",
        |res, origin| {
            let mut want = recorded_json("q-cookies-duplicates-odd", origin);
            let joined = Value::from("a=first; a=second; b=; =anon; flag; d=x=y; e=100%");
            want["cookieHeader"] = joined.clone();
            want["nextHeaders_cookieHeader"] = joined;
            status_and_json(res, 200, &want)
        },
    ),
    (
        "q-headers-basic",
        "payload 2.0 joins a repeated request header with \",\" (no space), the gateway drops the hop-by-hop Connection and adds X-Amzn-Trace-Id",
        |res, origin| {
            let mut want = recorded_json("q-headers-basic", origin);
            want["xMulti"] = "a,b".into();
            gateway_headers(res, &mut want["all"]);
            want["all"]["x-multi"] = "a,b".into();
            status_and_json(res, 200, &want)
        },
    ),
    (
        "q-headers-forwarded",
        "the gateway appends the client's address to X-Forwarded-For and sets X-Forwarded-Proto and -Port itself (the client's `https` is not believed); Connection dropped, X-Amzn-Trace-Id added",
        |res, origin| {
            let mut want = recorded_json("q-headers-forwarded", origin);
            gateway_headers(res, &mut want["all"]);
            want["all"]["x-forwarded-for"] = "203.0.113.9, 127.0.0.1".into();
            want["all"]["x-forwarded-proto"] = "http".into();
            status_and_json(res, 200, &want)
        },
    ),
    (
        "q-url-forwarded-host-proto",
        "the gateway replaces the client's X-Forwarded-Proto with its own scheme (`http` for nextr dev), so request.url keeps the listener's protocol; host, path and port are Next's",
        |res, origin| {
            let mut want = recorded_json("q-url-forwarded-host-proto", origin);
            for key in ["url", "nextUrlHref", "origin"] {
                let https = want[key].as_str().unwrap().to_owned();
                want[key] = https.replacen("https:", "http:", 1).into();
            }
            want["protocol"] = "http:".into();
            status_and_json(res, 200, &want)
        },
    ),
    (
        "q-size-5mb",
        "a binary body travels base64-encoded in the Lambda event: 5 MB becomes 6.7 MB, over Lambda's 6 MB invocation payload, so the gateway answers 413 before the function runs",
        |res, _| too_large(res),
    ),
    (
        "q-size-20mb",
        "over HTTP API's 10 MB payload limit (and Lambda's 6 MB): the gateway's 413 before the function runs",
        |res, _| too_large(res),
    ),
    (
        "q-size-chunked-2mb",
        "the gateway buffers a chunked body and passes its Content-Length in the event (Next saw none); the bytes are Next's",
        |res, origin| {
            let mut want = recorded_json("q-size-chunked-2mb", origin);
            want["contentLength"] = "2097152".into();
            status_and_json(res, 200, &want)
        },
    ),
    (
        "edge-ia10-default-export-only",
        "`nextr build` rejects an App route file with no method function (its `NoMethods` diagnostic, cli/src/analysis/methods.rs), so the fixture app has no /api/ij: the gateway's 404; the in-process test checks the runtime's answer for such a route",
        |res, _| {
            [
                expect("status", res.status, 404),
                expect("body", res.json().ok(), Some(json!({"message": "Not Found"}))),
            ]
            .into_iter()
            .flatten()
            .collect()
        },
    ),
];

/// The recorded JSON body of a case, `{port}` filled in.
fn recorded_json(name: &str, origin: Origin) -> Value {
    let case = exchanges()
        .into_iter()
        .find(|e| e.name == name)
        .expect("a case of the corpus");
    origin.fill_json(&case.response["json"])
}

/// Problems when the answer is not `status` with the JSON body `want`.
fn status_and_json(res: &Answer, status: u16, want: &Value) -> Vec<String> {
    [
        expect("status", res.status, status),
        expect("body", res.json().ok().as_ref(), Some(want)),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// A recorded echo of request headers as the gateway forwards them: no `connection`, and the
/// answer's own `x-amzn-trace-id` (`Root=1-…`, fresh per request).
fn gateway_headers(res: &Answer, all: &mut Value) {
    let all = all.as_object_mut().expect("the echoed headers");
    all.remove("connection");
    let trace = res
        .json()
        .ok()
        .and_then(|b| b["all"]["x-amzn-trace-id"].as_str().map(str::to_owned));
    let trace = trace
        .filter(|t| t.starts_with("Root=1-"))
        .unwrap_or_default();
    all.insert("x-amzn-trace-id".into(), trace.into());
}

/// Problems when the answer is not the gateway's 413.
fn too_large(res: &Answer) -> Vec<String> {
    [
        expect("status", res.status, 413),
        expect(
            "body",
            res.json().ok(),
            Some(json!({"message": "Request Entity Too Large"})),
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// What every request carries besides the case's own headers (Node's client sent `Host` and
/// `Connection: close`; `nextr dev`'s front adds the `x-forwarded-*` ones).
fn default_headers(host: &str) -> [(&str, &str); 2] {
    [("host", host), ("connection", "close")]
}

/// The recorded request, written as the recording's client wrote it.
fn send(port: u16, host: &str, exchange: &Exchange) -> Answer {
    let (method, target) = (exchange.method(), exchange.target());
    let mut raw = format!("{method} {target} HTTP/1.1\r\n").into_bytes();
    for (name, value) in exchange.headers(&default_headers(host)) {
        raw.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    let (body, chunked) = exchange.body();
    if chunked {
        raw.extend_from_slice(b"transfer-encoding: chunked\r\n\r\n");
        for chunk in body.chunks(64 * 1024) {
            raw.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            raw.extend_from_slice(chunk);
            raw.extend_from_slice(b"\r\n");
        }
        raw.extend_from_slice(b"0\r\n\r\n");
    } else {
        // A body's length, as for any POST, PUT or PATCH (as `support::http::request` does).
        if !body.is_empty()
            || exchange.request["body"].is_string()
            || matches!(method, "POST" | "PUT" | "PATCH")
        {
            raw.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
        }
        raw.extend_from_slice(b"\r\n");
        raw.extend_from_slice(&body);
    }
    let reply = http::exchange(port, method, target, &raw);
    Answer {
        status: reply.status,
        headers: reply.headers,
        body: reply.body,
    }
}

#[test]
fn every_applicable_case_answers_as_next_through_nextr_dev() {
    if !cfg!(all(
        target_os = "linux",
        any(target_arch = "x86_64", target_arch = "aarch64")
    )) {
        eprintln!("skipped: nextr dev runs Linux bootstraps");
        return;
    }
    let source = workspace_root().join("runtime/tests/fixtures/app-handlers");
    let app = TestApp::copy_of("app-handlers", &source);
    let dev = Dev::start(app.path(), &[]);
    // The recording's origin is `localhost:{port}`; the client names `nextr dev` the same way.
    let host = format!("localhost:{}", dev.port());
    let origin = Origin { host: &host };

    let mut problems = Vec::new();
    let mut ran = 0;
    for exchange in exchanges() {
        let answer = send(dev.port(), &host, &exchange);
        ran += 1;
        // The front owns the connection: the client asked to close it, and a function's own
        // `Connection` (`s-sse-stream` sets `keep-alive`) never reaches the client.
        if answer.all("connection") != ["close"] {
            problems.push(format!(
                "{}: connection {:?} (expected [\"close\"])",
                exchange.name,
                answer.all("connection")
            ));
        }
        let difference = DEV_DIFFERENCES
            .iter()
            .chain(DIFFERENCES)
            .find(|(n, _, _)| *n == exchange.name);
        match difference {
            Some((name, why, own)) => problems.extend(
                own(&answer, origin)
                    .into_iter()
                    .map(|p| format!("{name} (dev answers differently: {why}): {p}")),
            ),
            None => problems.extend(compare(&exchange.name, &exchange.response, &answer, origin)),
        }
    }
    assert!(
        problems.is_empty(),
        "{} differences:\n{}\n\nnextr dev printed:\n{}",
        problems.len(),
        problems.join("\n"),
        dev.output()
    );
    assert_eq!(ran, REQUESTS, "every recorded request ran");
}
