//! Every applicable case of the App Router corpus (`fixtures/app-handlers.json`, recorded from
//! Next.js 16.4.6), run in process against the corpus's handlers translated to Rust
//! (`fixtures/app-handlers/app/**/route.rs`, one file per `route.js`).
//!
//! Each case's status, the headers Next or the handler set (every recorded header except the
//! Node-server artefacts in [`ARTEFACTS`]; the named ones — content-type, allow, set-cookie,
//! cache-control, location — must also be absent when Next sent none) and the body (as JSON,
//! bytes, or length and prefix) are compared with the recording. Requests carry what
//! `nextr dev`'s front sends (`Host: localhost:4501`, `x-forwarded-proto: http`) unless the case
//! sets them, so `request.url`'s origin is the recording's `http://localhost:{port}` with
//! `{port}` = 4501. What nextr answers differently on purpose is listed, with the reason and
//! nextr's own answer, in [`DIFFERENCES`]. Chunk timings of streams are not compared (they
//! exist only behind a front that streams); their bytes and order are.

use std::collections::HashMap;

use nextr::app::AppRoute;
use nextr::testing::{TestResponse, TestRoute};
use nextr::RouteSpec;
use serde_json::Value;

// The corpus's route files and the table of their functions.
#[path = "app_handlers/routes.rs"]
mod routes;

use routes::route_of;

/// The port a recorded `{port}` stands for.
const PORT: &str = "4501";

/// What the recorded requests carried besides the case's own headers (Node's client sent
/// `Host` and `Connection: close`), and the `x-forwarded-*` headers `nextr dev`'s front adds
/// where Next's server derived them from the socket. The recording's client connected to
/// `127.0.0.1:{port}`; these requests name `localhost:4501`, and recorded values of the
/// client's Host are compared as that.
const DEFAULT_HEADERS: [(&str, &str); 4] = [
    ("host", "localhost:4501"),
    ("connection", "close"),
    ("x-forwarded-proto", "http"),
    ("x-forwarded-port", "4501"),
];

/// Recorded headers that are Node-server artefacts (or per-connection), never compared.
const ARTEFACTS: [&str; 6] = [
    "vary",
    "transfer-encoding",
    "content-length",
    "date",
    "connection",
    "keep-alive",
];

/// Headers whose absence in a recording is compared too.
const NAMED: [&str; 5] = [
    "content-type",
    "allow",
    "set-cookie",
    "cache-control",
    "location",
];

/// A case nextr answers differently: its name, why, and the check of nextr's own answer.
type Difference = (&'static str, &'static str, fn(&TestResponse));

/// Cases where nextr answers differently from `next start` on purpose: why, and nextr's own
/// answer, asserted instead of the recording.
const DIFFERENCES: &[Difference] = &[
    (
        "q-size-20mb",
        "Lambda takes at most 6 MB per synchronous request: the platform answers 413 before the function runs; in process the route reads the whole body",
        |res| {
            assert_eq!(res.status, 200);
            let read = res.json::<Value>().unwrap()["bytes"].as_u64().unwrap();
            assert_eq!(read, 20_971_520);
            assert!(read > nextr::limits::LAMBDA_PAYLOAD_BYTES as u64);
        },
    ),
    (
        "s-status-text-418",
        "a custom reason phrase cannot travel through API Gateway or Lambda: the status and body are Next's, the phrase is the standard one",
        |res| {
            assert_eq!(res.status, 418);
            assert_eq!(res.text(), "short and stout");
        },
    ),
    (
        "q-url-custom-host",
        "request.url's origin is the Host the client used (the API's public origin), not Next's localhost: the path and query are Next's",
        |res| {
            let body: Value = res.json().unwrap();
            assert_eq!(body["url"], "http://example.com:8443/api/q/url?x=1");
            assert_eq!(body["pathname"], "/api/q/url");
            assert_eq!(body["search"], "?x=1");
        },
    ),
    (
        "s-nextresponse-redirect-custom-host",
        "a Location built on request.url points at the Host the client used (see q-url-custom-host)",
        |res| {
            assert_eq!(res.status, 307);
            assert_eq!(
                res.header("location"),
                Some("http://example.com/api/s/target?from=redirect")
            );
            assert!(res.body.is_empty());
        },
    ),
    (
        "c-max-duration-exceeded",
        "nextr enforces max_duration (Next's server does not): a 6.5 s handler with max_duration 5 gets the documented 504",
        |res| {
            assert_eq!(res.status, 504);
            assert_eq!(res.json::<Value>().unwrap()["maxDuration"], 5);
        },
    ),
    (
        "c-runtime-nodejs",
        "`runtime` picks a JavaScript runtime; nextr has one native runtime",
        |res| {
            assert_eq!(res.status, 200);
            assert_eq!(res.json::<Value>().unwrap()["runtime"], "native");
        },
    ),
    (
        "c-runtime-edge",
        "`runtime` picks a JavaScript runtime; nextr has one native runtime (request.url is Next's)",
        |res| {
            assert_eq!(res.status, 200);
            let body: Value = res.json().unwrap();
            assert_eq!(body["url"], format!("http://localhost:{PORT}/api/c/runtime-edge?e=1"));
        },
    ),
];

