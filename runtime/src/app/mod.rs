//! App Router route handlers (`app/**/route.rs`): one async function per HTTP method, taking a
//! [`NextRequest`] (and optionally a [`RouteContext`] with the params) and returning a
//! [`Response`], with Next 16's observable behaviour (see `../shared/spec/app/`).
//!
//! ```ignore
//! use nextr::app::prelude::*;
//!
//! pub async fn get(req: NextRequest, ctx: RouteContext) -> Response {
//!     Response::json(&json!({ "id": ctx.param("id") }))
//! }
//! ```
//!
//! `nextr build` wraps each method function with [`app_handler!`](crate::app_handler) into an
//! [`AppHandler`] and serves the file's [`AppHandlers`] with [`crate::lambda::start_app`].

mod cookies;
mod dispatch;
mod handler;
mod json_error;
mod prerender;
mod request;
mod response;

pub use cookies::{Cookie, RequestCookies, ResponseCookie, ResponseCookies};
pub(crate) use dispatch::AppEndpoint;
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
