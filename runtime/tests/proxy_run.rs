//! Every applicable request of `fixtures/proxy.json` (a copy of the spec's recording of
//! Next.js 16.4.6 with a `proxy.js`, or `middleware.js`), run in process through the proxy
//! and the routes of its app translated to Rust: `proxy-main` (the proxy below, a line-by-line
//! translation of the recorded `proxy_source`, and the echo route handlers), `proxy-nomatcher`
//! and `middleware-legacy`. Each app is a [`TestApp`]: every route its own function, plus the
//! `$default` one, each running the proxy; a rewrite to another function's page is served by
//! that function, as Lambda's `Invoke` would.
//!
//! Compared: the status; every recorded header except Node-server and Next-build artefacts
//! ([`IGNORED`]) and the differences listed in [`DIFFERENCES`]; the absence of the proxy's
//! headers where Next sent none ([`ABSENT_UNLESS_RECORDED`]); JSON bodies (with `{port}` the
//! port the requests name, so `request.url` and `x-middleware-rewrite` are compared whole)
//! and text bodies; the proxy's `[proxy] METHOD path?search` log lines (how many times it
//! ran, for which target) and its `Error: …` line. Next's 404 is its HTML not-found page;
//! nextr's `$default` function answers `{"message":"Not Found"}` (README), so a 404's body,
//! content type, length and cache-control are not compared, its status and the proxy's
//! headers are.
//!
//! Not applicable ([`NOT_APPLICABLE`]): requests for Next's build assets (`/_next/static`)
//! and `public/` files, which nextr does not serve; bodies over Lambda's 6 MB synchronous
//! payload limit (Next's 10 MB proxy truncation cannot happen behind it: the gateway refuses
//! the request first); and the build-time cases, which are `nextr build`'s.

use std::cell::RefCell;
use std::collections::BTreeSet;

use nextr::app::{AppHandlers, AppRoute, NextRequest, RouteContext};
use nextr::manifest::{ProxyBundle, ProxyRoute};
use nextr::prelude::{NextApiRequest, NextApiResponse};
use nextr::proxy::matcher::MatcherSpec;
use nextr::proxy::prelude::*;
use nextr::proxy::ProxyHandler;
use nextr::routing::Router;
use nextr::testing::{TestApp, TestResponse, TestRoute};
use serde_json::Value;

const CASES: &str = include_str!("fixtures/proxy.json");

/// The port the requests name (`Host: localhost:4501`), standing for the recording's `{port}`.
const PORT: &str = "4501";

/// Recorded headers never compared: Node-server and Next-build artefacts.
const IGNORED: [&str; 5] = ["vary", "etag", "x-powered-by", "transfer-encoding", "date"];

/// Headers only the proxy (or its redirects) sets: absent where Next sent none.
const ABSENT_UNLESS_RECORDED: [&str; 7] = [
    "x-proxy-ran",
    "x-middleware-ran",
    "x-middleware-rewrite",
    "location",
    "refresh",
    "set-cookie",
    "x-proxy-saw-body",
];

/// Cases that cannot happen to a nextr function, and why.
const NOT_APPLICABLE: [(&str, &str); 12] = [
    ("px-next-static-not-matched", "`/_next/static` assets are Next's build output; nextr serves none"),
    ("nm-next-static-chunk", "`/_next/static` assets are Next's build output; nextr serves none"),
    ("nm-next-static-missing", "`/_next/static` assets are Next's build output; nextr serves none"),
    ("nm-public-file", "nextr serves no `public/` folder"),
    ("px-body-11mb-truncated", "over Lambda's 6 MB synchronous payload limit: the gateway refuses it before any function, so Next's 10 MB truncation cannot happen"),
    ("px-body-9mb", "over Lambda's 6 MB synchronous payload limit: the gateway refuses it before any function"),
    ("ip01-proxy-and-middleware", "a build error: `nextr build`'s (CLI)"),
    ("ip02-proxy-runtime-config", "a build error: `nextr build`'s (CLI)"),
    ("ip03-proxy-no-function-export", "a build error: `nextr build`'s (CLI)"),
    ("ip04-proxy-named-middleware-export", "a build error: `nextr build`'s (CLI)"),
    ("edge-ip06-proxy-default-export-not-a-function", "a `proxy.rs` without an async `proxy` function does not compile"),
    ("ip05-matcher-without-leading-slash", "a build error: `nextr build`'s (CLI)"),
];