/// Build-time cases (no request): checked by their own tests below or elsewhere.
const BUILD_CASES: [(&str, &str); 2] = [
    (
        "ia08-dynamic-error-reads-request",
        "prerender fails with Next's message: `dynamic_error_route_fails_its_prerender` below",
    ),
    (
        "ia09-invalid-dynamic-value",
        "`nextr::config!` rejects an unknown `dynamic` at compile time (config.rs's compile_fail doc test)",
    ),
];

fn corpus() -> Vec<Value> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/app-handlers.json"
    ))
    .unwrap();
    serde_json::from_str::<Vec<Value>>(&text).unwrap()
}

/// The route serving a corpus file, as deployed (a static one prerendered first).
async fn serve(file: &str) -> TestRoute {
    let (page, config, handlers) = route_of(file);
    let spec = RouteSpec {
        page,
        file: page,
        config,
    };
    let route = AppRoute {
        handlers,
        pages_router: false,
    };
    if spec.config.prerenders() && handlers.post.is_none() {
        return TestRoute::prerendered(spec, route).await.unwrap();
    }
    TestRoute::app_from_spec(spec, route)
}

/// Sends a recorded request.
async fn send(route: &TestRoute, request: &Value) -> TestResponse {
    let method = request["method"].as_str().unwrap();
    let path = request["path"].as_str().unwrap();
    let target = path.split('#').next().unwrap();
    let mut req = route.request(method.parse().unwrap(), target);
    let headers = request["headers"].as_object().cloned().unwrap_or_default();
    for (default, value) in DEFAULT_HEADERS {
        if !headers.contains_key(default) {
            req = req.header(default, value);
        }
    }
    for (name, value) in &headers {
        // A list is one header line per value.
        let values = match value {
            Value::Array(values) => values.clone(),
            one => vec![one.clone()],
        };
        for value in values {
            req = req.header(name.as_str(), value.as_str().unwrap());
        }
    }
    match &request["body"] {
        Value::String(text) => {
            req = req.body(text.clone().into_bytes());
        }
        Value::Object(fill) => {
            let byte = fill["fill"].as_str().unwrap().as_bytes()[0];
            let len = fill["bytes"].as_u64().unwrap() as usize;
            if fill.get("chunked") != Some(&Value::Bool(true)) {
                req = req.header("content-length", len.to_string());
            }
            req = req.body(vec![byte; len]);
        }
        _ => {}
    }
    req.send().await.unwrap()
}

/// A recorded string with `{port}` filled in.
fn port(text: &str) -> String {
    text.replace("127.0.0.1:{port}", "localhost:{port}")
        .replace("{port}", PORT)
}

fn fill_ports(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(port(s)),
        Value::Array(a) => Value::Array(a.iter().map(fill_ports).collect()),
        Value::Object(o) => {
            Value::Object(o.iter().map(|(k, v)| (k.clone(), fill_ports(v))).collect())
        }
        other => other.clone(),
    }
}

