//! The method functions of a route file, as the runtime holds them.

use std::future::Future;
use std::pin::Pin;

use super::{NextRequest, Response};
use crate::routing::Params;

/// Next's `context` argument: the route's params (`None` for a static route, as Next's
/// `context.params` is `undefined` there).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteContext {
    /// The decoded params, in path order; `None` for a static route.
    pub params: Option<Params>,
}

impl RouteContext {
    /// One param's value (a string, or an array for a catch-all); `None` for a static route
    /// or an unknown name.
    pub fn param(&self, name: &str) -> Option<&crate::routing::QueryValue> {
        self.params.as_ref()?.get(name)
    }
}

/// The future an [`AppHandler`] returns.
pub type AppFuture = Pin<Box<dyn Future<Output = crate::Result<Response>> + Send + 'static>>;

/// One method function behind a plain function pointer (made with
/// [`app_handler!`](crate::app_handler)), so the runtime is compiled once, not per route.
pub type AppHandler = fn(NextRequest, RouteContext) -> AppFuture;

/// The method functions a route file defines (Next's exported `GET`, `POST`, …).
#[derive(Debug, Clone, Copy, Default)]
pub struct AppHandlers {
    /// `get`.
    pub get: Option<AppHandler>,
    /// `head`.
    pub head: Option<AppHandler>,
    /// `post`.
    pub post: Option<AppHandler>,
    /// `put`.
    pub put: Option<AppHandler>,
    /// `delete`.
    pub delete: Option<AppHandler>,
    /// `patch`.
    pub patch: Option<AppHandler>,
    /// `options`.
    pub options: Option<AppHandler>,
}

/// What the generated `main` of an App Router route passes besides its [`crate::RouteSpec`].
#[derive(Debug, Clone, Copy, Default)]
pub struct AppRoute {
    /// The file's method functions.
    pub handlers: AppHandlers,
    /// The app also has Pages Router routes (`api/`): Next then answers a malformed escape in
    /// a dynamic path 400 instead of 500, whichever router matched.
    pub pages_router: bool,
}

/// What a method function may return: a [`Response`], or a `Result` whose error converts
/// into [`crate::Error`] (logged, answered as Next's empty 500).
#[diagnostic::on_unimplemented(
    message = "an App Router handler returns `Response` or `Result<Response, E>`, not `{Self}`",
    note = "`E` converts into `nextr::Error` (answered as Next's empty 500 and logged)"
)]
pub trait IntoRouteResult {
    /// Converts into `nextr::Result<Response>`.
    fn into_route_result(self) -> crate::Result<Response>;
}

impl IntoRouteResult for Response {
    fn into_route_result(self) -> crate::Result<Response> {
        Ok(self)
    }
}

impl<E: Into<crate::Error>> IntoRouteResult for Result<Response, E> {
    fn into_route_result(self) -> crate::Result<Response> {
        self.map_err(Into::into)
    }
}