/// Recorded headers nextr answers differently on purpose: (case, header, why).
const DIFFERENCES: [(&str, &str, &str); 1] = [(
    "mw-legacy-app-route",
    "x-middleware-runtime",
    "Next runs `middleware.js` on its edge runtime (the recorded middleware reports it); nextr runs `middleware.rs` in the function like `proxy.rs`",
)];

thread_local! {
    /// The proxy's log lines (`console.log` in the recorded proxy), per test thread.
    static RUNS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// `proxy-main`'s `proxy.js`, translated (shared with `nextr dev`'s test).
#[path = "fixtures/proxy-main/proxy.rs"]
mod proxy_main;

/// `proxy-nomatcher`'s `proxy.js` (a default export, no matcher).
async fn proxy_nomatcher(request: NextRequest) -> NextResponse {
    NextResponse::next()
        .header("x-proxy-ran", request.next_url().pathname())
        .header("x-proxy-runtime", "nodejs")
}

/// `middleware-legacy`'s `middleware.js`.
async fn middleware_legacy(request: NextRequest) -> NextResponse {
    NextResponse::next()
        .header("x-middleware-ran", request.next_url().pathname())
        .header("x-middleware-runtime", "nodejs")
}

/// The headers the recorded echo handlers report.
const SEEN: [&str; 8] = [
    "x-from-proxy",
    "x-overwrite",
    "authorization",
    "cookie",
    "x-middleware-subrequest",
    "x-middleware-rewrite",
    "x-middleware-next",
    "x-invoke-path",
];

/// The recorded App echo handler (`oracle.mjs`'s), with its route, file and headers.
fn app_echo(
    req: &NextRequest,
    ctx: &RouteContext,
    route: &str,
    file: &str,
    seen: &[&str],
) -> Response {
    let params = match &ctx.params {
        Some(params) => json!(params),
        None => json!("absent"),
    };
    let mut body = json!({
        "route": route,
        "file": file,
        "params": params,
        "paramsIsPromise": ctx.params.is_some(),
        "ctxKeys": ["params"],
        "searchParams": req.next_url().search_params(),
        "url": req.url(),
        "pathname": req.next_url().pathname(),
        "search": req.next_url().search(),
        "method": req.method().as_str(),
    });
    if !seen.is_empty() {
        let headers: serde_json::Map<String, Value> = seen
            .iter()
            .map(|h| ((*h).to_owned(), json!(req.header(*h))))
            .collect();
        body["seenHeaders"] = Value::Object(headers);
    }
    Response::json(&body)
}

/// The recorded Pages echo handler.
fn pages_echo(
    req: &NextApiRequest,
    res: &mut NextApiResponse,
    route: &str,
    file: &str,
    seen: &[&str],
) -> nextr::Result<()> {
    let mut body = json!({
        "router": "pages",
        "route": route,
        "file": file,
        "query": req.query,
        "url": req.url,
        "method": req.method.as_str(),
    });
    if !seen.is_empty() {
        let headers: serde_json::Map<String, Value> = seen
            .iter()
            .map(|h| ((*h).to_owned(), json!(req.header(*h))))
            .collect();
        body["seenHeaders"] = Value::Object(headers);
    }
    res.status(200).json(&body)
}

/// One App echo route: `app_echo!(fn_name, "/page", "app/…/route.js", SEEN or [])`.
macro_rules! app_echo {
    ($name:ident, $route:literal, $file:literal, $seen:expr) => {
        async fn $name(req: NextRequest, ctx: RouteContext) -> Response {
            app_echo(&req, &ctx, $route, $file, &$seen)
        }
    };
}

/// One Pages echo route.
macro_rules! pages_echo {
    ($name:ident, $route:literal, $file:literal, $seen:expr) => {
        async fn $name(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
            pages_echo(req, res, $route, $file, &$seen)
        }
    };
}

app_echo!(px_echo, "/api/px/echo", "app/api/px/echo/route.js", SEEN);
app_echo!(px_auth, "/api/px/auth", "app/api/px/auth/route.js", SEEN);
app_echo!(
    px_reqhdr,
    "/api/px/reqhdr",
    "app/api/px/reqhdr/route.js",
    SEEN
);
app_echo!(
    px_cookie,
    "/api/px/cookie",
    "app/api/px/cookie/route.js",
    SEEN
);
app_echo!(
    px_req_cookie,
    "/api/px/req-cookie",
    "app/api/px/req-cookie/route.js",
    SEEN
);
app_echo!(
    px_next_headers,
    "/api/px/next-headers",
    "app/api/px/next-headers/route.js",
    SEEN
);
app_echo!(
    px_undefined,
    "/api/px/undefined",
    "app/api/px/undefined/route.js",
    SEEN
);
app_echo!(
    px_rewrite,
    "/api/px/rewrite",
    "app/api/px/rewrite/route.js",
    SEEN
);
app_echo!(
    px_target,
    "/api/px/target/[id]",
    "app/api/px/target/[id]/route.js",
    SEEN
);
app_echo!(m1_admin, "/m1/admin", "app/m1/admin/route.js", SEEN);
app_echo!(
    m1_rest,
    "/m1/admin/[...rest]",
    "app/m1/admin/[...rest]/route.js",
    SEEN
);
app_echo!(m2_n, "/m2/[n]", "app/m2/[n]/route.js", SEEN);
app_echo!(m3_p, "/m3/[...p]", "app/m3/[...p]/route.js", SEEN);
app_echo!(m4_p, "/m4/[...p]", "app/m4/[...p]/route.js", SEEN);
app_echo!(m5_p, "/m5/[...p]", "app/m5/[...p]/route.js", SEEN);
app_echo!(outside, "/outside", "app/outside/route.js", SEEN);
pages_echo!(
    pxpages_echo,
    "/api/pxpages/echo",
    "pages/api/pxpages/echo.js",
    SEEN
);
pages_echo!(
    pxpages_reqhdr,
    "/api/pxpages/reqhdr",
    "pages/api/pxpages/reqhdr.js",
    SEEN
);
app_echo!(nm, "/api/nm", "app/api/nm/route.js", []);
pages_echo!(nmp, "/api/nmp", "pages/api/nmp.js", []);
app_echo!(lg, "/api/lg", "app/api/lg/route.js", []);

/// `app/api/px/body/route.js`.
async fn px_body(mut request: NextRequest) -> nextr::Result<Response> {
    let text = request.text().await?;
    let head: String = text.chars().take(20).collect();
    Ok(Response::json(
        &json!({ "handlerSawLength": text.len(), "head": head }),
    ))
}

/// `app/api/px/size/route.js`.
async fn px_size(mut request: NextRequest) -> nextr::Result<Response> {
    let content_length = request.header("content-length");
    let bytes = request.bytes().await?;
    Ok(Response::json(
        &json!({ "bytes": bytes.len(), "contentLength": content_length }),
    ))
}

/// An App route whose echo answers GET, POST and DELETE (`export { echo as GET, echo as
/// POST, echo as DELETE }`), or GET and POST (`nm`, `lg`).
fn echo_route(
    page: &'static str,
    handler: nextr::app::AppHandler,
    delete: bool,
    pages_router: bool,
) -> TestRoute {
    let handlers = AppHandlers {
        get: Some(handler),
        post: Some(handler),
        delete: delete.then_some(handler),
        ..AppHandlers::default()
    };
    TestRoute::app(
        page,
        AppRoute {
            handlers,
            pages_router,
        },
    )
}

fn post_route(page: &'static str, handler: nextr::app::AppHandler) -> TestRoute {
    let handlers = AppHandlers {
        post: Some(handler),
        ..AppHandlers::default()
    };
    TestRoute::app(
        page,
        AppRoute {
            handlers,
            pages_router: true,
        },
    )
}

/// What `nextr build` would write as `proxy.json` for an app (each function named after its
/// page).
fn bundle(file: &str, matcher: Option<Vec<MatcherSpec>>, routes: &[&TestRoute]) -> ProxyBundle {
    let routes: Vec<ProxyRoute> = routes
        .iter()
        .map(|r| ProxyRoute {
            page: r.page().to_owned(),
            router: r.router(),
            function: Some(r.page().to_owned()),
        })
        .collect();
    ProxyBundle {
        file: file.into(),
        matcher,
        pages_router: routes.iter().any(|r| r.router == Router::Pages),
        routes,
        fallback: "$default".into(),
    }
}

fn app(
    file: &str,
    proxy: ProxyHandler,
    matcher: Option<Vec<MatcherSpec>>,
    routes: Vec<TestRoute>,
) -> TestApp {
    let bundle = bundle(file, matcher, &routes.iter().collect::<Vec<_>>());
    TestApp::new(proxy, &bundle, routes).unwrap()
}

/// `proxy-main`'s `config.matcher` (its `proxy.rs`'s `config!`, as `nextr build` records it:
/// `cli/tests/dev_proxy.rs` checks the build reads the same).
fn proxy_main_matcher() -> Vec<MatcherSpec> {
    serde_json::from_str(include_str!("fixtures/proxy-main/matcher.json")).unwrap()
}

/// `proxy-main`'s routes.
fn proxy_main_routes() -> Vec<TestRoute> {
    let echo = |page, handler| echo_route(page, handler, true, true);
    vec![
        echo("/api/px/echo", nextr::app_handler!(px_echo)),
        echo("/api/px/auth", nextr::app_handler!(px_auth)),
        echo("/api/px/reqhdr", nextr::app_handler!(px_reqhdr)),
        echo("/api/px/cookie", nextr::app_handler!(px_cookie)),
        echo("/api/px/req-cookie", nextr::app_handler!(px_req_cookie)),
        echo("/api/px/next-headers", nextr::app_handler!(px_next_headers)),
        echo("/api/px/undefined", nextr::app_handler!(px_undefined)),
        echo("/api/px/rewrite", nextr::app_handler!(px_rewrite)),
        echo("/api/px/target/[id]", nextr::app_handler!(px_target)),
        echo("/m1/admin", nextr::app_handler!(m1_admin)),
        echo("/m1/admin/[...rest]", nextr::app_handler!(m1_rest)),
        echo("/m2/[n]", nextr::app_handler!(m2_n)),
        echo("/m3/[...p]", nextr::app_handler!(m3_p)),
        echo("/m4/[...p]", nextr::app_handler!(m4_p)),
        echo("/m5/[...p]", nextr::app_handler!(m5_p)),
        echo("/outside", nextr::app_handler!(outside)),
        post_route("/api/px/body", nextr::app_handler!(px_body, req)),
        post_route("/api/px/size", nextr::app_handler!(px_size, req)),
        TestRoute::new("/api/pxpages/echo", nextr::handler!(pxpages_echo)),
        TestRoute::new("/api/pxpages/reqhdr", nextr::handler!(pxpages_reqhdr)),
    ]
}

fn proxy_main_app() -> TestApp {
    app(
        "proxy.rs",
        nextr::proxy_handler!(proxy_main::proxy),
        Some(proxy_main_matcher()),
        proxy_main_routes(),
    )
}

fn proxy_nomatcher_app() -> TestApp {
    let routes = vec![
        echo_route("/api/nm", nextr::app_handler!(nm), false, true),
        TestRoute::new("/api/nmp", nextr::handler!(nmp)),
    ];
    app(
        "proxy.rs",
        nextr::proxy_handler!(proxy_nomatcher),
        None,
        routes,
    )
}

fn middleware_legacy_app() -> TestApp {
    let routes = vec![echo_route("/api/lg", nextr::app_handler!(lg), false, false)];
    let matcher = Some(vec![MatcherSpec::source("/api/:path*")]);
    app(
        "middleware.rs",
        nextr::proxy_handler!(middleware_legacy),
        matcher,
        routes,
    )
}

fn cases() -> Vec<Value> {
    serde_json::from_str(CASES).unwrap()
}

fn name(case: &Value) -> &str {
    case["name"].as_str().unwrap()
}

/// The recording's `{port}` stood for the server's port: this test's requests name [`PORT`].
fn with_port(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(s.replace("{port}", PORT)),
        Value::Array(items) => Value::Array(items.iter().map(with_port).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), with_port(v))).collect())
        }
        other => other.clone(),
    }
}

