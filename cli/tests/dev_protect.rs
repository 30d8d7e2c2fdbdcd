//! `nextr dev` emulating the gateway's protections from the manifest (`gateway.cors`,
//! `gateway.throttle`, `routes[].throttle`), over real HTTP against the `lambda-fn` fixture:
//! CORS preflights answered by the gateway without a function, CORS headers on answers to
//! allowed origins only, and 429 `{"message":"Too Many Requests"}` past a stage's or a
//! route's burst.

mod support;

use serde_json::{json, Value};
use support::dev::Dev;
use support::fixture::{App, Route};
use support::http;

/// An app with `/api/hello` and `/api/echo`, its manifest's gateway section and routes
/// edited by `edit`.
fn app(edit: impl FnOnce(&mut Value)) -> App {
    let app = App::new(&[Route::new("/api/hello"), Route::new("/api/echo")]);
    let path = app.out().join("routes-manifest.json");
    let mut manifest: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut manifest);
    std::fs::write(&path, serde_json::to_string_pretty(&manifest).unwrap()).unwrap();
    app
}

fn cors_app() -> App {
    app(|m| {
        m["gateway"]["cors"] = json!({
            "allow_origins": ["https://app.example"],
            "allow_methods": ["GET", "PUT"],
            "allow_headers": ["content-type", "x-token"],
            "expose_headers": ["x-request-id"],
            "allow_credentials": true,
            "max_age_s": 600
        });
    })
}

fn preflight(dev: &Dev, path: &str, origin: &str, method: &str) -> http::Reply {
    dev.request(
        "OPTIONS",
        path,
        &[
            ("Origin", origin),
            ("Access-Control-Request-Method", method),
            ("Access-Control-Request-Headers", "content-type"),
        ],
        b"",
    )
}

#[test]
fn the_gateway_answers_cors_preflights_itself() {
    let app = cors_app();
    let dev = app.dev(&[]);
    let r = preflight(&dev, "/api/echo", "https://app.example", "PUT");
    assert_eq!(r.status, 204, "{}", r.text());
    assert!(r.body.is_empty(), "no function answered: {}", r.text());
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    assert_eq!(r.header("access-control-allow-methods"), Some("GET,PUT"));
    assert_eq!(
        r.header("access-control-allow-headers"),
        Some("content-type,x-token")
    );
    assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
    assert_eq!(r.header("access-control-max-age"), Some("600"));
    assert!(r.header("apigw-requestid").is_some());

    // Any path, routed or not: the API answers preflights before routing to a function.
    let r = preflight(&dev, "/nowhere", "https://app.example", "GET");
    assert_eq!(r.status, 204);
    assert!(r.header("access-control-allow-origin").is_some());

    // An origin not allowed: still the gateway's 204, without any CORS header.
    let r = preflight(&dev, "/api/echo", "https://evil.example", "PUT");
    assert_eq!(r.status, 204);
    assert!(
        r.headers
            .iter()
            .all(|(k, _)| !k.starts_with("access-control-")),
        "{:?}",
        r.headers
    );
    // A method not allowed: the same.
    let r = preflight(&dev, "/api/echo", "https://app.example", "DELETE");
    assert_eq!(r.status, 204);
    assert!(r.header("access-control-allow-origin").is_none());

    // An OPTIONS that is not a preflight (no Origin) is the function's, as any method.
    let r = dev.request("OPTIONS", "/api/echo", &[], b"");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json()["event"]["requestContext"]["http"]["method"],
        "OPTIONS"
    );
}

#[test]
fn answers_to_allowed_origins_carry_the_cors_headers() {
    let app = cors_app();
    let dev = app.dev(&[]);
    let r = dev.request(
        "GET",
        "/api/hello",
        &[("Origin", "https://app.example")],
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["message"], "Hello from Next.js!");
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
    assert_eq!(
        r.header("access-control-expose-headers"),
        Some("x-request-id")
    );
    // Preflight-only headers stay off ordinary answers.
    assert!(r.header("access-control-max-age").is_none());

    let r = dev.request(
        "GET",
        "/api/hello",
        &[("Origin", "https://evil.example")],
        b"",
    );
    assert_eq!(r.status, 200);
    assert!(r.header("access-control-allow-origin").is_none());
    let r = dev.get("/api/hello");
    assert!(r.header("access-control-allow-origin").is_none());
}

fn is_throttled(r: &http::Reply) -> bool {
    r.status == 429
        && r.header("content-type") == Some("application/json")
        && r.text() == r#"{"message":"Too Many Requests"}"#
}

