//! The pipeline's own rules, on a small app: client-sent internal headers, the rewrite depth
//! and its cap, rewrites to another origin, streamed pass-throughs. The recorded Next cases
//! are `runtime/tests/proxy_run.rs`.

use std::sync::Arc;

use bytes::Bytes;
use futures_core::Stream;
use http::{HeaderMap, HeaderValue, Method};

use super::*;
use crate::app::{AppEndpoint, AppHandlers, AppRoute, RouteContext, StaticMode};
use crate::config::RouteConfig;
use crate::manifest::{ProxyBundle, ProxyRoute};
use crate::proxy::setup::ProxyApp;
use crate::proxy::{NextResponse, ProxyHandler};
use crate::routing::Router;
use crate::RouteSpec;

async fn proxy(req: NextRequest) -> crate::Result<NextResponse> {
    let path = req.next_url().pathname().to_owned();
    if let Some(n) = path.strip_prefix("/api/loop/") {
        let n: u32 = n.parse()?;
        return Ok(
            NextResponse::rewrite(format!("/api/loop/{}", n + 1)).header(format!("x-run-{n}"), "1")
        );
    }
    if path == "/api/far" {
        return Ok(NextResponse::rewrite("https://elsewhere.example/x"));
    }
    let saw = req
        .header("x-middleware-rewrite")
        .unwrap_or_else(|| "none".into());
    Ok(NextResponse::next()
        .header("x-proxy-saw-rewrite", saw)
        .header("content-type", "text/x-from-proxy"))
}

async fn echo(req: NextRequest) -> Response {
    Response::json(&serde_json::json!({
        "rewrite": req.header("x-middleware-rewrite"),
        "subrequest": req.header("x-middleware-subrequest"),
    }))
}

async fn looped(_: NextRequest, ctx: RouteContext) -> Response {
    Response::json(&serde_json::json!({ "n": ctx.param("n") }))
}

async fn streamed() -> Response {
    let chunks = [Ok::<_, std::io::Error>("a"), Ok("b")];
    Response::stream(futures_util::stream::iter(chunks)).header("content-type", "text/plain")
}

fn bundle() -> ProxyBundle {
    let route = |page: &str| ProxyRoute {
        page: page.into(),
        router: Router::App,
        function: Some(page.into()),
    };
    ProxyBundle {
        file: "proxy.rs".into(),
        matcher: None,
        pages_router: false,
        routes: vec![
            route("/api/echo"),
            route("/api/loop/[n]"),
            route("/api/stream"),
        ],
        fallback: "default".into(),
    }
}

/// One route's function with the proxy (no other function reachable).
fn function(page: &'static str, handler: crate::app::AppHandler) -> (Route, Endpoint) {
    let proxy_fn: ProxyHandler = crate::proxy_handler!(proxy);
    let app = ProxyApp::new(proxy_fn, &bundle()).unwrap();
    let proxy = Proxy {
        app: Arc::new(app),
        forwarder: Forwarder::Lambda,
    };
    let spec = RouteSpec {
        page,
        file: page,
        config: RouteConfig::default(),
    };
    let route = AppRoute {
        handlers: AppHandlers {
            get: Some(handler),
            ..AppHandlers::default()
        },
        pages_router: false,
    };
    (
        Route::new(spec).with_proxy(Arc::new(proxy)),
        Endpoint::App(AppEndpoint::dynamic(route, StaticMode::Dynamic)),
    )
}

fn incoming(target: &str, headers: &[(&'static str, &'static str)], depth: u32) -> Incoming {
    let mut map = HeaderMap::new();
    map.insert("host", HeaderValue::from_static("h"));
    for (k, v) in headers {
        map.append(*k, HeaderValue::from_static(v));
    }
    Incoming {
        method: Method::GET,
        target: target.into(),
        headers: map,
        body: Bytes::new(),
        extensions: http::Extensions::new(),
        request_id: "r1".into(),
        platform_deadline: None,
        source_ip: None,
        rewrite_depth: depth,
    }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn client_sent_internal_headers_never_reach_the_proxy_or_the_handler() {
    let (route, endpoint) = function("/api/echo", crate::app_handler!(echo, req));
    let request = incoming(
        "/api/echo",
        &[
            ("x-middleware-rewrite", "/api/loop/0"),
            ("x-middleware-subrequest", "proxy:proxy:proxy:proxy:proxy"),
        ],
        0,
    );
    let (out, logs) = block_on(route.dispatch(&endpoint, request));
    assert_eq!(out.status, 200, "{logs:?}");
    assert_eq!(out.headers["x-proxy-saw-rewrite"], "none");
    let body: serde_json::Value = serde_json::from_slice(&out.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"rewrite": null, "subrequest": "proxy:proxy:proxy:proxy:proxy"})
    );
    // The proxy's header wins over the App answer's, as Next's `sendResponse` keeps it.
    assert_eq!(out.headers["content-type"], "text/x-from-proxy");
    assert!(out.headers.get("x-middleware-rewrite").is_none());
}

