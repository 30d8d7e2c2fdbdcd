//! How an answer is compared with the App Router corpus (`../fixtures/app-handlers.json`,
//! recorded from Next.js 16.4.6): one home for the rules, shared by the in-process test
//! (`runtime/tests/app_handlers.rs`) and the one through `nextr dev`
//! (`cli/tests/dev_app_handlers.rs`), which include this file with `#[path]`.
//!
//! Depends on `std` and `serde_json` only, so either test crate can include it.

#![allow(dead_code)] // each including test uses a different part

use serde_json::Value;

/// The corpus.
const CORPUS: &str = include_str!("../fixtures/app-handlers.json");

/// The port a recorded `{port}` stood for: recorded values equal to it (`x-forwarded-port`,
/// `nextUrl.port`) are the server's port too.
pub const RECORDED_PORT: &str = "4501";

/// Recorded headers that are Node-server artefacts (or per-connection), never compared.
pub const ARTEFACTS: [&str; 6] = [
    "vary",
    "transfer-encoding",
    "content-length",
    "date",
    "connection",
    "keep-alive",
];

/// Headers whose absence in a recording is compared too.
pub const NAMED: [&str; 5] = [
    "content-type",
    "allow",
    "set-cookie",
    "cache-control",
    "location",
];

/// Build-time cases (no request): checked by their own tests (`app_handlers.rs`) or elsewhere.
pub const BUILD_CASES: [(&str, &str); 2] = [
    (
        "ia08-dynamic-error-reads-request",
        "prerender fails with Next's message: `dynamic_error_route_fails_its_prerender` in app_handlers.rs",
    ),
    (
        "ia09-invalid-dynamic-value",
        "`nextr::config!` rejects an unknown `dynamic` at compile time (config.rs's compile_fail doc test)",
    ),
];

/// How many recorded requests the corpus's applicable cases hold.
pub const REQUESTS: usize = 112;

/// Every case of the corpus.
pub fn corpus() -> Vec<Value> {
    serde_json::from_str(CORPUS).expect("the corpus is JSON")
}

/// One recorded request and its answer.
pub struct Exchange {
    /// The case's name.
    pub name: String,
    /// The corpus file serving it (`app/api/…/route.js`).
    pub file: String,
    /// The recorded request (`method`, `path`, `headers`, `body`).
    pub request: Value,
    /// The recorded response.
    pub response: Value,
}

/// Every recorded request of the applicable cases (the build-time ones left out), in corpus
/// order.
pub fn exchanges() -> Vec<Exchange> {
    let mut out = Vec::new();
    for case in corpus() {
        let name = case["name"].as_str().unwrap().to_owned();
        if BUILD_CASES.iter().any(|(n, _)| *n == name) {
            continue;
        }
        match case.get("handler_file") {
            Some(file) => out.push(Exchange {
                name,
                file: file.as_str().unwrap().to_owned(),
                request: case["request"].clone(),
                response: case["response"].clone(),
            }),
            // A tree case with its own requests (`edge-ia10-default-export-only`).
            None => {
                for r in case["requests"].as_array().unwrap() {
                    out.push(Exchange {
                        name: name.clone(),
                        file: case["files"][0].as_str().unwrap().to_owned(),
                        request: r["request"].clone(),
                        response: r["response"].clone(),
                    });
                }
            }
        }
    }
    out
}

impl Exchange {
    /// The method.
    pub fn method(&self) -> &str {
        self.request["method"].as_str().unwrap()
    }

    /// The request target as a client sends it (the recorded path without its `#fragment`).
    pub fn target(&self) -> &str {
        let path = self.request["path"].as_str().unwrap();
        path.split('#').next().unwrap()
    }

    /// The request's header lines: each of `defaults` the case does not set, then the case's
    /// own (a list is one line per value).
    pub fn headers(&self, defaults: &[(&str, &str)]) -> Vec<(String, String)> {
        let own = self.request["headers"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let mut lines: Vec<(String, String)> = defaults
            .iter()
            .filter(|(name, _)| !own.contains_key(*name))
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        for (name, value) in &own {
            let values = match value {
                Value::Array(values) => values.clone(),
                one => vec![one.clone()],
            };
            for value in values {
                lines.push((name.clone(), value.as_str().unwrap().to_owned()));
            }
        }
        lines
    }

    /// The request body, and whether it was sent chunked (no `Content-Length`). A recorded
    /// `{"fill", "bytes"}` is that many copies of the byte.
    pub fn body(&self) -> (Vec<u8>, bool) {
        match &self.request["body"] {
            Value::String(text) => (text.clone().into_bytes(), false),
            Value::Object(fill) => {
                let byte = fill["fill"].as_str().unwrap().as_bytes()[0];
                let len = fill["bytes"].as_u64().unwrap() as usize;
                let chunked = fill.get("chunked") == Some(&Value::Bool(true));
                (vec![byte; len], chunked)
            }
            _ => (Vec::new(), false),
        }
    }
}

/// An answer to compare: status, header lines (lower-case names, repeated names repeated),
/// body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a header.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The body as JSON.
    pub fn json(&self) -> Result<Value, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// The server the answers come from: `host` (`name:port`) is what a recorded
/// `127.0.0.1:{port}` or `localhost:{port}` stands for.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    pub host: &'a str,
}

