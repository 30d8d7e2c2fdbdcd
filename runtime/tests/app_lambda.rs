//! An App Router route file through the real Lambda loop `nextr::lambda::start_app` runs, in
//! `stream` mode, against the fake Runtime API of `support/streaming_api.rs`: a streamed body
//! leaves chunk by chunk behind a function URL or a REST API, and whole behind an HTTP API;
//! the method answers (405, automatic OPTIONS) and errors go through the same loop.

// Shared with the Pages Router's loop tests; this file uses part of each.
#[allow(dead_code)]
#[path = "support/streaming_api.rs"]
mod streaming_api;
#[allow(dead_code)]
mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use nextr::app::{AppHandlers, AppRoute};
use serde_json::{json, Value as Json};
use streaming_api::{Response, RuntimeApi};

mod route {
    use std::time::Duration;

    use nextr::app::prelude::*;
    use nextr::deps::bytes::Bytes;

    /// Three server-sent events 300 ms apart; `?fail` fails after the first.
    pub async fn get(req: NextRequest, ctx: RouteContext) -> Response {
        let fail = req.next_url().search() == "?fail=";
        let id = ctx.param("id").map(|v| json!(v)).unwrap_or_default();
        let ticks = futures_util::stream::unfold(1u32, move |i| async move {
            if i > 3 {
                return None;
            }
            if i > 1 {
                tokio::time::sleep(Duration::from_millis(300)).await;
                if fail {
                    return Some((Err(std::io::Error::other("stream broke")), 4));
                }
            }
            Some((Ok(Bytes::from(format!("data: {i}\n\n"))), i + 1))
        });
        Response::stream(ticks)
            .header("content-type", "text/event-stream")
            .header("x-id", id.as_str().unwrap_or_default())
    }

    /// A handler error: Next's empty 500.
    pub async fn post() -> Result<Response> {
        Err(Error::msg("failed on purpose"))
    }
}

fn app() -> AppRoute {
    AppRoute {
        handlers: AppHandlers {
            get: Some(nextr::app_handler!(route::get)),
            post: Some(nextr::app_handler!(route::post, none)),
            ..AppHandlers::default()
        },
        pages_router: false,
    }
}

/// The in-process function (stream mode) and its Runtime API.
fn api() -> &'static RuntimeApi {
    static API: OnceLock<RuntimeApi> = OnceLock::new();
    API.get_or_init(|| {
        let api = RuntimeApi::start();
        std::env::set_var("AWS_LAMBDA_RUNTIME_API", api.addr.to_string());
        std::env::set_var("AWS_LAMBDA_FUNCTION_NAME", "app");
        std::env::set_var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128");
        std::env::set_var("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
        std::env::set_var(nextr::manifest::RESPONSE_MODE_ENV, "stream");
        std::thread::spawn(|| {
            let spec = nextr::RouteSpec {
                page: "/api/app/[id]",
                file: "app/api/app/[id]/route.rs",
                config: nextr::config::RouteConfig::default(),
            };
            nextr::lambda::start_app(spec, app())
        });
        api
    })
}

/// One test at a time talks to the function.
fn turn() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|e| e.into_inner())
}

fn event(name: &str, method: &str, path: &str, query: &str) -> Json {
    let text = std::fs::read_to_string(format!(
        "{}/tests/fixtures/events/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let mut e: Json = serde_json::from_str(&text).unwrap();
    if e.get("rawPath").is_some() {
        e["rawPath"] = json!(path);
        e["rawQueryString"] = json!(query);
        e["requestContext"]["http"]["path"] = json!(path);
        e["requestContext"]["http"]["method"] = json!(method);
        e["requestContext"]["stage"] = json!("$default");
    } else {
        e["path"] = json!(path);
        e["httpMethod"] = json!(method);
        e["multiValueQueryStringParameters"] = Json::Null;
        e["queryStringParameters"] = Json::Null;
    }
    e
}

fn call(event: &Json) -> Response {
    static N: AtomicU64 = AtomicU64::new(0);
    let id = format!("app-{}", N.fetch_add(1, Ordering::SeqCst));
    api().send_event(&id, &event.to_string());
    api().response()
}

#[test]
fn a_stream_leaves_chunk_by_chunk_behind_a_function_url() {
    let _turn = turn();
    let streamed = call(&event("function-url.json", "GET", "/api/app/7", "")).streamed();
    let (prelude, body) = streamed.split();
    assert_eq!(prelude["statusCode"], 200);
    assert_eq!(prelude["headers"]["content-type"], "text/event-stream");
    assert_eq!(prelude["headers"]["x-id"], "7");
    assert_eq!(body, b"data: 1\n\ndata: 2\n\ndata: 3\n\n");
    // The events arrived apart: the last chunk came at least two pauses after the first.
    let first = streamed.chunks.first().unwrap().1;
    let last = streamed.chunks.last().unwrap().1;
    assert!(
        last - first >= Duration::from_millis(500),
        "{:?}",
        last - first
    );
}

#[test]
fn a_stream_is_collected_behind_an_http_api() {
    let _turn = turn();
    let payload = call(&event("v2-named-stage.json", "GET", "/api/app/8", "")).buffered();
    assert_eq!(payload["statusCode"], 200);
    assert_eq!(payload["headers"]["content-type"], "text/event-stream");
    assert_eq!(payload["body"], "data: 1\n\ndata: 2\n\ndata: 3\n\n");
}

#[test]
fn a_failing_stream_is_cut_where_it_broke() {
    let _turn = turn();
    let streamed = call(&event("function-url.json", "GET", "/api/app/9", "fail")).streamed();
    let (prelude, body) = streamed.split();
    assert_eq!(prelude["statusCode"], 200);
    assert_eq!(body, b"data: 1\n\n");
    let payload = call(&event("v2-named-stage.json", "GET", "/api/app/9", "fail")).buffered();
    assert_eq!(payload["body"], "data: 1\n\n");
}

#[test]
fn method_answers_and_errors_go_through_the_loop() {
    let _turn = turn();
    let payload = call(&event("v2-named-stage.json", "POST", "/api/app/1", "")).buffered();
    assert_eq!(payload["statusCode"], 500);
    assert_eq!(payload["body"], "");
    assert!(
        payload["headers"].get("content-type").is_none(),
        "{payload}"
    );
    let payload = call(&event("v2-named-stage.json", "PUT", "/api/app/1", "")).buffered();
    assert_eq!(payload["statusCode"], 405);
    let streamed = call(&event("v1-rest.json", "OPTIONS", "/api/app/1", "")).streamed();
    let (prelude, body) = streamed.split();
    assert_eq!(prelude["statusCode"], 204);
    assert_eq!(prelude["headers"]["allow"], "GET, HEAD, OPTIONS, POST");
    assert!(body.is_empty());
}