/// Sends one recorded request (with the `Host` and scheme of a local server, as recorded).
async fn send(app: &TestApp, request: &Value) -> (TestResponse, Vec<String>) {
    RUNS.with(|runs| runs.borrow_mut().clear());
    let method = http::Method::from_bytes(request["method"].as_str().unwrap().as_bytes()).unwrap();
    let mut req = app
        .request(method, request["path"].as_str().unwrap())
        .header("host", format!("localhost:{PORT}"))
        .header("x-forwarded-proto", "http");
    if let Some(headers) = request["headers"].as_object() {
        for (k, v) in headers {
            req = req.header(k.as_str(), v.as_str().unwrap());
        }
    }
    if let Some(body) = request["body"].as_str() {
        req = req.body(body.to_owned());
    }
    let res = req.send().await.unwrap();
    let runs = RUNS.with(|runs| runs.borrow().clone());
    (res, runs)
}

/// What differs between a recorded answer and nextr's (empty: none).
fn compare(case: &Value, res: &TestResponse, runs: &[String]) -> Vec<String> {
    let name = name(case);
    let recorded = &case["response"];
    let mut problems = Vec::new();
    let status = recorded["status"].as_u64().unwrap();
    if u64::from(res.status) != status {
        problems.push(format!("status {} (Next: {status})", res.status));
    }
    // Next's 404 page and its 500 page are HTML documents of its own.
    let next_page = status == 404 || (status == 500 && recorded.get("bodySnippet").is_some());
    let empty = serde_json::Map::new();
    let headers = recorded["headers"].as_object().unwrap_or(&empty);
    for (header, value) in headers {
        let page_header =
            ["content-type", "cache-control", "content-length"].contains(&header.as_str());
        if IGNORED.contains(&header.as_str())
            || header.starts_with("x-nextjs-")
            || (status == 404 && page_header)
            || (next_page && header == "content-length")
            || DIFFERENCES
                .iter()
                .any(|(c, h, _)| *c == name && h == header)
        {
            continue;
        }
        let ours: Vec<&str> = res
            .headers
            .get_all(header.as_str())
            .iter()
            .map(|v| v.to_str().unwrap_or("<not UTF-8>"))
            .collect();
        let theirs: Vec<String> = match with_port(value) {
            Value::Array(items) => items
                .iter()
                .map(|v| v.as_str().unwrap().to_owned())
                .collect(),
            Value::String(s) => vec![s],
            other => vec![other.to_string()],
        };
        if ours != theirs {
            problems.push(format!("header {header}: {ours:?} (Next: {theirs:?})"));
        }
    }
    for header in ABSENT_UNLESS_RECORDED {
        if !headers.contains_key(header) && res.headers.contains_key(header) {
            problems.push(format!(
                "header {header}: {:?} (Next: none)",
                res.header(header)
            ));
        }
    }
    if let Some(json) = recorded.get("json") {
        match res.json::<Value>() {
            Ok(ours) if ours == with_port(json) => {}
            Ok(ours) => problems.push(format!("body {ours} (Next: {})", with_port(json))),
            Err(e) => problems.push(format!("body is not JSON ({e}): {}", res.text())),
        }
    } else if let Some(body) = recorded.get("body").and_then(Value::as_str) {
        if res.text() != body {
            problems.push(format!("body {:?} (Next: {body:?})", res.text()));
        }
    } else if status == 404 {
        if res.text() != r#"{"message":"Not Found"}"# {
            problems.push(format!("404 body {:?}", res.text()));
        }
    } else if next_page && !res.text().starts_with("<!DOCTYPE html>") {
        problems.push(format!("500 body is not an HTML page: {:?}", res.text()));
    }
    let log: Vec<&str> = case["server_log"]
        .as_array()
        .map(|l| l.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let proxy_lines: Vec<&str> = log
        .iter()
        .copied()
        .filter(|l| l.starts_with("[proxy] "))
        .collect();
    if runs != proxy_lines.as_slice() {
        problems.push(format!("proxy runs {runs:?} (Next: {proxy_lines:?})"));
    }
    for line in log.iter().filter(|l| l.starts_with("Error: ")) {
        let file = case["proxy_file"].as_str().unwrap().replace(".js", ".rs");
        if !res
            .logs
            .iter()
            .any(|ours| ours.contains(&format!("{file}: {line}")))
        {
            problems.push(format!("no log line `{file}: {line}` in {:?}", res.logs));
        }
    }
    problems
}