impl Origin<'_> {
    /// The port of [`Origin::host`].
    pub fn port(&self) -> &str {
        self.host.rsplit(':').next().unwrap()
    }

    /// A recorded string with the server's origin for `{port}`'s: `127.0.0.1:{port}` and
    /// `localhost:{port}` are the server's host, a bare `{port}` or a value that is the
    /// recorded port is its port.
    pub fn fill(&self, text: &str) -> String {
        if text == RECORDED_PORT {
            return self.port().to_owned();
        }
        text.replace("127.0.0.1:{port}", self.host)
            .replace("localhost:{port}", self.host)
            .replace("{port}", self.port())
    }

    /// [`Origin::fill`] through a JSON value.
    pub fn fill_json(&self, value: &Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.fill(s)),
            Value::Array(a) => Value::Array(a.iter().map(|v| self.fill_json(v)).collect()),
            Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), self.fill_json(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

/// A Set-Cookie line with its `Expires` dropped when it has a `Max-Age` (the recording's
/// `Expires` was the request time plus `Max-Age`).
pub fn cookie_line(line: &str) -> String {
    if !line.contains("; Max-Age=") {
        return line.to_owned();
    }
    line.split("; ")
        .filter(|part| !part.starts_with("Expires="))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Differences between a recorded response and an answer: the status; every recorded header
/// but the [`ARTEFACTS`] (repeated lines compared joined with `", "`, Set-Cookie line by line
/// with [`cookie_line`]); the [`NAMED`] headers' absence; the body as JSON, bytes, or length
/// and prefix.
pub fn compare(name: &str, expected: &Value, res: &Answer, origin: Origin) -> Vec<String> {
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
        let ours = res.all(header);
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
            let want = origin.fill(value.as_str().unwrap());
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
                res.header(header).is_none(),
                format!("{header} {:?} (recorded none)", res.header(header)),
            );
        }
    }
    if let Some(json) = expected.get("json") {
        let got = res.json();
        let want = origin.fill_json(json);
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
        let want = origin.fill(expected["body"].as_str().unwrap_or_default());
        check(
            res.text() == want,
            format!("body {:?} (recorded {want:?})", res.text()),
        );
    }
    problems
}

/// A problem when `got` is not `want`.
pub fn expect<T: PartialEq + std::fmt::Debug>(what: &str, got: T, want: T) -> Option<String> {
    (got != want).then(|| format!("{what}: {got:?} (expected {want:?})"))
}

/// A case answered differently from the recording: its name, why, and the check of the
/// answer given instead (its problems; none when it answers as documented).
pub type Difference = (
    &'static str,
    &'static str,
    fn(&Answer, Origin) -> Vec<String>,
);

/// Cases where nextr answers differently from `next start` on purpose, in process and through
/// `nextr dev` alike (unless `dev_app_handlers.rs`'s `DEV_DIFFERENCES` has the case): why, and
/// nextr's own answer, checked instead of the recording.
pub const DIFFERENCES: &[Difference] = &[
    (
        "q-size-20mb",
        "Lambda takes at most 6 MB per synchronous request: the platform answers 413 before the function runs; in process the route reads the whole body",
        |res, _| {
            let read = res.json().ok().and_then(|b| b["bytes"].as_u64());
            [
                expect("status", res.status, 200),
                expect("bytes read", read, Some(20_971_520)),
                expect(
                    "over the limit",
                    read.unwrap_or(0) > nextr::limits::LAMBDA_PAYLOAD_BYTES as u64,
                    true,
                ),
            ]
            .into_iter()
            .flatten()
            .collect()
        },
    ),
    (
        "s-status-text-418",
        "a custom reason phrase cannot travel through API Gateway or Lambda: the status and body are Next's, the phrase is the standard one",
        |res, _| {
            [
                expect("status", res.status, 418),
                expect("body", res.text().as_str(), "short and stout"),
            ]
            .into_iter()
            .flatten()
            .collect()
        },
    ),
    (
        "q-url-custom-host",
        "request.url's origin is the Host the client used (the API's public origin), not Next's localhost: the path and query are Next's",
        |res, _| {
            let body = res.json().unwrap_or_default();
            [
                expect("url", &body["url"], &Value::from("http://example.com:8443/api/q/url?x=1")),
                expect("pathname", &body["pathname"], &Value::from("/api/q/url")),
                expect("search", &body["search"], &Value::from("?x=1")),
            ]
            .into_iter()
            .flatten()
            .collect()
        },
    ),
    (
        "s-nextresponse-redirect-custom-host",
        "a Location built on request.url points at the Host the client used (see q-url-custom-host)",
        |res, _| {
            [
                expect("status", res.status, 307),
                expect(
                    "location",
                    res.header("location"),
                    Some("http://example.com/api/s/target?from=redirect"),
                ),
                expect("body", res.body.is_empty(), true),
            ]
            .into_iter()
            .flatten()
            .collect()
        },
    ),
    (
        "c-max-duration-exceeded",
        "nextr enforces max_duration (Next's server does not): a 6.5 s handler with max_duration 5 gets the documented 504",
        |res, _| {
            let body = res.json().unwrap_or_default();
            [
                expect("status", res.status, 504),
                expect("maxDuration", &body["maxDuration"], &Value::from(5)),
            ]
            .into_iter()
            .flatten()
            .collect()
        },
    ),
    (
        "c-runtime-nodejs",
        "`runtime` picks a JavaScript runtime; nextr has one native runtime",
        |res, _| {
            let body = res.json().unwrap_or_default();
            [
                expect("status", res.status, 200),
                expect("runtime", &body["runtime"], &Value::from("native")),
            ]
            .into_iter()
            .flatten()
            .collect()
        },
    ),
    (
        "c-runtime-edge",
        "`runtime` picks a JavaScript runtime; nextr has one native runtime (request.url is Next's)",
        |res, origin| {
            let body = res.json().unwrap_or_default();
            let url = origin.fill("http://localhost:{port}/api/c/runtime-edge?e=1");
            [
                expect("status", res.status, 200),
                expect("runtime", &body["runtime"], &Value::from("native")),
                expect("url", &body["url"], &Value::from(url)),
            ]
            .into_iter()
            .flatten()
            .collect()
        },
    ),
];
