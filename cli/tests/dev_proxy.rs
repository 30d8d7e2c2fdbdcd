//! Every applicable request of the proxy corpus (`runtime/tests/fixtures/proxy.json`, recorded
//! from Next.js 16.4.6) through a real `nextr dev`, as `runtime/tests/proxy_run.rs` runs them
//! in process: the three recorded apps (`proxy-main`, whose translated `proxy.rs` is the one
//! the in-process test runs; `proxy-nomatcher`; `middleware-legacy`, with `middleware.rs`) are
//! built with every route its own function, the proxy compiled into each, and served by
//! `nextr dev`. A rewrite to another route's function goes through dev's Lambda Invoke API, as
//! on AWS through Lambda's.
//!
//! Compared: the status; the headers the proxy and its answers set (`x-proxy-ran`,
//! `x-middleware-rewrite`, `location`, `refresh`, `set-cookie`, …) and their absence where
//! Next sent none; the JSON bodies (`request.url` with dev's origin); and the proxy's log
//! lines in dev's output (how many times it ran, for which target). Next's 404 and 500 pages
//! are HTML of its own: there only the status and the proxy's headers are compared (the
//! `$default` function answers `{"message":"Not Found"}`). Where the deployed API Gateway (which
//! dev emulates) changes the answer, [`DEV_DIFFERENCES`] says why and what dev answers.
//! The cases that cannot apply to nextr at all are the in-process test's `NOT_APPLICABLE`.

mod support;

use std::time::{Duration, Instant};

use serde_json::Value;

use support::apps::TestApp;
use support::dev::Dev;
use support::http::Reply;

const CASES: &str = include_str!("../../runtime/tests/fixtures/proxy.json");
const PROXY_MAIN: &str = include_str!("../../runtime/tests/fixtures/proxy-main/proxy.rs");
const PROXY_MAIN_MATCHER: &str =
    include_str!("../../runtime/tests/fixtures/proxy-main/matcher.json");

/// Cases of the corpus nextr cannot answer (the in-process test's list, with its reasons).
const NOT_APPLICABLE: [&str; 6] = [
    "px-next-static-not-matched",
    "nm-next-static-chunk",
    "nm-next-static-missing",
    "nm-public-file",
    "px-body-11mb-truncated",
    "px-body-9mb",
];

/// Where dev, emulating the deployed HTTP API, answers otherwise than `next start`: (case,
/// why, the status dev answers, the path the proxy ran for).
const DEV_DIFFERENCES: [(&str, &str, u16, &str); 1] = [(
    "mt-encoded-prefix",
    "an HTTP API decodes the path before routing and hands the function the decoded path (README difference 14): /%61pi/px/echo reaches /api/px/echo's function, whose proxy sees /api/px/echo (Next's proxy matched the decoded path too, then routing missed)",
    200,
    "/api/px/echo",
)];

/// Headers only the proxy (or its redirects and rewrites) sets: absent where Next sent none.
const PROXY_HEADERS: [&str; 9] = [
    "x-proxy-ran",
    "x-middleware-ran",
    "x-middleware-rewrite",
    "x-proxy-saw-body",
    "x-next-init-header",
    "location",
    "refresh",
    "set-cookie",
    "www-authenticate",
];

/// The headers the recorded echo handlers report.
const SEEN: &str = r#"["x-from-proxy", "x-overwrite", "authorization", "cookie", "x-middleware-subrequest", "x-middleware-rewrite", "x-middleware-next", "x-invoke-path"]"#;

/// An App echo route file (`oracle.mjs`'s echo handler), for `methods` (`get`, `post`, …).
fn app_echo(page: &str, file: &str, seen: bool, methods: &[&str]) -> String {
    let seen = if seen { SEEN } else { "[]" };
    let mut text = format!(
        r#"use nextr::app::prelude::*;

const SEEN: &[&str] = &{seen};

async fn echo(req: NextRequest, ctx: RouteContext) -> Response {{
    let params = match &ctx.params {{
        Some(params) => json!(params),
        None => json!("absent"),
    }};
    let mut body = json!({{
        "route": {page:?},
        "file": {file:?},
        "params": params,
        "paramsIsPromise": ctx.params.is_some(),
        "ctxKeys": ["params"],
        "searchParams": req.next_url().search_params(),
        "url": req.url(),
        "pathname": req.next_url().pathname(),
        "search": req.next_url().search(),
        "method": req.method().as_str(),
    }});
    if !SEEN.is_empty() {{
        let seen: serde_json::Map<String, serde_json::Value> =
            SEEN.iter().map(|h| ((*h).to_owned(), json!(req.header(*h)))).collect();
        body["seenHeaders"] = serde_json::Value::Object(seen);
    }}
    Response::json(&body)
}}
"#
    );
    for method in methods {
        text.push_str(&format!(
            "\npub async fn {method}(req: NextRequest, ctx: RouteContext) -> Response {{\n    echo(req, ctx).await\n}}\n"
        ));
    }
    text
}