/// Runs every applicable case of one recorded app; returns the names run.
async fn run_app(app_name: &str, app: &TestApp) -> BTreeSet<String> {
    let mut failures = Vec::new();
    let mut ran = BTreeSet::new();
    for case in cases() {
        if case["app"].as_str() != Some(app_name)
            || NOT_APPLICABLE.iter().any(|(n, _)| *n == name(&case))
        {
            continue;
        }
        let (res, runs) = send(app, &case["request"]).await;
        let problems = compare(&case, &res, &runs);
        if !problems.is_empty() {
            failures.push(format!(
                "{}:\n    {}\n    logs: {:?}",
                name(&case),
                problems.join("\n    "),
                res.logs
            ));
        }
        ran.insert(name(&case).to_owned());
    }
    assert!(
        failures.is_empty(),
        "{} case(s) differ from Next:\n{}",
        failures.len(),
        failures.join("\n")
    );
    ran
}

#[tokio::test(flavor = "current_thread")]
async fn proxy_main_answers_as_next() {
    let ran = run_app("proxy-main", &proxy_main_app()).await;
    assert_eq!(ran.len(), 47, "{ran:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn proxy_without_matcher_answers_as_next() {
    let ran = run_app("proxy-nomatcher", &proxy_nomatcher_app()).await;
    assert_eq!(ran.len(), 5, "{ran:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn middleware_rs_answers_as_next() {
    let ran = run_app("middleware-legacy", &middleware_legacy_app()).await;
    assert_eq!(ran.len(), 2, "{ran:?}");
}

#[test]
fn every_case_is_run_or_said_not_to_apply() {
    let all = cases();
    assert_eq!(all.len(), 66);
    let mut run = 0;
    for case in &all {
        let name = name(case);
        let listed = NOT_APPLICABLE.iter().any(|(n, _)| *n == name);
        let has_request = case.get("request").is_some();
        assert!(listed || has_request, "{name}: neither run nor listed");
        if !listed {
            run += 1;
        }
    }
    // proxy-main, proxy-nomatcher, middleware-legacy: as the tests above count them.
    assert_eq!(run, 47 + 5 + 2);
    for (name, _) in NOT_APPLICABLE {
        assert!(
            all.iter().any(|c| c["name"] == name),
            "{name} is not a case"
        );
    }
    for (name, _, _) in DIFFERENCES {
        assert!(
            all.iter().any(|c| c["name"] == name),
            "{name} is not a case"
        );
    }
}

/// A function of an app with a proxy reads `proxy.json` beside its executable when it starts;
/// without it (here: beside the test binary) it stops, naming the file.
#[tokio::test(flavor = "current_thread")]
async fn a_function_without_proxy_json_fails_at_start_naming_it() {
    for (var, value) in [
        ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9"),
        ("AWS_LAMBDA_FUNCTION_NAME", "proxied"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
    ] {
        std::env::set_var(var, value);
    }
    let beside = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .join(nextr::manifest::PROXY_FILE);
    assert!(!beside.exists(), "{} exists", beside.display());
    let expected = format!("cannot read {}: ", beside.display());
    let spec = nextr::RouteSpec {
        page: "/api/nm",
        file: "app/api/nm/route.rs",
        config: nextr::config::RouteConfig::default(),
    };
    let app_route = AppRoute {
        handlers: AppHandlers {
            get: Some(nextr::app_handler!(nm)),
            ..AppHandlers::default()
        },
        pages_router: false,
    };
    let proxy = nextr::proxy_handler!(proxy_nomatcher);
    let errors = [
        nextr::lambda::run_app_proxied(spec.clone(), app_route, proxy).await,
        nextr::lambda::run_proxied(spec, nextr::handler!(nmp), proxy).await,
        nextr::lambda::run_fallback_proxied(proxy).await,
    ];
    for e in errors {
        let e = e.unwrap_err().to_string();
        assert!(e.starts_with(&expected), "{e}");
    }
}

/// One function under test with the proxy: a rewrite to another function's page cannot be
/// served (Lambda would invoke it), and the log says how to test it.
#[tokio::test(flavor = "current_thread")]
async fn one_function_alone_answers_a_rewrite_elsewhere_with_500() {
    let routes = proxy_main_routes();
    let bundle = bundle(
        "proxy.rs",
        Some(proxy_main_matcher()),
        &routes.iter().collect::<Vec<_>>(),
    );
    let rewrite = routes
        .into_iter()
        .find(|r| r.page() == "/api/px/rewrite")
        .unwrap();
    let function = rewrite
        .with_proxy(nextr::proxy_handler!(proxy_main::proxy), &bundle)
        .unwrap();
    let res = function.get("/api/px/rewrite?orig=1").send().await.unwrap();
    assert_eq!(res.status, 500);
    assert_eq!(res.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(
        res.logs,
        ["nextr: [test] proxy.rs: the rewrite to /api/px/target/rewritten?via=rewrite is served by function /api/px/target/[id] (/api/px/target/[id]), which could not answer: this test serves one function (serve the app with `nextr::testing::TestApp` to test rewrites across functions); answered 500"]
    );
}

/// A `TestApp` without the function of a page it routes to says so.
#[tokio::test(flavor = "current_thread")]
async fn a_test_app_without_a_pages_function_says_so() {
    let routes: Vec<TestRoute> = proxy_main_routes()
        .into_iter()
        .filter(|r| r.page() != "/outside")
        .collect();
    let mut bundle = bundle(
        "proxy.rs",
        Some(proxy_main_matcher()),
        &routes.iter().collect::<Vec<_>>(),
    );
    bundle.routes.push(ProxyRoute {
        page: "/outside".into(),
        router: Router::App,
        function: Some("/outside".into()),
    });
    let app = TestApp::new(nextr::proxy_handler!(proxy_main::proxy), &bundle, routes).unwrap();
    let res = app.get("/outside").send().await.unwrap();
    assert_eq!(res.status, 500);
    assert_eq!(
        res.logs,
        ["nextr: /outside is served by the route /outside, which has no function in this TestApp"]
    );
}
