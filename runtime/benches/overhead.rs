//! Per-invocation overhead: one API Gateway HTTP API (payload 2.0) event → handler → response
//! payload, for a hello route. `nextr` (event parse, Next's pipeline: normalisation, params,
//! query, cookies, body parser, deadline, panic guard, ETag, envelope) against a bare
//! `lambda_http` handler doing the same work through `lambda_http`'s own adapter (what
//! `lambda_http::run` does per invocation), and the same hello as an App Router route file
//! (`get` returning `Response::json`: method dispatch, `request.url`, cookies, no ETag).
//! None includes the Runtime API round trip.

use criterion::{criterion_group, criterion_main, Criterion};
use lambda_http::{Body, Request, Response};
use lambda_runtime::{LambdaEvent, Service};
use nextr::prelude::*;
use nextr::testing::TestRoute;

/// An API Gateway HTTP API (payload 2.0) event for `GET /api/hello?name=world&x=1&x=2`,
/// shared by the runtime's benchmarks.
const EVENT: &str = include_str!("fixtures/hello-event.json");

async fn nextr_hello(_req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.status(200)
        .json(&json!({ "message": "Hello from Next.js!" }))
}

async fn app_hello() -> nextr::app::Response {
    nextr::app::Response::json(&json!({ "message": "Hello from Next.js!" }))
}

async fn bare_hello(_req: Request) -> Result<Response<Body>, lambda_http::Error> {
    let body = serde_json::to_string(&json!({ "message": "Hello from Next.js!" }))?;
    Ok(Response::builder()
        .status(200)
        .header("content-type", "application/json; charset=utf-8")
        .body(Body::from(body))?)
}

fn overhead(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    let route = TestRoute::new("/api/hello", nextr::handler!(nextr_hello));
    let check = rt.block_on(route.invoke_event_raw(EVENT)).unwrap();
    assert!(check.contains("Hello from Next.js!"), "{check}");

    let app = TestRoute::app(
        "/api/hello",
        nextr::app::AppRoute {
            handlers: nextr::app::AppHandlers {
                get: Some(nextr::app_handler!(app_hello, none)),
                ..Default::default()
            },
            pages_router: false,
        },
    );
    let check = rt.block_on(app.invoke_event_raw(EVENT)).unwrap();
    assert!(check.contains("Hello from Next.js!"), "{check}");

    let mut bare = lambda_http::Adapter::from(lambda_http::service_fn(bare_hello));
    let bare_once = |adapter: &mut lambda_http::Adapter<'_, _, _>| {
        let payload: lambda_http::request::LambdaRequest = serde_json::from_str(EVENT).unwrap();
        let fut = adapter.call(LambdaEvent::new(
            payload,
            lambda_runtime::Context::default(),
        ));
        let response = rt.block_on(fut).unwrap();
        serde_json::to_string(&response).unwrap()
    };
    let check = bare_once(&mut bare);
    assert!(check.contains("Hello from Next.js!"), "{check}");

    let mut group = c.benchmark_group("event_to_response");
    group.bench_function("nextr", |b| {
        b.iter(|| rt.block_on(route.invoke_event_raw(EVENT)).unwrap())
    });
    group.bench_function("nextr_app_router", |b| {
        b.iter(|| rt.block_on(app.invoke_event_raw(EVENT)).unwrap())
    });
    group.bench_function("bare_lambda_http", |b| b.iter(|| bare_once(&mut bare)));
    group.finish();
}

criterion_group!(benches, overhead);
criterion_main!(benches);