/// A Pages echo route file.
fn pages_echo(page: &str, file: &str, seen: bool) -> String {
    let seen = if seen { SEEN } else { "[]" };
    format!(
        r#"use nextr::prelude::*;

const SEEN: &[&str] = &{seen};

pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {{
    let mut body = json!({{
        "router": "pages",
        "route": {page:?},
        "file": {file:?},
        "query": req.query,
        "url": req.url,
        "method": req.method.as_str(),
    }});
    if !SEEN.is_empty() {{
        let seen: serde_json::Map<String, serde_json::Value> =
            SEEN.iter().map(|h| ((*h).to_owned(), json!(req.header(*h)))).collect();
        body["seenHeaders"] = serde_json::Value::Object(seen);
    }}
    res.status(200).json(&body)
}}
"#
    )
}

/// `app/api/px/body/route.js` and `app/api/px/size/route.js`.
const PX_BODY: &str = r#"use nextr::app::prelude::*;

pub async fn post(mut request: NextRequest) -> Result<Response> {
    let text = request.text().await?;
    let head: String = text.chars().take(20).collect();
    Ok(Response::json(&json!({ "handlerSawLength": text.len(), "head": head })))
}
"#;
const PX_SIZE: &str = r#"use nextr::app::prelude::*;

pub async fn post(mut request: NextRequest) -> Result<Response> {
    let content_length = request.header("content-length");
    let bytes = request.bytes().await?;
    Ok(Response::json(&json!({ "bytes": bytes.len(), "contentLength": content_length })))
}
"#;

/// `proxy-nomatcher`'s proxy (a default export, no matcher).
const NOMATCHER_PROXY: &str = r#"use nextr::proxy::prelude::*;

pub async fn proxy(request: NextRequest) -> NextResponse {
    NextResponse::next()
        .header("x-proxy-ran", request.next_url().pathname())
        .header("x-proxy-runtime", "nodejs")
}
"#;

/// `middleware-legacy`'s `middleware.js`.
const LEGACY_MIDDLEWARE: &str = r#"use nextr::proxy::prelude::*;

nextr::config! {
    matcher: "/api/:path*",
}

pub async fn middleware(request: NextRequest) -> NextResponse {
    NextResponse::next()
        .header("x-middleware-ran", request.next_url().pathname())
        .header("x-middleware-runtime", "nodejs")
}
"#;

/// The files of one recorded app, its Next file names turned into nextr's.
fn app_files(app: &str) -> Vec<(String, String)> {
    let echo = |page: &str, methods: &[&str]| {
        let file = format!("app{page}/route.js");
        let rs = format!("app{page}/route.rs");
        (rs, app_echo(page, &file, true, methods))
    };
    let all = ["get", "post", "delete"];
    match app {
        "proxy-main" => {
            let mut files = vec![("proxy.rs".to_owned(), PROXY_MAIN.to_owned())];
            for page in [
                "/api/px/echo",
                "/api/px/auth",
                "/api/px/reqhdr",
                "/api/px/cookie",
                "/api/px/req-cookie",
                "/api/px/next-headers",
                "/api/px/undefined",
                "/api/px/rewrite",
                "/api/px/target/[id]",
                "/m1/admin",
                "/m1/admin/[...rest]",
                "/m2/[n]",
                "/m3/[...p]",
                "/m4/[...p]",
                "/m5/[...p]",
                "/outside",
            ] {
                files.push(echo(page, &all));
            }
            files.push(("app/api/px/body/route.rs".into(), PX_BODY.into()));
            files.push(("app/api/px/size/route.rs".into(), PX_SIZE.into()));
            for page in ["/api/pxpages/echo", "/api/pxpages/reqhdr"] {
                let file = format!("pages{page}.js");
                files.push((
                    format!("api{}.rs", &page[4..]),
                    pages_echo(page, &file, true),
                ));
            }
            files
        }
        "proxy-nomatcher" => vec![
            ("proxy.rs".into(), NOMATCHER_PROXY.into()),
            (
                "app/api/nm/route.rs".into(),
                app_echo("/api/nm", "app/api/nm/route.js", false, &["get", "post"]),
            ),
            (
                "api/nmp.rs".into(),
                pages_echo("/api/nmp", "pages/api/nmp.js", false),
            ),
        ],
        "middleware-legacy" => vec![
            ("middleware.rs".into(), LEGACY_MIDDLEWARE.into()),
            (
                "app/api/lg/route.rs".into(),
                app_echo("/api/lg", "app/api/lg/route.js", false, &["get", "post"]),
            ),
        ],
        other => panic!("no recorded app {other}"),
    }
}

