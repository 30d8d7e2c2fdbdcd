//! Every applicable case of the App Router corpus (`fixtures/app-handlers.json`, recorded from
//! Next.js 16.4.6), run in process against the corpus's handlers translated to Rust
//! (`fixtures/app-handlers/app/**/route.rs`, one file per `route.js`).
//!
//! Each case's status, the headers Next or the handler set (every recorded header except the
//! Node-server artefacts in [`ARTEFACTS`]; the named ones — content-type, allow, set-cookie,
//! cache-control, location — must also be absent when Next sent none) and the body (as JSON,
//! bytes, or length and prefix) are compared with the recording. Requests carry what
//! `nextr dev`'s front sends (`Host: localhost:4501`, `x-forwarded-proto: http`) unless the case
//! sets them, so `request.url`'s origin is the recording's `http://localhost:{port}` with
//! `{port}` = 4501. What nextr answers differently on purpose is listed, with the reason and
//! nextr's own answer, in [`DIFFERENCES`]. Chunk timings of streams are not compared (they
//! exist only behind a front that streams); their bytes and order are.

use std::collections::HashMap;

use nextr::app::{AppHandlers, AppRoute};
use nextr::config::RouteConfig;
use nextr::testing::{TestResponse, TestRoute};
use nextr::RouteSpec;
use serde_json::Value;

