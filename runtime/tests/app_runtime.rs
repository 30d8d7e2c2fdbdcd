//! What the App Router runtime does around a route file's functions, beyond the corpus
//! (`app_handlers.rs`): malformed escapes (500, or 400 beside Pages routes), Next's 308s, the
//! logs of TRACE, errors and panics, params, HEAD on a streamed body, `max_duration` on a slow
//! body, `dynamic = "error"` at run time, and an answer for any request (a proptest).

use nextr::app::{AppHandlers, AppRoute};
use nextr::config::{Dynamic, RouteConfig};
use nextr::testing::TestRoute;
use nextr::RouteSpec;

mod route {
    use nextr::app::prelude::*;
    use nextr::deps::bytes::Bytes;

    /// The params and the URL as the handler sees them.
    pub async fn get(req: NextRequest, ctx: RouteContext) -> Response {
        Response::json(&json!({
            "params": ctx.params,
            "id": ctx.param("id"),
            "pathname": req.next_url().pathname(),
            "search": req.next_url().search(),
        }))
    }

    /// Fails.
    pub async fn post() -> Result<Response> {
        Err(Error::msg("failed on purpose"))
    }

    /// Panics.
    pub async fn put() -> Response {
        panic!("panicked on purpose")
    }

    /// A streamed body (HEAD must not send it).
    pub async fn patch() -> Response {
        let chunks =
            futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from_static(b"streamed"))]);
        Response::stream(chunks).header("content-type", "text/plain")
    }

    /// An invalid header: Next's empty 500.
    pub async fn delete() -> Response {
        Response::text("x").header("x-bad", "a\nb")
    }

    /// HEAD runs this one, not `get`.
    pub async fn head() -> Response {
        patch().await
    }
}

fn app(pages_router: bool) -> AppRoute {
    AppRoute {
        handlers: AppHandlers {
            get: Some(nextr::app_handler!(route::get)),
            post: Some(nextr::app_handler!(route::post, none)),
            put: Some(nextr::app_handler!(route::put, none)),
            patch: Some(nextr::app_handler!(route::patch, none)),
            delete: Some(nextr::app_handler!(route::delete, none)),
            head: Some(nextr::app_handler!(route::head, none)),
            ..AppHandlers::default()
        },
        pages_router,
    }
}