#[test]
fn the_stage_throttle_answers_429_past_its_burst() {
    // 3 at once, refilled at 1 per second: requests that arrive together (released by a
    // barrier, checked before any function runs) get 3 answers and 429s.
    let app = app(|m| m["gateway"]["throttle"] = json!({"rate": 1, "burst": 3}));
    let dev = app.dev(&[]);
    let replies = http::get_concurrently(dev.port(), 8, "/api/hello");
    let ok = replies.iter().filter(|r| r.status == 200).count();
    let throttled = replies.iter().filter(|r| is_throttled(r)).count();
    assert_eq!((ok, throttled), (3, 5), "{replies:?}");
    // The bucket refills at its rate.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(dev.get("/api/echo").status, 200);
}

#[test]
fn a_route_throttle_is_tighter_than_the_stages() {
    let app = app(|m| {
        m["gateway"]["throttle"] = json!({"rate": 100, "burst": 100});
        m["routes"][0]["throttle"] = json!({"rate": 1, "burst": 2});
    });
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(app.out().join("routes-manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["routes"][0]["page"], "/api/hello");
    let dev = app.dev(&[]);
    let replies = http::get_concurrently(dev.port(), 6, "/api/hello");
    let ok = replies.iter().filter(|r| r.status == 200).count();
    let throttled = replies.iter().filter(|r| is_throttled(r)).count();
    assert_eq!((ok, throttled), (2, 4), "{replies:?}");
    // The other route only meets the stage's bucket.
    let replies = http::get_concurrently(dev.port(), 6, "/api/echo");
    assert!(replies.iter().all(|r| r.status == 200), "{replies:?}");
}

/// `cors_app` behind a REST API, its one origin `origin`.
fn rest_cors_app(origin: &str) -> App {
    let origin = origin.to_owned();
    app(move |m| {
        m["gateway"]["kind"] = json!("rest");
        m["gateway"]["fallback_keys"] = json!([
            "ANY /",
            "ANY /{proxy+}",
            "ANY /api",
            "ANY /api/{proxy+}",
            "ANY /api/hello/{proxy+}",
            "ANY /api/echo/{proxy+}"
        ]);
        m["gateway"]["cors"] = json!({
            "allow_origins": [origin],
            "allow_methods": ["GET", "PUT"],
            "allow_headers": ["content-type"],
            "expose_headers": ["x-request-id"],
            "max_age_s": 600
        });
    })
}

#[test]
fn behind_a_rest_api_the_mock_options_method_answers_every_options_with_fixed_headers() {
    let app = rest_cors_app("https://app.example");
    let dev = app.dev(&[]);
    // The MOCK integration's answer: 200, an empty JSON body, the fixed headers.
    let r = preflight(&dev, "/api/echo", "https://app.example", "PUT");
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.body.is_empty(), "no function answered: {}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    assert_eq!(r.header("access-control-allow-methods"), Some("GET,PUT"));
    assert_eq!(
        r.header("access-control-allow-headers"),
        Some("content-type")
    );
    assert_eq!(r.header("access-control-max-age"), Some("600"));
    assert!(r.header("access-control-allow-credentials").is_none());

    // A MOCK checks nothing: another origin, another method, the same fixed answer.
    for (origin, method) in [
        ("https://evil.example", "PUT"),
        ("https://app.example", "DELETE"),
    ] {
        let r = preflight(&dev, "/api/hello", origin, method);
        assert_eq!(r.status, 200);
        assert_eq!(
            r.header("access-control-allow-origin"),
            Some("https://app.example")
        );
    }
    // The explicit OPTIONS method takes every OPTIONS, preflight or not, on every resource
    // (the fallback's too): no function sees one.
    for path in ["/api/echo", "/nowhere/deep"] {
        let r = dev.request("OPTIONS", path, &[], b"");
        assert_eq!(r.status, 200, "{path}");
        assert!(r.body.is_empty(), "{path}: {}", r.text());
    }

    // Other methods reach the function through ANY, and its answer passes through as a
    // Lambda proxy integration's does: the gateway adds no CORS header on a REST API.
    let r = dev.request(
        "GET",
        "/api/hello",
        &[("Origin", "https://app.example")],
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.headers
            .iter()
            .all(|(k, _)| !k.starts_with("access-control-")),
        "{:?}",
        r.headers
    );
}

#[test]
fn behind_a_rest_api_any_origin_is_answered_as_star() {
    let app = rest_cors_app("*");
    let dev = app.dev(&[]);
    let r = preflight(&dev, "/api/echo", "https://anyone.example", "GET");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
}