#[path = "fixtures/app-handlers/app/api/c/default-no-request/route.rs"]
mod c_default_no_request;
#[path = "fixtures/app-handlers/app/api/c/force-dynamic/route.rs"]
mod c_force_dynamic;
#[path = "fixtures/app-handlers/app/api/c/force-static/route.rs"]
mod c_force_static;
#[path = "fixtures/app-handlers/app/api/c/force-static-with-post/route.rs"]
mod c_force_static_with_post;
#[path = "fixtures/app-handlers/app/api/c/max-duration/route.rs"]
mod c_max_duration;
#[path = "fixtures/app-handlers/app/api/c/revalidate-60/route.rs"]
mod c_revalidate_60;
#[path = "fixtures/app-handlers/app/api/c/runtime-edge/route.rs"]
mod c_runtime_edge;
#[path = "fixtures/app-handlers/app/api/c/runtime-nodejs/route.rs"]
mod c_runtime_nodejs;
#[path = "fixtures/app-handlers/app/api/ih/route.rs"]
mod ih;
#[path = "fixtures/app-handlers/app/api/ij/route.rs"]
// Its function is not named after a method: the runtime never calls it, on purpose.
#[allow(dead_code)]
mod ij;
#[path = "fixtures/app-handlers/app/api/m/all/route.rs"]
mod m_all;
#[path = "fixtures/app-handlers/app/api/m/get-only/route.rs"]
mod m_get_only;
#[path = "fixtures/app-handlers/app/api/m/get-post/route.rs"]
mod m_get_post;
#[path = "fixtures/app-handlers/app/api/m/lowercase/route.rs"]
// Its function is not named after a method: the runtime never calls it, on purpose.
#[allow(dead_code)]
mod m_lowercase;
#[path = "fixtures/app-handlers/app/api/m/post-only/route.rs"]
mod m_post_only;
#[path = "fixtures/app-handlers/app/api/q/cookies/route.rs"]
mod q_cookies;
#[path = "fixtures/app-handlers/app/api/q/form/route.rs"]
mod q_form;
#[path = "fixtures/app-handlers/app/api/q/headers/route.rs"]
mod q_headers;
#[path = "fixtures/app-handlers/app/api/q/json/route.rs"]
mod q_json;
#[path = "fixtures/app-handlers/app/api/q/json-uncaught/route.rs"]
mod q_json_uncaught;
#[path = "fixtures/app-handlers/app/api/q/size/route.rs"]
mod q_size;
#[path = "fixtures/app-handlers/app/api/q/text/route.rs"]
mod q_text;
#[path = "fixtures/app-handlers/app/api/q/twice/route.rs"]
mod q_twice;
#[path = "fixtures/app-handlers/app/api/q/url/route.rs"]
mod q_url;
#[path = "fixtures/app-handlers/app/api/s/bytes/route.rs"]
mod s_bytes;
#[path = "fixtures/app-handlers/app/api/s/cookies-next-headers/route.rs"]
mod s_cookies_next_headers;
#[path = "fixtures/app-handlers/app/api/s/cookies-set/route.rs"]
mod s_cookies_set;
#[path = "fixtures/app-handlers/app/api/s/ct-override/route.rs"]
mod s_ct_override;
#[path = "fixtures/app-handlers/app/api/s/etag-custom/route.rs"]
mod s_etag_custom;
#[path = "fixtures/app-handlers/app/api/s/etag-none/route.rs"]
mod s_etag_none;
#[path = "fixtures/app-handlers/app/api/s/headers-multi/route.rs"]
mod s_headers_multi;
#[path = "fixtures/app-handlers/app/api/s/large/route.rs"]
mod s_large;
#[path = "fixtures/app-handlers/app/api/s/nav-permanent/route.rs"]
mod s_nav_permanent;
#[path = "fixtures/app-handlers/app/api/s/nav-redirect/route.rs"]
mod s_nav_redirect;
#[path = "fixtures/app-handlers/app/api/s/next-in-handler/route.rs"]
mod s_next_in_handler;
#[path = "fixtures/app-handlers/app/api/s/nextresponse-json/route.rs"]
mod s_nextresponse_json;
#[path = "fixtures/app-handlers/app/api/s/non-response/route.rs"]
mod s_non_response;
#[path = "fixtures/app-handlers/app/api/s/not-found/route.rs"]
mod s_not_found;
#[path = "fixtures/app-handlers/app/api/s/null-204/route.rs"]
mod s_null_204;
#[path = "fixtures/app-handlers/app/api/s/redirect/route.rs"]
mod s_redirect;
#[path = "fixtures/app-handlers/app/api/s/redirect-308/route.rs"]
mod s_redirect_308;
#[path = "fixtures/app-handlers/app/api/s/redirect-abs/route.rs"]
mod s_redirect_abs;
#[path = "fixtures/app-handlers/app/api/s/redirect-relative/route.rs"]
mod s_redirect_relative;
#[path = "fixtures/app-handlers/app/api/s/response-json/route.rs"]
mod s_response_json;
#[path = "fixtures/app-handlers/app/api/s/rewrite-in-handler/route.rs"]
mod s_rewrite_in_handler;
#[path = "fixtures/app-handlers/app/api/s/sse/route.rs"]
mod s_sse;
#[path = "fixtures/app-handlers/app/api/s/status-text/route.rs"]
mod s_status_text;
#[path = "fixtures/app-handlers/app/api/s/stream-error/route.rs"]
mod s_stream_error;
#[path = "fixtures/app-handlers/app/api/s/stream-plain/route.rs"]
mod s_stream_plain;
#[path = "fixtures/app-handlers/app/api/s/text/route.rs"]
mod s_text;
#[path = "fixtures/app-handlers/app/api/s/throw/route.rs"]
mod s_throw;
#[path = "fixtures/app-handlers/app/api/s/throw-async/route.rs"]
mod s_throw_async;
#[path = "fixtures/app-handlers/app/api/s/undefined/route.rs"]
mod s_undefined;
#[path = "fixtures/app-handlers/app/api/s/usp/route.rs"]
mod s_usp;

/// The port a recorded `{port}` stands for.
const PORT: &str = "4501";

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

/// Recorded headers that are Node-server artefacts (or per-connection), never compared.
const ARTEFACTS: [&str; 6] = [
    "vary",
    "transfer-encoding",
    "content-length",
    "date",
    "connection",
    "keep-alive",
];

/// Headers whose absence in a recording is compared too.
const NAMED: [&str; 5] = [
    "content-type",
    "allow",
    "set-cookie",
    "cache-control",
    "location",
];

