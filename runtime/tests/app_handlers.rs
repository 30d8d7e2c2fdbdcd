//! Every applicable case of the App Router corpus (`fixtures/app-handlers.json`, recorded from
//! Next.js 16.4.6), run in process against the corpus's handlers translated to Rust
//! (`fixtures/app-handlers/app/**/route.rs`, one file per `route.js`).
//!
//! Each case's status, the headers Next or the handler set (every recorded header except the
//! Node-server artefacts in [`compare::ARTEFACTS`]; the named ones — content-type, allow, set-cookie,
//! cache-control, location — must also be absent when Next sent none) and the body (as JSON,
//! bytes, or length and prefix) are compared with the recording. Requests carry what
//! `nextr dev`'s front sends (`Host: localhost:4501`, `x-forwarded-proto: http`) unless the case
//! sets them, so `request.url`'s origin is the recording's `http://localhost:{port}` with
//! `{port}` = 4501. What nextr answers differently on purpose is listed, with the reason and
//! nextr's own answer, in [`compare::DIFFERENCES`] (shared with the test through `nextr dev`). Chunk timings of streams are not compared (they
//! exist only behind a front that streams); their bytes and order are.

use std::collections::HashMap;

use nextr::app::AppRoute;
use nextr::testing::{TestResponse, TestRoute};
use nextr::RouteSpec;

// The corpus's route files and the table of their functions.
#[path = "app_handlers/routes.rs"]
mod routes;
// The comparison rules, shared with `cli/tests/dev_app_handlers.rs`.
#[path = "app_handlers/compare.rs"]
mod compare;

use compare::{compare, corpus, exchanges, Answer, Exchange, Origin, DIFFERENCES, REQUESTS};

use routes::route_of;

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
async fn send(route: &TestRoute, exchange: &Exchange) -> TestResponse {
    let mut req = route.request(exchange.method().parse().unwrap(), exchange.target());
    for (name, value) in exchange.headers(&DEFAULT_HEADERS) {
        req = req.header(name.as_str(), value);
    }
    let (body, chunked) = exchange.body();
    if exchange.request["body"].is_object() && !chunked {
        req = req.header("content-length", body.len().to_string());
    }
    if exchange.request["body"].is_string() || exchange.request["body"].is_object() {
        req = req.body(body);
    }
    req.send().await.unwrap()
}

/// A [`TestResponse`] as the comparison takes it.
fn answer(res: &TestResponse) -> Answer {
    Answer {
        status: res.status,
        headers: res
            .headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap().to_owned()))
            .collect(),
        body: res.body.to_vec(),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn every_applicable_case_answers_as_next() {
    let origin = Origin {
        host: DEFAULT_HEADERS[0].1,
    };
    let mut routes: HashMap<String, TestRoute> = HashMap::new();
    let mut problems = Vec::new();
    let mut ran = 0;
    for exchange in exchanges() {
        if !routes.contains_key(&exchange.file) {
            let route = serve(&exchange.file).await;
            routes.insert(exchange.file.clone(), route);
        }
        let res = send(&routes[&exchange.file], &exchange).await;
        ran += 1;
        match DIFFERENCES.iter().find(|(n, _, _)| *n == exchange.name) {
            Some((name, why, own)) => problems.extend(
                own(&answer(&res), origin)
                    .into_iter()
                    .map(|p| format!("{name} (nextr answers differently: {why}): {p}")),
            ),
            None => problems.extend(compare(
                &exchange.name,
                &exchange.response,
                &answer(&res),
                origin,
            )),
        }
    }
    assert!(
        problems.is_empty(),
        "{} differences:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert_eq!(ran, REQUESTS, "every recorded request ran");
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
