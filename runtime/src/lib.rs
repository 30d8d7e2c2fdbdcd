//! nextr: Next.js-style API routes for Rust, one AWS Lambda function per route file.
//!
//! The crate has two faces. The pure modules ([`routing`], [`manifest`], [`config`]) are shared
//! with the `nextr` CLI, which uses this crate with default features off. The runtime (feature
//! `lambda`, on by default: request and response helpers, dispatch, the Lambda entry point and
//! [`testing`]) is what every route bundle links.
//!
//! A route file:
//!
//! ```
//! use nextr::prelude::*;
//!
//! nextr::config! {
//!     max_duration: 10,
//!     body_parser: { size_limit: "500kb" },
//! }
//!
//! pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
//!     let pid = req.query.str("pid").unwrap_or_default().to_owned();
//!     res.status(200).json(&json!({ "pid": pid }))
//! }
//! # fn main() { assert_eq!(config().max_duration, Some(10)); }
//! ```
//!
//! See [`lambda`] for the `main` that `nextr build` generates around it.

pub mod config;
pub mod manifest;
pub mod routing;

#[cfg(feature = "lambda")]
mod error;
#[cfg(feature = "lambda")]
pub use error::{Error, HttpError, Result};

#[cfg(feature = "lambda")]
pub mod request;
#[cfg(feature = "lambda")]
pub use request::NextApiRequest;

#[cfg(feature = "lambda")]
pub mod response;
#[cfg(feature = "lambda")]
pub use response::NextApiResponse;

#[cfg(feature = "lambda")]
mod dispatch;
#[cfg(feature = "lambda")]
pub use dispatch::{Handler, HandlerFuture, RouteSpec};

#[cfg(feature = "lambda")]
pub mod lambda;
#[cfg(feature = "lambda")]
pub mod testing;

#[cfg(feature = "lambda")]
mod util;

/// Re-exports the dependencies route code commonly names (`http`, `bytes`, `serde_json`).
#[cfg(feature = "lambda")]
pub mod deps {
    pub use bytes;
    pub use http;
    pub use lambda_http;
    pub use lambda_runtime;
    pub use serde_json;
}

/// What a route file needs: `use nextr::prelude::*;`.
#[cfg(feature = "lambda")]
pub mod prelude {
    pub use crate::request::{Body, Cookies, NextApiRequest};
    pub use crate::response::{CookieOptions, Json, NextApiResponse, SameSite};
    pub use crate::routing::{Query, QueryValue};
    pub use crate::{Error, Result};
    pub use http::{HeaderMap, Method, StatusCode};
    pub use serde::{Deserialize, Serialize};
    pub use serde_json::json;
}

/// Turns a route's `handler` function into the non-generic [`Handler`] the runtime takes.
///
/// The function must be `async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse)`
/// returning `nextr::Result<()>`, any `Result<(), E>` whose `E` converts into [`Error`], or `()`.
/// The expansion is one small function per route: everything generic stays in this crate.
#[cfg(feature = "lambda")]
#[macro_export]
macro_rules! handler {
    ($path:path) => {{
        fn __nextr_route_handler<'a>(
            req: &'a mut $crate::NextApiRequest,
            res: &'a mut $crate::NextApiResponse,
        ) -> $crate::HandlerFuture<'a> {
            ::std::boxed::Box::pin(async move {
                $crate::__private::IntoHandlerResult::into_handler_result($path(req, res).await)
            })
        }
        __nextr_route_handler as $crate::Handler
    }};
}

#[doc(hidden)]
#[cfg(feature = "lambda")]
pub mod __private {
    /// What a handler may return: `()`, or a `Result<(), E>` with `E` convertible to `Error`.
    pub trait IntoHandlerResult {
        /// Converts into `nextr::Result<()>`.
        fn into_handler_result(self) -> crate::Result<()>;
    }
    impl IntoHandlerResult for () {
        fn into_handler_result(self) -> crate::Result<()> {
            Ok(())
        }
    }
    impl<E: Into<crate::Error>> IntoHandlerResult for Result<(), E> {
        fn into_handler_result(self) -> crate::Result<()> {
            self.map_err(Into::into)
        }
    }
}