/// A route file of the corpus: its pattern, config (the file's `config!`) and functions.
fn route_of(file: &str) -> (&'static str, RouteConfig, AppHandlers) {
    match file {
        "app/api/m/get-only/route.js" => (
            "/api/m/get-only",
            RouteConfig::default(),
            AppHandlers {
                get: Some(nextr::app_handler!(m_get_only::get)),
                ..AppHandlers::default()
            },
        ),
        "app/api/m/get-post/route.js" => (
            "/api/m/get-post",
            RouteConfig::default(),
            AppHandlers {
                get: Some(nextr::app_handler!(m_get_post::get)),
                post: Some(nextr::app_handler!(m_get_post::post)),
                ..AppHandlers::default()
            },
        ),
        "app/api/m/all/route.js" => (
            "/api/m/all",
            RouteConfig::default(),
            AppHandlers {
                get: Some(nextr::app_handler!(m_all::get)),
                head: Some(nextr::app_handler!(m_all::head)),
                post: Some(nextr::app_handler!(m_all::post)),
                put: Some(nextr::app_handler!(m_all::put)),
                patch: Some(nextr::app_handler!(m_all::patch)),
                delete: Some(nextr::app_handler!(m_all::delete)),
                options: Some(nextr::app_handler!(m_all::options)),
            },
        ),
        "app/api/m/post-only/route.js" => (
            "/api/m/post-only",
            RouteConfig::default(),
            AppHandlers {
                post: Some(nextr::app_handler!(m_post_only::post)),
                ..AppHandlers::default()
            },
        ),
        "app/api/m/lowercase/route.js" => (
            "/api/m/lowercase",
            RouteConfig::default(),
            AppHandlers {
                post: Some(nextr::app_handler!(m_lowercase::post, none)),
                ..AppHandlers::default()
            },
        ),
        "app/api/q/json/route.js" => (
            "/api/q/json",
            RouteConfig::default(),
            AppHandlers {
                get: Some(nextr::app_handler!(q_json::get, req)),
                post: Some(nextr::app_handler!(q_json::post, req)),
                put: Some(nextr::app_handler!(q_json::put, req)),
                ..AppHandlers::default()
            },
        ),
        "app/api/q/json-uncaught/route.js" => (
            "/api/q/json-uncaught",
            RouteConfig::default(),
            AppHandlers {
                post: Some(nextr::app_handler!(q_json_uncaught::post, req)),
                ..AppHandlers::default()
            },
        ),
        "app/api/q/text/route.js" => (
            "/api/q/text",
            RouteConfig::default(),
            AppHandlers {
                get: Some(nextr::app_handler!(q_text::get, req)),
                post: Some(nextr::app_handler!(q_text::post, req)),
                ..AppHandlers::default()
            },
        ),
        "app/api/q/twice/route.js" => (
            "/api/q/twice",
            RouteConfig::default(),
            AppHandlers {
                post: Some(nextr::app_handler!(q_twice::post, req)),
                ..AppHandlers::default()
            },
        ),
        "app/api/q/form/route.js" => (
            "/api/q/form",
            RouteConfig::default(),
            AppHandlers {
                post: Some(nextr::app_handler!(q_form::post, req)),
                ..AppHandlers::default()
            },
        ),
        "app/api/q/url/route.js" => (
            "/api/q/url",
            RouteConfig::default(),
            AppHandlers {
                get: Some(nextr::app_handler!(q_url::get, req)),
                ..AppHandlers::default()
            },
        ),
        "app/api/q/size/route.js" => (
            "/api/q/size",
            RouteConfig::default(),
            AppHandlers {
                post: Some(nextr::app_handler!(q_size::post, req)),
                ..AppHandlers::default()
            },
        ),
        "app/api/s/response-json/route.js" => (
            "/api/s/response-json",
            RouteConfig::default(),
            AppHandlers {
                get: Some(nextr::app_handler!(s_response_json::get, none)),
                ..AppHandlers::default()
            },
        ),
        "app/api/s/nextresponse-json/route.js" => (
            "/api/s/nextresponse-json",
            RouteConfig::default(),
            AppHandlers {
                post: Some(nextr::app_handler!(s_nextresponse_json::post, none)),
                ..AppHandlers::default()
            },
        ),
        "app/api/s/text/route.js" => (
            "/api/s/text",
            RouteConfig::default(),
            AppHandlers {
                get: Some(nextr::app_handler!(s_text::get, none)),
                ..AppHandlers::default()
            },
        ),
        "app/api/s/null-204/route.js" => (
            "/api/s/null-204",
            RouteConfig::default(),
            AppHandlers {
                delete: Some(nextr::app_handler!(s_null_204::delete, none)),
                ..AppHandlers::default()
            },
        ),
        "app/api/s/status-text/route.js" => (
            "/api/s/status-text",
            RouteConfig::default(),
            AppHandlers {
                get: Some(nextr::app_handler!(s_status_text::get, none)),
                ..AppHandlers::default()
            },
        ),
        "app/api/s/bytes/route.js" => (
            "/api/s/bytes",
            RouteConfig::default(),
            AppHandlers {
                get: Some(nextr::app_handler!(s_bytes::get, none)),
                ..AppHandlers::default()
            },
        ),
        "app/api/s/usp/route.js" => (
            "/api/s/usp",
            RouteConfig::default(),
            AppHandlers {
                get: Some(nextr::app_handler!(s_usp::get, none)),
                ..AppHandlers::default()
            },
        ),
        "app/api/s/ct-override/route.js" => (
            "/api/s/ct-override",
            RouteConfig::default(),
            AppHandlers {
                get: Some(nextr::app_handler!(s_ct_override::get, none)),
                ..AppHandlers::default()
            },
        ),
        "app/api/s/headers-multi/route.js" => (
            "/api/s/headers-multi",
            RouteConfig::default(),
            AppHandlers {
                get: Some(nextr::app_handler!(s_headers_multi::get, none)),
                ..AppHandlers::default()
            },
        ),
        "app/api/s/redirect/route.js" => (
            "/api/s/redirect",
            RouteConfig::default(),
            AppHandlers {
                get: Some(nextr::app_handler!(s_redirect::get, req)),
                ..AppHandlers::default()
            },
        ),
        "app/api/s/redirect-308/route.js" => (
            "/api/s/redirect-308",
            RouteConfig::default(),
            AppHandlers {
                get: Some(nextr::app_handler!(s_redirect_308::get, req)),
                ..AppHandlers::default()
            },
        ),
        "app/api/s/redirect-relative/route.js" => (
            "/api/s/redirect-relative",
            RouteConfig::default(),
            AppHandlers {
                get: Some(nextr::app_handler!(s_redirect_relative::get, none)),
                ..AppHandlers::default()
            },
        ),
        "app/api/s/redirect-abs/route.js" => (
            "/api/s/redirect-abs",
            RouteConfig::default(),
            AppHandlers {
                get: Some(nextr::app_handler!(s_redirect_abs::get, none)),
                ..AppHandlers::default()
            },
        ),
        "app/api/s/nav-redirect/route.js" => (
            "/api/s/nav-redirect",
            RouteConfig::default(),
            AppHandlers {
                get: Some(nextr::app_handler!(s_nav_redirect::get, none)),
                post: Some(nextr::app_handler!(s_nav_redirect::post, none)),
                ..AppHandlers::default()
            },
        ),
        "app/api/s/nav-permanent/route.js" => (
            "/api/s/nav-permanent",
            RouteConfig::default(),
            AppHandlers {
                get: Some(nextr::app_handler!(s_nav_permanent::get, none)),
                ..AppHandlers::default()
            },
        ),
        "app/api/s/not-found/route.js" => (
            "/api/s/not-found",
            RouteConfig::default(),
            AppHandlers {
                get: Some(nextr::app_handler!(s_not_found::get, none)),
                ..AppHandlers::default()
            },
        ),
        "app/api/s/sse/route.js" => (
            "/api/s/sse",
            RouteConfig::default(),
            AppHandlers {
                get: Some(nextr::app_handler!(s_sse::get, none)),
                ..AppHandlers::default()
            },
        ),
        "app/api/s/stream-plain/route.js" => (
            "/api/s/stream-plain",
            RouteConfig::default(),
            AppHandlers {
                get: Some(nextr::app_handler!(s_stream_plain::get, none)),
                ..AppHandlers::default()
            },
        ),
        "app/api/s/stream-error/route.js" => (
            "/api/s/stream-error",
            RouteConfig::default(),
            AppHandlers {
                get: Some(nextr::app_handler!(s_stream_error::get, none)),
                ..AppHandlers::default()
            },
        ),
        "app/api/s/non-response/route.js" => (
            "/api/s/non-response",
            RouteConfig::default(),
            AppHandlers {
                get: Some(nextr::app_handler!(s_non_response::get, none)),
                ..AppHandlers::default()
            },
        ),
        "app/api/s/undefined/route.js" => (
            "/api/s/undefined",
            RouteConfig::default(),
            AppHandlers {
                get: Some(nextr::app_handler!(s_undefined::get, none)),
                ..AppHandlers::default()
            },
        ),
        "app/api/s/throw/route.js" => (
            "/api/s/throw",
            RouteConfig::default(),
            AppHandlers {
                get: Some(nextr::app_handler!(s_throw::get, none)),
                ..AppHandlers::default()
            },
        ),
        "app/api/s/throw-async/route.js" => (
            "/api/s/throw-async",
            RouteConfig::default(),
            AppHandlers {
                post: Some(nextr::app_handler!(s_throw_async::post, none)),
                ..AppHandlers::default()
            },
        ),
        "app/api/s/next-in-handler/route.js" => (
            "/api/s/next-in-handler",
            RouteConfig::default(),
            AppHandlers {
                get: Some(nextr::app_handler!(s_next_in_handler::get, none)),
                ..AppHandlers::default()
            },
        ),
        "app/api/s/rewrite-in-handler/route.js" => (
            "/api/s/rewrite-in-handler",
            RouteConfig::default(),
            AppHandlers {
                get: Some(nextr::app_handler!(s_rewrite_in_handler::get, none)),
                ..AppHandlers::default()
            },
        ),
        "app/api/s/etag-none/route.js" => (
            "/api/s/etag-none",
            RouteConfig::default(),
            AppHandlers {
                get: Some(nextr::app_handler!(s_etag_none::get, none)),
                ..AppHandlers::default()
            },
        ),
        "app/api/s/etag-custom/route.js" => (
            "/api/s/etag-custom",
            RouteConfig::default(),
            AppHandlers {
                get: Some(nextr::app_handler!(s_etag_custom::get, none)),
                ..AppHandlers::default()
            },
        ),
        "app/api/s/large/route.js" => (
            "/api/s/large",
            RouteConfig::default(),
            AppHandlers {
                get: Some(nextr::app_handler!(s_large::get, none)),
                ..AppHandlers::default()
            },
        ),
        "app/api/c/max-duration/route.js" => (
            "/api/c/max-duration",
            c_max_duration::config(),
            AppHandlers {
                get: Some(nextr::app_handler!(c_max_duration::get, req)),
                ..AppHandlers::default()
            },
        ),
        "app/api/c/force-static/route.js" => (
            "/api/c/force-static",
            c_force_static::config(),
            AppHandlers {
                get: Some(nextr::app_handler!(c_force_static::get, req)),
                ..AppHandlers::default()
            },
        ),
        "app/api/c/force-static-with-post/route.js" => (
            "/api/c/force-static-with-post",
            c_force_static_with_post::config(),
            AppHandlers {
                get: Some(nextr::app_handler!(c_force_static_with_post::get, req)),
                post: Some(nextr::app_handler!(c_force_static_with_post::post, req)),
                ..AppHandlers::default()
            },
        ),
        "app/api/c/revalidate-60/route.js" => (
            "/api/c/revalidate-60",
            c_revalidate_60::config(),
            AppHandlers {
                get: Some(nextr::app_handler!(c_revalidate_60::get, none)),
                ..AppHandlers::default()
            },
        ),
        "app/api/c/default-no-request/route.js" => (
            "/api/c/default-no-request",
            RouteConfig::default(),
            AppHandlers {
                get: Some(nextr::app_handler!(c_default_no_request::get, none)),
                ..AppHandlers::default()
            },
        ),
        "app/api/c/force-dynamic/route.js" => (
            "/api/c/force-dynamic",
            c_force_dynamic::config(),
            AppHandlers {
                get: Some(nextr::app_handler!(c_force_dynamic::get, none)),
                ..AppHandlers::default()
            },
        ),
        "app/api/c/runtime-nodejs/route.js" => (
            "/api/c/runtime-nodejs",
            RouteConfig::default(),
            AppHandlers {
                get: Some(nextr::app_handler!(c_runtime_nodejs::get, none)),
                ..AppHandlers::default()
            },
        ),
        "app/api/c/runtime-edge/route.js" => (
            "/api/c/runtime-edge",
            RouteConfig::default(),
            AppHandlers {
                get: Some(nextr::app_handler!(c_runtime_edge::get, req)),
                ..AppHandlers::default()
            },
        ),
        "app/api/ih/route.js" => (
            "/api/ih",
            ih::config(),
            AppHandlers {
                get: Some(nextr::app_handler!(ih::get, req)),
                ..AppHandlers::default()
            },
        ),
        "app/api/ij/route.js" => ("/api/ij", RouteConfig::default(), AppHandlers::default()),
        "app/api/q/cookies/route.js" => (
            "/api/q/cookies",
            RouteConfig::default(),
            AppHandlers {
                get: Some(nextr::app_handler!(q_cookies::get, req)),
                ..AppHandlers::default()
            },
        ),
        "app/api/s/cookies-set/route.js" => (
            "/api/s/cookies-set",
            RouteConfig::default(),
            AppHandlers {
                get: Some(nextr::app_handler!(s_cookies_set::get, none)),
                ..AppHandlers::default()
            },
        ),
        "app/api/s/cookies-next-headers/route.js" => (
            "/api/s/cookies-next-headers",
            RouteConfig::default(),
            AppHandlers {
                get: Some(nextr::app_handler!(s_cookies_next_headers::get, none)),
                ..AppHandlers::default()
            },
        ),
        "app/api/q/headers/route.js" => (
            "/api/q/headers",
            RouteConfig::default(),
            AppHandlers {
                get: Some(nextr::app_handler!(q_headers::get, req)),
                ..AppHandlers::default()
            },
        ),
        other => panic!("no Rust translation of {other}"),
    }
}

