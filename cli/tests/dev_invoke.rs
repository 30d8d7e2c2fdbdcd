//! `nextr dev`'s Lambda Invoke API, where a `proxy.rs` rewrite to another route's function
//! invokes it (`NEXTR_LAMBDA_ENDPOINT`), against real Lambda bootstraps (the `lambda-fn`
//! fixture, which echoes its event, environment and client context): the event runs in the
//! function's pool, the client context reaches the runtime, failures and unknown names are
//! answered as Lambda answers them, and the request log marks each invocation; and a bundle
//! `nextr build` made answers the payload 2.0 event a rewrite sends it.

mod support;

use std::time::Duration;

use base64::Engine as _;
use serde_json::{json, Value};
use support::apps::TestApp;
use support::dev::Dev;
use support::fixture::{App, Route};
use support::http;

/// A payload 2.0 event for `GET {path}`, as a rewrite sends it.
fn event(path: &str) -> Vec<u8> {
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"host": "localhost"},
        "requestContext": {
            "requestId": "rewrite-1", "routeKey": "$default", "stage": "$default",
            "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "127.0.0.1", "userAgent": "test"}
        },
        "isBase64Encoded": false
    })
    .to_string()
    .into_bytes()
}

fn invoke(port: u16, function: &str, path: &str, headers: &[(&str, &str)]) -> http::Reply {
    http::request(
        port,
        "POST",
        &format!("/2015-03-31/functions/{function}/invocations?Qualifier=live"),
        headers,
        &event(path),
    )
}

#[test]
fn the_invoke_api_runs_the_functions_of_the_manifest_as_lambda_does() {
    let app = App::new(&[Route::new("/api/echo"), Route::new("/api/panic")]);
    let dev = app.dev(&[]);

    // Every function is told where the Invoke API is: 127.0.0.1, its own port.
    let r = dev.get("/api/echo");
    assert_eq!(r.status, 200, "{}", r.text());
    let endpoint = r.json()["env"]["lambdaEndpoint"]
        .as_str()
        .unwrap_or_else(|| panic!("no NEXTR_LAMBDA_ENDPOINT: {}", r.text()))
        .to_owned();
    let port: u16 = endpoint
        .strip_prefix("http://127.0.0.1:")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("{endpoint}"));
    assert_ne!(port, dev.port());

    // An invocation runs in the function's pool; the client context reaches its runtime.
    let context = base64::engine::general_purpose::STANDARD
        .encode(r#"{"custom":{"nextr-rewrite-depth":"1"}}"#);
    let r = invoke(
        port,
        "test-api-echo",
        "/api/echo",
        &[("x-amz-client-context", &context)],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("x-amz-function-error"), None);
    assert_eq!(r.header("x-amz-executed-version"), Some("$LATEST"));
    let payload = r.json();
    assert_eq!(payload["statusCode"], 200, "{payload}");
    let body: Value = serde_json::from_str(payload["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["event"]["rawPath"], "/api/echo");
    assert_eq!(body["event"]["requestContext"]["requestId"], "rewrite-1");
    assert_eq!(
        body["clientContext"]["custom"],
        json!({"nextr-rewrite-depth": "1"})
    );
    assert_eq!(body["env"]["functionName"], "test-api-echo");
    // The gateway's own invocations carry none.
    assert_eq!(dev.get("/api/echo").json()["clientContext"], Value::Null);

    // The request log marks the invocation as one, beside the client requests' lines.
    dev.wait_for(
        |l| l.starts_with("↳ invoke test-api-echo 200 in ") && l.ends_with("[/api/echo]"),
        Duration::from_secs(5),
    )
    .unwrap_or_else(|| panic!("no invoke line:\n{}", dev.output()));

    // A failed invocation: 200 with the error document, marked as Lambda marks it.
    let r = invoke(port, "test-api-panic", "/api/panic", &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("x-amz-function-error"), Some("Unhandled"));
    assert!(r.json()["errorType"].is_string(), "{}", r.text());

    // Names the manifest does not have, as Lambda answers them.
    let r = invoke(port, "test-api-nope", "/api/nope", &[]);
    assert_eq!(r.status, 404, "{}", r.text());
    assert_eq!(
        r.header("x-amzn-errortype"),
        Some("ResourceNotFoundException")
    );
    let message = r.json()["Message"].as_str().unwrap_or_default().to_owned();
    assert!(
        message.starts_with("Function not found: arn:aws:lambda:")
            && message.ends_with(":function:test-api-nope"),
        "{message}"
    );

    // A client context that is not base64 JSON is refused before anything runs.
    let r = invoke(
        port,
        "test-api-echo",
        "/api/echo",
        &[("x-amz-client-context", "not base64!")],
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(
        r.header("x-amzn-errortype"),
        Some("InvalidRequestContentException")
    );
}

/// A route that answers with the Invoke API's address from its environment.
const ENDPOINT_ROUTE: &str = r#"use nextr::prelude::*;

pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    let endpoint = std::env::var(nextr::manifest::LAMBDA_ENDPOINT_ENV).ok();
    res.status(200).json(&json!({ "endpoint": endpoint, "url": req.url }))
}
"#;

#[test]
fn a_built_route_answers_a_rewrites_invocation() {
    if !cfg!(all(
        target_os = "linux",
        any(target_arch = "x86_64", target_arch = "aarch64")
    )) {
        return;
    }
    let app = TestApp::cached(
        "nextr-dev-invoke",
        &[("api/where.rs".to_owned(), ENDPOINT_ROUTE.to_owned())],
    );
    let dev = Dev::start(app.path(), &[]);
    let text = std::fs::read_to_string(
        app.path()
            .join(nextr::manifest::layout::DEV_DIR)
            .join(nextr::manifest::MANIFEST_FILE),
    )
    .unwrap();
    let manifest = nextr::manifest::Manifest::from_json(&text).unwrap();
    let function = manifest.routes[0].function.as_ref().unwrap().name.clone();

    let r = dev.get("/api/where?x=1");
    assert_eq!(r.status, 200, "{}", r.text());
    let endpoint = r.json()["endpoint"].as_str().unwrap_or_default().to_owned();
    let port: u16 = endpoint
        .strip_prefix("http://127.0.0.1:")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("{endpoint:?}"));

    let mut event: Value = serde_json::from_slice(&event("/api/where")).unwrap();
    event["rawQueryString"] = json!("from=rewrite");
    let r = http::request(
        port,
        "POST",
        &format!("/2015-03-31/functions/{function}/invocations?Qualifier=live"),
        &[],
        event.to_string().as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let payload = r.json();
    assert_eq!(payload["statusCode"], 200, "{payload}");
    let body: Value = serde_json::from_str(payload["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["url"], "/api/where?from=rewrite");
    assert_eq!(body["endpoint"], endpoint.as_str());

    let r = invoke(port, &format!("{function}-prod"), "/api/where", &[]);
    assert_eq!(r.status, 404, "{}", r.text());
}
