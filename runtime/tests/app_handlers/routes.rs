//! The corpus's route files (`../fixtures/app-handlers/app/**/route.rs`, one per
//! `route.js`) and what the generated `main` of each would pass: its pattern, config and
//! method functions.

use nextr::app::AppHandlers;
use nextr::config::RouteConfig;

#[path = "../fixtures/app-handlers/app/api/c/default-no-request/route.rs"]
mod c_default_no_request;
#[path = "../fixtures/app-handlers/app/api/c/force-dynamic/route.rs"]
mod c_force_dynamic;
#[path = "../fixtures/app-handlers/app/api/c/force-static/route.rs"]
mod c_force_static;
#[path = "../fixtures/app-handlers/app/api/c/force-static-with-post/route.rs"]
mod c_force_static_with_post;
#[path = "../fixtures/app-handlers/app/api/c/max-duration/route.rs"]
mod c_max_duration;
#[path = "../fixtures/app-handlers/app/api/c/revalidate-60/route.rs"]
mod c_revalidate_60;
#[path = "../fixtures/app-handlers/app/api/c/runtime-edge/route.rs"]
mod c_runtime_edge;
#[path = "../fixtures/app-handlers/app/api/c/runtime-nodejs/route.rs"]
mod c_runtime_nodejs;
#[path = "../fixtures/app-handlers/app/api/m/all/route.rs"]
mod m_all;
#[path = "../fixtures/app-handlers/app/api/m/get-only/route.rs"]
mod m_get_only;
#[path = "../fixtures/app-handlers/app/api/m/get-post/route.rs"]
mod m_get_post;
#[path = "../fixtures/app-handlers/app/api/m/lowercase/route.rs"]
mod m_lowercase;
#[path = "../fixtures/app-handlers/app/api/m/post-only/route.rs"]
mod m_post_only;
#[path = "../fixtures/app-handlers/app/api/q/cookies/route.rs"]
mod q_cookies;
#[path = "../fixtures/app-handlers/app/api/q/form/route.rs"]
mod q_form;
#[path = "../fixtures/app-handlers/app/api/q/headers/route.rs"]
mod q_headers;
#[path = "../fixtures/app-handlers/app/api/q/json/route.rs"]
mod q_json;
#[path = "../fixtures/app-handlers/app/api/q/json-uncaught/route.rs"]
mod q_json_uncaught;
#[path = "../fixtures/app-handlers/app/api/q/size/route.rs"]
mod q_size;
#[path = "../fixtures/app-handlers/app/api/q/text/route.rs"]
mod q_text;
#[path = "../fixtures/app-handlers/app/api/q/twice/route.rs"]
mod q_twice;
#[path = "../fixtures/app-handlers/app/api/q/url/route.rs"]
mod q_url;
#[path = "../fixtures/app-handlers/app/api/s/bytes/route.rs"]
mod s_bytes;
#[path = "../fixtures/app-handlers/app/api/s/cookies-next-headers/route.rs"]
mod s_cookies_next_headers;
#[path = "../fixtures/app-handlers/app/api/s/cookies-set/route.rs"]
mod s_cookies_set;
#[path = "../fixtures/app-handlers/app/api/s/ct-override/route.rs"]
mod s_ct_override;
#[path = "../fixtures/app-handlers/app/api/s/etag-custom/route.rs"]
mod s_etag_custom;
#[path = "../fixtures/app-handlers/app/api/s/etag-none/route.rs"]
mod s_etag_none;
#[path = "../fixtures/app-handlers/app/api/s/headers-multi/route.rs"]
mod s_headers_multi;
#[path = "../fixtures/app-handlers/app/api/s/large/route.rs"]
mod s_large;
#[path = "../fixtures/app-handlers/app/api/s/nav-permanent/route.rs"]
mod s_nav_permanent;
#[path = "../fixtures/app-handlers/app/api/s/nav-redirect/route.rs"]
mod s_nav_redirect;
#[path = "../fixtures/app-handlers/app/api/s/next-in-handler/route.rs"]
mod s_next_in_handler;
#[path = "../fixtures/app-handlers/app/api/s/nextresponse-json/route.rs"]
mod s_nextresponse_json;
#[path = "../fixtures/app-handlers/app/api/s/non-response/route.rs"]
mod s_non_response;
#[path = "../fixtures/app-handlers/app/api/s/not-found/route.rs"]
mod s_not_found;
#[path = "../fixtures/app-handlers/app/api/s/null-204/route.rs"]
mod s_null_204;
#[path = "../fixtures/app-handlers/app/api/s/redirect/route.rs"]
mod s_redirect;
#[path = "../fixtures/app-handlers/app/api/s/redirect-308/route.rs"]
mod s_redirect_308;
#[path = "../fixtures/app-handlers/app/api/s/redirect-abs/route.rs"]
mod s_redirect_abs;
#[path = "../fixtures/app-handlers/app/api/s/redirect-relative/route.rs"]
mod s_redirect_relative;
#[path = "../fixtures/app-handlers/app/api/s/response-json/route.rs"]
mod s_response_json;
#[path = "../fixtures/app-handlers/app/api/s/rewrite-in-handler/route.rs"]
mod s_rewrite_in_handler;
#[path = "../fixtures/app-handlers/app/api/s/sse/route.rs"]
mod s_sse;
#[path = "../fixtures/app-handlers/app/api/s/status-text/route.rs"]
mod s_status_text;
#[path = "../fixtures/app-handlers/app/api/s/stream-error/route.rs"]
mod s_stream_error;
#[path = "../fixtures/app-handlers/app/api/s/stream-plain/route.rs"]
mod s_stream_plain;
#[path = "../fixtures/app-handlers/app/api/s/text/route.rs"]
mod s_text;
#[path = "../fixtures/app-handlers/app/api/s/throw/route.rs"]
mod s_throw;
#[path = "../fixtures/app-handlers/app/api/s/throw-async/route.rs"]
mod s_throw_async;
#[path = "../fixtures/app-handlers/app/api/s/undefined/route.rs"]
mod s_undefined;
#[path = "../fixtures/app-handlers/app/api/s/usp/route.rs"]
mod s_usp;

/// The build case `ia08-dynamic-error-reads-request` (`app/api/ih/route.js`): it fails its
/// prerender, as it fails Next's build, so it is not part of the fixture app (which builds).
mod ih {
    use nextr::app::prelude::*;

    nextr::config! { dynamic: "error" }

    /// `GET`, reading `request.url`.
    pub async fn get(req: NextRequest) -> Response {
        Response::json(&json!({ "url": req.url() }))
    }
}

/// A route file of the corpus: its pattern, config (the file's `config!`) and functions.
pub fn route_of(file: &str) -> (&'static str, RouteConfig, AppHandlers) {
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