/// A case nextr answers differently: its name, why, and the check of nextr's own answer.
type Difference = (&'static str, &'static str, fn(&TestResponse));

/// Cases where nextr answers differently from `next start` on purpose: why, and nextr's own
/// answer, asserted instead of the recording.
const DIFFERENCES: &[Difference] = &[
    (
        "q-size-20mb",
        "Lambda takes at most 6 MB per synchronous request: the platform answers 413 before the function runs; in process the route reads the whole body",
        |res| {
            assert_eq!(res.status, 200);
            let read = res.json::<Value>().unwrap()["bytes"].as_u64().unwrap();
            assert_eq!(read, 20_971_520);
            assert!(read > nextr::limits::LAMBDA_PAYLOAD_BYTES as u64);
        },
    ),
    (
        "s-status-text-418",
        "a custom reason phrase cannot travel through API Gateway or Lambda: the status and body are Next's, the phrase is the standard one",
        |res| {
            assert_eq!(res.status, 418);
            assert_eq!(res.text(), "short and stout");
        },
    ),
    (
        "q-url-custom-host",
        "request.url's origin is the Host the client used (the API's public origin), not Next's localhost: the path and query are Next's",
        |res| {
            let body: Value = res.json().unwrap();
            assert_eq!(body["url"], "http://example.com:8443/api/q/url?x=1");
            assert_eq!(body["pathname"], "/api/q/url");
            assert_eq!(body["search"], "?x=1");
        },
    ),
    (
        "s-nextresponse-redirect-custom-host",
        "a Location built on request.url points at the Host the client used (see q-url-custom-host)",
        |res| {
            assert_eq!(res.status, 307);
            assert_eq!(
                res.header("location"),
                Some("http://example.com/api/s/target?from=redirect")
            );
            assert!(res.body.is_empty());
        },
    ),
    (
        "c-max-duration-exceeded",
        "nextr enforces max_duration (Next's server does not): a 6.5 s handler with max_duration 5 gets the documented 504",
        |res| {
            assert_eq!(res.status, 504);
            assert_eq!(res.json::<Value>().unwrap()["maxDuration"], 5);
        },
    ),
    (
        "c-runtime-nodejs",
        "`runtime` picks a JavaScript runtime; nextr has one native runtime",
        |res| {
            assert_eq!(res.status, 200);
            assert_eq!(res.json::<Value>().unwrap()["runtime"], "native");
        },
    ),
    (
        "c-runtime-edge",
        "`runtime` picks a JavaScript runtime; nextr has one native runtime (request.url is Next's)",
        |res| {
            assert_eq!(res.status, 200);
            let body: Value = res.json().unwrap();
            assert_eq!(body["url"], format!("http://localhost:{PORT}/api/c/runtime-edge?e=1"));
        },
    ),
];