#[test]
fn rewrites_to_this_function_run_the_proxy_again_up_to_the_fifth() {
    let (route, endpoint) = function("/api/loop/[n]", crate::app_handler!(looped));
    // The proxy rewrites for ever: four rewrites are served here, the fifth is refused.
    let (out, logs) = block_on(route.dispatch(&endpoint, incoming("/api/loop/0", &[], 0)));
    assert_eq!(out.status, 500, "{logs:?}");
    assert_eq!(
        logs,
        ["nextr: [r1] proxy.rs: rewrite number 5 of this request (here: /api/loop/0 → /api/loop/1 → /api/loop/2 → /api/loop/3 → /api/loop/4 → /api/loop/5); Next stops nested proxy runs at 5, so this is a rewrite loop; answered 500"]
    );
    assert_eq!(out.headers["content-type"], "text/html; charset=utf-8");
    // Where it was going, and what the runs set.
    assert_eq!(out.headers["x-middleware-rewrite"], "https://h/api/loop/5");
    assert_eq!(out.headers["x-run-0"], "1");
    assert_eq!(out.headers["x-run-4"], "1");
}

#[test]
fn the_depth_an_invocation_arrives_with_counts() {
    let (route, endpoint) = function("/api/loop/[n]", crate::app_handler!(looped));
    // Arriving at depth 3, the second rewrite here is the fifth.
    let (out, logs) = block_on(route.dispatch(&endpoint, incoming("/api/loop/0", &[], 3)));
    assert_eq!(out.status, 500);
    assert!(
        logs[0].contains(
            ": rewrite number 5 of this request (here: /api/loop/0 → /api/loop/1 → /api/loop/2);"
        ),
        "{logs:?}"
    );
    // Arriving at depth 5: refused before anything runs.
    let (out, logs) = block_on(route.dispatch(&endpoint, incoming("/api/loop/0", &[], 5)));
    assert_eq!(out.status, 500);
    assert_eq!(
        logs,
        ["nextr: [r1] proxy.rs: invoked for a rewrite to /api/loop/0 at depth 5; Next stops nested proxy runs at 5, so this is a rewrite loop; answered 500"]
    );
}

#[test]
fn a_rewrite_to_another_origin_is_the_proxys_500() {
    let (route, endpoint) = function("/api/echo", crate::app_handler!(echo, req));
    let (out, logs) = block_on(route.dispatch(&endpoint, incoming("/api/far", &[], 0)));
    assert_eq!(out.status, 500);
    assert_eq!(
        logs,
        ["nextr: [r1] proxy.rs: Error: NextResponse.rewrite to another origin (https://elsewhere.example/x) is not supported: nextr serves the app's own routes only"]
    );
}

#[test]
fn a_streamed_pass_through_streams_with_the_proxys_headers_in_its_head() {
    let (route, endpoint) = function("/api/stream", crate::app_handler!(streamed, none));
    let (writer, started) = crate::streaming::channel(false);
    block_on(async {
        let serve = async {
            let (out, logs) = route
                .dispatch_to(
                    &endpoint,
                    incoming("/api/stream", &[], 0),
                    Some(writer.clone()),
                )
                .await;
            assert!(writer.started(), "{logs:?}");
            writer.complete(&out);
        };
        let read = async {
            let response = started.response().await;
            let mut body = response.stream;
            let mut got = Vec::new();
            while let Some(Ok(chunk)) =
                std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_next(cx)).await
            {
                got.extend_from_slice(&chunk);
            }
            (response.metadata_prelude, got)
        };
        let ((), (prelude, body)) = tokio::join!(serve, read);
        assert_eq!(prelude.headers["x-proxy-saw-rewrite"], "none");
        // The proxy's content type wins here too.
        assert_eq!(prelude.headers["content-type"], "text/x-from-proxy");
        assert_eq!(body, b"ab");
    });
}