fn spec(config: RouteConfig) -> RouteSpec {
    RouteSpec {
        page: "/api/r/[id]",
        file: "app/api/r/[id]/route.rs",
        config,
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_malformed_escape_is_500_in_an_app_only_project_and_400_beside_pages() {
    let only_app = TestRoute::app("/api/r/[id]", app(false));
    for path in ["/api/r/%ZZ", "/api/r/100%", "/api/r/%C3"] {
        let res = only_app.get(path).send().await.unwrap();
        assert_eq!(res.status, 500, "{path}");
        assert_eq!(res.header("content-type"), Some("text/plain"));
        assert_eq!(
            res.header("cache-control"),
            Some("private, no-cache, no-store, max-age=0, must-revalidate")
        );
        assert_eq!(res.text(), "Internal Server Error");
    }
    let with_pages = TestRoute::app("/api/r/[id]", app(true));
    let res = with_pages.get("/api/r/%ZZ").send().await.unwrap();
    assert_eq!(res.status, 400);
}

#[tokio::test(flavor = "current_thread")]
async fn params_are_decoded_and_the_path_stays_encoded() {
    let route = TestRoute::app("/api/r/[id]", app(false));
    let res = route.get("/api/r/a%20b?x=1&x=2").send().await.unwrap();
    assert_eq!(res.status, 200);
    let body: serde_json::Value = res.json().unwrap();
    assert_eq!(body["params"], serde_json::json!({ "id": "a b" }));
    assert_eq!(body["id"], "a b");
    assert_eq!(body["pathname"], "/api/r/a%20b");
    assert_eq!(body["search"], "?x=1&x=2");
}

#[tokio::test(flavor = "current_thread")]
async fn next_normalisations_come_first() {
    let route = TestRoute::app("/api/r/[id]", app(false));
    let res = route.get("/api/r/1/?q=1").send().await.unwrap();
    assert_eq!(res.status, 308);
    assert_eq!(res.header("location"), Some("/api/r/1?q=1"));
    let res = route.post("//api/r/1").send().await.unwrap();
    assert_eq!(res.status, 308);
}

#[tokio::test(flavor = "current_thread")]
async fn trace_errors_and_panics_are_500s_logged_with_the_route_and_file() {
    let route = TestRoute::app_from_spec(spec(RouteConfig::default()), app(false));
    let trace = http::Method::TRACE;
    let res = route.request(trace, "/api/r/1").send().await.unwrap();
    assert_eq!(
        (res.status, res.text().as_str()),
        (500, "Internal Server Error")
    );
    assert_eq!(res.header("content-type"), Some("text/plain"));
    assert_eq!(
        res.logs,
        ["nextr: [test] /api/r/[id] (app/api/r/[id]/route.rs): TypeError: 'TRACE' HTTP method is unsupported."]
    );
    for (method, log) in [
        (http::Method::POST, "handler error: failed on purpose"),
        (
            http::Method::PUT,
            "the handler panicked: panicked on purpose",
        ),
        (
            http::Method::DELETE,
            "invalid response: Invalid character in header content",
        ),
    ] {
        let res = route
            .request(method.clone(), "/api/r/1")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status, 500, "{method}");
        assert!(res.body.is_empty() && res.headers.is_empty(), "{method}");
        assert_eq!(res.logs.len(), 1, "{method}");
        let line = &res.logs[0];
        assert!(
            line.starts_with("nextr: [test] /api/r/[id] (app/api/r/[id]/route.rs): "),
            "{line}"
        );
        assert!(line.contains(log), "{line}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn head_keeps_the_headers_of_a_streamed_body_and_drops_the_body() {
    let route = TestRoute::app("/api/r/[id]", app(false));
    let res = route
        .request(http::Method::HEAD, "/api/r/1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-type"), Some("text/plain"));
    assert!(res.body.is_empty());
    let res = route
        .request(http::Method::PATCH, "/api/r/1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.text(), "streamed");
}

#[tokio::test(flavor = "current_thread")]
async fn dynamic_error_fails_a_request_that_reads_the_url() {
    let config = RouteConfig {
        dynamic: Some(Dynamic::Error),
        ..RouteConfig::default()
    };
    // With other methods the file is not prerendered: reading the request fails at run time.
    let route = TestRoute::app_from_spec(spec(config), app(false));
    let res = route.get("/api/r/1").send().await.unwrap();
    assert_eq!(res.status, 500);
    assert!(res.body.is_empty());
    // The pathname may be read; the search may not.
    assert!(
        res.logs[0].ends_with("Route /api/r/[id] with `dynamic = \"error\"` couldn't be rendered statically because it used `nextUrl.search`."),
        "{:?}",
        res.logs
    );
}

mod slow {
    use std::time::Duration;

    use nextr::app::prelude::*;
    use nextr::deps::bytes::Bytes;

    /// A body that takes longer than the route's `max_duration`.
    pub async fn get() -> Response {
        let chunks = futures_util::stream::unfold(0u32, |i| async move {
            if i == 2 {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(700)).await;
            Some((Ok::<_, std::io::Error>(Bytes::from_static(b"tick")), i + 1))
        });
        Response::stream(chunks)
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_body_still_streaming_at_the_deadline_is_a_504_when_buffered() {
    let config = RouteConfig {
        max_duration: Some(1),
        ..RouteConfig::default()
    };
    let spec = RouteSpec {
        page: "/api/slow",
        file: "app/api/slow/route.rs",
        config,
    };
    let route = TestRoute::app_from_spec(
        spec,
        AppRoute {
            handlers: AppHandlers {
                get: Some(nextr::app_handler!(slow::get, none)),
                ..AppHandlers::default()
            },
            pages_router: false,
        },
    );
    let res = route.get("/api/slow").send().await.unwrap();
    assert_eq!(res.status, 504);
    let body: serde_json::Value = res.json().unwrap();
    assert_eq!(body["route"], "/api/slow");
    assert_eq!(body["maxDuration"], 1);
    assert_eq!(
        res.logs,
        ["nextr: [test] /api/slow (app/api/slow/route.rs): the handler did not finish within 1 s (max_duration); answered 504"]
    );
}

mod any_request {
    use proptest::prelude::*;

    use super::*;

    fn target() -> impl Strategy<Value = String> {
        let part = prop_oneof![
            Just("/".to_owned()),
            Just("//".to_owned()),
            Just("\\".to_owned()),
            Just("%".to_owned()),
            Just("%ZZ".to_owned()),
            Just("%C3".to_owned()),
            Just("?".to_owned()),
            Just("&".to_owned()),
            Just("=".to_owned()),
            Just("..".to_owned()),
            "[a-z0-9]{1,4}",
            "[ -~]{1,3}",
        ];
        prop::collection::vec(part, 0..10).prop_map(|parts| format!("/api/r/{}", parts.concat()))
    }

    fn method() -> impl Strategy<Value = http::Method> {
        prop::sample::select(vec![
            "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND",
            "MKCOL",
        ])
        .prop_map(|m| m.parse().unwrap())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        /// Any method and target gets one of Next's answers, never a panic of the runtime.
        #[test]
        fn any_request_gets_an_answer(method in method(), target in target(), cookie in "[ -~]{0,20}", body in prop::collection::vec(any::<u8>(), 0..40)) {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let route = TestRoute::app("/api/r/[id]", app(false));
            let res = runtime.block_on(
                route
                    .request(method.clone(), &target)
                    .header("cookie", cookie)
                    .body(body)
                    .send(),
            );
            let res = res.unwrap();
            prop_assert!(
                [200, 204, 308, 400, 404, 405, 500].contains(&res.status),
                "{method} {target}: {}",
                res.status
            );
        }
    }
}