/// Build-time cases (no request): checked by their own tests below or elsewhere.
const BUILD_CASES: [(&str, &str); 2] = [
    (
        "ia08-dynamic-error-reads-request",
        "prerender fails with Next's message: `dynamic_error_route_fails_its_prerender` below",
    ),
    (
        "ia09-invalid-dynamic-value",
        "`nextr::config!` rejects an unknown `dynamic` at compile time (config.rs's compile_fail doc test)",
    ),
];

fn corpus() -> Vec<Value> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/app-handlers.json"
    ))
    .unwrap();
    serde_json::from_str::<Vec<Value>>(&text).unwrap()
}

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
async fn send(route: &TestRoute, request: &Value) -> TestResponse {
    let method = request["method"].as_str().unwrap();
    let path = request["path"].as_str().unwrap();
    let target = path.split('#').next().unwrap();
    let mut req = route.request(method.parse().unwrap(), target);
    let headers = request["headers"].as_object().cloned().unwrap_or_default();
    for (default, value) in DEFAULT_HEADERS {
        if !headers.contains_key(default) {
            req = req.header(default, value);
        }
    }
    for (name, value) in &headers {
        // A list is one header line per value.
        let values = match value {
            Value::Array(values) => values.clone(),
            one => vec![one.clone()],
        };
        for value in values {
            req = req.header(name.as_str(), value.as_str().unwrap());
        }
    }
    match &request["body"] {
        Value::String(text) => {
            req = req.body(text.clone().into_bytes());
        }
        Value::Object(fill) => {
            let byte = fill["fill"].as_str().unwrap().as_bytes()[0];
            let len = fill["bytes"].as_u64().unwrap() as usize;
            if fill.get("chunked") != Some(&Value::Bool(true)) {
                req = req.header("content-length", len.to_string());
            }
            req = req.body(vec![byte; len]);
        }
        _ => {}
    }
    req.send().await.unwrap()
}