fn cases(app: &str) -> Vec<Value> {
    let all: Vec<Value> = serde_json::from_str(CASES).expect("the corpus is JSON");
    all.into_iter()
        .filter(|c| c["app"] == app)
        .filter(|c| !NOT_APPLICABLE.contains(&c["name"].as_str().unwrap_or_default()))
        .collect()
}

/// The recording's `localhost:{port}` is dev's address (the test's client names it in `Host`).
fn with_port(value: &Value, port: u16) -> Value {
    match value {
        Value::String(s) => {
            Value::String(s.replace("localhost:{port}", &format!("127.0.0.1:{port}")))
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| with_port(v, port)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), with_port(v, port)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Sends a recorded request.
fn send(dev: &Dev, request: &Value) -> Reply {
    let mut headers: Vec<(String, String)> = Vec::new();
    if let Some(sent) = request["headers"].as_object() {
        for (k, v) in sent {
            headers.push((k.clone(), v.as_str().unwrap_or_default().to_owned()));
        }
    }
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let body = request["body"].as_str().unwrap_or_default();
    dev.request(
        request["method"].as_str().unwrap_or("GET"),
        request["path"].as_str().unwrap_or("/"),
        &headers,
        body.as_bytes(),
    )
}

/// The proxy's log lines in dev's output so far (the functions' output, each line prefixed
/// with its function).
fn proxy_runs(dev: &Dev) -> Vec<String> {
    dev.lines()
        .into_iter()
        .filter_map(|l| l.find("[proxy] ").map(|at| l[at..].to_owned()))
        .collect()
}

/// What differs between a recorded answer and dev's (empty: none).
fn compare(case: &Value, reply: &Reply, runs: &[String], port: u16) -> Vec<String> {
    let name = case["name"].as_str().unwrap_or_default();
    let recorded = with_port(&case["response"], port);
    let mut problems = Vec::new();
    let mut status = recorded["status"].as_u64().unwrap_or_default() as u16;
    let mut logs: Vec<String> = case["server_log"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l.as_str())
        .filter(|l| l.starts_with("[proxy] "))
        .map(str::to_owned)
        .collect();
    let difference = DEV_DIFFERENCES.iter().find(|d| d.0 == name);
    if let Some((_, _, dev_status, path)) = difference {
        status = *dev_status;
        logs = vec![format!("[proxy] GET {path}")];
        if reply.header("x-proxy-ran") != Some(path) {
            problems.push(format!(
                "x-proxy-ran: {:?} (expected {path:?})",
                reply.header("x-proxy-ran")
            ));
        }
    }
    if reply.status != status {
        problems.push(format!("status {} (expected {status})", reply.status));
    }
    let empty = serde_json::Map::new();
    let headers = recorded["headers"].as_object().unwrap_or(&empty);
    for header in PROXY_HEADERS.iter().filter(|_| difference.is_none()) {
        let header = *header;
        let got = reply.all(header);
        match headers.get(header) {
            Some(Value::Array(want)) => {
                let want: Vec<&str> = want.iter().filter_map(Value::as_str).collect();
                if got != want {
                    problems.push(format!("{header}: {got:?} (expected {want:?})"));
                }
            }
            Some(want) => {
                let want = want.as_str().unwrap_or_default();
                if got != [want] {
                    problems.push(format!("{header}: {got:?} (expected {want:?})"));
                }
            }
            None if !got.is_empty() => {
                problems.push(format!("{header}: {got:?} (expected none)"));
            }
            None => {}
        }
    }
    let page = status == 404 || (status == 500 && recorded.get("bodySnippet").is_some());
    if let Some(want) = headers.get("content-type").and_then(Value::as_str) {
        if !page && difference.is_none() && reply.header("content-type") != Some(want) {
            problems.push(format!(
                "content-type: {:?} (expected {want:?})",
                reply.header("content-type")
            ));
        }
    }
    if status == 500 && page && reply.header("content-type") != Some("text/html; charset=utf-8") {
        problems.push("a thrown proxy's 500 is not an HTML page".into());
    }
    if difference.is_none() {
        if let Some(want) = recorded.get("json") {
            match serde_json::from_slice::<Value>(&reply.body) {
                Ok(got) if &got == want => {}
                Ok(got) => problems.push(format!("body {got} (expected {want})")),
                Err(_) => problems.push(format!(
                    "body {:?} is not JSON (expected {want})",
                    String::from_utf8_lossy(&reply.body)
                )),
            }
        } else if let Some(want) = recorded.get("body").and_then(Value::as_str) {
            if !want.is_empty() && reply.body != want.as_bytes() {
                problems.push(format!(
                    "body {:?} (expected {want:?})",
                    String::from_utf8_lossy(&reply.body)
                ));
            }
        }
    }
    if runs != logs {
        problems.push(format!("the proxy ran {runs:?} (expected {logs:?})"));
    }
    problems
}

/// Builds and serves one recorded app, sends each of its cases, and compares.
fn run_app(app: &str) -> usize {
    let name = format!("dev-proxy-{app}");
    let test_app = TestApp::cached(&name, &app_files(app));
    let mut dev = Dev::start(test_app.path(), &[]);
    let port = dev.port();
    if app == "proxy-main" {
        // The matcher the build read from proxy.rs's `config!` is the one the in-process test
        // runs with.
        let text = std::fs::read_to_string(test_app.path().join(".nextr/dev/routes-manifest.json"))
            .expect("nextr dev wrote its manifest");
        let manifest = nextr::manifest::Manifest::from_json(&text).expect("a manifest");
        let proxy = manifest.proxy.expect("the manifest records the proxy");
        let recorded: Vec<nextr::proxy::matcher::MatcherSpec> =
            serde_json::from_str(PROXY_MAIN_MATCHER).expect("the fixture's matcher is JSON");
        assert_eq!(
            (proxy.file.as_str(), proxy.matcher),
            ("proxy.rs", Some(recorded))
        );
    }
    let mut failures = Vec::new();
    let cases = cases(app);
    for case in &cases {
        let before = proxy_runs(&dev).len();
        let reply = send(&dev, &case["request"]);
        let expected = case["server_log"].as_array().map_or(0, |l| {
            l.iter()
                .filter(|l| l.as_str().is_some_and(|l| l.starts_with("[proxy] ")))
                .count()
        });
        // The functions' output reaches dev's log a moment after the answer; a little more
        // time shows a run too many.
        let deadline = Instant::now() + Duration::from_secs(5);
        while proxy_runs(&dev).len() < before + expected && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(100));
        let runs = proxy_runs(&dev)[before..].to_vec();
        let problems = compare(case, &reply, &runs, port);
        if !problems.is_empty() {
            failures.push(format!("{}: {}", case["name"], problems.join("; ")));
        }
    }
    let output = dev.output();
    dev.stop();
    assert!(
        failures.is_empty(),
        "{} of {} case(s) differ:\n{}\n--- nextr dev's output:\n{output}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    cases.len()
}

#[test]
fn proxy_main_through_nextr_dev() {
    assert_eq!(run_app("proxy-main"), 47);
}

#[test]
fn proxy_without_matcher_through_nextr_dev() {
    assert_eq!(run_app("proxy-nomatcher"), 5);
}

#[test]
fn middleware_rs_through_nextr_dev() {
    assert_eq!(run_app("middleware-legacy"), 2);
}
