//! nextr: Next.js-style API routes for Rust, one AWS Lambda function per route file.
//!
//! The crate has two faces. The pure modules ([`routing`], [`manifest`], [`config`], [`limits`]) are shared
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
pub mod cors;
pub mod limits;
pub mod manifest;
pub mod proxy;
pub mod routing;

#[cfg(feature = "lambda")]
mod error;
#[cfg(feature = "lambda")]
pub use error::{Error, ErrorResponse, HttpError, IntoErrorResponse, Result};

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
pub mod app;
#[cfg(feature = "lambda")]
pub mod form;

#[cfg(feature = "aws-client")]
mod aws;
#[cfg(feature = "lambda")]
pub mod lambda;
#[cfg(feature = "lambda")]
pub mod secrets;
#[cfg(feature = "lambda")]
pub mod testing;

#[cfg(feature = "lambda")]
mod streaming;
#[cfg(feature = "lambda")]
mod util;
#[cfg(feature = "lambda")]
mod watchdog;

/// Re-exports the dependencies route code commonly names (`http`, `bytes`, `serde_json`,
/// `futures_core` for the `Stream` that [`NextApiResponse::stream`] takes, and `multer` for
/// [`NextApiRequest::multipart`]).
#[cfg(feature = "lambda")]
pub mod deps {
    pub use bytes;
    pub use futures_core;
    pub use http;
    pub use lambda_http;
    pub use lambda_runtime;
    pub use multer;
    pub use serde_json;
}

/// What a route file needs: `use nextr::prelude::*;`.
#[cfg(feature = "lambda")]
pub mod prelude {
    pub use crate::request::{Body, Cookies, NextApiRequest};
    pub use crate::response::{CookieOptions, Json, NextApiResponse, Priority, SameSite};
    pub use crate::routing::{Query, QueryValue};
    pub use crate::{Error, ErrorResponse, IntoErrorResponse, Result};
    pub use http::{HeaderMap, Method, StatusCode};
    pub use serde::{Deserialize, Serialize};
    pub use serde_json::json;
}

/// Turns a route's `handler` function into the non-generic [`Handler`] the runtime takes.
///
/// The function must be `async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse)`
/// returning `nextr::Result<()>`, a `Result<(), E>` whose `E` implements [`IntoErrorResponse`]
/// (its answer is sent) or converts into [`Error`] (a 500), or `()`.
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
                #[allow(unused_imports)]
                use $crate::__private::{ViaErrorResponse as _, ViaIntoHandlerResult as _};
                let returned = $path(req, res).await;
                (&returned).__nextr_kind().into_handler_result(returned)
            })
        }
        __nextr_route_handler as $crate::Handler
    }};
}

/// Turns an App Router method function into the [`app::AppHandler`] the runtime takes.
///
/// `app_handler!(route::get)` for `async fn get(req: NextRequest, ctx: RouteContext)`,
/// `app_handler!(route::get, req)` for `async fn get(req: NextRequest)`, and
/// `app_handler!(route::get, none)` for `async fn get()`; each returns
/// [`app::IntoRouteResult`] (`Response` or `Result<Response, E>`).
#[cfg(feature = "lambda")]
#[macro_export]
macro_rules! app_handler {
    ($path:path) => {{
        fn __nextr_app_handler(
            req: $crate::app::NextRequest,
            ctx: $crate::app::RouteContext,
        ) -> $crate::app::AppFuture {
            ::std::boxed::Box::pin(async move {
                $crate::app::IntoRouteResult::into_route_result($path(req, ctx).await)
            })
        }
        __nextr_app_handler as $crate::app::AppHandler
    }};
    ($path:path, req) => {{
        fn __nextr_app_handler(
            req: $crate::app::NextRequest,
            _ctx: $crate::app::RouteContext,
        ) -> $crate::app::AppFuture {
            ::std::boxed::Box::pin(async move {
                $crate::app::IntoRouteResult::into_route_result($path(req).await)
            })
        }
        __nextr_app_handler as $crate::app::AppHandler
    }};
    ($path:path, none) => {{
        fn __nextr_app_handler(
            _req: $crate::app::NextRequest,
            _ctx: $crate::app::RouteContext,
        ) -> $crate::app::AppFuture {
            ::std::boxed::Box::pin(async move {
                $crate::app::IntoRouteResult::into_route_result($path().await)
            })
        }
        __nextr_app_handler as $crate::app::AppHandler
    }};
}

/// What [`handler!`] expands to.
///
/// A `Result<(), E>` whose `E` is both an [`IntoErrorResponse`] and a `std::error::Error` (so
/// convertible into [`Error`]) must send its own answer, and coherence forbids two blanket
/// impls for it; so the macro picks the conversion by method resolution on the concrete
/// return type ("autoref specialisation"): `(&returned).__nextr_kind()` finds
/// [`ViaErrorResponse`](__private::ViaErrorResponse) (implemented for `Result<(), E>`) before
/// [`ViaIntoHandlerResult`](__private::ViaIntoHandlerResult) (implemented for `&T`, one
/// auto-reference further).
#[doc(hidden)]
#[cfg(feature = "lambda")]
pub mod __private {
    use crate::{Error, IntoErrorResponse};

    /// What a handler may return besides an [`IntoErrorResponse`] error.
    #[diagnostic::on_unimplemented(
        message = "a route handler returns `nextr::Result<()>`, `Result<(), E>` or `()`, not `{Self}`",
        note = "`E` implements `nextr::IntoErrorResponse` (its answer is sent) or converts into `nextr::Error` (a 500)"
    )]
    pub trait IntoHandlerResult {
        /// Converts into `nextr::Result<()>`.
        fn into_handler_result(self) -> crate::Result<()>;
    }
    impl IntoHandlerResult for () {
        fn into_handler_result(self) -> crate::Result<()> {
            Ok(())
        }
    }
    impl<E: Into<Error>> IntoHandlerResult for Result<(), E> {
        fn into_handler_result(self) -> crate::Result<()> {
            self.map_err(Into::into)
        }
    }

    /// The preferred conversion: the error describes its answer.
    pub struct ErrorResponseKind;
    /// The fallback conversion: [`IntoHandlerResult`].
    pub struct IntoHandlerResultKind;

    /// Picks [`ErrorResponseKind`] for `Result<(), E: IntoErrorResponse>`.
    pub trait ViaErrorResponse {
        /// The tag.
        fn __nextr_kind(&self) -> ErrorResponseKind {
            ErrorResponseKind
        }
    }
    impl<E: IntoErrorResponse> ViaErrorResponse for Result<(), E> {}

    /// Picks [`IntoHandlerResultKind`] for everything else.
    pub trait ViaIntoHandlerResult {
        /// The tag.
        fn __nextr_kind(&self) -> IntoHandlerResultKind {
            IntoHandlerResultKind
        }
    }
    impl<T> ViaIntoHandlerResult for &T {}

    impl ErrorResponseKind {
        /// The error's answer, carried by an [`Error`] to the runtime.
        pub fn into_handler_result<E: IntoErrorResponse>(
            self,
            returned: Result<(), E>,
        ) -> crate::Result<()> {
            returned.map_err(|e| Error::from(e.into_error_response()))
        }
    }

    impl IntoHandlerResultKind {
        /// [`IntoHandlerResult::into_handler_result`].
        pub fn into_handler_result<T: IntoHandlerResult>(self, returned: T) -> crate::Result<()> {
            returned.into_handler_result()
        }
    }
}