/// A recorded string with `{port}` filled in.
fn port(text: &str) -> String {
    text.replace("127.0.0.1:{port}", "localhost:{port}")
        .replace("{port}", PORT)
}

fn fill_ports(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(port(s)),
        Value::Array(a) => Value::Array(a.iter().map(fill_ports).collect()),
        Value::Object(o) => {
            Value::Object(o.iter().map(|(k, v)| (k.clone(), fill_ports(v))).collect())
        }
        other => other.clone(),
    }
}

/// A Set-Cookie line with its `Expires` dropped when it has a `Max-Age` (the recording's
/// `Expires` was the request time plus `Max-Age`).
fn cookie_line(line: &str) -> String {
    if !line.contains("; Max-Age=") {
        return line.to_owned();
    }
    line.split("; ")
        .filter(|part| !part.starts_with("Expires="))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Differences between a recorded response and nextr's.
fn compare(name: &str, expected: &Value, res: &TestResponse) -> Vec<String> {
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
        let ours: Vec<String> = res
            .headers
            .get_all(header.as_str())
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
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
            let want = port(value.as_str().unwrap());
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
                !res.headers.contains_key(header),
                format!("{header} {:?} (recorded none)", res.headers.get(header)),
            );
        }
    }
    if let Some(json) = expected.get("json") {
        let got: Result<Value, _> = res.json();
        let want = fill_ports(json);
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
        let want = port(expected["body"].as_str().unwrap_or_default());
        check(
            res.text() == want,
            format!("body {:?} (recorded {want:?})", res.text()),
        );
    }
    problems
}

