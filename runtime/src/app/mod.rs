//! App Router route handlers (`app/**/route.rs`): one async function per HTTP method, taking a
//! [`NextRequest`] (and optionally a [`RouteContext`] with the params) and returning a
//! [`Response`], with Next 16's observable behaviour (see `../shared/spec/app/`).
//!
//! ```
//! use nextr::app::prelude::*;
//!
//! pub async fn get(req: NextRequest, ctx: RouteContext) -> Response {
//!     Response::json(&json!({ "id": ctx.param("id"), "q": req.next_url().search() }))
//! }
//!
//! pub async fn post(mut req: NextRequest) -> Result<Response> {
//!     let body: serde_json::Value = req.json().await?; // not JSON: Next's empty 500
//!     Ok(Response::json(&body).status(201))
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use nextr::app::{AppHandlers, AppRoute};
//! use nextr::testing::TestRoute;
//!
//! let route = TestRoute::app("/api/note/[id]", AppRoute {
//!     handlers: AppHandlers {
//!         get: Some(nextr::app_handler!(get)),
//!         post: Some(nextr::app_handler!(post, req)),
//!         ..AppHandlers::default()
//!     },
//!     pages_router: false,
//! });
//! let res = route.get("/api/note/7?a=1").send().await.unwrap();
//! assert_eq!(res.text(), r#"{"id":"7","q":"?a=1"}"#);
//! let res = route.request(Method::OPTIONS, "/api/note/7").send().await.unwrap();
//! assert_eq!((res.status, res.header("allow")), (204, Some("GET, HEAD, OPTIONS, POST")));
//! let res = route.post("/api/note/7").body("not json").send().await.unwrap();
//! assert_eq!((res.status, res.body.len()), (500, 0));
//! # }
//! ```
//!
//! `nextr build` wraps each method function with [`app_handler!`](crate::app_handler) into an
//! [`AppHandler`] and serves the file's [`AppHandlers`] with [`crate::lambda::start_app`]:
//!
//! - **Methods** (`app/dispatch.rs`): `HEAD` runs `get` when there is no `head` (no body sent);
//!   `OPTIONS` without `options` is Next's automatic 204 with the sorted `Allow`; a known
//!   method without a function is a 405 with an empty body and no `Allow`; an unknown one
//!   (`PROPFIND`) a 400; `TRACE` Next's text 500. An `Err`, a panic or an invalid
//!   [`Response`] is Next's empty 500, logged with the route and its file. No ETag, no 304.
//! - **Before any of it**, Next's 308s and the params as [`crate::routing::complete_app`]
//!   makes them (a malformed escape: text 500, or 400 when the app also has `api/` routes),
//!   and `max_duration` as for the Pages Router (504, the watchdog for a blocked thread).
//! - **Static routes** (`app/prerender.rs`): `dynamic = "force-static"`/`"error"` or `revalidate`
//!   on a file with only `get` serve the response `nextr build` prerendered; `force-static`
//!   on a file with other methods gives every call Next's synthetic request.

mod cookies;
mod dispatch;
mod handler;
mod json_error;
mod prerender;
mod request;
mod response;

pub use cookies::{Cookie, RequestCookies, ResponseCookie, ResponseCookies};
pub(crate) use dispatch::{deliver, request_origin, AppEndpoint};
pub use handler::{AppFuture, AppHandler, AppHandlers, AppRoute, IntoRouteResult, RouteContext};
pub use json_error::{
    json_syntax_error, parse_json, JsonBodyError, JsonShapeError, JsonSyntaxError,
};
pub(crate) use prerender::{
    load as load_prerendered, out_path as prerender_out_path, prerender, prerenders,
    write as write_prerendered, Prerendered, StaticMode,
};
pub use prerender::{PrerenderError, PrerenderedFile};
pub use request::{BodyError, NextRequest, NextUrl};
pub use response::{not_found, permanent_redirect, redirect, AppResponseError, Response};

/// What an App Router route file needs: `use nextr::app::prelude::*;`.
pub mod prelude {
    pub use super::{
        not_found, permanent_redirect, redirect, BodyError, NextRequest, Response, RouteContext,
    };
    pub use crate::response::{CookieOptions, Priority, SameSite};
    pub use crate::{Error, Result};
    pub use http::{HeaderMap, Method, StatusCode};
    pub use serde::{Deserialize, Serialize};
    pub use serde_json::json;
}
