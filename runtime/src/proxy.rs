//! `proxy.rs` (Next 16's proxy, formerly middleware): one function at the app's root that
//! runs before the routes, inside every function of the app.
//!
//! ```
//! use nextr::proxy::prelude::*;
//!
//! nextr::config! {
//!     matcher: ["/api/:path*"],
//! }
//!
//! pub async fn proxy(req: NextRequest) -> NextResponse {
//!     if req.header("authorization").is_none() {
//!         return Response::json(&json!({ "error": "unauthorized" })).status(401).into();
//!     }
//!     if req.next_url().pathname() == "/api/old" {
//!         return NextResponse::redirect("/api/new"); // 307, `Location: /api/new`
//!     }
//!     NextResponse::next()
//!         .header("x-proxy-ran", req.next_url().pathname())
//!         .request_header("x-user", "alice") // the route's handler sees it, the client does not
//! }
//!
//! # async fn get(req: NextRequest) -> Response {
//! #     Response::json(&json!({ "user": req.header("x-user") }))
//! # }
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use nextr::app::{AppHandlers, AppRoute};
//! use nextr::manifest::{ProxyBundle, ProxyRoute};
//! use nextr::proxy::matcher::MatcherSpec;
//! use nextr::routing::Router;
//! use nextr::testing::TestRoute;
//!
//! // What `nextr build` writes beside each function as `proxy.json`.
//! let bundle = ProxyBundle {
//!     file: "proxy.rs".into(),
//!     matcher: Some(vec![MatcherSpec::source("/api/:path*")]),
//!     pages_router: false,
//!     routes: vec![ProxyRoute {
//!         page: "/api/me".into(),
//!         router: Router::App,
//!         function: Some("api-me".into()),
//!     }],
//!     fallback: "default".into(),
//! };
//! let route = TestRoute::app("/api/me", AppRoute {
//!     handlers: AppHandlers { get: Some(nextr::app_handler!(get, req)), ..AppHandlers::default() },
//!     pages_router: false,
//! })
//! .with_proxy(nextr::proxy_handler!(proxy), &bundle)
//! .unwrap();
//! let res = route.get("/api/me").send().await.unwrap();
//! assert_eq!((res.status, res.text()), (401, r#"{"error":"unauthorized"}"#.to_owned()));
//! let res = route.get("/api/me").header("authorization", "Bearer t").send().await.unwrap();
//! assert_eq!(res.text(), r#"{"user":"alice"}"#);
//! assert_eq!(res.header("x-proxy-ran"), Some("/api/me"));
//! # }
//! ```
//!
//! `nextr build` reads `config.matcher` statically ([`matcher`]), writes it with the app's
//! routes into every bundle as `proxy.json` ([`ProxyBundle`](crate::manifest::ProxyBundle)),
//! and wraps the function with [`proxy_handler!`](crate::proxy_handler) in every generated
//! `main` ([`crate::lambda::start_proxied`] and its App Router and `$default` forms). Per
//! request, in Next's order (next-app-semantics §9):
//!
//! 1. the host check, `TRACE` (App routes), and Next's 308s for `//`, `\` and a trailing
//!    slash: no proxy (it runs for the follow-up request);
//! 2. the client's internal headers (`x-middleware-rewrite`, …) are removed;
//! 3. the proxy runs when its matcher takes the request (the path is matched decoded, routed
//!    raw), with a [`NextRequest`](crate::app::NextRequest) whose body it may read: the
//!    handler still gets the whole body;
//! 4. then what it returned:
//!    - [`NextResponse::next`] (or `()`, `None`): the route answers, with the proxy's
//!      response headers and cookies added (whatever it answers: a 404, a 405, an automatic
//!      `OPTIONS`), and the request headers it set seen by the handler (App and Pages);
//!    - a [`Response`](crate::app::Response): sent as it is; the route does not run;
//!    - [`NextResponse::redirect`]: 307 (or the given status), `Location` relative when it is
//!      the request's origin, the location as the body, `Refresh` for a 308 only;
//!    - [`NextResponse::rewrite`]: the target's route answers with the target's path, params
//!      and query, the method and body kept; the proxy runs again for the target when it
//!      matches; the answer carries `x-middleware-rewrite: <the target's absolute URL>`. A
//!      target served by this function is served here; one served by no route gets the
//!      `$default` function's 404 (made here); another route's function is invoked. The
//!      fifth rewrite of a request is refused (500, logged as a loop), as Next limits nested
//!      proxy runs to five;
//!    - an `Err` or a panic (Next's throw): 500 with an HTML error page, logged as
//!      `Error: <message>` with the proxy's file.
//!
//! When the proxy and the answer set the same header, the proxy's value wins on an App
//! Router answer (Next's `sendResponse` keeps headers set before the route, except
//! `Set-Cookie`, `Vary`, `WWW-Authenticate` and `Proxy-Authenticate`, which keep both), and
//! the handler's on a Pages Router answer (`res.setHeader` replaces); the proxy's
//! `Set-Cookie` lines always come first. A streamed answer streams as without a proxy: the
//! proxy's headers go into its head as it leaves.

pub mod matcher;

#[cfg(feature = "lambda")]
mod answers;
#[cfg(feature = "lambda")]
mod handler;
#[cfg(feature = "lambda")]
mod headers;
#[cfg(feature = "lambda")]
pub(crate) mod invoke;
#[cfg(feature = "lambda")]
mod pipeline;
#[cfg(feature = "lambda")]
mod response;
#[cfg(feature = "lambda")]
mod setup;

#[cfg(feature = "lambda")]
pub(crate) use answers::MAX_REWRITES;
#[cfg(feature = "lambda")]
pub use handler::{IntoProxyResult, ProxyFuture, ProxyHandler};
#[cfg(feature = "lambda")]
pub(crate) use pipeline::Serving;
#[cfg(feature = "lambda")]
pub use response::NextResponse;
#[cfg(feature = "lambda")]
pub use setup::ProxyStartError;
#[cfg(feature = "lambda")]
pub(crate) use setup::{Forwarder, Invoked, LocalFunctions, Proxy, ProxyApp};

/// What `proxy.rs` needs: `use nextr::proxy::prelude::*;`.
#[cfg(feature = "lambda")]
pub mod prelude {
    pub use super::{IntoProxyResult, NextResponse};
    pub use crate::app::{BodyError, NextRequest, NextUrl, Response};
    pub use crate::response::{CookieOptions, Priority, SameSite};
    pub use crate::{Error, Result};
    pub use http::{HeaderMap, HeaderValue, Method, StatusCode};
    pub use serde::{Deserialize, Serialize};
    pub use serde_json::json;
}