/// A Set-Cookie line with its `Expires` dropped when it has a `Max-Age` (the recording's
/// `Expires` was the request time plus `Max-Age`).
fn cookie_line(line: &str) -> String {
    if !line.contains("; Max-Age=") {
        return line.to_owned();
    }
    line.split("; ")
        .filter(|part| !part.starts_with("Expires="))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Differences between a recorded response and nextr's.
fn compare(name: &str, expected: &Value, res: &TestResponse) -> Vec<String> {
    let mut problems = Vec::new();
    let mut check = |ok: bool, what: String| {
        if !ok {
            problems.push(format!("{name}: {what}"));
        }
    };
    let status = expected["status"].as_u64().unwrap();
    check(
        status == u64::from(res.status),
        format!("status {} (recorded {status})", res.status),
    );
    let recorded = expected["headers"].as_object().unwrap();
    for (header, value) in recorded {
        // TRACE's ETag is the one Next computes for its own error page.
        if ARTEFACTS.contains(&header.as_str()) || (header == "etag" && name.ends_with("-trace")) {
            continue;
        }
        let ours: Vec<String> = res
            .headers
            .get_all(header.as_str())
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        if header == "set-cookie" {
            let want: Vec<String> = value
                .as_array()
                .unwrap()
                .iter()
                .map(|v| cookie_line(v.as_str().unwrap()))
                .collect();
            let got: Vec<String> = ours.iter().map(|l| cookie_line(l)).collect();
            check(
                got == want,
                format!("set-cookie {got:?} (recorded {want:?})"),
            );
        } else {
            let want = port(value.as_str().unwrap());
            let got = ours.join(", ");
            check(
                got == want,
                format!("{header}: {got:?} (recorded {want:?})"),
            );
        }
    }
    for header in NAMED {
        if !recorded.contains_key(header) {
            check(
                !res.headers.contains_key(header),
                format!("{header} {:?} (recorded none)", res.headers.get(header)),
            );
        }
    }
    if let Some(json) = expected.get("json") {
        let got: Result<Value, _> = res.json();
        let want = fill_ports(json);
        check(
            got.as_ref().ok() == Some(&want),
            format!("body {:?} (recorded {want})", res.text()),
        );
    } else if let Some(hex) = expected.get("bodyHex") {
        let got: String = res.body.iter().map(|b| format!("{b:02x}")).collect();
        check(
            got == hex.as_str().unwrap(),
            format!("body {got} (recorded {hex})"),
        );
    } else if let Some(snippet) = expected.get("bodySnippet") {
        let len = expected["bodyLength"].as_u64().unwrap();
        check(
            res.body.len() as u64 == len,
            format!("body length {} (recorded {len})", res.body.len()),
        );
        check(
            res.text().starts_with(snippet.as_str().unwrap()),
            "body prefix".into(),
        );
    } else {
        let want = port(expected["body"].as_str().unwrap_or_default());
        check(
            res.text() == want,
            format!("body {:?} (recorded {want:?})", res.text()),
        );
    }
    problems
}

#[tokio::test(flavor = "current_thread")]
async fn every_applicable_case_answers_as_next() {
    let mut routes: HashMap<String, TestRoute> = HashMap::new();
    let mut problems = Vec::new();
    let mut ran = 0;
    for case in corpus() {
        let name = case["name"].as_str().unwrap();
        if BUILD_CASES.iter().any(|(n, _)| *n == name) {
            continue;
        }
        let (file, exchanges) = match case.get("handler_file") {
            Some(file) => (
                file.as_str().unwrap().to_owned(),
                vec![(case["request"].clone(), case["response"].clone())],
            ),
            // A tree case with its own requests (`edge-ia10-default-export-only`).
            None => (
                case["files"][0].as_str().unwrap().to_owned(),
                case["requests"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| (r["request"].clone(), r["response"].clone()))
                    .collect(),
            ),
        };
        if !routes.contains_key(&file) {
            let route = serve(&file).await;
            routes.insert(file.clone(), route);
        }
        let route = &routes[&file];
        for (request, response) in exchanges {
            let res = send(route, &request).await;
            ran += 1;
            match DIFFERENCES.iter().find(|(n, _, _)| *n == name) {
                Some((_, _, own)) => own(&res),
                None => problems.extend(compare(name, &response, &res)),
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} differences:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert_eq!(ran, 112, "every recorded request ran");
}

#[tokio::test(flavor = "current_thread")]
async fn dynamic_error_route_fails_its_prerender() {
    let case = corpus()
        .into_iter()
        .find(|c| c["name"] == "ia08-dynamic-error-reads-request")
        .unwrap();
    let (page, config, handlers) = route_of("app/api/ih/route.js");
    let spec = RouteSpec {
        page,
        file: "app/api/ih/route.rs",
        config,
    };
    let route = AppRoute {
        handlers,
        pages_router: false,
    };
    let e = TestRoute::prerendered(spec, route).await.unwrap_err();
    let message = e.to_string();
    assert!(
        message.ends_with(case["expect_error"].as_str().unwrap()),
        "{message}"
    );
}