#[tokio::test(flavor = "current_thread")]
async fn every_applicable_case_answers_as_next() {
    let mut routes: HashMap<String, TestRoute> = HashMap::new();
    let mut problems = Vec::new();
    let mut ran = 0;
    for case in corpus() {
        let name = case["name"].as_str().unwrap();
        if BUILD_CASES.iter().any(|(n, _)| *n == name) {
            continue;
        }
        let (file, exchanges) = match case.get("handler_file") {
            Some(file) => (
                file.as_str().unwrap().to_owned(),
                vec![(case["request"].clone(), case["response"].clone())],
            ),
            // A tree case with its own requests (`edge-ia10-default-export-only`).
            None => (
                case["files"][0].as_str().unwrap().to_owned(),
                case["requests"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| (r["request"].clone(), r["response"].clone()))
                    .collect(),
            ),
        };
        if !routes.contains_key(&file) {
            let route = serve(&file).await;
            routes.insert(file.clone(), route);
        }
        let route = &routes[&file];
        for (request, response) in exchanges {
            let res = send(route, &request).await;
            ran += 1;
            match DIFFERENCES.iter().find(|(n, _, _)| *n == name) {
                Some((_, _, own)) => own(&res),
                None => problems.extend(compare(name, &response, &res)),
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} differences:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert_eq!(ran, 112, "every recorded request ran");
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
